/**
 * Simulated cloud -- the ONE state model behind the fake juju / openstack / virsh / cloud-assert,
 * and its transitions: host power (shutdown / destroy / start), what a host's boot does to MySQL,
 * Vault, OVN chassis, guests and LBs, the MySQL reboot action, unsealing, the TLS sweep restarts,
 * server start/stop and LB failover. Pure functions of (state, sim time) that mutate the state
 * object they are given; no I/O (store.ts loads and saves).
 *
 * Time is in SIM seconds since the sim started, on one of two clocks (sim/time.ts): scaled, real
 * ms = sim s * 1000 * timeScale (the default timeScale makes one simulated minute 100 ms real, so
 * "agents start 2 min after power-on" takes 200 ms), or the drill's discrete-event clock. Delayed effects are timers in the state; `advance(state, now)` applies the due
 * ones in time order, so any reader computes the same state for the same instant.
 */
import type { Mode, Scale, Scenario } from "./scenario";
import { SIM_EPOCH_MS } from "../runtime/clock-file";

/** One simulated minute = 100 ms real. */
export const DEFAULT_TIME_SCALE = 1 / 600;
/** The wall clock the outputs show at sim t = 0 (the records' too: runtime/clock-file.ts). */
export { SIM_EPOCH_MS };
export const CONTROLLER = "maas-controller";
export const MODEL = "openstack";
export const VIRSH_URI = "test:///coldstart-sim";
export const OUTAGE_SIGNATURE = "Cluster is inaccessible from this instance. Please check logs for details.";

export type Power = "on" | "off";
/**
 * A guest's status as the compute API shows it (nova/api/openstack/common.py _STATE_MAP): the
 * resting states a guest can be in before a window. A host's power loss changes only ACTIVE
 * (nova-compute is down, so the database keeps the others); see powerOff / powerOn.
 */
export type GuestStatus = "ACTIVE" | "SHUTOFF" | "ERROR" | "PAUSED" | "SUSPENDED" | "SHELVED" | "SHELVED_OFFLOADED";

export interface HostRec {
  name: string;
  /** Juju machine id ("0" for openstack0). */
  machine: string;
  address: string;
  instanceId: string;
  power: Power;
  onSince: number | null;
  offSince: number | null;
  /** A `virsh shutdown` is in progress (a host-off timer is pending). */
  shuttingDown: boolean;
  ignoreShutdown: boolean;
  /** Its power controller does not answer (scenario hosts.unreachableBmc); absent: it answers. */
  bmcUnreachable?: boolean;
}

export interface ContainerRec {
  id: string;
  host: number;
  address: string;
  hostname: string;
}

export interface UnitRec {
  name: string;
  machine: string;
  address: string;
}

export type MysqlPhase =
  | { kind: "online"; primary: string; since: number; staleUntil: Record<string, number> }
  /** Lost its members: what the units show once up is the scenario's `afterBoot`. */
  | { kind: "down"; since: number };

export interface MysqlRec {
  units: UnitRec[];
  leader: string;
  superset: string;
  afterBoot: Scenario["mysql"]["afterBoot"];
  staleSeconds: number;
  partialMissing: string;
  unknownMessage: string;
  phase: MysqlPhase;
  /** A member that stays RECOVERING this long after the cluster came back online (sim/views.ts); absent: none. */
  recovering?: { unit: string; seconds: number };
  /** How long reboot-cluster-from-complete-outage runs on its unit, sim s (sim/tools/juju.ts); absent: 25. */
  actionSeconds?: number;
}

/**
 * A task `juju run` enqueued, with its operation (sim/tools/juju.ts). Its outcome is fixed when it
 * is enqueued; its status follows the clock: pending until `started`, running until `completed`.
 * It runs on the unit agent, so a killed juju client does not stop it.
 */
export interface TaskRec {
  id: string;
  operation: string;
  unit: string;
  action: string;
  enqueued: number;
  /** null: the unit agent never picks it up (its machine was down when it was enqueued). */
  started: number | null;
  completed: number | null;
  /** The status it reaches at `completed`. */
  final: "completed" | "failed";
  message?: string;
  results: Record<string, unknown>;
}

export interface VaultUnitRec extends UnitRec {
  sealed: boolean;
  /** Shares given since the last reset: index into `keys`, -1 for a key that is not a share. */
  given: number[];
  nonce: string;
  /** Its vault service is not running: nothing listens there (scenario vault.unreachableUnits); absent: running. */
  unreachable?: boolean;
  /** When the keyholders will have unsealed it by hand (scenario vault.unsealByHandAfterSeconds); absent: not scheduled. */
  handUnsealAt?: number;
}

export interface ChassisRec {
  name: string;
  principal: string;
  host: number;
  /** The principal's machine when it is not the host itself (octavia-ovn-chassis in octavia's LXD container). */
  machine?: string;
  connected: boolean;
  restarts: number;
  gen: number;
}

