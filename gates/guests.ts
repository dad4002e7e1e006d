/**
 * Runbook Stage 5 -- guests. With D-043 (resume-guests-state-on-host-boot) pre-shutdown-running
 * guests should come back ACTIVE; unexpectedly SHUTOFF ones get `openstack server start <name>`.
 * Guests held down for forensics (stopped BEFORE the window, pre-shutdown step 1) stay down and
 * are ignored by the gate -- but a hold entry that matches nothing is reported, never swallowed.
 */
import { z } from "zod";
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

function label(server: Server): string {
  return server.ID === undefined ? server.Name : `${server.Name} (${server.ID})`;
}

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
  for (const h of holdTargets(servers, hold).unmatched) details.push(`hold entry "${h}" matches no server`);

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
