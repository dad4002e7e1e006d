/**
 * Simulated cloud -- the scenario file: what the cloud looks like before the window and what goes
 * wrong when it comes back (every runbook stage has a knob). A scenario is ONE JSON file in
 * sim/scenarios/<name>.json; this zod schema is the single source of truth for its keys, and an
 * unknown key is rejected with a message naming it. Times are SIM seconds (see state.ts).
 * Only setup.ts loads scenarios: the fake tools never import zod (it costs ~40 ms per call).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";
import { projectRoot } from "./root";
import { UsageError } from "../config/errors";

const seconds = z.number().nonnegative();
const hostName = z.string().regex(/^openstack\d+$/, "expected a host name like openstack2");
const machineId = z.string().regex(/^\d+(\/lxd\/\d+)?$/, 'expected a juju machine id like "2" or "0/lxd/3"');
const unitNumber = z.number().int().min(0).max(4);
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "expected a UUID");
const power = z.enum(["on", "off", "booting"]);

/** Physical hosts (= libvirt domains openstack0..N-1) and their power before the drill starts. */
const hostsSchema = z.strictObject({
  /** on: running for a day (planned default); off: lost power at t=0 (unplanned default); booting: power came back at t=0. */
  initialPower: power.optional(),
  initialPowerByHost: z.record(hostName, power).default({}),
  /** `virsh shutdown` reaches `shut off` after this long. */
  shutdownSeconds: seconds.default(30),
  /** Hosts whose guest OS ignores the ACPI shutdown (only `virsh destroy` turns them off). */
  ignoreShutdown: z.array(hostName).default([]),
  /**
   * Power calls that fail `times` times, then work: the sim MAAS answers 503 "No rack controllers
   * can access the BMC of node <host>", the fake virsh "Timed out during operation: cannot acquire
   * state change lock" (call "state": MAAS query_power_state only).
   */
  transientPowerErrors: z
    .array(
      z.strictObject({
        host: hostName,
        call: z.enum(["soft-off", "hard-off", "on", "state"]),
        times: z.number().int().min(1).default(1),
      }),
    )
    .default([]),
  /**
   * virsh races: the domain reaches the wanted state by itself just before this call (once), so
   * the call meets a stale domstate: shutdown/destroy find it off, start finds it running.
   */
  virshRaces: z.array(z.strictObject({ host: hostName, call: z.enum(["shutdown", "destroy", "start"]) })).default([]),
  /**
   * Hosts whose power controller does not answer at all (preflight-bmc-unreachable): through the
   * sim MAAS every call answers 503 with the rack's "Power state could not be queried" text
   * (sim/maas-api.ts), through the fake virsh the hypervisor connection fails (tools/virsh.ts).
   */
  unreachableBmc: z.array(hostName).default([]),
});

/** Juju machine agents (Stage 1). */
const agentsSchema = z.strictObject({
  /** A host's machine agent reports started this long after power-on ("typically 2-5 min"). */
  startSeconds: seconds.default(120),
  /** LXD containers start this much later than their host's agent. */
  containerExtraSeconds: seconds.default(15),
  /** Per machine id ("2", "0/lxd/3"): its own delay after its host's power-on. */
  byMachine: z.record(machineId, seconds).default({}),
  /** Machine ids whose agent never starts after a power-on. */
  neverStart: z.array(machineId).default([]),
});

/** mysql-innodb-cluster (Stage 2): units /0 /1 /2 in 0/lxd/3, 1/lxd/2, 2/lxd/2 (and /3 /4 in 3/lxd/1, 0/lxd/5 with `units: 5`). */
const mysqlSchema = z.strictObject({
  /** What the units show once their containers are up again after any mysql host lost power. */
  afterBoot: z.enum(["healthy", "complete-outage", "partial-outage", "unknown-message"]).default("complete-outage"),
  leader: unitNumber.default(1),
  /** The unit with the GTID superset: the only one where reboot-cluster-from-complete-outage works (default: the leader). */
  gtidSuperset: unitNumber.optional(),
  /** After the action, the other units keep the stale blocked message this long (until their next hook). */
  staleSeconds: seconds.default(60),
  /** partial-outage: the unit that failed to rejoin (blocked); the others report the degraded cluster. */
  partialMissing: unitNumber.default(2),
  /** unknown-message: what every unit says instead of a known signature. */
  unknownMessage: z.string().min(1).default("MySQL is down on this instance"),
  /** Cluster size (a drill sets the stack's mysqlUnits to match: `--set mysqlUnits=5`). */
  units: z.union([z.literal(3), z.literal(5)]).default(3),
  /**
   * After a successful reboot action this unit stays RECOVERING -- in the group, counted for quorum,
   * not ONLINE, `Mode: n/a` -- for recoveringSeconds (sim/views.ts; mysql-shell status.cc).
   */
  recoveringAfterAction: unitNumber.optional(),
  recoveringSeconds: seconds.default(120),
  /**
   * How long reboot-cluster-from-complete-outage runs on its unit (sim s, after it starts 1 s past
   * its enqueueing). Above 59 a `juju run` without --wait gives up first (60 s: juju/juju#20103).
   */
  actionSeconds: seconds.default(25),
});