export interface GuestRec {
  id: string;
  name: string;
  project: string;
  host: number;
  status: GuestStatus;
  /** Its status before the window (the scenario's statusBefore): what "should be ACTIVE" is judged against. */
  before?: GuestStatus;
  task: "powering-on" | "powering-off" | null;
  /** Running when its host went off: resumes at boot if the resume flag (and the guest) allows. */
  wasRunning: boolean;
  held: boolean;
  resumes: boolean;
  network: string;
  ip: string;
  image: string;
  flavor: string;
  gen: number;
}

export interface LbRec {
  id: string;
  name: string;
  project: string;
  vip: string;
  host: number;
  topology: "SINGLE" | "ACTIVE_STANDBY";
  afterBoot: "ACTIVE" | "ERROR" | "PENDING_UPDATE";
  recoversAfter: number | null;
  failover: "recovers" | "stuck";
  failoverSeconds: number;
  provisioning: string;
  operating: string;
  needsBoot: boolean;
  failovers: number;
  gen: number;
}

export interface HangRec {
  tool: string;
  args: string[];
  seconds: number | "forever";
  remaining: number | null;
}

export interface PowerFaultRec {
  host: number;
  call: "soft-off" | "hard-off" | "on" | "state";
  remaining: number;
}

export interface VirshRaceRec {
  host: number;
  call: "shutdown" | "destroy" | "start";
  done: boolean;
}

export type Timer =
  | { at: number; kind: "host-off"; host: number }
  | { at: number; kind: "guest"; guest: number; gen: number; status: GuestStatus }
  | { at: number; kind: "chassis"; chassis: number; gen: number }
  | { at: number; kind: "lb"; lb: number; gen: number; provisioning: string; operating: string }
  | { at: number; kind: "vault-by-hand"; unit: number };

export interface Damage {
  at: number;
  what: string;
  detail: string;
}

export interface SimEvent {
  at: number;
  what: string;
}

export interface SimState {
  version: 1;
  scenario: string;
  description: string;
  mode: Mode;
  /**
   * Which clock the sim runs on (sim/time.ts): scaled = real time x timeScale from startedAtMs;
   * discrete = the drill's discrete-event clock in <simdir>/clock (startedAtMs, timeScale unused).
   * Absent (a state written before issue #14): scaled.
   */
  clock: "scaled" | "discrete";
  /** Real epoch ms of sim t = 0 (scaled clock). */
  startedAtMs: number;
  timeScale: number;
  /** Sim seconds each call of a fake tool takes before it answers (scenario `latency`); absent: 0. */
  latency?: Partial<Record<LatencyTool, number>>;
  controller: string;
  model: string;
  modelUuid: string;
  virshUri: string;
  openstack: { authUrl: string; username: string; password: string; projectName: string; region: string };
  projects: Record<string, string>;
  hosts: HostRec[];
  containers: ContainerRec[];
  agents: {
    startSeconds: number;
    containerExtraSeconds: number;
    byMachine: Record<string, number>;
    neverStart: string[];
  };
  shutdownSeconds: number;
  mysql: MysqlRec;
  /** `tls`: the charm's public listener serves TLS (ssl-cert/ssl-key set); absent = plain. */
  vault: {
    threshold: number;
    shares: number;
    keys: string[];
    units: VaultUnitRec[];
    tls?: boolean;
    /** Scenario vault.unsealByHandAfterSeconds: the keyholders unseal by hand this long after a sealed unit is seen. */
    unsealByHandAfterSeconds?: number;
  };
  ovn: { notConnectedAfterBoot: string[]; restartFixes: boolean; restartSeconds: number; chassis: ChassisRec[] };
  neutron: { units: UnitRec[]; restarts: number };
  nova: {
    resumeFlag: boolean;
    resumeSeconds: number;
    startSeconds: number;
    stopSeconds: number;
    /** nova-compute's _sync_power_states period (sync_power_state_interval); absent: 600. */
    syncPowerStateSeconds?: number;
  };
  guests: GuestRec[];
  lbs: LbRec[];
  cloudAssert: { failLines: string[] };
  hangs: HangRec[];
  /** Units `juju status` prints as `{"status-error": ...}` for `seconds` after their machine's agent started; absent: none. */
  statusErrors?: { unit: string; seconds: number | "forever" }[];
  /** octavia units (each with an octavia-ovn-chassis subordinate in s.ovn.chassis); absent: octavia not deployed. */
  octavia?: { units: UnitRec[] };
  /** Power calls that fail transiently before they work (sim/maas-api.ts, tools/virsh.ts); absent: none. */
  powerFaults?: PowerFaultRec[];
  /** virsh calls that meet a domain already in the wanted state (a stale domstate); absent: none. */
  virshRaces?: VirshRaceRec[];
  /** The sim MAAS API's own faults (scenario `maas`); absent: none. */
  maas?: { revokedApiKey: boolean };
  timers: Timer[];
  actionSeq: number;
  /** Action tasks `juju run` enqueued (sim/tools/juju.ts); absent: none yet. */
  tasks?: TaskRec[];
  /** What the real cloud would have suffered (e.g. the reboot action on a cluster not in complete outage). */
  damage: Damage[];
  events: SimEvent[];
}

// ---------------------------------------------------------------------------------------------
// time

