/**
 * How long each step may take, from the config -- the one place the numbers come from.
 *
 * A step's budget is the sum of its own waits: every external call at its timeout, every retry,
 * every gate or graceful wait. The step enforces it (runtime/deadline.ts): each call is cut at
 * the step's deadline, and a gate's last probe at the gate's, so no call outlives the budget and
 * a call that would start after it is refused. Steps whose number of calls depends on the cloud
 * (units, guests, LBs) get a budget that caps them, said in `parts`.
 *
 * The engine's customTimeouts must exceed the worst case, or the command provider SIGKILLs the
 * step's shell first (pulumi-go-provider middleware/cancel/cancel.go: the create context's
 * deadline; pulumi-command commandOutputs.go: exec.CommandContext) and the operator reads
 * `signal: killed` instead of coldstart's named verdict.
 */
import type { Config, GateTiming } from "../config/schema";
import { formatDuration } from "../config/duration";
import { OPENRC_TIMEOUT_MS } from "../runtime/openstack";
import { DRAIN_AFTER_KILL_MS } from "../runtime/exec";

export interface Budget {
  /** coldstart's own bound on the step (its deadline). */
  ms: number;
  /** What it is made of, for the plan: "3 calls x commandTimeout 2m", "graceful wait 5m". */
  parts: string[];
}

interface Part {
  what: string;
  ms: number;
}

/**
 * Reading flags, claiming the step and the window's record before the first call: so that the
 * first call gets its whole timeout, not what is left after start-up.
 */
export const STEP_SETUP_MS = 2_000;

export function budget(...parts: Part[]): Budget {
  const all = [...parts, { what: "start-up", ms: STEP_SETUP_MS }];
  return {
    ms: all.reduce((sum, p) => sum + p.ms, 0),
    parts: all.map((p) => `${p.what} (${formatDuration(p.ms)})`),
  };
}

/** `n` calls one after another, each bounded by gates.commandTimeout. */
export function calls(config: Config, n: number, what = "calls"): Part {
  return {
    what: `${n} ${what} x commandTimeout ${formatDuration(config.gates.commandTimeout)}`,
    ms: n * config.gates.commandTimeout,
  };
}

/** Sourcing the admin openrc (runtime/openstack.ts), once per step that calls openstack. */
export const openrc: Part = { what: "sourcing the openrc", ms: OPENRC_TIMEOUT_MS };

/** A gate: polls until its timeout; its last probe is cut at that deadline. */
export function gateWait(timing: GateTiming, what = "gate timeout"): Part {
  return { what, ms: timing.timeout };
}

export function waitFor(what: string, ms: number): Part {
  return { what, ms };
}

/**
 * Past the budget: the node process starting, the claim and the record (well under 2 s on the
 * jumphost), and one call cut at the deadline being killed and its pipes drained.
 */
export const WORST_CASE_SLACK_MS = 5_000 + DRAIN_AFTER_KILL_MS;

/** Between coldstart's worst case and the engine's kill, so coldstart's verdict always comes first. */
export const ENGINE_TIMEOUT_MARGIN_MS = 60_000;

export function worstCaseMs(b: Budget): number {
  return b.ms + WORST_CASE_SLACK_MS;
}

/** customTimeouts.create: whole seconds, as the provider applies them (truncated). */
export function engineTimeoutMs(b: Budget): number {
  return Math.ceil((worstCaseMs(b) + ENGINE_TIMEOUT_MARGIN_MS) / 1000) * 1000;
}
