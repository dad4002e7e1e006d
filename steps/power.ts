/**
 * Runbook "Shutdown sequence" step 2 and "Power-on / recovery": one host per step, through its
 * driver. A host already in the wanted state is left alone; each ends in a power-state gate.
 */
import type { StepFlags } from "../stages/step-def";
import { SOFT_OFF_TRIES, type POWER_OFF } from "../stages/shutdown";
import type { POWER_ON, POWER_STATE } from "../stages/power-on";
import type { StepContext } from "../runtime/step-context";
import { driverFromFlags } from "../power/from-flags";
import { PowerError, type PowerDriver, type PowerState } from "../power/driver";
import type { Verdict } from "../gates/verdict";
import { formatDuration } from "../config/duration";
import { cancelled, fail, pass, runGate, skipped, type StepOutcome } from "./outcome";
import { onlyToolErrors } from "../runtime/tool-error";
import { answerOf, sent } from "./request-line";
import * as z from "zod";
import { windowMarker } from "./window-marker";

/**
 * This window's soft-off of one host, noted before it is sent (steps/window-marker.ts): when
 * (the step's clock) and whether its answer was read. A BMC or hypervisor shows no "shutting
 * down" state (IPMI `chassis power status`, MAAS `query_power_state` and `virsh domstate` say on
 * until the OS is off), so this note is how a resume after a kill knows an OS is already shutting
 * down and must not be asked again (issue #23).
 */
const softOffNote = z.object({ sentAt: z.number(), delivered: z.boolean() });
type SoftOffNote = z.infer<typeof softOffNote>;

/** A power call that failed (a PowerError is a ToolError on route power-control); anything else is rethrown: a bug. */
function powerFailure(err: unknown): Verdict {
  onlyToolErrors(err);
  return { ok: false, state: "power-error", summary: err.message, details: [], route: err.route };
}

function stateVerdict(driver: PowerDriver, state: PowerState, expect: PowerState): Verdict {
  return {
    ok: state === expect,
    state,
    summary: `${driver.label}: power ${state}`,
    details: [],
    route: state === expect ? undefined : "power-control",
  };
}

/** A probe for runGate: a PowerError is a ToolError (route power-control), a named, retryable failure of one poll. */
async function probe(driver: PowerDriver, expect: PowerState): Promise<Verdict> {
  return stateVerdict(driver, await driver.state(), expect);
}

/**
 * Runbook shutdown step 2 for one host: a graceful (soft, ACPI) power-off first. A hard power-off
 * cuts a host running MySQL, RabbitMQ and Ceph without an OS shutdown, so it is sent ONLY when
 * - the BMC / hypervisor definitively refused the soft-off (PowerError.refused), or
 * - the soft-off was delivered and the graceful timeout passed (counted from the delivery: the OS
 *   gets all of it) with the host confirmed still on.
 * A transient error (an IPMI session hiccup, a MAAS 503 from a busy rack controller, a call that
 * timed out) retries the graceful path -- state, then soft-off -- every `interval` for up to the
 * graceful timeout, and at least SOFT_OFF_TRIES times (slow calls must not use the window up
 * alone); a soft-off that never got through by then fails the step without cutting power. An
 * error waiting cannot fix (PowerError.permanent: wrong credentials, no BMC, a BMC name that does
 * not resolve, no hypervisor connection) fails at once with its decisive line.
 */
// defined with the step (its budget counts the tries): stages/shutdown.ts
export { SOFT_OFF_TRIES };

