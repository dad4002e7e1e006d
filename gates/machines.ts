/**
 * Runbook Stage 1 -- foundation. GATE: every juju machine agent reports started.
 *
 * Better than the runbook's jq (`.machines | to_entries[]`): LXD containers nest under their host
 * in `containers`, and a container whose agent is down fails the gate too.
 */
import { JujuMachinesDocSchema, type JujuMachine, type JujuMachinesDoc } from "./juju-schemas";
import { parseJson, type Parsed } from "./parse";
import type { Verdict } from "./verdict";

export interface FlatMachine {
  id: string;
  /** `juju-status.current`, e.g. "started" | "down" | "pending". */
  status: string;
  message: string;
  hostname?: string;
  /** `ip-addresses` plus `dns-name`, without duplicates. */
  addresses: string[];
}

export type MachinesState = "all-started" | "not-started";

export function parseMachines(text: string): Parsed<JujuMachinesDoc> {
  return parseJson("juju machines", JujuMachinesDocSchema, text);
}

function flatten(machines: Record<string, JujuMachine>, out: FlatMachine[]): FlatMachine[] {
  for (const [id, m] of Object.entries(machines)) {
    const addresses = [...(m["ip-addresses"] ?? [])];
    const dns = m["dns-name"];
    if (dns !== undefined && !addresses.includes(dns)) addresses.push(dns);
    out.push({
      id,
      status: m["juju-status"].current,
      message: m["juju-status"].message ?? "",
      hostname: m.hostname,
      addresses,
    });
    if (m.containers) flatten(m.containers, out);
  }
  return out;
}

/** Hosts and (recursively) their containers, each host directly followed by its containers. */
export function flattenMachines(doc: { machines?: Record<string, JujuMachine> }): FlatMachine[] {
  return flatten(doc.machines ?? {}, []);
}

function describe(m: FlatMachine): string {
  const name = m.hostname !== undefined && m.hostname !== m.id ? `${m.id} (${m.hostname})` : m.id;
  return `${name}: ${m.status}${m.message === "" ? "" : ` -- ${m.message}`}`;
}

export function machinesVerdict(doc: { machines?: Record<string, JujuMachine> }): Verdict<MachinesState> {
  const all = flattenMachines(doc);
  if (all.length === 0) {
    return {
      ok: false,
      state: "not-started",
      summary: "juju machines listed no machines at all (wrong model? check `juju switch`)",
      details: [],
      route: "machines-not-started",
    };
  }
  const notStarted = all.filter((m) => m.status !== "started");
  if (notStarted.length === 0) {
    return {
      ok: true,
      state: "all-started",
      summary: `all ${all.length} machines (hosts and containers) started`,
      details: [],
    };
  }
  return {
    ok: false,
    state: "not-started",
    summary: `${notStarted.length} of ${all.length} machines (hosts and containers) not started: ${notStarted.map((m) => m.id).join(", ")}`,
    details: notStarted.map(describe),
    route: "machines-not-started",
  };
}
