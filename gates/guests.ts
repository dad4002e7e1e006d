/**
 * Runbook Stage 5 -- guests. With D-043 (resume-guests-state-on-host-boot) pre-shutdown-running
 * guests should come back ACTIVE; unexpectedly SHUTOFF ones get `openstack server start <name>`.
 * Guests held down for forensics (stopped BEFORE the window, pre-shutdown step 1) stay down and
 * are ignored by the gate -- but a hold entry that matches nothing is reported, never swallowed.
 *
 * "Pre-shutdown-running" is read from a baseline (`servers.json` of a pre-maintenance capture,
 * steps/baseline.ts): only guests ACTIVE there are started and counted (guestPlan, baselineVerdict).
 * A guest a tenant stopped, shelved, paused or suspended before the window, or one already in
 * ERROR, is left as it was. Nova's own view agrees: on host boot nova-compute resumes a guest only
 * when its stored power_state is RUNNING (openstack/nova @ 00a030403f672b975364c855b7d25b40ef83e757,
 * nova/compute/manager.py `_init_instance`: `expect_running = db_state == power_state.RUNNING ...`;
 * ERROR and SHELVED_OFFLOADED guests are skipped before that).
 */
import * as z from "zod";
import { forConsole } from "../runtime/safe-text";
import { parseJson, type Parsed } from "./parse";
import type { Verdict } from "./verdict";

/**
 * One row of `openstack server list --all-projects [-c Name -c Status | --long] -f json`.
 * Only Name and Status are in every shape; `-c Name -c Status` has no ID. In JSON `Power State` is
 * the raw integer and `Networks` an object ({net: [ips]}); older clients print strings, so both pass.
 */
export const ServerSchema = z.object({
  ID: z.string().optional(),
  Name: z.string(),
  Status: z.string(),
  Networks: z.union([z.record(z.string(), z.array(z.string())), z.string()]).optional(),
  "Power State": z.union([z.number().int(), z.string()]).nullable().optional(),
  "Task State": z.string().nullable().optional(),
  Host: z.string().nullable().optional(),
});
export const ServerListSchema = z.array(ServerSchema);
export type Server = z.infer<typeof ServerSchema>;

export function parseServerList(text: string): Parsed<Server[]> {
  return parseJson("openstack server list", ServerListSchema, text);
}

/**
 * Every `Status` the compute API reports (what `openstack server list` prints): nova's _STATE_MAP,
 * vm_state + task_state -> status (openstack/nova @ 00a030403f672b975364c855b7d25b40ef83e757,
 * nova/api/openstack/common.py). Statuses outside this list still parse (a newer nova may add one).
 */
export const NOVA_STATUSES = [
  "ACTIVE",
  "BUILD",
  "DELETED",
  "ERROR",
  "HARD_REBOOT",
  "MIGRATING",
  "PASSWORD",
  "PAUSED",
  "REBOOT",
  "REBUILD",
  "RESCUE",
  "RESIZE",
  "REVERT_RESIZE",
  "SHELVED",
  "SHELVED_OFFLOADED",
  "SHUTOFF",
  "SOFT_DELETED",
  "SUSPENDED",
  "VERIFY_RESIZE",
] as const;

function holdSet(hold: readonly string[]): Set<string> {
  return new Set(hold.map((h) => h.trim()).filter((h) => h !== ""));
}

function isHeld(server: Server, held: ReadonlySet<string>): boolean {
  return held.has(server.Name) || (server.ID !== undefined && held.has(server.ID));
}

/** How to address a server on the CLI: the ID when listed (names need not be unique), else the name. */
export function serverRef(server: Server): string {
  return server.ID ?? server.Name;
}

/**
 * A server's name as messages show it: a tenant chose it, so no terminal control gets through
 * (runtime/safe-text.ts). Matching (hold, startGuests, baseline) uses the name as nova has it.
 */
export function guestName(server: Server): string {
  return forConsole(server.Name);
}

