/** Runbook Stage 1 -- foundation. GATE: every juju machine agent reports started (hosts and containers). */
import type { StepFlags } from "../stages/step-def";
import { MACHINES_STARTED } from "../stages/foundation";
import { machinesVerdict, parseMachines } from "../gates/machines";
import { Juju } from "../runtime/juju";
import type { StepContext } from "../runtime/step-context";
import { runGate, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";

export async function machinesStarted(
  flags: StepFlags<typeof MACHINES_STARTED>,
  ctx: StepContext,
): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  return runGate(ctx, {
    expected: MACHINES_STARTED.expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => machinesVerdict(unwrap(parseMachines(await juju.machines()))),
  });
}
