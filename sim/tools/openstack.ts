/**
 * Simulated cloud -- the fake `openstack` client (baseline capture, hold-down, Stages 5 and 6):
 * server list/start/stop, loadbalancer list/show/failover, amphora list, and the read-only calls
 * preflight makes (token issue, compute service list), in python-openstackclient's formats. Credentials come from the environment only (the openrc); Keystone answers only when
 * the hosts are up and MySQL has a writable primary.
 */
import {
  failoverLb,
  machineStarted,
  startGuest,
  wallClock,
  stopGuest,
  type GuestRec,
  type LbRec,
  type SimState,
} from "../state";
import { apiAvailability } from "../views";
import { ColumnError, jsonObject, listing, table, type Row } from "../format/cliff";
import { fail, ok, parseArgs, runTool, type Session, type ToolContext, type ToolResult } from "./common";

const VALUED = ["-f", "--format", "-c", "--column", "--os-cloud", "--project", "--sort-column"];
const SERVER_COLUMNS = ["ID", "Name", "Status", "Networks", "Image", "Flavor"];
const SERVER_LONG = [
  "ID",
  "Name",
  "Status",
  "Task State",
  "Power State",
  "Networks",
  "Image Name",
  "Image ID",
  "Flavor Name",
  "Flavor ID",
  "Availability Zone",
  "Host",
  "Properties",
];
const LB_COLUMNS = ["id", "name", "project_id", "vip_address", "provisioning_status", "operating_status", "provider"];
const AMPHORA_COLUMNS = ["id", "loadbalancer_id", "status", "role", "lb_network_ip", "ha_ip"];
const IMAGE_ID = "70a599e0-31e7-49b7-b260-868f441e862b";
const FLAVOR_IDS: Record<string, string> = { "m1.tiny": "1", "m1.small": "2", "m1.medium": "3", "m1.large": "4" };
/**
 * `Power State` as the table prints it: python-openstackclient @ 5b7da4b49fd4cbc69bdfd86438dcc14e9894219a,
 * openstackclient/compute/v2/server.py PowerStateColumn (-f json prints the integer).
 */
const POWER_NAMES: Record<number, string> = {
  0: "NOSTATE",
  1: "Running",
  3: "Paused",
  4: "Shutdown",
  6: "Crashed",
  7: "Suspended",
};

function requestId(): string {
  const hex = () =>
    Math.floor(Math.random() * 0x10000)
      .toString(16)
      .padStart(4, "0");
  return `req-${hex()}${hex()}-${hex()}-4${hex().slice(1)}-8${hex().slice(1)}-${hex()}${hex()}${hex()}`;
}

const httpError = (text: string, code: number) => fail(`${text} (HTTP ${code}) (Request-ID: ${requestId()})\n`);

const hostOf = (url: string) => /^\w+:\/\/([^/:]+)/.exec(url)?.[1] ?? url;

/** Credentials as the openrc sets them; Keystone reachable and backed by a writable database. */
function authenticate(s: SimState, now: number, env: NodeJS.ProcessEnv): ToolResult | null {
  if (!env.OS_AUTH_URL) return fail("Missing value auth-url required for auth plugin password\n");
  const api = apiAvailability(s, now);
  if (api === "unreachable") {
    return fail(
      `Failed to discover available identity versions when contacting ${env.OS_AUTH_URL}. Attempting to parse version from URL.\nUnable to establish connection to ${env.OS_AUTH_URL}/auth/tokens: HTTPConnectionPool(host='${hostOf(env.OS_AUTH_URL)}', port=5000): Max retries exceeded with url: /v3/auth/tokens (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f3c2a1b4d90>: Failed to establish a new connection: [Errno 113] No route to host'))\n`,
    );
  }
  if (
    env.OS_AUTH_URL !== s.openstack.authUrl ||
    env.OS_USERNAME !== s.openstack.username ||
    env.OS_PASSWORD !== s.openstack.password
  ) {
    return httpError("The request you have made requires authentication.", 401);
  }
  if (api === "no-database") return httpError("Service Unavailable", 503);
  return null;
}

// --- servers ----------------------------------------------------------------------------------