export function simNow(s: Pick<SimState, "startedAtMs" | "timeScale">, realMs: number = Date.now()): number {
  return (realMs - s.startedAtMs) / (1000 * s.timeScale);
}

export function simToRealMs(s: Pick<SimState, "timeScale">, simSeconds: number): number {
  return simSeconds * 1000 * s.timeScale;
}

/** The wall-clock time the outputs show for a sim instant. */
export function wallClock(simSeconds: number): Date {
  return new Date(SIM_EPOCH_MS + Math.round(simSeconds * 1000));
}

// ---------------------------------------------------------------------------------------------
// topology

function hostAddress(i: number): string {
  if (i < 4) return `192.168.100.${37 + i}`;
  const n = i - 4;
  return `192.168.${101 + Math.floor(n / 200)}.${10 + (n % 200)}`;
}

const INSTANCE_IDS = ["kpd8sx", "wnqe4h", "bd7cfa", "xr6mgt"];

function instanceId(i: number): string {
  if (i < INSTANCE_IDS.length) return INSTANCE_IDS[i];
  return `s${i.toString(36).padStart(5, "0")}`;
}

/** The LXD containers of the control plane (ids and addresses of the recorded fixtures for mysql). */
const CONTAINERS: ContainerRec[] = [
  { id: "0/lxd/3", host: 0, address: "192.168.100.54", hostname: "juju-3da275-0-lxd-3" },
  { id: "1/lxd/2", host: 1, address: "192.168.100.46", hostname: "juju-3da275-1-lxd-2" },
  { id: "2/lxd/2", host: 2, address: "192.168.100.52", hostname: "juju-3da275-2-lxd-2" },
  { id: "3/lxd/0", host: 3, address: "192.168.100.57", hostname: "juju-3da275-3-lxd-0" },
  { id: "0/lxd/4", host: 0, address: "192.168.100.58", hostname: "juju-3da275-0-lxd-4" },
  { id: "1/lxd/4", host: 1, address: "192.168.100.59", hostname: "juju-3da275-1-lxd-4" },
  { id: "2/lxd/3", host: 2, address: "192.168.100.56", hostname: "juju-3da275-2-lxd-3" },
];
const MYSQL_MACHINES = ["0/lxd/3", "1/lxd/2", "2/lxd/2"];
/** Units /3 and /4 of a 5-unit cluster (scenario mysql.units: 5), and their containers. */
const MYSQL_MACHINES_5 = [...MYSQL_MACHINES, "3/lxd/1", "0/lxd/5"];
const MYSQL_5_CONTAINERS: ContainerRec[] = [
  { id: "3/lxd/1", host: 3, address: "192.168.100.63", hostname: "juju-3da275-3-lxd-1" },
  { id: "0/lxd/5", host: 0, address: "192.168.100.62", hostname: "juju-3da275-0-lxd-5" },
];
/** octavia/N in N/lxd/6 (scenario ovn.octaviaUnits). */
const OCTAVIA_CONTAINERS: ContainerRec[] = [0, 1, 2].map((i) => ({
  id: `${i}/lxd/6`,
  host: i,
  address: `192.168.100.${64 + i}`,
  hostname: `juju-3da275-${i}-lxd-6`,
}));

/** The containers a scenario adds to the control plane's. */
function extraContainers(sc: Scenario): ContainerRec[] {
  return [...(sc.mysql.units === 5 ? MYSQL_5_CONTAINERS : []), ...OCTAVIA_CONTAINERS.slice(0, sc.ovn.octaviaUnits)];
}
const VAULT_MACHINES = ["3/lxd/0", "0/lxd/4", "1/lxd/4"];
const NEUTRON_MACHINE = "2/lxd/3";

export function hostIndexOf(name: string): number {
  return Number(name.slice("openstack".length));
}

/** The host (index) a machine id lives on: "2" and "2/lxd/3" are both on openstack2. */
export function hostOfMachine(machine: string): number {
  return Number(machine.split("/")[0]);
}

export function isContainer(machine: string): boolean {
  return machine.includes("/");
}

function machineAddress(s: Pick<SimState, "containers" | "hosts">, machine: string): string {
  if (!isContainer(machine)) return s.hosts[hostOfMachine(machine)].address;
  const c = s.containers.find((x) => x.id === machine);
  if (!c) throw new Error(`sim: no container ${machine}`);
  return c.address;
}

/** A deterministic UUID for generated objects: kind 1 = guest, 2 = LB, 3 = amphora, ... */
export function simUuid(kind: number, n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `5${kind.toString(16)}${"0".repeat(6)}-0000-4000-8000-${hex}`;
}

function projectId(name: string): string {
  let h = 2166136261;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0").repeat(4);
}

/** Default unseal shares: 44 base64 characters each, like real Shamir shares, derived from the index. */
function defaultKeys(shares: number): string[] {
  return Array.from({ length: shares }, (_, i) => {
    const bytes = Array.from({ length: 33 }, (_, j) => (i * 97 + j * 31 + 7 * (i + 1) * (j + 3)) % 256);
    return Buffer.from(bytes).toString("base64");
  });
}

/** The fake tools a scenario's `latency` applies to (not the sim MAAS: it answers in zero sim time). */
export type LatencyTool = "juju" | "openstack" | "virsh" | "cloud-assert";

