/**
 * What limits a drill's time-to-recovery, computed from what the drill left behind (never
 * hard-coded): its report (each step's cloud start and end), its call log (the cloud instant of
 * every fake-tool call, by step) and its steps' own output (the gates' poll lines, read with the
 * format's own reader, steps/poll-line.ts; kept in the modelled Pulumi state as the command provider keeps stdout).
 *
 * - The chain: from the step that ended last, back through the step that ended when it started
 *   (a dependency, or the step whose end freed an engine slot); the drill's time is this chain.
 * - Per gate on it: confirmation = from its first ok poll of the final streak to its last poll
 *   (GATE_SUCCESSES in a row, steps/outcome.ts); poll lag <= the wait before that first ok poll
 *   (the cloud got there somewhere in that wait; 0 when the first poll was already ok).
 * - Parallelism rounds: how many distinct start instants the per-host power steps had.
 */
import type { StepRun } from "../drill/engine";
import type { CallRecord } from "../sim/call-log";
import { readPollLine } from "../steps/poll-line";

export interface GateTiming {
  step: string;
  /** Polls in a row the gate asked for ("OK, 1 of 3 in a row"; 1 when its lines never count). */
  successes: number;
  /** Cloud seconds from the first ok poll of the final streak to the last poll. */
  confirmS: number;
  /** Upper bound of the poll lag: cloud seconds from the poll before the first ok one to it. */
  lagS: number;
}

/**
 * A gate's (or a wait's) timing from its output and its calls' instants (cloud s since the run
 * began, sorted). undefined: the step printed no poll line (not a gate, or it never polled).
 */
export function gateTiming(
  step: string,
  stdout: string,
  simStart: number,
  instants: readonly number[],
): GateTiming | undefined {
  const polls = stdout
    .split("\n")
    .map(readPollLine)
    .filter((p) => p !== undefined)
    .map((p) => ({ atS: simStart + p.elapsedS, ok: p.ok, of: p.held === 1 ? p.successes : undefined }));
  if (polls.length === 0 || !polls[polls.length - 1].ok) return undefined;
  // the final streak begins at the first ok line after the last waiting one (a changed head is always printed)
  const lastWaiting = polls.map((p) => p.ok).lastIndexOf(false);
  const first = polls[lastWaiting + 1];
  const last = polls[polls.length - 1];
  const before = instants.filter((t) => t < first.atS - 1e-6);
  return {
    step,
    successes: first.of ?? 1,
    confirmS: last.atS - first.atS,
    lagS: before.length > 0 ? first.atS - before[before.length - 1] : 0,
  };
}

/** The drill's chain, first step first: each step's predecessor ended when it started. */
export function chainOf(steps: readonly StepRun[]): StepRun[] {
  const ran = steps.filter((s) => s.simStart !== undefined && s.simEnd !== undefined);
  if (ran.length === 0) return [];
  const eps = 1e-6;
  let at = ran.reduce((a, b) => ((b.simEnd ?? 0) > (a.simEnd ?? 0) + eps ? b : a));
  const chain = [at];
  const on = new Set([at.name]);
  for (;;) {
    const start = at.simStart ?? 0;
    // of the steps that ended then, the one that began earliest: it carries the most of the chain
    const before = ran
      .filter((s) => !on.has(s.name) && Math.abs((s.simEnd ?? 0) - start) < eps)
      .sort((a, b) => (a.simStart ?? 0) - (b.simStart ?? 0));
    if (before.length === 0) break;
    at = before[0];
    on.add(at.name);
    chain.unshift(at);
  }
  return chain;
}

/** In how many rounds the engine started the steps whose name begins with `prefix` (distinct start instants). */
export function rounds(steps: readonly StepRun[], prefix: string): { steps: number; rounds: number } {
  const peers = steps.filter((s) => s.name.startsWith(prefix) && s.simStart !== undefined);
  return { steps: peers.length, rounds: new Set(peers.map((s) => s.simStart)).size };
}

/** Every step's call instants, cloud s since the run began, sorted. */
export function callInstants(calls: readonly CallRecord[], runStartS: number): Map<string, number[]> {
  const by = new Map<string, Set<number>>();
  for (const c of calls) {
    if (!c.step) continue;
    const set = by.get(c.step) ?? new Set<number>();
    set.add(c.at / 1000 - runStartS);
    by.set(c.step, set);
  }
  return new Map([...by].map(([k, v]) => [k, [...v].sort((a, b) => a - b)]));
}

export interface Limits {
  overS: number;
  chain: StepRun[];
  /** Cloud seconds from the chain's first start to its last end. */
  chainS: number;
  gates: GateTiming[];
  confirmS: number;
  lagS: number;
  powerOff: { steps: number; rounds: number };
  powerOn: { steps: number; rounds: number };
}

export function limitsOf(opts: {
  steps: readonly StepRun[];
  cloudS: number;
  criticalPathS: number;
  calls: readonly CallRecord[];
  runStartS: number;
  stdout: (step: string) => string;
}): Limits {
  const chain = chainOf(opts.steps);
  const instants = callInstants(opts.calls, opts.runStartS);
  const gates = chain
    .map((s) => gateTiming(s.name, opts.stdout(s.name), s.simStart ?? 0, instants.get(s.name) ?? []))
    .filter((g): g is GateTiming => g !== undefined);
  return {
    overS: opts.cloudS - opts.criticalPathS,
    chain,
    chainS: chain.length ? (chain[chain.length - 1].simEnd ?? 0) - (chain[0].simStart ?? 0) : 0,
    gates,
    confirmS: gates.reduce((n, g) => n + g.confirmS, 0),
    lagS: gates.reduce((n, g) => n + g.lagS, 0),
    powerOff: rounds(opts.steps, "power-off-"),
    powerOn: rounds(opts.steps, "power-on-"),
  };
}

/** The bench's lines under a size's recovery line. */
export function describeLimits(l: Limits, parallelism: number): string[] {
  const s = (n: number) => `${Math.round(n)} s`;
  const lagged = l.gates.filter((g) => g.lagS > 0).sort((a, b) => b.lagS - a.lagS);
  const confirming = l.gates.filter((g) => g.confirmS > 0);
  const streaks = [...new Set(confirming.map((g) => g.successes))].join(" or ");
  return [
    `limits: ${l.overS >= 0 ? "+" : ""}${s(l.overS)} over the critical path (a sum of the cloud's waits, some of`,
    `  which the drill overlaps); the drill's chain of ${l.chain.length} steps, ${s(l.chainS)}, holds:`,
    `  gate confirmation ${s(l.confirmS)} (${confirming.length} gates, ${streaks || "-"} polls in a row)`,
    `  poll lag <= ${s(l.lagS)}${lagged.length ? ` (${lagged.map((g) => `${g.step} ${s(g.lagS)}`).join(", ")})` : ""}`,
    `  the cloud's own waits and the steps' work: >= ${s(l.chainS - l.confirmS - l.lagS)}`,
    `  parallelism ${parallelism}: ${l.powerOff.steps} power-offs in ${l.powerOff.rounds} round(s), ${l.powerOn.steps} power-ons in ${l.powerOn.rounds} round(s)`,
  ];
}