/**
 * nova's power_state (nova/compute/power_state.py: 0 NOSTATE, 1 RUNNING, 3 PAUSED, 4 SHUTDOWN) as the
 * libvirt driver reports it (nova/virt/libvirt/guest.py LIBVIRT_POWER_STATE, openstack/nova @
 * 00a030403f672b975364c855b7d25b40ef83e757): a paused domain is PAUSED; a suspended guest is a
 * managed-save, i.e. a shut-off domain (SHUTDOWN); shelve powers off first and keeps that state
 * (compute/manager.py _shelve_offload_instance reads it before destroy). ERROR: the sim's never-built
 * guest, NOSTATE.
 */
function powerState(g: GuestRec): number {
  switch (g.status) {
    case "ERROR":
      return 0;
    case "ACTIVE":
      return 1;
    case "PAUSED":
      return 3;
    default:
      return 4;
  }
}

/** vm_state as nova's 409 names it (nova/compute/vm_states.py values). */
const VM_STATE: Record<GuestRec["status"], string> = {
  ACTIVE: "active",
  SHUTOFF: "stopped",
  ERROR: "error",
  PAUSED: "paused",
  SUSPENDED: "suspended",
  SHELVED: "shelved",
  SHELVED_OFFLOADED: "shelved_offloaded",
};

function serverRow(s: SimState, g: GuestRec): Row {
  const networks = g.status === "ERROR" ? {} : { [g.network]: [g.ip] };
  // a shelved-offloaded guest has no host (nova clears instance.host when it offloads)
  const host = g.status === "ERROR" || g.status === "SHELVED_OFFLOADED" ? null : s.hosts[g.host].name;
  return {
    ID: g.id,
    Name: g.name,
    Status: g.status,
    "Task State": g.task,
    "Power State": powerState(g),
    Networks: networks,
    Image: g.image,
    "Image Name": g.image,
    "Image ID": IMAGE_ID,
    Flavor: g.flavor,
    "Flavor Name": g.flavor,
    "Flavor ID": FLAVOR_IDS[g.flavor] ?? "5",
    "Availability Zone": "nova",
    Host: host,
    Properties: {},
  };
}

function serverList(s: SimState, args: ReturnType<typeof parseArgs>): ToolResult {
  const all = args.options.has("--all-projects");
  const long = args.options.has("--long");
  const guests = all ? s.guests : s.guests.filter((g) => g.project === s.projects.admin);
  const format = args.options.get("-f") ?? args.options.get("--format");
  const rows = guests.map((g) => serverRow(s, g));
  if (format !== "json") {
    for (const r of rows)
      if (typeof r["Power State"] === "number") r["Power State"] = POWER_NAMES[r["Power State"]] ?? "";
  }
  const wanted = [...(args.repeated.get("-c") ?? []), ...(args.repeated.get("--column") ?? [])];
  return ok(listing(rows, long ? SERVER_LONG : SERVER_COLUMNS, format, wanted));
}

function findServer(s: SimState, ref: string): { index: number } | ToolResult {
  const byId = s.guests.findIndex((g) => g.id === ref);
  if (byId >= 0) return { index: byId };
  const byName = s.guests.flatMap((g, i) => (g.name === ref ? [i] : []));
  if (byName.length === 1) return { index: byName[0] };
  if (byName.length > 1) return fail(`More than one server exists with the name '${ref}'.\n`);
  return fail(`No server with a name or ID of '${ref}' exists.\n`);
}

/**
 * `server start|stop <ref>…`: nova accepts start from SHUTOFF, stop from ACTIVE, and neither while
 * a task_state is set (an earlier stop/start still under way), else 409 (openstack/nova @
 * 00a030403f672b975364c855b7d25b40ef83e757, nova/compute/api.py `check_instance_state`, whose
 * default task_state is (None,); nova/api/openstack/common.py
 * `raise_http_conflict_for_instance_invalid_state`). The sim's stop is nova's from ACTIVE only.
 */