export async function powerOff(flags: StepFlags<typeof POWER_OFF>, ctx: StepContext): Promise<StepOutcome> {
  const driver = driverFromFlags(flags, ctx);
  const graceful = flags["graceful-timeout"];
  const expected = `${flags.host} powered off (graceful first; hard only if the soft-off is refused or the host is still on after ${formatDuration(graceful)})`;
  const until = ctx.clock.now() + graceful; // for delivering the soft-off
  let asked = false; // a soft-off was sent (whatever its answer): the OS may be shutting down
  let delivered = false;
  let lastError: PowerError | undefined;
  let tries = 0;
  let sending = false; // the soft-off request of this try is out: its error is the BMC's answer to it
  const note = windowMarker(ctx, `power-off-${flags.host}`, softOffNote);
  try {
    if (note.earlier) {
      const followed = await followEarlierSoftOff(driver, flags, ctx, expected, note.earlier);
      if (followed) return followed;
    }
    // 1. deliver the soft-off (retrying transient errors within the graceful timeout)
    while (!delivered) {
      tries++;
      try {
        // each call runs under the step's own budget (not cut at the graceful deadline: a slow
        // answer is not an OS that ignores the shutdown); only new tries stop at the deadline
        const state = await driver.state();
        if (state === "off") {
          const summary = asked
            ? `${driver.label}: off after a graceful shutdown`
            : `${driver.label}: already off, nothing done`;
          return (asked ? pass : skipped)(expected, { ok: true, state: "off", summary, details: [] });
        }
        asked = true;
        const sentAt = ctx.clock.now();
        note.write({ sentAt, delivered: false }); // before: a kill after the call still leaves it
        sending = true;
        const said = await driver.off(true);
        sending = false;
        note.write({ sentAt, delivered: true });
        ctx.out.line(
          `RAN: ${driver.label}: graceful shutdown${tries > 1 ? ` (try ${tries})` : ""}: ${said || "accepted"}`,
        );
        delivered = true;
      } catch (err) {
        // the soft-off's own answer (a refusal, a transient error, a permanent one), as the BMC gave it
        const said = sending ? `RAN: ${driver.label}: graceful shutdown${tries > 1 ? ` (try ${tries})` : ""}: ` : "";
        sending = false;
        // permanent, or refused at the step's deadline (its budget is spent: no try can follow)
        if (!(err instanceof PowerError) || err.permanent || err.cut) {
          if (said) ctx.out.line(`${said}FAILED (${answerOf(err)})`);
          throw err;
        }
        if (err.refused) {
          ctx.out.line(`${said || `${driver.label}: `}refused (${answerOf(err)}); hard power off`);
          await sent(ctx.out, `${driver.label}: hard power off (soft-off refused)`, () => driver.off(false));
          return pass(expected, {
            ok: true,
            state: "hard-off-sent",
            summary: `${driver.label}: soft-off refused, hard power off sent; the power-state gate confirms`,
            details: [err.message],
          });
        }
        lastError = err;
        const left = until - ctx.clock.now();
        if (left <= 0 && tries >= SOFT_OFF_TRIES) {
          if (said) ctx.out.line(`${said}transient error (${answerOf(err)}); no try left`);
          break;
        }
        const pause = Math.max(0, Math.min(flags.interval, left)) || flags.interval;
        // a flaky BMC's retries are seen as they happen (console: RAN: / WARNING: lines; record: RAN:)
        const retry = `transient error (${answerOf(err)}); graceful path retried in ${formatDuration(pause)}`;
        if (said) ctx.out.line(`${said}${retry}`);
        else ctx.out.warn(`${driver.label}: power state not read: ${retry}`);
        await ctx.clock.sleep(pause);
        // a safe point only while no soft-off was sent yet; once it was, see the power-off through
        const stop = asked ? undefined : ctx.cancelled?.();
        if (stop) return cancelled(expected, `no soft-off was sent: ${stop}`);
      }
    }
    if (!delivered)
      return fail(expected, {
        ok: false,
        state: "soft-off-not-delivered",
        summary: `${driver.label}: the graceful shutdown could not be delivered within ${formatDuration(graceful)} (${tries} tries); no hard power off was sent (the OS was never asked to shut down): ${lastError?.message ?? "no answer"}`,
        details: [],
        route: "power-control",
      });

    // 2. wait for the OS to power the host off: the whole graceful timeout from the delivery, or
    // what is left of the step's budget (stages/budget.ts) if that is less
    const budgetLeft = ctx.deadline === undefined ? graceful : Math.max(0, ctx.deadline - ctx.clock.now());
    const waitMs = Math.min(graceful, budgetLeft);
    const wait = await runGate(ctx, {
      expected,
      timeoutMs: waitMs,
      intervalMs: flags.interval,
      cancellable: false, // the graceful shutdown was sent: a cancel lets this power-off finish
      probe: () => probe(driver, "off"),
    });
    if (wait.verdict.ok)
      return pass(expected, { ...wait.verdict, summary: `${driver.label}: off after a graceful shutdown` }, wait.polls);
    if (wait.verdict.state === "tool-missing") return fail(expected, wait.verdict, wait.polls);
    if (waitMs < graceful)
      // the OS did not get its graceful timeout: never a hard off on a spent budget
      return fail(
        expected,
        {
          ok: false,
          state: "budget-spent",
          summary: `${driver.label}: the step's time budget was spent ${formatDuration(waitMs)} into the graceful wait of ${formatDuration(graceful)}; no hard power off was sent`,
          details: [wait.verdict.summary],
          route: "power-control",
        },
        wait.polls,
      );

    // 3. the graceful timeout passed: cut power only if a read made now confirms the host still on.
    // Not the gate's last verdict: that poll may be up to an interval old, and under the step's
    // deadline the probe at the timeout itself is cut and the one before it kept (runtime/poll.ts)
    const now = await driver.state();
    if (now === "off")
      return pass(expected, {
        ok: true,
        state: "off",
        summary: `${driver.label}: off after a graceful shutdown`,
        details: [],
      });
    ctx.out.line(`${driver.label}: still on after ${formatDuration(graceful)}; hard power off`);
    await sent(ctx.out, `${driver.label}: hard power off (still on after the graceful timeout)`, () =>
      driver.off(false),
    );
    return pass(expected, {
      ok: true,
      state: "hard-off-sent",
      summary: `${driver.label}: hard power off sent after the graceful timeout; the power-state gate confirms`,
      details: [],
    });
  } catch (err) {
    return fail(expected, powerFailure(err));
  }
}