/** Vault (Stage 3): sealed after every restart of its container's host. */
const vaultSchema = z
  .strictObject({
    units: z.number().int().min(1).max(3).default(1),
    threshold: z.number().int().min(1).default(3),
    shares: z.number().int().min(1).default(5),
    /** The valid unseal shares (default: generated). */
    keys: z.array(z.string().min(1)).optional(),
    /** What the drill exports as COLDSTART_UNSEAL_KEY_1..N: a count of the valid keys, or explicit values (e.g. a wrong one). */
    exportKeys: z.union([z.number().int().min(0), z.array(z.string().min(1))]).optional(),
    /** ssl-cert/ssl-key set: the public listener [::]:8200 speaks TLS only; 127.0.0.1:8220 stays plain (sim/format/vault.ts). */
    tls: z.boolean().default(false),
    /** Units whose vault service is not running: nothing listens on 8200 or 8220 there (connection refused). */
    unreachableUnits: z.array(z.string().regex(/^vault\/\d+$/, "expected a unit like vault/1")).default([]),
    /**
     * The keyholders unseal by hand (coldstart:vaultUnsealBy keyholders): this many sim seconds
     * after a `vault status` first finds a unit sealed with its storage up (when Stage 3 hands it
     * over), the unit is unsealed with the threshold of shares -- no key passes through coldstart.
     * Absent: nobody unseals by hand.
     */
    unsealByHandAfterSeconds: z.number().min(0).optional(),
  })
  .refine((v) => v.threshold <= v.shares, { message: "threshold must not exceed shares" })
  .refine((v) => v.keys === undefined || v.keys.length === v.shares, {
    message: "keys must list exactly `shares` keys",
  });

/** OVN chassis (Stage 4): ovn-chassis/N rides on nova-compute/N on host N. */
const ovnSchema = z.strictObject({
  /** Chassis units that come back `not connected` after their host boots. */
  notConnectedAfterBoot: z
    .array(
      z.string().regex(/^(octavia-)?ovn-chassis\/\d+$/, "expected a unit like ovn-chassis/2 or octavia-ovn-chassis/0"),
    )
    .default([]),
  /**
   * Octavia units (0-3, in LXD containers N/lxd/6 on hosts 0..2), each with an octavia-ovn-chassis
   * subordinate: the ovn-chassis charm deployed a second time for Octavia's management network
   * (openstack-charmers/openstack-bundles stable/overlays/loadbalancer-octavia.yaml). 0: no octavia.
   */
  octaviaUnits: z.number().int().min(0).max(3).default(0),
  /** Whether `systemctl restart ovs-vswitchd ovn-controller` (after vault is unsealed) reconnects it. */
  restartFixes: z.boolean().default(true),
  restartSeconds: seconds.default(10),
});

/** nova-compute (Stage 5). */
const novaSchema = z.strictObject({
  /** resume-guests-state-on-host-boot (D-043); false = regressed to the charm default. */
  resumeGuestsStateOnHostBoot: z.boolean().default(true),
  /** Guests resume this long after their host's agent started (nova-compute's init_host). */
  resumeSeconds: seconds.default(10),
  /** `server start` / `server stop` complete after this long. */
  startSeconds: seconds.default(10),
  stopSeconds: seconds.default(10),
  /** nova-compute's sync_power_state_interval (nova/conf/compute.py default 600): a PAUSED guest whose host lost power becomes SHUTOFF this long after its host's agent started. */
  syncPowerStateSeconds: seconds.default(600),
});

const guestSchema = z.strictObject({
  name: z.string().min(1),
  id: uuid,
  project: z.string().min(1).default("admin"),
  host: hostName,
  /** Status before the window (planned: at t=0; unplanned: when the power went). */
  statusBefore: z
    .enum(["ACTIVE", "SHUTOFF", "ERROR", "PAUSED", "SUSPENDED", "SHELVED", "SHELVED_OFFLOADED"])
    .default("ACTIVE"),
  /** Named in the drill's holdGuests (returned by createSimCloud). */
  held: z.boolean().default(false),
  /** false: does not auto-resume at boot even with the resume flag on. */
  resumes: z.boolean().default(true),
  network: z.string().default("private"),
  ip: z.string().optional(),
  image: z.string().default("jammy"),
  flavor: z.string().default("m1.small"),
});