function serverPower(session: Session, verb: "start" | "stop", refs: string[]): ToolResult {
  if (refs.length === 0)
    return fail(
      `usage: openstack server ${verb} [-h] <server> [<server> ...]\nopenstack server ${verb}: error: the following arguments are required: <server>\n`,
      2,
    );
  return session.update((s, now) => {
    for (const ref of refs) {
      const found = findServer(s, ref);
      if ("exitCode" in found) return found;
      const g = s.guests[found.index];
      const wanted = verb === "start" ? "SHUTOFF" : "ACTIVE";
      if (g.task !== null)
        return httpError(`Cannot '${verb}' instance ${g.id} while it is in task_state ${g.task}`, 409);
      if (g.status !== wanted) {
        return httpError(`Cannot '${verb}' instance ${g.id} while it is in vm_state ${VM_STATE[g.status]}`, 409);
      }
      if (verb === "start") startGuest(s, found.index, now);
      else stopGuest(s, found.index, now);
    }
    return ok();
  });
}

// --- load balancers ---------------------------------------------------------------------------

function lbRow(lb: LbRec): Row {
  return {
    id: lb.id,
    name: lb.name,
    project_id: lb.project,
    vip_address: lb.vip,
    provisioning_status: lb.provisioning,
    operating_status: lb.operating,
    provider: "amphora",
  };
}

function amphoraRows(s: SimState): Row[] {
  return s.lbs.flatMap((lb, i) => {
    const roles = lb.topology === "SINGLE" ? ["STANDALONE"] : ["MASTER", "BACKUP"];
    return roles.map((role, k): Row => {
      const n = i * 2 + k + 2;
      return {
        id: `6bd55cd3-802e-447e-a518-${n.toString(16).padStart(12, "0")}`,
        loadbalancer_id: lb.id,
        status: lb.provisioning === "ERROR" ? "ERROR" : lb.provisioning === "PENDING_UPDATE" ? "BOOTING" : "ALLOCATED",
        role,
        lb_network_ip: `192.168.${1 + (n >> 8)}.${n & 255}`,
        ha_ip: lb.vip,
      };
    });
  });
}

function findLb(s: SimState, ref: string): { index: number } | ToolResult {
  const byId = s.lbs.findIndex((l) => l.id === ref);
  if (byId >= 0) return { index: byId };
  const byName = s.lbs.flatMap((l, i) => (l.name === ref ? [i] : []));
  if (byName.length === 1) return { index: byName[0] };
  if (byName.length > 1)
    return fail(`${byName.length} loadbalancers found with name or ID of ${ref}. Please try again with UUID\n`);
  return fail(`Unable to locate ${ref} in loadbalancers\n`);
}

/**
 * Octavia accepts a failover from ACTIVE or ERROR only (409 otherwise: a failover under way is
 * PENDING_UPDATE, set before the API answers -- openstack/octavia, octavia/api/v2/controllers/
 * load_balancer.py `_test_and_set_failover_prov_status`); the CLI prints nothing on 202.
 */
function failover(session: Session, ref: string | undefined): ToolResult {
  if (!ref) return fail("usage: openstack loadbalancer failover [-h] [--wait] <load_balancer>\n", 2);
  return session.update((s, now) => {
    const found = findLb(s, ref);
    if ("exitCode" in found) return found;
    const lb = s.lbs[found.index];
    if (lb.provisioning !== "ACTIVE" && lb.provisioning !== "ERROR") {
      return httpError(`Invalid state ${lb.provisioning} of loadbalancer resource ${lb.id}`, 409);
    }
    failoverLb(s, found.index, now);
    return ok();
  });
}

function loadbalancer(session: Session, s: SimState, args: ReturnType<typeof parseArgs>): ToolResult {
  const [, sub, third] = args.positional;
  const format = args.options.get("-f") ?? args.options.get("--format");
  const wanted = args.repeated.get("-c") ?? [];
  if (sub === "list") return ok(listing(s.lbs.map(lbRow), LB_COLUMNS, format, wanted));
  if (sub === "amphora" && third === "list") return ok(listing(amphoraRows(s), AMPHORA_COLUMNS, format, wanted));
  if (sub === "show" && third) {
    const found = findLb(s, third);
    if ("exitCode" in found) return found;
    const row = lbRow(s.lbs[found.index]);
    const cols = Object.keys(row).sort();
    if (format === "json") return ok(jsonObject(row, cols));
    return ok(
      table(
        cols.map((c) => ({ Field: c, Value: row[c] })),
        ["Field", "Value"],
      ),
    );
  }
  if (sub === "failover") return failover(session, third);
  return fail(`openstack: 'loadbalancer ${sub ?? ""}' is not an openstack command. See 'openstack --help'.\n`, 2);
}