/** "name (id)" for messages; both made safe to print (an ID comes from the same tenant-fed list). */
export function guestLabel(server: Server): string {
  return server.ID === undefined ? guestName(server) : `${guestName(server)} (${forConsole(server.ID)})`;
}
const label = guestLabel;

/** SHUTOFF guests that are not held: the ones Stage 5 starts. Hold entries match Name or ID exactly. */
export function guestsToStart(servers: readonly Server[], hold: readonly string[]): Server[] {
  const held = holdSet(hold);
  return servers.filter((s) => s.Status === "SHUTOFF" && !isHeld(s, held));
}

/**
 * Before the window: held guests that are not yet SHUTOFF (stop them, or they auto-resume), and hold
 * entries that match no server (an operator typo must be visible).
 */
export function holdTargets(
  servers: readonly Server[],
  hold: readonly string[],
): { toStop: Server[]; unmatched: string[] } {
  const held = holdSet(hold);
  const toStop = servers.filter((s) => isHeld(s, held) && s.Status !== "SHUTOFF");
  const unmatched = [...held].filter((h) => !servers.some((s) => s.Name === h || s.ID === h));
  return { toStop, unmatched };
}

/**
 * Stage 5 gate: ok when every non-held guest is ACTIVE. ERROR -> "error" (route hypervisor-down);
 * otherwise any non-ACTIVE non-held guest -> "waiting" (route guests-shutoff).
 */
export function guestsVerdict(
  servers: readonly Server[],
  hold: readonly string[],
): Verdict<"all-active" | "waiting" | "error"> {
  const held = holdSet(hold);
  const watched = servers.filter((s) => !isHeld(s, held));
  const heldServers = servers.filter((s) => isHeld(s, held));
  const active = watched.filter((s) => s.Status === "ACTIVE");
  const errored = watched.filter((s) => s.Status === "ERROR");
  const shutoff = watched.filter((s) => s.Status === "SHUTOFF");
  const other = watched.filter((s) => !["ACTIVE", "ERROR", "SHUTOFF"].includes(s.Status));

  const details: string[] = [];
  for (const s of errored) {
    const where =
      s.Host === null
        ? " with no host (never scheduled: hold it if it was ERROR before the window)"
        : s.Host
          ? ` on ${s.Host}`
          : "";
    details.push(`${label(s)}: ERROR${where}`);
  }
  for (const s of shutoff) details.push(`${label(s)}: SHUTOFF (not held: start it)${s.Host ? ` on ${s.Host}` : ""}`);
  for (const s of other) details.push(`${label(s)}: ${s.Status} (not ACTIVE yet)`);
  for (const s of heldServers) details.push(`${label(s)}: ${s.Status} (held: ignored)`);
  for (const h of holdTargets(servers, hold).unmatched) details.push(`hold entry "${forConsole(h)}" matches no server`);

  const parts = [`${active.length} of ${watched.length} guest(s) ACTIVE`];
  if (errored.length > 0) parts.push(`${errored.length} ERROR`);
  if (shutoff.length > 0) parts.push(`${shutoff.length} SHUTOFF`);
  if (other.length > 0) parts.push(`${other.length} other`);
  if (heldServers.length > 0) parts.push(`${heldServers.length} held`);
  const summary = `guests: ${parts.join(", ")}`;

  if (errored.length > 0) return { ok: false, state: "error", summary, details, route: "hypervisor-down" };
  if (active.length < watched.length) return { ok: false, state: "waiting", summary, details, route: "guests-shutoff" };
  return { ok: true, state: "all-active", summary, details };
}

// ---------------------------------------------------------------------------------------------
// Stage 5 against a baseline: which guests were running before the window

/** A pre-maintenance capture, as steps/guests.ts found it. */
export interface Baseline {
  /** The folder (<baselineDir>/<UTC>-pre-maintenance). */
  dir: string;
  /** window: this maintenance window's own capture; newest: the newest capture in baselineDir (unplanned). */
  source: "window" | "newest";
  /** The window that captured it, when its coldstart-baseline.json says. */
  window?: string;
  /** When it was captured (epoch ms), from coldstart-baseline.json or the folder's UTC stamp. */
  capturedAtMs?: number;
  /** Its servers.json (`openstack server list --all-projects -f json`). */
  servers: Server[];
}