const lbSchema = z.strictObject({
  id: uuid,
  name: z.string().min(1),
  project: z.string().min(1).default("admin"),
  vip: z.string().optional(),
  /** The host its amphorae run on. */
  host: hostName,
  topology: z.enum(["SINGLE", "ACTIVE_STANDBY"]).default("ACTIVE_STANDBY"),
  /** provisioning_status once its host is back. */
  afterBoot: z.enum(["ACTIVE", "ERROR", "PENDING_UPDATE"]).default("ACTIVE"),
  /** Becomes ACTIVE by itself this long after its host's agent started. */
  recoversAfterSeconds: seconds.optional(),
  /** `loadbalancer failover`: PENDING_UPDATE, then ACTIVE (recovers) or back to ERROR (stuck). */
  failover: z.enum(["recovers", "stuck"]).default("recovers"),
  failoverSeconds: seconds.default(60),
});

/** A call that answers only after `seconds` (or never: "forever"), e.g. to exceed the call timeout. */
const hangSchema = z.strictObject({
  tool: z.enum(["juju", "openstack", "virsh", "cloud-assert"]),
  /** Every one of these must be an argument of the call. */
  args: z.array(z.string().min(1)).min(1),
  seconds: z.union([seconds, z.literal("forever")]),
  /** Only the first N matching calls hang (default: all). */
  times: z.number().int().min(1).optional(),
});

/** Generated topology on top of the listed one, for benches (never written out in JSON by hand). */
export const scaleSchema = z.strictObject({
  hosts: z.number().int().min(4).max(1000).default(4),
  guests: z.number().int().min(0).max(100_000).default(0),
  lbs: z.number().int().min(0).max(10_000).default(0),
});
export type Scale = z.infer<typeof scaleSchema>;