// --- preflight's read-only calls ----------------------------------------------------------------

/**
 * `openstack token issue`: python-openstackclient openstackclient/identity/v3/token.py IssueToken
 * shows expires, id, project_id, user_id (sorted, a cliff ShowOne); keystone's default token
 * lifetime is 1 h ([token] expiration = 3600, keystone/conf/token.py). `expires` is printed as
 * `2026-12-05T07:00:00+0000` (the shape OSC's table shows; not checked against a capture). The id
 * is a bearer token: the sim makes a random-looking one, and preflight asks only for `-c expires`.
 */
function tokenIssue(s: SimState, now: number, args: ReturnType<typeof parseArgs>): ToolResult {
  const expires = wallClock(now + 3600)
    .toISOString()
    .replace(/\.\d{3}Z$/, "+0000");
  const row: Row = {
    expires,
    id: `gAAAAAB${requestId().replace(/[^A-Za-z0-9]/g, "")}`,
    project_id: s.projects.admin ?? "",
    user_id: "5b5c8f6a1d2e4f3a9b8c7d6e5f4a3b2c",
  };
  const cols = selectColumnsOf(Object.keys(row).sort(), args.repeated.get("-c") ?? []);
  const format = args.options.get("-f") ?? args.options.get("--format");
  if (format === "json") return ok(jsonObject(row, cols));
  if (format === "value") return ok(cols.map((c) => String(row[c])).join("\n") + "\n");
  return ok(
    table(
      cols.map((c) => ({ Field: c, Value: row[c] })),
      ["Field", "Value"],
    ),
  );
}

/**
 * `openstack compute service list`: python-openstackclient openstackclient/compute/v2/service.py
 * ListService, column headers ID, Binary, Host, Zone, Status, State, Updated At (the header list
 * as remembered from that file; not checked against a capture). The sim lists one nova-compute per
 * host ("nova" zone), `up` while its host's machine agent is started, `down` otherwise; the
 * control-plane services (nova-scheduler, nova-conductor) are not modelled.
 */
function computeServiceList(s: SimState, now: number, args: ReturnType<typeof parseArgs>): ToolResult {
  const rows: Row[] = s.hosts.map((h, i) => ({
    ID: i + 10,
    Binary: "nova-compute",
    Host: h.name,
    Zone: "nova",
    Status: "enabled",
    State: machineStarted(s, h.machine, now) ? "up" : "down",
    "Updated At": wallClock(now).toISOString().replace("Z", "000"),
  }));
  const columns = ["ID", "Binary", "Host", "Zone", "Status", "State", "Updated At"];
  const format = args.options.get("-f") ?? args.options.get("--format");
  return ok(listing(rows, columns, format, args.repeated.get("-c") ?? []));
}

/** `-c` for a ShowOne: keep the named fields, in the command's order. */
function selectColumnsOf(columns: string[], wanted: string[]): string[] {
  return wanted.length === 0 ? columns : columns.filter((c) => wanted.includes(c));
}

async function openstack(argv: string[], _stdin: string, session: Session): Promise<ToolResult> {
  const args = parseArgs(argv, VALUED);
  const [group, verb] = args.positional;
  const { s, now } = session.read();
  const denied = authenticate(s, now, session.env);
  if (denied) return denied;
  try {
    if (group === "server" && verb === "list") return serverList(s, args);
    if (group === "server" && (verb === "start" || verb === "stop"))
      return serverPower(session, verb, args.positional.slice(2));
    if (group === "loadbalancer") return loadbalancer(session, s, args);
    if (group === "token" && verb === "issue") return tokenIssue(s, now, args);
    if (group === "compute" && verb === "service" && args.positional[2] === "list")
      return computeServiceList(s, now, args);
  } catch (err) {
    if (err instanceof ColumnError) return fail(`${err.message}\n`);
    throw err;
  }
  return fail(`openstack: '${args.positional.join(" ")}' is not an openstack command. See 'openstack --help'.\n`, 2);
}

export function main(argv: string[], stdin = "", ctx: ToolContext = {}): Promise<ToolResult> {
  return runTool("openstack", argv, stdin, ctx, openstack);
}