/** What Stage 5 does with one guest, and why. */
export type GuestFate =
  /** ACTIVE before the window (or named in startGuests): started when SHUTOFF, counted by the gate. */
  | "expected"
  /** held down (holdGuests): never started, not counted. */
  | "held"
  /** in the baseline, but not ACTIVE there: left as it was, not counted. */
  | "not-running-before"
  /** not in the baseline (created after it): left as it is, not counted. */
  | "not-in-baseline"
  /** no baseline and not named in startGuests: nobody said it ran before; not counted. */
  | "unknown";

export interface GuestLine {
  server: Server;
  /** Its status in the baseline (undefined: not in it, or no baseline). */
  before?: string;
  fate: GuestFate;
}

export interface GuestPlan {
  guests: GuestLine[];
  /** Expected guests that are SHUTOFF now: the ones to `openstack server start`. */
  toStart: Server[];
  /** startGuests entries that match no server (an operator typo must be visible). */
  unmatchedNamed: string[];
  /** Baseline guests that no longer exist (deleted during the window?). */
  gone: Server[];
}

function sameServer(a: Server, b: Server): boolean {
  return a.ID !== undefined && b.ID !== undefined ? a.ID === b.ID : a.Name === b.Name;
}

/**
 * Decide every guest's fate. `named` is the operator's startGuests list (undefined: not given);
 * `baseline` undefined means none was found. Hold entries win over everything.
 */
export function guestPlan(
  current: readonly Server[],
  opts: { baseline?: readonly Server[]; hold: readonly string[]; named?: readonly string[] },
): GuestPlan {
  const held = holdSet(opts.hold);
  const named = holdSet(opts.named ?? []);
  const guests = current.map((server): GuestLine => {
    const before = opts.baseline?.find((b) => sameServer(b, server))?.Status;
    if (isHeld(server, held)) return { server, before, fate: "held" };
    if (isHeld(server, named) || before === "ACTIVE") return { server, before, fate: "expected" };
    if (opts.baseline === undefined) return { server, before, fate: "unknown" };
    return { server, before, fate: before === undefined ? "not-in-baseline" : "not-running-before" };
  });
  const expected = guests.filter((g) => g.fate === "expected").map((g) => g.server);
  return {
    guests,
    toStart: expected.filter((s) => s.Status === "SHUTOFF"),
    unmatchedNamed: [...named].filter((n) => !current.some((s) => s.Name === n || s.ID === n)),
    gone: (opts.baseline ?? []).filter((b) => b.Status === "ACTIVE" && !current.some((s) => sameServer(b, s))),
  };
}

const FATE_TEXT: Record<GuestFate, string> = {
  expected: "counted",
  held: "held: never started, not counted",
  "not-running-before": "not ACTIVE before the window: left as it was, not counted",
  "not-in-baseline": "not in the baseline: left as it is, not counted",
  unknown: "no baseline, not named in startGuests: left as it is, not counted",
};

/** One line per guest for the record: before -> now, and what Stage 5 does with it. */
export function guestLine(g: GuestLine, now?: string): string {
  return `${label(g.server)}: before ${g.before ?? "-"}, now ${now ?? g.server.Status}: ${FATE_TEXT[g.fate]}`;
}

/**
 * Stage 5 gate against the expected set (a guest's fate depends only on the baseline, startGuests
 * and holdGuests, never on its status now, so every poll counts the same guests): ok when every
 * expected guest is ACTIVE. An expected guest in ERROR -> "error" (route
 * hypervisor-down); any other non-ACTIVE expected guest -> "waiting" (route guests-shutoff).
 * Every other guest is listed with its fate and never holds the gate.
 */