export const scenarioSchema = z.strictObject({
  description: z.string().min(1),
  /** Which part of the runbook the drill runs (a hint: createSimCloud's `mode` overrides it). */
  mode: z.enum(["planned", "unplanned"]),
  hosts: hostsSchema.prefault({}),
  agents: agentsSchema.prefault({}),
  mysql: mysqlSchema.prefault({}),
  vault: vaultSchema.prefault({}),
  ovn: ovnSchema.prefault({}),
  nova: novaSchema.prefault({}),
  guests: z.array(guestSchema).default([]),
  loadBalancers: z.array(lbSchema).default([]),
  cloudAssert: z
    .strictObject({
      /** Extra FAIL lines cloud-assert prints (a behavioural failure the other checks cannot see). */
      failLines: z.array(z.string().regex(/FAIL/, "a fail line must contain FAIL")).default([]),
      /** The operations repo has no scripts/cloud-assert.sh (createSimCloud writes none; its path is still the stack's). */
      scriptMissing: z.boolean().default(false),
    })
    .prefault({}),
  /** The sim's MAAS API (MAAS-powered stacks only). */
  maas: z
    .strictObject({
      /**
       * The API key the operator holds was revoked in MAAS (its token deleted): MAAS answers every
       * request 401 "Authorization Error: 'Invalid access token: <token>'" (sim/maas-api.ts).
       */
      revokedApiKey: z.boolean().default(false),
    })
    .prefault({}),
  hangs: z.array(hangSchema).default([]),
  /**
   * Sim seconds each call of a fake tool takes before it answers (default 0: a call costs no cloud
   * time). Ours, not measured from a real cloud: for benches, so serial work is not free.
   * Not for the sim MAAS: a step waits for its HTTP answer busy, so MAAS answers in zero sim time.
   */
  latency: z
    .strictObject({
      juju: seconds.optional(),
      openstack: seconds.optional(),
      virsh: seconds.optional(),
      "cloud-assert": seconds.optional(),
    })
    .default({}),
  /**
   * Units whose status Juju cannot read: `juju status --format=json|yaml` prints the unit as
   * `{"status-error": "status not found"}` (juju cmd/juju/status/formatted.go errorStatus) for
   * `seconds` after its machine's agent started ("forever": always).
   */
  jujuStatusErrors: z
    .array(
      z.strictObject({
        unit: z.string().regex(/^[a-z][a-z0-9-]*\/\d+$/, "expected a unit like mysql-innodb-cluster/2"),
        seconds: z.union([seconds, z.literal("forever")]).default("forever"),
      }),
    )
    .default([]),
  scale: scaleSchema.optional(),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Mode = Scenario["mode"];

/**
 * A scenario that cannot be used: a UsageError (one line naming the scenario and the fix), so the
 * drill, preflight and maintenance CLIs exit 2 with that line, never 70 with a stack trace.
 */
export class ScenarioError extends UsageError {}

/** What to do about a scenario's bad keys or values, said once at the end of the line. */
const SCHEMA_FIX = "fix the file (its keys: sim/scenario.ts, sim/README.md)";

export function scenariosDir(): string {
  return path.join(projectRoot(), "sim", "scenarios");
}

export function listScenarios(): string[] {
  return fs
    .readdirSync(scenariosDir())
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

function where(pathParts: readonly PropertyKey[]): string {
  return pathParts.length === 0
    ? "(top level)"
    : pathParts
        .map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
        .join(".")
        .replace(/\.\[/g, "[");
}

/** Validate parsed JSON; errors name the file, the key path and the problem (unknown keys by name). */
export function parseScenario(data: unknown, source = "scenario"): Scenario {
  const result = scenarioSchema.safeParse(data);
  if (result.success) {
    validateRefs(result.data, source);
    return result.data;
  }
  const lines = result.error.issues.map((issue) => {
    if (issue.code === "unrecognized_keys") {
      return `${where(issue.path)}: unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    }
    return `${where(issue.path)}: ${issue.message}`;
  });
  throw new ScenarioError(`scenario ${source}: ${lines.join("; ")}; ${SCHEMA_FIX}`);
}

/** Cross-field checks zod cannot express per field: names point at things that exist. */
function validateRefs(s: Scenario, source: string): void {
  const hosts = s.scale?.hosts ?? 4;
  const bad: string[] = [];
  const hostOk = (h: string) => Number(h.slice("openstack".length)) < hosts;
  s.guests.forEach((g, i) => hostOk(g.host) || bad.push(`guests[${i}].host: no host ${g.host}`));
  s.loadBalancers.forEach((l, i) => hostOk(l.host) || bad.push(`loadBalancers[${i}].host: no host ${l.host}`));
  s.hosts.transientPowerErrors.forEach(
    (f, i) => hostOk(f.host) || bad.push(`hosts.transientPowerErrors[${i}].host: no host ${f.host}`),
  );
  s.hosts.virshRaces.forEach((r, i) => hostOk(r.host) || bad.push(`hosts.virshRaces[${i}].host: no host ${r.host}`));
  s.hosts.unreachableBmc.forEach((h, i) => hostOk(h) || bad.push(`hosts.unreachableBmc[${i}]: no host ${h}`));
  s.vault.unreachableUnits.forEach(
    (u, i) =>
      Number(u.split("/")[1]) < s.vault.units ||
      bad.push(`vault.unreachableUnits[${i}]: no unit ${u} of ${s.vault.units}`),
  );
  const names = new Set<string>();
  s.guests.forEach((g, i) => (names.has(g.id) ? bad.push(`guests[${i}].id: duplicate ${g.id}`) : names.add(g.id)));
  s.ovn.notConnectedAfterBoot.forEach((u) => {
    const limit = u.startsWith("octavia-") ? s.ovn.octaviaUnits : hosts;
    if (Number(u.split("/")[1]) >= limit) bad.push(`ovn.notConnectedAfterBoot: no unit ${u}`);
  });
  (["leader", "gtidSuperset", "partialMissing", "recoveringAfterAction"] as const).forEach((k) => {
    const n = s.mysql[k];
    if (n !== undefined && n >= s.mysql.units)
      bad.push(`mysql.${k}: no unit mysql-innodb-cluster/${n} of ${s.mysql.units}`);
  });
  if (bad.length > 0) throw new ScenarioError(`scenario ${source}: ${bad.join("; ")}; ${SCHEMA_FIX}`);
}

/** A scenario by name (sim/scenarios/<name>.json) or by path (anything with a "/" or ending in .json). */
export function loadScenario(nameOrPath: string): { name: string; file: string; scenario: Scenario } {
  const isPath = nameOrPath.includes("/") || nameOrPath.endsWith(".json");
  const file = isPath ? path.resolve(nameOrPath) : path.join(scenariosDir(), `${nameOrPath}.json`);
  if (!fs.existsSync(file)) {
    const fix = isPath
      ? "give the path of an existing scenario file"
      : `use one of: ${listScenarios().join(", ")} (or the path of a scenario file)`;
    throw new ScenarioError(`scenario ${nameOrPath}: no file ${file}; ${fix}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const why = ((err as Error).message.split("\n")[0] ?? "").trim();
    throw new ScenarioError(`scenario ${file}: not valid JSON (${why}); fix the JSON in that file`);
  }
  return { name: path.basename(file, ".json"), file, scenario: parseScenario(data, file) };
}
