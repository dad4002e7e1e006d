/**
 * Simulated cloud -- juju's output documents (Stages 1, 2, 4, 5 and the baseline capture):
 * `juju machines`, `juju status [<app>]`, `juju config nova-compute`, `juju run … --format=json`
 * with `juju show-task` / `show-operation` / `operations` / `exec --format=json`, `juju show-model`,
 * the exported bundle. Same keys, key order and strings as the recorded
 * fixtures (fixtures/juju, S-juju-fmt); values come from the state through views.ts.
 */
import {
  agentStartedAt,
  hostOfMachine,
  isContainer,
  type SimState,
  type TaskRec,
  type UnitRec,
  wallClock,
} from "../state";
import {
  chassisConnection,
  machineAgentView,
  mysqlUnitView,
  plainUnitView,
  vaultUnitView,
  type StatusView,
  type UnitView,
} from "../views";

export const JUJU_VERSION = "3.5.2";
type Json = Record<string, unknown>;

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** Juju's status time format ("02 Jan 2006 15:04:05Z07:00"), in UTC. */
export function jujuTime(simSeconds: number): string {
  const d = wallClock(simSeconds);
  return `${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

/** Go time.String() in UTC, as `juju run` prints timings ("2025-10-14 11:19:31 +0000 UTC"). */
export function goTime(simSeconds: number): string {
  return wallClock(simSeconds)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " +0000 UTC");
}

const DEPLOYED = jujuTime(-90 * 86400);

function status(v: StatusView, since: string, version?: string): Json {
  const out: Json = { current: v.current };
  if (v.message !== undefined && v.message !== "") out.message = v.message;
  out.since = since;
  if (version !== undefined) out.version = version;
  return out;
}

const hex2 = (n: number) => (n & 255).toString(16).padStart(2, "0");

function machineSince(s: SimState, machine: string, now: number): string {
  const h = s.hosts[hostOfMachine(machine)];
  const started = agentStartedAt(s, machine);
  if (started !== null && now >= started) return jujuTime(started);
  return jujuTime(h.offSince ?? h.onSince ?? 0);
}

/** One machine object; `containers` = the container ids to nest under a host. */
export function machineDoc(s: SimState, machine: string, now: number, containers: string[] = []): Json {
  const container = isContainer(machine);
  const h = s.hosts[hostOfMachine(machine)];
  const c = container ? s.containers.find((x) => x.id === machine) : undefined;
  const address = c?.address ?? h.address;
  const last = Number(address.split(".").pop());
  const doc: Json = {
    "juju-status": status(machineAgentView(s, machine, now), machineSince(s, machine, now), JUJU_VERSION),
    hostname: c?.hostname ?? h.name,
    "dns-name": address,
    "ip-addresses": [address],
    "instance-id": c?.hostname ?? h.instanceId,
  };
  if (!container) doc["display-name"] = h.name;
  Object.assign(doc, {
    "machine-status": { current: "running", message: container ? "Container started" : "Deployed", since: DEPLOYED },
    "modification-status": { current: "applied", since: DEPLOYED },
    base: { name: "ubuntu", channel: "22.04" },
    "network-interfaces": {
      [container ? "eth0" : "br-ens3"]: {
        "ip-addresses": [address],
        "mac-address": container
          ? `00:16:3e:4a:${hex2(last)}:7c`
          : `52:54:00:${hex2(0x1a + (Number(h.machine) >> 8))}:${hex2(Number(h.machine))}:01`,
        gateway: address.replace(/\.\d+$/, ".1"),
        space: "alpha",
        "is-up": true,
      },
    },
    constraints: "arch=amd64",
    hardware: container
      ? "availability-zone=default"
      : "arch=amd64 cores=16 mem=65536M tags=virtual availability-zone=default",
  });
  if (containers.length > 0) {
    doc.containers = Object.fromEntries(containers.map((id) => [id, machineDoc(s, id, now)]));
  }
  return doc;
}

/** The `machines` map for a set of machine ids: hosts, with the listed containers nested. */
function machinesMap(s: SimState, ids: Iterable<string>, now: number): Json {
  const hosts = new Map<number, string[]>();
  for (const id of ids) {
    const host = hostOfMachine(id);
    const list = hosts.get(host) ?? [];
    if (isContainer(id) && !list.includes(id)) list.push(id);
    hosts.set(host, list);
  }
  return Object.fromEntries(
    [...hosts.keys()]
      .sort((a, b) => a - b)
      .map((host) => [String(host), machineDoc(s, String(host), now, hosts.get(host))]),
  );
}

function allMachineIds(s: SimState): string[] {
  return [...s.hosts.map((h) => h.machine), ...s.containers.map((c) => c.id)];
}

export function machinesDoc(s: SimState, now: number): Json {
  return { model: s.model, machines: machinesMap(s, allMachineIds(s), now) };
}

// --- applications -----------------------------------------------------------------------------

interface Charm {
  rev: number;
  channel: string;
  version: string;
  relations: Record<string, [string, string, string][]>;
  bindings: string[];
  subordinateTo?: string;
  /** The charm the application is deployed from, when the application is named otherwise (octavia-ovn-chassis). */
  charmName?: string;
  /** Deployed only in some scenarios (octavia: scenario ovn.octaviaUnits). */
  optional?: true;
}

const CHARMS: Record<string, Charm> = {
  "mysql-innodb-cluster": {
    rev: 133,
    channel: "8.0/stable",
    version: "8.0.37",
    relations: {
      cluster: [["mysql-innodb-cluster", "mysql-innodb-cluster", "global"]],
      coordinator: [["mysql-innodb-cluster", "coordinator", "global"]],
      "db-router": [
        ["keystone-mysql-router", "mysql-router", "global"],
        ["vault-mysql-router", "mysql-router", "global"],
      ],
    },
    bindings: ["certificates", "cluster", "coordinator", "db-monitor", "db-router", "shared-db"],
  },
  vault: {
    rev: 209,
    channel: "1.8/stable",
    version: "1.8.8",
    relations: {
      certificates: [
        ["ovn-chassis", "tls-certificates", "global"],
        ["neutron-api", "tls-certificates", "global"],
      ],
      cluster: [["vault", "vault-ha", "global"]],
      "shared-db": [["vault-mysql-router", "mysql-shared", "global"]],
    },
    bindings: ["access", "certificates", "cluster", "external", "shared-db"],
  },
  "nova-compute": {
    rev: 755,
    channel: "2024.1/stable",
    version: "29.2.0",
    relations: {
      amqp: [["rabbitmq-server", "rabbitmq", "global"]],
      "cloud-compute": [["nova-cloud-controller", "nova-compute", "global"]],
      "compute-peer": [["nova-compute", "nova", "global"]],
      "image-service": [["glance", "glance", "global"]],
      "neutron-plugin": [["ovn-chassis", "neutron-plugin", "container"]],
    },
    bindings: ["amqp", "cloud-compute", "compute-peer", "image-service", "neutron-plugin"],
  },
  "ovn-chassis": {
    rev: 196,
    channel: "24.03/stable",
    version: "24.03.2",
    relations: {
      certificates: [["vault", "tls-certificates", "global"]],
      "nova-compute": [["nova-compute", "neutron-plugin", "container"]],
      ovsdb: [["ovn-central", "ovsdb", "global"]],
    },
    bindings: ["certificates", "data", "juju-info", "nova-compute", "ovsdb"],
    subordinateTo: "nova-compute",
  },
  // Octavia with OVN: the ovn-chassis charm deployed a second time, as a subordinate of octavia,
  // for the load-balancer management network (openstack-charmers/openstack-bundles @
  // c77f3ea800f8d7bcdbcf008f1b731609315f6d3d stable/overlays/loadbalancer-octavia.yaml:
  // `octavia-ovn-chassis: charm: cs:ovn-chassis`, `octavia-ovn-chassis:ovsdb-subordinate` - `octavia:ovsdb-subordinate`)
  octavia: {
    rev: 566,
    channel: "2024.1/stable",
    version: "14.0.0",
    relations: {
      certificates: [["vault", "tls-certificates", "global"]],
      "ovsdb-subordinate": [["octavia-ovn-chassis", "ovsdb-subordinate", "container"]],
      "ovsdb-cms": [["ovn-central", "ovsdb-cms", "global"]],
    },
    bindings: ["amqp", "certificates", "identity-service", "ovsdb-cms", "ovsdb-subordinate", "shared-db"],
    optional: true,
  },
  "octavia-ovn-chassis": {
    rev: 196,
    channel: "24.03/stable",
    version: "24.03.2",
    relations: {
      certificates: [["vault", "tls-certificates", "global"]],
      "ovsdb-subordinate": [["octavia", "ovsdb-subordinate", "container"]],
      ovsdb: [["ovn-central", "ovsdb", "global"]],
    },
    bindings: ["certificates", "data", "juju-info", "nova-compute", "ovsdb", "ovsdb-subordinate"],
    subordinateTo: "octavia",
    charmName: "ovn-chassis",
    optional: true,
  },
  "neutron-api": {
    rev: 590,
    channel: "2024.1/stable",
    version: "24.0.0",
    relations: {
      certificates: [["vault", "tls-certificates", "global"]],
      "neutron-plugin-api-subordinate": [["neutron-api-plugin-ovn", "neutron-plugin-api-subordinate", "container"]],
      "shared-db": [["neutron-mysql-router", "mysql-shared", "global"]],
    },
    bindings: [
      "amqp",
      "certificates",
      "identity-service",
      "neutron-api",
      "neutron-plugin-api-subordinate",
      "shared-db",
    ],
  },
};

export const APPLICATIONS = Object.keys(CHARMS);

export function isApplication(name: string): boolean {
  return name in CHARMS;
}

/** An optional application (octavia) is in the model only when the scenario deploys it. */
function deployed(s: SimState, app: string): boolean {
  return !CHARMS[app]?.optional || (s.octavia?.units.length ?? 0) > 0;
}

/** Units of an application with their machine and address (ovn-chassis: on its principal's machine). */
export function unitsOf(s: SimState, app: string): UnitRec[] {
  switch (app) {
    case "mysql-innodb-cluster":
      return s.mysql.units;
    case "vault":
      return s.vault.units;
    case "neutron-api":
      return s.neutron.units;
    case "nova-compute":
      return s.hosts.map((h, i) => ({ name: `nova-compute/${i}`, machine: h.machine, address: h.address }));
    case "ovn-chassis":
    case "octavia-ovn-chassis":
      return s.ovn.chassis
        .filter((c) => c.name.startsWith(`${app}/`))
        .map((c) => ({
          name: c.name,
          machine: c.machine ?? s.hosts[c.host].machine,
          address: c.machine ? (s.containers.find((x) => x.id === c.machine)?.address ?? "") : s.hosts[c.host].address,
        }));
    case "octavia":
      return s.octavia?.units ?? [];
    default:
      return [];
  }
}

export function findUnit(s: SimState, name: string): { app: string; unit: UnitRec } | undefined {
  const app = name.split("/")[0];
  if (!isApplication(app)) return undefined;
  let unitName = name;
  if (name.endsWith("/leader")) {
    unitName = app === "mysql-innodb-cluster" ? s.mysql.leader : `${app}/0`;
  }
  const unit = unitsOf(s, app).find((u) => u.name === unitName);
  return unit ? { app, unit } : undefined;
}

function unitView(s: SimState, app: string, unit: UnitRec, now: number): UnitView {
  switch (app) {
    case "mysql-innodb-cluster":
      return mysqlUnitView(s, unit, now);
    case "vault":
      return vaultUnitView(
        s,
        s.vault.units.find((v) => v.name === unit.name)!,
        now,
      );
    default:
      return plainUnitView(s, unit.machine, unit.name, now);
  }
}

function isLeader(s: SimState, app: string, unit: string): boolean {
  return app === "mysql-innodb-cluster" ? unit === s.mysql.leader : unit === `${app}/0`;
}

function unitDoc(s: SimState, app: string, unit: UnitRec, now: number, principal: boolean): Json {
  const v = unitView(s, app, unit, now);
  const since = machineSince(s, unit.machine, now);
  const doc: Json = {
    "workload-status": status(v.workload, since),
    "juju-status": status(v.agent, since, JUJU_VERSION),
  };
  if (isLeader(s, app, unit.name)) doc.leader = true;
  if (principal) doc.machine = unit.machine;
  doc["public-address"] = unit.address;
  if (app === "nova-compute" || app === "octavia") {
    const chassis = s.ovn.chassis.find((c) => c.principal === unit.name);
    const chassisApp = chassis?.name.split("/")[0] ?? "ovn-chassis";
    if (chassis)
      doc.subordinates = { [chassis.name]: unitDoc(s, chassisApp, { ...unit, name: chassis.name }, now, false) };
  }
  return doc;
}

const SEVERITY = ["error", "blocked", "waiting", "maintenance", "active", "unknown"];

/** Juju derives an application's status from its units: the most severe one wins. */
function applicationStatus(units: UnitView[], since: string): Json {
  const worst = [...units].sort(
    (a, b) => SEVERITY.indexOf(a.workload.current) - SEVERITY.indexOf(b.workload.current),
  )[0];
  return status(worst?.workload ?? { current: "unknown" }, since);
}

function applicationDoc(s: SimState, app: string, now: number): Json {
  const charm = CHARMS[app];
  const relations = Object.fromEntries(
    Object.entries(charm.relations).map(([ep, list]) => [
      ep,
      list.map(([related, iface, scope]) => ({ "related-application": related, interface: iface, scope })),
    ]),
  );
  const units = unitsOf(s, app);
  const since = jujuTime(0);
  const doc: Json = {
    charm: charm.charmName ?? app,
    base: { name: "ubuntu", channel: "22.04" },
    "charm-origin": "charmhub",
    "charm-name": charm.charmName ?? app,
    "charm-rev": charm.rev,
    "charm-channel": charm.channel,
    exposed: false,
    "application-status": applicationStatus(
      units.map((u) => unitView(s, app, u, now)),
      since,
    ),
    relations,
  };
  if (charm.subordinateTo) doc["subordinate-to"] = [charm.subordinateTo];
  else doc.units = Object.fromEntries(units.map((u) => [u.name, unitDoc(s, app, u, now, true)]));
  doc.version = charm.version;
  doc["endpoint-bindings"] = Object.fromEntries([["", "alpha"], ...charm.bindings.map((b) => [b, "alpha"])]);
  return doc;
}

function modelDoc(s: SimState): Json {
  return {
    name: s.model,
    type: "iaas",
    controller: s.controller,
    cloud: "maas",
    region: "default",
    version: JUJU_VERSION,
    "model-status": { current: "available", since: DEPLOYED },
    sla: "unsupported",
  };
}

/** `juju status [apps…]`: the apps, their subordinate (or principal) apps, and the machines hosting their units. */
export function statusDoc(s: SimState, now: number, filter: string[] = []): Json {
  const apps = new Set<string>();
  for (const app of filter.length === 0 ? APPLICATIONS : filter) {
    if (!isApplication(app) || !deployed(s, app)) continue;
    apps.add(app);
    const sub = CHARMS[app].subordinateTo;
    if (sub) apps.add(sub);
    for (const [other, charm] of Object.entries(CHARMS)) if (charm.subordinateTo === app) apps.add(other);
  }
  const ordered = APPLICATIONS.filter((a) => apps.has(a)).sort();
  const machineIds =
    filter.length === 0 ? allMachineIds(s) : ordered.flatMap((a) => unitsOf(s, a).map((u) => u.machine));
  const t = wallClock(now);
  return {
    model: modelDoc(s),
    machines: machinesMap(s, machineIds, now),
    applications: Object.fromEntries(ordered.map((a) => [a, applicationDoc(s, a, now)])),
    storage: {},
    controller: { timestamp: `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}Z` },
  };
}

/** `juju status` without --format: a short tabular listing (Unit / Workload / Agent / Machine / address / Message). */
export function statusTable(s: SimState, now: number, filter: string[] = []): string {
  const rows: string[][] = [["Unit", "Workload", "Agent", "Machine", "Public address", "Message"]];
  const apps = filter.length === 0 ? APPLICATIONS : filter.filter(isApplication);
  for (const app of [...apps].sort()) {
    if (CHARMS[app].subordinateTo || !deployed(s, app)) continue;
    for (const u of unitsOf(s, app)) {
      const v = unitView(s, app, u, now);
      rows.push([
        `${u.name}${isLeader(s, app, u.name) ? "*" : ""}`,
        v.workload.current,
        v.agent.current,
        u.machine,
        u.address,
        v.workload.message ?? "",
      ]);
      if (app === "nova-compute" || app === "octavia") {
        const c = s.ovn.chassis.find((x) => x.principal === u.name)!;
        const cv = plainUnitView(s, u.machine, c.name, now);
        rows.push([`  ${c.name}`, cv.workload.current, cv.agent.current, "", u.address, cv.workload.message ?? ""]);
      }
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const head = `Model      Controller       Cloud/Region  Version\n${s.model.padEnd(11)}${s.controller.padEnd(17)}maas/default  ${JUJU_VERSION}\n\n`;
  return (
    head +
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") +
    "\n"
  );
}

// --- config, actions, model, bundle -----------------------------------------------------------

export function configDoc(s: SimState, app: string): Json {
  const settings: Json = {
    debug: { default: false, description: "Enable debug logging.", source: "default", type: "boolean", value: false },
  };
  if (app === "nova-compute") {
    settings["resume-guests-state-on-host-boot"] = {
      default: false,
      description: "This option determines whether to start guests that were running\nbefore the host rebooted.\n",
      source: s.nova.resumeFlag ? "user" : "default",
      type: "boolean",
      value: s.nova.resumeFlag,
    };
    settings["virt-type"] = {
      default: "kvm",
      description: "Virtualisation flavor. The only supported flavor is kvm.",
      source: "default",
      type: "string",
      value: "kvm",
    };
  }
  return {
    application: app,
    charm: app,
    settings,
    "application-config": {
      trust: {
        default: false,
        description: "Does this application have access to trusted credentials",
        source: "default",
        type: "bool",
        value: false,
      },
    },
  };
}

// --- action tasks: juju run / show-task / show-operation / operations / exec ---------------------

/** What reboot-cluster-from-complete-outage leaves in a task's results (charm src/actions/actions.py, S-action). */
export function rebootResults(
  unit: UnitRec,
  result: { ok: true } | { ok: false; wantedAddress: string },
): { final: TaskRec["final"]; message?: string; results: Record<string, unknown> } {
  if (result.ok) return { final: "completed", results: { outcome: "Success", output: "", "return-code": 0 } };
  const n = unit.name.split("/")[1];
  return {
    final: "failed",
    message: "Reboot cluster from complete outage failed.",
    // on CalledProcessError the charm action_sets the mysqlsh exit status as return-code
    // (openstack/charm-mysql-innodb-cluster src/actions/actions.py reboot_cluster_from_complete_outage)
    results: {
      output: `RuntimeError: Dba.reboot_cluster_from_complete_outage: The active session instance (${unit.address}:3306) isn't the most updated in comparison with the ONLINE instances of the Cluster's metadata. Please use the most up to date instance: '${result.wantedAddress}:3306'.\n`,
      "return-code": 1,
      traceback: `Traceback (most recent call last):\n  File "/var/lib/juju/agents/unit-mysql-innodb-cluster-${n}/charm/actions/reboot-cluster-from-complete-outage", line 124, in reboot_cluster_from_complete_outage\n    output = instance.reboot_cluster_from_complete_outage()\nsubprocess.CalledProcessError: Command '['/snap/bin/mysqlsh', '--no-wizard', '--python', '-f', '/root/snap/mysql-shell/common/tmp.py']' returned non-zero exit status 1.\n`,
    },
  };
}

/** pending until the unit agent starts it, running until it ends, then its final status. */
export function taskStatus(t: TaskRec, now: number): string {
  if (t.started === null || now < t.started) return "pending";
  if (t.completed === null || now < t.completed) return "running";
  return t.final;
}

function taskFinishedAt(t: TaskRec, now: number): boolean {
  return t.completed !== null && now >= t.completed;
}

/** The times so far, in the order given (the caller decides map order vs struct order). */
function taskTimes(t: TaskRec, now: number): { enqueued: string; started?: string; completed?: string } {
  return {
    enqueued: goTime(t.enqueued),
    ...(t.started !== null && now >= t.started ? { started: goTime(t.started) } : {}),
    ...(t.completed !== null && now >= t.completed ? { completed: goTime(t.completed) } : {}),
  };
}

/** Go's encoding/json writes a map's keys sorted. */
function sortedKeys(o: Record<string, unknown>): Json {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]]),
  );
}

/**
 * One task as `formatActionResult` builds it (juju/juju cmd/juju/action/common.go @ 0cdccd5f): a map,
 * so the keys are sorted: `id`, `message` (when set), `results` (when any), `status`, `timing`
 * (`completed`/`enqueued`/`started` as far as reached, Go `time.String()`), `unit`.
 */
export function taskDoc(t: TaskRec, now: number): Json {
  const done = taskFinishedAt(t, now);
  const doc: Json = { id: t.id, status: taskStatus(t, now), timing: sortedKeys(taskTimes(t, now)), unit: t.unit };
  if (done && t.message) doc.message = t.message;
  if (done && Object.keys(t.results).length > 0) doc.results = sortedKeys(t.results);
  return sortedKeys(doc);
}

/** `juju run … --format=json` and `juju exec … --format=json`: unit id -> task. */
export function runDoc(t: TaskRec, now: number): Json {
  return { [t.unit]: taskDoc(t, now) };
}

/** The receiver tag juju prints in "  - task N on unit-…" (names.NewUnitTag(id).String()). */
export function unitTag(unit: string): string {
  return `unit-${unit.replace("/", "-")}`;
}

/**
 * One operation as `formatOperationResult` builds it (juju/juju cmd/juju/action/listoperations.go @
 * 5c910215): structs, so the keys keep their declared order -- summary, status, action{name,
 * parameters}, timing{enqueued, started, completed}, tasks{id -> {host, status, timing, message,
 * results}}. The summary is "<action> run on <receiver tags>" (juju/juju state tests; a published
 * `juju show-operation` sample reads "summary: test run on unit-kubernetes-e2e-0").
 */
export function operationDoc(t: TaskRec, now: number): Json {
  const done = taskFinishedAt(t, now);
  const task: Json = { host: t.unit, status: taskStatus(t, now), timing: taskTimes(t, now) };
  if (done && t.message) task.message = t.message;
  if (done && Object.keys(t.results).length > 0) task.results = t.results;
  return {
    summary: `${t.action} run on ${unitTag(t.unit)}`,
    status: taskStatus(t, now),
    action: { name: t.action, parameters: {} },
    timing: taskTimes(t, now),
    tasks: { [t.id]: task },
  };
}

export function showModelDoc(s: SimState): Json {
  return {
    [s.model]: {
      name: `admin/${s.model}`,
      "short-name": s.model,
      "model-uuid": s.modelUuid,
      "model-type": "iaas",
      "controller-uuid": "9b1e5c2a-4f3d-4e8b-8c7a-1d2e3f4a5b6c",
      "controller-name": s.controller,
      "is-controller": false,
      owner: "admin",
      cloud: "maas",
      region: "default",
      type: "maas",
      life: "alive",
      status: { current: "available", since: DEPLOYED },
      users: { admin: { "display-name": "admin", access: "admin", "last-connection": "just now" } },
      sla: "unsupported",
      "agent-version": JUJU_VERSION,
      credential: { name: "maas-creds", owner: "admin", cloud: "maas" },
    },
  };
}

export function bundleDoc(s: SimState): Json {
  const applications: Json = {};
  for (const app of APPLICATIONS) {
    const charm = CHARMS[app];
    if (!deployed(s, app)) continue;
    const entry: Json = { charm: charm.charmName ?? app, channel: charm.channel, revision: charm.rev };
    if (!charm.subordinateTo) {
      const units = unitsOf(s, app);
      entry.num_units = units.length;
      entry.to = units.map((u) => (isContainer(u.machine) ? `lxd:${hostOfMachine(u.machine)}` : u.machine));
    }
    if (app === "nova-compute") entry.options = { "resume-guests-state-on-host-boot": s.nova.resumeFlag };
    applications[app] = entry;
  }
  return {
    "default-base": "ubuntu@22.04/stable",
    applications,
    machines: Object.fromEntries(s.hosts.map((h) => [h.machine, { constraints: "arch=amd64" }])),
    relations: [
      ["nova-compute:neutron-plugin", "ovn-chassis:nova-compute"],
      ["ovn-chassis:certificates", "vault:certificates"],
      ["neutron-api:certificates", "vault:certificates"],
      ...(deployed(s, "octavia")
        ? [
            ["octavia-ovn-chassis:ovsdb-subordinate", "octavia:ovsdb-subordinate"],
            ["octavia-ovn-chassis:certificates", "vault:certificates"],
          ]
        : []),
    ],
  };
}

/** The connection status text a chassis prints, or null when its machine cannot be reached. */
export function connectionStatusText(s: SimState, chassis: string, now: number): string | null {
  const i = s.ovn.chassis.findIndex((c) => c.name === chassis);
  const st = chassisConnection(s, i, now);
  return st === null ? null : `${st}\n`;
}
