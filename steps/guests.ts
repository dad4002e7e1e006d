/**
 * Runbook Stage 5 -- guests (and the pre-shutdown hold-down they depend on). With D-043 in force,
 * pre-shutdown-running guests should be ACTIVE; unexpectedly SHUTOFF ones are started, held ones
 * never are. A regressed resume flag is a warning: it only takes effect on the NEXT boot.
 */
import type { StepFlags } from "../cli/step-flags";
import { guestsToStart, guestsVerdict, holdTargets, parseServerList, serverRef, type Server } from "../gates/guests";
import { parseJujuConfig, resumeFlag, resumeFlagVerdict } from "../gates/nova-config";
import { mapBounded } from "../runtime/bounded";
import { Juju } from "../runtime/juju";
import { OpenStack } from "../runtime/openstack";
import type { StepContext } from "../runtime/step-context";
import { fail, pass, probeSafely, runGate, toolVerdict, skipped, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";

async function servers(os: OpenStack): Promise<Server[]> {
  return unwrap(parseServerList(await os.serverList()));
}

/** Pre-shutdown: stop the guests to hold down after the window (before the hosts go down). */
export async function holdGuests(flags: StepFlags<"act hold-guests">, ctx: StepContext): Promise<StepOutcome> {
  const expected = "every guest named in holdGuests exists and is SHUTOFF before the shutdown";
  if (flags.guest.length === 0) {
    return skipped(expected, {
      ok: true,
      state: "none",
      summary: "no guests to hold down (holdGuests is empty)",
      details: [],
    });
  }
  const os = new OpenStack(ctx, flags.openrc);
  try {
    const list = await servers(os);
    const { toStop, unmatched } = holdTargets(list, flags.guest);
    if (unmatched.length > 0) {
      // A typo here would let a forensics guest auto-resume: stop before changing anything.
      return fail(expected, {
        ok: false,
        state: "unknown-guest",
        summary: `holdGuests names no such server: ${unmatched.join(", ")}; nothing was stopped`,
        details: [],
        route: "guests-shutoff",
      });
    }
    for (const s of toStop) {
      ctx.out.line(`stopping ${s.Name} (${serverRef(s)}), status ${s.Status}, to hold it down after the window`);
      await os.serverStop(serverRef(s));
    }
    const verdict = await runGate(ctx, {
      expected,
      timeoutMs: flags.timeout,
      intervalMs: flags.interval,
      cancellable: false, // the stops were sent: see them through

      probe: async () => {
        const still = holdTargets(await servers(os), flags.guest).toStop;
        return still.length === 0
          ? { ok: true, state: "held", summary: `held down: ${flags.guest.join(", ")}`, details: [] }
          : {
              ok: false,
              state: "stopping",
              summary: `not SHUTOFF yet: ${still.map((s) => `${s.Name} (${s.Status})`).join(", ")}`,
              details: [],
            };
      },
    });
    return verdict;
  } catch (err) {
    return fail(expected, toolVerdict(err as Error));
  }
}

/** CHECK: resume-guests-state-on-host-boot (D-043). Regressed = warning, the run continues. */
export async function novaResumeFlag(
  flags: StepFlags<"check nova-resume-flag">,
  ctx: StepContext,
): Promise<StepOutcome> {
  const expected = "resume-guests-state-on-host-boot=true (D-043)";
  const juju = new Juju(ctx, flags.model);
  const verdict = await probeSafely(async () =>
    resumeFlagVerdict(resumeFlag(unwrap(parseJujuConfig(await juju.config(flags.app))))),
  );
  if (verdict.state === "regressed") ctx.out.warn(verdict.summary);
  return verdict.ok ? pass(expected, verdict) : fail(expected, verdict);
}

/** Start the unexpectedly SHUTOFF guests; held guests are never started. */
export async function startShutoffGuests(
  flags: StepFlags<"act start-shutoff-guests">,
  ctx: StepContext,
): Promise<StepOutcome> {
  const expected = "every SHUTOFF guest that is not held down gets openstack server start";
  const os = new OpenStack(ctx, flags.openrc);
  try {
    const targets = guestsToStart(await servers(os), flags.hold);
    if (targets.length === 0) {
      return skipped(expected, {
        ok: true,
        state: "none-shutoff",
        summary: "no unexpectedly SHUTOFF guests",
        details: [],
      });
    }
    const failures: string[] = [];
    await mapBounded(targets, flags.parallel, async (s) => {
      ctx.out.line(`openstack server start ${s.Name} (${serverRef(s)})`);
      await os.serverStart(serverRef(s)).catch((e: Error) => failures.push(`${s.Name}: ${e.message}`));
    });
    const verdict = {
      ok: failures.length === 0,
      state: "started",
      summary: `started ${targets.length - failures.length} of ${targets.length} SHUTOFF guest(s): ${targets.map((s) => s.Name).join(", ")}`,
      details: failures,
      route: failures.length ? ("guests-shutoff" as const) : undefined,
    };
    return verdict.ok ? pass(expected, verdict) : fail(expected, verdict);
  } catch (err) {
    return fail(expected, toolVerdict(err as Error));
  }
}

/** GATE: every guest that is not held down is ACTIVE. */
export async function guestsActive(flags: StepFlags<"gate guests-active">, ctx: StepContext): Promise<StepOutcome> {
  const os = new OpenStack(ctx, flags.openrc);
  return runGate(ctx, {
    expected: "every guest that is not held down is ACTIVE",
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => guestsVerdict(await servers(os), flags.hold),
  });
}