export interface BuildOptions {
  name: string;
  mode?: Mode;
  /** Default scaled (sim/time.ts). */
  clock?: SimState["clock"];
  timeScale?: number;
  scale?: Partial<Scale>;
  startedAtMs?: number;
}

/** The state at sim t = 0: steady cloud first, then the scenario's initial power applied through the same transitions. */
export function buildState(sc: Scenario, opts: BuildOptions): SimState {
  const mode = opts.mode ?? sc.mode;
  const scale = { hosts: 4, guests: 0, lbs: 0, ...sc.scale, ...opts.scale };
  const hosts: HostRec[] = Array.from({ length: scale.hosts }, (_, i) => ({
    name: `openstack${i}`,
    machine: String(i),
    address: hostAddress(i),
    instanceId: instanceId(i),
    power: "on",
    onSince: -86400,
    offSince: null,
    shuttingDown: false,
    ignoreShutdown: sc.hosts.ignoreShutdown.includes(`openstack${i}`),
    ...(sc.hosts.unreachableBmc.includes(`openstack${i}`) ? { bmcUnreachable: true } : {}),
  }));
  const containers = [...CONTAINERS, ...extraContainers(sc)];
  const base = { hosts, containers };
  const unit = (name: string, machine: string): UnitRec => ({ name, machine, address: machineAddress(base, machine) });
  const mysqlUnits = (sc.mysql.units === 5 ? MYSQL_MACHINES_5 : MYSQL_MACHINES).map((m, i) =>
    unit(`mysql-innodb-cluster/${i}`, m),
  );
  const octaviaUnits = OCTAVIA_CONTAINERS.slice(0, sc.ovn.octaviaUnits).map((c, i) => unit(`octavia/${i}`, c.id));
  const leader = `mysql-innodb-cluster/${sc.mysql.leader}`;
  const keys = sc.vault.keys ?? defaultKeys(sc.vault.shares);
  const projects: Record<string, string> = {};
  const project = (name: string) => (projects[name] ??= projectId(name));
  project("admin");

  const guests: GuestRec[] = sc.guests.map((g, i) => ({
    id: g.id,
    name: g.name,
    project: project(g.project),
    host: hostIndexOf(g.host),
    status: g.statusBefore,
    before: g.statusBefore,
    task: null,
    wasRunning: false,
    held: g.held,
    resumes: g.resumes,
    network: g.network,
    ip: g.ip ?? `192.168.0.${10 + i}`,
    image: g.image,
    flavor: g.flavor,
    gen: 0,
  }));
  for (let i = 0; i < scale.guests; i++) {
    guests.push({
      id: simUuid(1, i + 1),
      name: `bench-guest-${String(i + 1).padStart(5, "0")}`,
      project: project(`bench-project-${i % 20}`),
      host: i % scale.hosts,
      status: "ACTIVE",
      task: null,
      wasRunning: false,
      held: false,
      resumes: true,
      network: "bench-net",
      ip: `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
      image: "jammy",
      flavor: "m1.small",
      gen: 0,
    });
  }
  const lbs: LbRec[] = sc.loadBalancers.map((l, i) => ({
    id: l.id,
    name: l.name,
    project: project(l.project),
    vip: l.vip ?? `203.0.113.${50 + i}`,
    host: hostIndexOf(l.host),
    topology: l.topology,
    afterBoot: l.afterBoot,
    recoversAfter: l.recoversAfterSeconds ?? null,
    failover: l.failover,
    failoverSeconds: l.failoverSeconds,
    provisioning: "ACTIVE",
    operating: "ONLINE",
    needsBoot: false,
    failovers: 0,
    gen: 0,
  }));
  for (let i = 0; i < scale.lbs; i++) {
    lbs.push({
      id: simUuid(2, i + 1),
      name: `bench-lb-${String(i + 1).padStart(4, "0")}`,
      project: project(`bench-project-${i % 20}`),
      vip: `198.18.${Math.floor(i / 250)}.${1 + (i % 250)}`,
      host: i % scale.hosts,
      topology: "ACTIVE_STANDBY",
      afterBoot: "ACTIVE",
      recoversAfter: null,
      failover: "recovers",
      failoverSeconds: 60,
      provisioning: "ACTIVE",
      operating: "ONLINE",
      needsBoot: false,
      failovers: 0,
      gen: 0,
    });
  }

  const s: SimState = {
    version: 1,
    scenario: opts.name,
    description: sc.description,
    mode,
    clock: opts.clock ?? "scaled",
    startedAtMs: opts.startedAtMs ?? Date.now(),
    timeScale: opts.timeScale ?? DEFAULT_TIME_SCALE,
    controller: CONTROLLER,
    model: MODEL,
    modelUuid: "3da27539-6e0c-4c8e-8b3f-2f1c9a7d5e10",
    virshUri: VIRSH_URI,
    openstack: {
      authUrl: "http://192.168.100.60:5000/v3",
      username: "admin",
      password: "sim-admin-password",
      projectName: "admin",
      region: "RegionOne",
    },
    projects,
    hosts,
    containers: containers.map((c) => ({ ...c })),
    agents: {
      startSeconds: sc.agents.startSeconds,
      containerExtraSeconds: sc.agents.containerExtraSeconds,
      byMachine: sc.agents.byMachine,
      neverStart: sc.agents.neverStart,
    },
    shutdownSeconds: sc.hosts.shutdownSeconds,
    mysql: {
      units: mysqlUnits,
      leader,
      superset: `mysql-innodb-cluster/${sc.mysql.gtidSuperset ?? sc.mysql.leader}`,
      afterBoot: sc.mysql.afterBoot,
      staleSeconds: sc.mysql.staleSeconds,
      partialMissing: `mysql-innodb-cluster/${sc.mysql.partialMissing}`,
      unknownMessage: sc.mysql.unknownMessage,
      actionSeconds: sc.mysql.actionSeconds,
      phase: { kind: "online", primary: leader, since: -86400, staleUntil: {} },
      recovering:
        sc.mysql.recoveringAfterAction === undefined
          ? undefined
          : { unit: `mysql-innodb-cluster/${sc.mysql.recoveringAfterAction}`, seconds: sc.mysql.recoveringSeconds },
    },
    vault: {
      tls: sc.vault.tls,
      threshold: sc.vault.threshold,
      shares: sc.vault.shares,
      ...(sc.vault.unsealByHandAfterSeconds === undefined
        ? {}
        : { unsealByHandAfterSeconds: sc.vault.unsealByHandAfterSeconds }),
      keys,
      units: VAULT_MACHINES.slice(0, sc.vault.units).map((m, i) => ({
        ...unit(`vault/${i}`, m),
        sealed: false,
        given: [],
        nonce: "",
        ...(sc.vault.unreachableUnits.includes(`vault/${i}`) ? { unreachable: true } : {}),
      })),
    },
    ovn: {
      notConnectedAfterBoot: sc.ovn.notConnectedAfterBoot,
      restartFixes: sc.ovn.restartFixes,
      restartSeconds: sc.ovn.restartSeconds,
      chassis: [
        ...hosts.map((_, i) => ({
          name: `ovn-chassis/${i}`,
          principal: `nova-compute/${i}`,
          host: i,
          connected: true,
          restarts: 0,
          gen: 0,
        })),
        ...octaviaUnits.map((u, i) => ({
          name: `octavia-ovn-chassis/${i}`,
          principal: u.name,
          host: hostOfMachine(u.machine),
          machine: u.machine,
          connected: true,
          restarts: 0,
          gen: 0,
        })),
      ],
    },
    neutron: { units: [unit("neutron-api/0", NEUTRON_MACHINE)], restarts: 0 },
    octavia: octaviaUnits.length > 0 ? { units: octaviaUnits } : undefined,
    statusErrors: sc.jujuStatusErrors.length > 0 ? sc.jujuStatusErrors.map((e) => ({ ...e })) : undefined,
    nova: {
      resumeFlag: sc.nova.resumeGuestsStateOnHostBoot,
      resumeSeconds: sc.nova.resumeSeconds,
      startSeconds: sc.nova.startSeconds,
      stopSeconds: sc.nova.stopSeconds,
      syncPowerStateSeconds: sc.nova.syncPowerStateSeconds,
    },
    guests,
    lbs,
    cloudAssert: { failLines: sc.cloudAssert.failLines },
    hangs: sc.hangs.map((h) => ({ tool: h.tool, args: h.args, seconds: h.seconds, remaining: h.times ?? null })),
    latency: Object.keys(sc.latency).length > 0 ? { ...sc.latency } : undefined,
    powerFaults: sc.hosts.transientPowerErrors.map((f) => ({
      host: hostIndexOf(f.host),
      call: f.call,
      remaining: f.times,
    })),
    virshRaces: sc.hosts.virshRaces.map((r) => ({ host: hostIndexOf(r.host), call: r.call, done: false })),
    ...(sc.maas.revokedApiKey ? { maas: { revokedApiKey: true } } : {}),
    timers: [],
    actionSeq: 10,
    damage: [],
    events: [],
  };

  const defaultPower = sc.hosts.initialPower ?? (mode === "planned" ? "on" : "off");
  hosts.forEach((h, i) => {
    const p = sc.hosts.initialPowerByHost[h.name] ?? defaultPower;
    if (p === "off") powerOff(s, i, 0, "power lost before the sim started");
    if (p === "booting") {
      powerOff(s, i, -60, "power lost before the sim started");
      powerOn(s, i, 0, "power came back at t=0");
    }
  });
  return s;
}

// ---------------------------------------------------------------------------------------------
// agents

/** Sim seconds from a host's power-on until this machine's agent reports started (Infinity: never). */
export function agentDelay(s: SimState, machine: string): number {
  if (s.agents.neverStart.includes(machine)) return Infinity;
  const own = s.agents.byMachine[machine];
  if (own !== undefined) return own;
  return isContainer(machine) ? s.agents.startSeconds + s.agents.containerExtraSeconds : s.agents.startSeconds;
}

/** The instant this machine's agent started (or will start), null while its host is off. */
export function agentStartedAt(s: SimState, machine: string): number | null {
  const h = s.hosts[hostOfMachine(machine)];
  if (h.power !== "on" || h.onSince === null) return null;
  return h.onSince + agentDelay(s, machine);
}

export function machineStarted(s: SimState, machine: string, now: number): boolean {
  const at = agentStartedAt(s, machine);
  return at !== null && now >= at;
}

// ---------------------------------------------------------------------------------------------
// transitions

/** Kept in the state for assertions and debugging; only the newest MAX_EVENTS (a bench must stay fast). */
const MAX_EVENTS = 2000;

function event(s: SimState, at: number, what: string): void {
  s.events.push({ at, what });
  if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
}

function onHost(host: number, machine: string): boolean {
  return hostOfMachine(machine) === host;
}

export function powerOff(s: SimState, host: number, at: number, why: string): void {
  const h = s.hosts[host];
  if (h.power === "off") return;
  h.power = "off";
  h.offSince = at;
  h.onSince = null;
  h.shuttingDown = false;
  s.timers = s.timers.filter((t) => !(t.kind === "host-off" && t.host === host));
  event(s, at, `${h.name} powered off (${why})`);
  for (const g of s.guests) {
    if (g.host !== host) continue;
    g.gen++;
    g.wasRunning = g.status === "ACTIVE" && g.task !== "powering-off";
    // only a running guest goes down with its host; PAUSED/SUSPENDED/SHELVED*/ERROR keep their
    // vm_state (nova-compute is down: nothing updates the database)
    if (g.status === "ACTIVE") g.status = "SHUTOFF";
    g.task = null;
  }
  if (s.mysql.units.some((u) => onHost(host, u.machine)) && s.mysql.phase.kind === "online") {
    s.mysql.phase = { kind: "down", since: at };
    event(s, at, "mysql-innodb-cluster lost a member's host: the cluster will need recovery");
  }
  for (const v of s.vault.units) {
    if (!onHost(host, v.machine)) continue;
    v.sealed = true;
    v.given = [];
    v.nonce = "";
    delete v.handUnsealAt;
  }
  for (const c of s.ovn.chassis) if (c.host === host) c.gen++;
  for (const lb of s.lbs) {
    if (lb.host !== host) continue;
    lb.gen++;
    lb.needsBoot = true;
    lb.operating = "OFFLINE";
  }
}

export function powerOn(s: SimState, host: number, at: number, why: string): void {
  const h = s.hosts[host];
  if (h.power === "on") return;
  h.power = "on";
  h.onSince = at;
  h.offSince = null;
  event(s, at, `${h.name} powered on (${why})`);
  const ready = at + agentDelay(s, h.machine);
  for (const v of s.vault.units) {
    if (!onHost(host, v.machine)) continue;
    v.sealed = true;
    v.given = [];
    v.nonce = "";
    delete v.handUnsealAt;
  }
  for (const c of s.ovn.chassis) {
    if (c.host !== host) continue;
    c.gen++;
    c.connected = !s.ovn.notConnectedAfterBoot.includes(c.name);
  }
  s.guests.forEach((g, i) => {
    if (g.host !== host) return;
    if (g.wasRunning && g.resumes && s.nova.resumeFlag && Number.isFinite(ready)) {
      // nova-compute's init_host resumes it; no task_state is set, so `server start` meanwhile is accepted
      s.timers.push({ at: ready + s.nova.resumeSeconds, kind: "guest", guest: i, gen: g.gen, status: "ACTIVE" });
    }
    if (g.status === "PAUSED" && Number.isFinite(ready)) {
      // A paused guest's domain did not survive the power loss; nova's power-state sync finds it
      // shut off and calls force_stop: vm_state stopped (SHUTOFF). openstack/nova @ 00a03040,
      // nova/compute/manager.py _sync_instance_power_state ("Paused instance shutdown by itself").
      const sync = s.nova.syncPowerStateSeconds ?? 600;
      s.timers.push({ at: ready + sync, kind: "guest", guest: i, gen: g.gen, status: "SHUTOFF" });
    }
    g.wasRunning = false;
  });
  s.lbs.forEach((lb, i) => {
    if (lb.host !== host || !lb.needsBoot) return;
    lb.needsBoot = false;
    lb.provisioning = lb.afterBoot;
    lb.operating = lb.afterBoot === "ACTIVE" ? "ONLINE" : lb.afterBoot === "ERROR" ? "ERROR" : "OFFLINE";
    if (lb.recoversAfter !== null && Number.isFinite(ready)) {
      s.timers.push({
        at: ready + lb.recoversAfter,
        kind: "lb",
        lb: i,
        gen: lb.gen,
        provisioning: "ACTIVE",
        operating: "ONLINE",
      });
    }
  });
}

/** `virsh shutdown`: the host reaches `shut off` after shutdownSeconds (never, if it ignores ACPI). */
export function requestShutdown(s: SimState, host: number, at: number): void {
  const h = s.hosts[host];
  if (h.power === "off" || h.shuttingDown) return;
  h.shuttingDown = true;
  event(s, at, `${h.name}: graceful shutdown requested`);
  if (!h.ignoreShutdown) s.timers.push({ at: at + s.shutdownSeconds, kind: "host-off", host });
}

function applyTimer(s: SimState, t: Timer): void {
  switch (t.kind) {
    case "host-off":
      powerOff(s, t.host, t.at, "graceful shutdown completed");
      return;
    case "guest": {
      const g = s.guests[t.guest];
      if (g.gen !== t.gen) return;
      g.status = t.status;
      g.task = null;
      return;
    }
    case "chassis": {
      const c = s.ovn.chassis[t.chassis];
      if (c.gen === t.gen) c.connected = true;
      return;
    }
    case "lb": {
      const lb = s.lbs[t.lb];
      if (lb.gen !== t.gen) return;
      lb.provisioning = t.provisioning;
      lb.operating = t.operating;
      return;
    }
    case "vault-by-hand": {
      const v = s.vault.units[t.unit];
      // a power cycle since it was scheduled cleared handUnsealAt: this hand-unseal is void
      if (v.handUnsealAt !== t.at || !v.sealed) return;
      unsealByHand(s, v, t.at);
      return;
    }
  }
}

/** Apply every timer due at or before `now`, in time order. */
export function advance(s: SimState, now: number): void {
  if (s.timers.length === 0) return;
  s.timers.sort((a, b) => a.at - b.at);
  let due = 0;
  while (due < s.timers.length && s.timers[due].at <= now) due++;
  if (due === 0) return;
  const batch = s.timers.splice(0, due);
  for (const t of batch) applyTimer(s, t);
}

// --- MySQL (Stage 2) ---------------------------------------------------------------------------

export interface ActionResult {
  ok: boolean;
  /** Set when the action failed because another unit holds the GTID superset. */
  wantedAddress?: string;
}

export function mysqlAllStarted(s: SimState, now: number): boolean {
  return s.mysql.units.every((u) => machineStarted(s, u.machine, now));
}

/** The action as mysqlsh runs it; on anything but a confirmed complete outage it "works" and records damage. */
export function rebootClusterFromCompleteOutage(s: SimState, unit: string, now: number): ActionResult {
  const m = s.mysql;
  const confirmed = m.phase.kind === "down" && m.afterBoot === "complete-outage" && mysqlAllStarted(s, now);
  const staleUntil = (primary: string) =>
    Object.fromEntries(m.units.filter((u) => u.name !== primary).map((u) => [u.name, now + m.staleSeconds]));
  if (!confirmed) {
    const seen =
      m.phase.kind === "online"
        ? "an ONLINE cluster"
        : `a cluster in ${m.afterBoot} (not all units up: ${!mysqlAllStarted(s, now)})`;
    s.damage.push({
      at: now,
      what: "reboot-cluster-from-complete-outage on a cluster NOT in complete outage",
      detail: `ran on ${unit} against ${seen}: topology rewritten from ${unit}`,
    });
    event(s, now, `DAMAGE: reboot-cluster-from-complete-outage on ${unit} without a complete outage`);
    m.phase = { kind: "online", primary: unit, since: now, staleUntil: staleUntil(unit) };
    return { ok: true };
  }
  if (unit !== m.superset) {
    event(s, now, `reboot-cluster-from-complete-outage on ${unit} refused: ${m.superset} is the GTID superset`);
    return { ok: false, wantedAddress: m.units.find((u) => u.name === m.superset)?.address };
  }
  m.phase = { kind: "online", primary: unit, since: now, staleUntil: staleUntil(unit) };
  event(s, now, `reboot-cluster-from-complete-outage on ${unit}: cluster rebooted, ${unit} is R/W`);
  return { ok: true };
}

// --- Vault (Stage 3) ---------------------------------------------------------------------------

const KEY_FORMAT = /^(?:[A-Za-z0-9+/]+={0,2}|[0-9a-fA-F]+)$/;

export type UnsealAnswer = { code: 200; sealed: boolean } | { code: 400; error: string };

/** PUT /v1/sys/unseal with {"key": k}: progress until the threshold, then unsealed or (a wrong share among them) 400. */
export function unsealWithKey(s: SimState, v: VaultUnitRec, key: string, now: number): UnsealAnswer {
  if (!v.sealed) return { code: 200, sealed: false };
  if (!KEY_FORMAT.test(key)) return { code: 400, error: "'key' must be a valid hex or base64 string" };
  const index = s.vault.keys.indexOf(key);
  if (index >= 0 && v.given.includes(index)) return { code: 200, sealed: true };
  v.given.push(index);
  if (v.nonce === "") v.nonce = simUuid(9, ++s.actionSeq);
  if (v.given.length < s.vault.threshold) return { code: 200, sealed: true };
  const wrong = v.given.includes(-1);
  v.given = [];
  v.nonce = "";
  if (wrong) {
    event(s, now, `${v.name}: unseal failed at the threshold (a key given is not a share)`);
    return { code: 400, error: "cipher: message authentication failed" };
  }
  v.sealed = false;
  event(s, now, `${v.name}: unsealed`);
  return { code: 200, sealed: false };
}

/**
 * A `vault status` found `v` sealed with its storage up: with scenario vault.unsealByHandAfterSeconds,
 * the keyholders will have unsealed it by hand that long after (once per sealing).
 */
export function scheduleHandUnseal(s: SimState, v: VaultUnitRec, now: number): void {
  const after = s.vault.unsealByHandAfterSeconds;
  if (after === undefined || !v.sealed || v.handUnsealAt !== undefined) return;
  v.handUnsealAt = now + after;
  s.timers.push({ at: v.handUnsealAt, kind: "vault-by-hand", unit: s.vault.units.indexOf(v) });
  event(s, now, `${v.name}: sealed, seen; the keyholders unseal it by hand in ${after} s`);
}

/** The keyholders' hidden-prompt loop, done: the threshold of shares given on the unit itself, none through coldstart. */
function unsealByHand(s: SimState, v: VaultUnitRec, now: number): void {
  v.sealed = false;
  v.given = [];
  v.nonce = "";
  delete v.handUnsealAt;
  event(s, now, `${v.name}: unsealed by hand by the keyholders (${s.vault.threshold} key(s))`);
}

export function unsealReset(v: VaultUnitRec): void {
  v.given = [];
  v.nonce = "";
}

export function vaultAllUnsealed(s: SimState): boolean {
  return s.vault.units.every((v) => !v.sealed);
}

// --- OVN (Stage 4) -----------------------------------------------------------------------------

/** `systemctl restart ovs-vswitchd ovn-controller` on a chassis: reconnects it (if it can) once Vault is unsealed. */
export function restartChassis(s: SimState, index: number, now: number): void {
  const c = s.ovn.chassis[index];
  c.restarts++;
  event(s, now, `${c.name}: ovs-vswitchd and ovn-controller restarted`);
  if (c.connected || !s.ovn.restartFixes || !vaultAllUnsealed(s)) return;
  s.timers.push({ at: now + s.ovn.restartSeconds, kind: "chassis", chassis: index, gen: c.gen });
}

/**
 * A service's systemd InvocationID: a new random 128-bit id at every start of the unit (systemd
 * `src/core/unit.c` `unit_acquire_invocation_id`, called as the unit starts), shown by
 * `systemctl show -p InvocationID --value <unit>`. Here derived from the unit, the service and how
 * often the sweep restarted it, so one start keeps one id and a restart (or a reboot) changes it.
 */
export function invocationId(s: SimState, unit: string, service: string): string {
  const chassis = s.ovn.chassis.find((c) => c.name === unit);
  const starts = chassis
    ? `${chassis.restarts}.${chassis.gen}`
    : service === "neutron-server"
      ? `${s.neutron.restarts}`
      : "0";
  let h1 = 2166136261;
  let h2 = 5381;
  for (const ch of `${unit}/${service}/${starts}`) {
    h1 = Math.imul(h1 ^ ch.charCodeAt(0), 16777619) >>> 0;
    h2 = (Math.imul(h2, 33) + ch.charCodeAt(0)) >>> 0;
  }
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  return hex(h1) + hex(h2) + hex(h1 ^ h2) + hex((h1 + h2) >>> 0);
}

export function restartNeutronServer(s: SimState, unit: string, now: number): void {
  s.neutron.restarts++;
  event(s, now, `${unit}: neutron-server restarted`);
}

// --- Nova (Stage 5) ----------------------------------------------------------------------------

/**
 * nova sets the task_state (powering-on / powering-off) before the API answers and clears it when
 * the compute host is done (openstack/nova @ 00a030403f672b975364c855b7d25b40ef83e757,
 * nova/compute/api.py `start` / `force_stop`); the Status stays SHUTOFF / ACTIVE meanwhile.
 */
export function startGuest(s: SimState, index: number, now: number): void {
  const g = s.guests[index];
  g.task = "powering-on";
  const hostReady = agentStartedAt(s, s.hosts[g.host].machine);
  if (hostReady === null || !Number.isFinite(hostReady)) return; // compute down: the task never completes
  s.timers.push({
    at: Math.max(now, hostReady) + s.nova.startSeconds,
    kind: "guest",
    guest: index,
    gen: g.gen,
    status: "ACTIVE",
  });
  event(s, now, `server start ${g.name}`);
}

export function stopGuest(s: SimState, index: number, now: number): void {
  const g = s.guests[index];
  g.task = "powering-off";
  s.timers.push({ at: now + s.nova.stopSeconds, kind: "guest", guest: index, gen: g.gen, status: "SHUTOFF" });
  event(s, now, `server stop ${g.name}`);
}

// --- Octavia (Stage 6) -------------------------------------------------------------------------

export function failoverLb(s: SimState, index: number, now: number): void {
  const lb = s.lbs[index];
  lb.failovers++;
  lb.provisioning = "PENDING_UPDATE";
  const [provisioning, operating] = lb.failover === "recovers" ? ["ACTIVE", "ONLINE"] : ["ERROR", "ERROR"];
  s.timers.push({ at: now + lb.failoverSeconds, kind: "lb", lb: index, gen: lb.gen, provisioning, operating });
  event(s, now, `loadbalancer failover ${lb.name}`);
}
