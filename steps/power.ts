/**
 * Runbook "Shutdown sequence" step 2 and "Power-on / recovery": one host per step, through its
 * driver. A host already in the wanted state is left alone; each ends in a power-state gate.
 */
import type { StepFlags } from "../cli/step-flags";
import type { StepContext } from "../runtime/step-context";
import { driverFromFlags } from "../power/from-flags";
import { PowerError, type PowerDriver, type PowerState } from "../power/driver";
import type { Verdict } from "../gates/verdict";
import { formatDuration } from "../config/duration";
import { fail, pass, runGate, skipped, type StepOutcome } from "./outcome";
import { ToolError } from "../runtime/tool-error";

function powerFailure(err: unknown): Verdict {
  if (err instanceof PowerError)
    return { ok: false, state: "power-error", summary: err.message, details: [], route: "power-control" };
  throw err;
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

/** A probe for runGate: a PowerError is a named, retryable failure of one poll. */
async function probe(driver: PowerDriver, expect: PowerState): Promise<Verdict> {
  try {
    return stateVerdict(driver, await driver.state(), expect);
  } catch (err) {
    if (err instanceof PowerError) throw new ToolError(err.message, "power-control", err.permanent, err.cut);
    throw err;
  }
}

export async function powerOff(flags: StepFlags<"act power-off">, ctx: StepContext): Promise<StepOutcome> {
  const driver = driverFromFlags(flags, ctx);
  const expected = `${flags.host} powered off (graceful first, hard after ${formatDuration(flags["graceful-timeout"])})`;
  try {
    if ((await driver.state()) === "off") {
      return skipped(expected, {
        ok: true,
        state: "off",
        summary: `${driver.label}: already off, nothing done`,
        details: [],
      });
    }
    ctx.out.line(`${driver.label}: graceful shutdown`);
    try {
      await driver.off(true);
    } catch (err) {
      // A BMC that refuses the soft-off (no ACPI path) cannot be waited out: cut power now.
      if (!(err instanceof PowerError) || err.permanent) throw err;
      ctx.out.line(`${driver.label}: graceful shutdown refused (${err.message}); hard power off`);
      await driver.off(false);
      return pass(expected, {
        ok: true,
        state: "hard-off-sent",
        summary: `${driver.label}: soft-off refused, hard power off sent; the power-state gate confirms`,
        details: [],
      });
    }
    const graceful = await runGate(ctx, {
      expected,
      timeoutMs: flags["graceful-timeout"],
      intervalMs: flags.interval,
      cancellable: false, // the graceful shutdown was sent: a cancel lets this power-off finish

      probe: () => probe(driver, "off"),
    });
    if (graceful.verdict.ok)
      return pass(
        expected,
        { ...graceful.verdict, summary: `${driver.label}: off after a graceful shutdown` },
        graceful.polls,
      );
    ctx.out.line(`${driver.label}: still on after ${formatDuration(flags["graceful-timeout"])}; hard power off`);
    await driver.off(false);
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

export async function powerOn(flags: StepFlags<"act power-on">, ctx: StepContext): Promise<StepOutcome> {
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
    await driver.on();
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

export async function powerState(flags: StepFlags<"gate power-state">, ctx: StepContext): Promise<StepOutcome> {
  const driver = driverFromFlags(flags, ctx);
  return runGate(ctx, {
    expected: `${flags.host} reports power ${flags.expect}`,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: () => probe(driver, flags.expect),
  });
}