export function baselineVerdict(plan: GuestPlan, where: string): Verdict<"all-active" | "waiting" | "error"> {
  const expected = plan.guests.filter((g) => g.fate === "expected");
  const active = expected.filter((g) => g.server.Status === "ACTIVE");
  const errored = expected.filter((g) => g.server.Status === "ERROR");
  const waiting = expected.filter((g) => g.server.Status !== "ACTIVE" && g.server.Status !== "ERROR");
  const others = plan.guests.filter((g) => g.fate !== "expected");

  const details = plan.guests.map((g) => guestLine(g));
  for (const s of plan.gone) details.push(`${label(s)}: before ACTIVE, now gone (deleted?): not counted`);
  for (const n of plan.unmatchedNamed) details.push(`startGuests entry "${forConsole(n)}" matches no server`);

  const parts = [`${active.length} of ${expected.length} expected guest(s) ACTIVE`];
  if (errored.length > 0) parts.push(`${errored.length} ERROR`);
  if (waiting.length > 0)
    parts.push(`${waiting.length} not yet (${[...new Set(waiting.map((g) => g.server.Status))].join(", ")})`);
  if (others.length > 0) parts.push(`${others.length} not counted`);
  const summary = `guests: ${parts.join(", ")}; ${where}`;

  if (errored.length > 0) return { ok: false, state: "error", summary, details, route: "hypervisor-down" };
  if (waiting.length > 0) return { ok: false, state: "waiting", summary, details, route: "guests-shutoff" };
  return { ok: true, state: "all-active", summary, details };
}

// ---------------------------------------------------------------------------------------------
// One server start/stop, decided from the server as listed now (a resume after a kill included)

export type PowerVerb = "start" | "stop";

/**
 * What to do about one `openstack server <verb>` given the server's Status and Task State now:
 * - send: the server is where the verb applies, with no task under way;
 * - in-progress: the verb's own transition is under way (an earlier request, e.g. of a killed run,
 *   reached nova): wait for its end, never send it again;
 * - busy: another task is under way: wait for it to clear, then decide again;
 * - done: already where the verb leads (nova would refuse it too).
 * Nova refuses a stop or start while any task_state is set, a stop unless vm_state is active or
 * error, and a start unless it is stopped (openstack/nova @
 * 00a030403f672b975364c855b7d25b40ef83e757, nova/compute/api.py `stop` / `start` under
 * `check_instance_state`, HTTP 409). Other statuses are sent as before: the API says no, the step
 * reports it.
 */
export type PowerMove =
  { move: "send" } | { move: "in-progress"; task: string } | { move: "busy"; task: string } | { move: "done" };

/** The task_state nova sets while a stop / start runs (nova/compute/task_states.py). */
export const POWER_TASK: Record<PowerVerb, string> = { stop: "powering-off", start: "powering-on" };
/** The Status a finished stop / start leaves (nova/api/openstack/common.py _STATE_MAP). */
export const POWER_TARGET: Record<PowerVerb, string> = { stop: "SHUTOFF", start: "ACTIVE" };

export function powerMove(server: Server, verb: PowerVerb): PowerMove {
  // a listing without the column (no --long) says nothing: as before, decide by Status alone
  const task = server["Task State"] ?? null;
  if (task === POWER_TASK[verb]) return { move: "in-progress", task };
  if (task !== null && task !== "") return { move: "busy", task };
  return server.Status === POWER_TARGET[verb] ? { move: "done" } : { move: "send" };
}

/** "stop already in progress (task_state powering-off): not sent again" and the like (after "server X: "). */
export function powerMoveNote(verb: PowerVerb, m: PowerMove): string {
  switch (m.move) {
    case "in-progress":
      return `${verb} already in progress (task_state ${forConsole(m.task)}): not sent again`;
    case "busy":
      return `busy (task_state ${forConsole(m.task)}): nova refuses a ${verb} meanwhile`;
    case "done":
      return `already ${POWER_TARGET[verb]}: no ${verb} sent`;
    case "send":
      return `${verb} sent`;
  }
}