/**
 * A resume after this window's earlier run sent a soft-off (issue #23): the OS got that request,
 * so it is not sent again; the host gets the whole graceful timeout counted from that send. Off
 * by then: passed. Still on: a hard power off only if that soft-off's answer was read (delivered,
 * as the first run would have done); if the run was killed before reading it, the host being on
 * proves it never took effect, and undefined sends the graceful shutdown again.
 */
async function followEarlierSoftOff(
  driver: PowerDriver,
  flags: StepFlags<typeof POWER_OFF>,
  ctx: StepContext,
  expected: string,
  earlier: SoftOffNote,
): Promise<StepOutcome | undefined> {
  const graceful = flags["graceful-timeout"];
  const offAfter = `${driver.label}: off after the graceful shutdown this window's earlier run sent (not sent again)`;
  if ((await driver.state()) === "off")
    return pass(expected, { ok: true, state: "off", summary: offAfter, details: [] });
  const left = earlier.sentAt + graceful - ctx.clock.now();
  ctx.out.line(
    `${driver.label}: graceful shutdown already in progress (sent by this window's earlier run ${formatDuration(Math.max(0, ctx.clock.now() - earlier.sentAt))} ago): not sent again; waiting ${formatDuration(Math.max(0, left))} for the OS`,
  );
  if (left > 0) {
    const wait = await runGate(ctx, {
      expected,
      timeoutMs: left,
      intervalMs: flags.interval,
      cancellable: false, // a graceful shutdown is under way: see it through
      probe: () => probe(driver, "off"),
    });
    if (wait.verdict.ok) return pass(expected, { ...wait.verdict, summary: offAfter }, wait.polls);
    if (wait.verdict.state === "tool-missing") return fail(expected, wait.verdict, wait.polls);
  }
  if ((await driver.state()) === "off")
    return pass(expected, { ok: true, state: "off", summary: offAfter, details: [] });
  if (!earlier.delivered) {
    ctx.out.line(
      `${driver.label}: still on ${formatDuration(graceful)} after the earlier run's soft-off, whose answer it never read: graceful shutdown again`,
    );
    return undefined;
  }
  ctx.out.line(`${driver.label}: still on after ${formatDuration(graceful)}; hard power off`);
  await driver.off(false);
  return pass(expected, {
    ok: true,
    state: "hard-off-sent",
    summary: `${driver.label}: hard power off sent after the graceful timeout of the earlier run's soft-off; the power-state gate confirms`,
    details: [],
  });
}

export async function powerOn(flags: StepFlags<typeof POWER_ON>, ctx: StepContext): Promise<StepOutcome> {
  const driver = driverFromFlags(flags, ctx);
  const expected = `${flags.host} powered on`;
  try {
    if ((await driver.state()) === "on") {
      return skipped(expected, {
        ok: true,
        state: "on",
        summary: `${driver.label}: already on, nothing done`,
        details: [],
      });
    }
    await sent(ctx.out, `${driver.label}: power on`, () => driver.on());
    return pass(expected, {
      ok: true,
      state: "power-on-sent",
      summary: `${driver.label}: power on sent; the power-state gate confirms`,
      details: [],
    });
  } catch (err) {
    return fail(expected, powerFailure(err));
  }
}

export async function powerState(flags: StepFlags<typeof POWER_STATE>, ctx: StepContext): Promise<StepOutcome> {
  const driver = driverFromFlags(flags, ctx);
  return runGate(ctx, {
    expected: `${flags.host} reports power ${flags.expect}`,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: () => probe(driver, flags.expect),
  });
}
