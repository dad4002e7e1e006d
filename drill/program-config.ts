/**
 * The config a drill gives the program: the stack's values with the simulated cloud's endpoints.
 * One builder for the drill's run and the maintenance driver's preview of a resumed drill, so the
 * two can never hash a step's inputs differently.
 *
 * Timing (issue #14): a drill runs on the discrete-event clock (drill/sim-clock.ts), so the
 * stack's own gate timeouts and intervals, commandTimeout and Octavia grace pass through
 * unscaled: the drill waits them in cloud time, not real time. Only a sim on the scaled clock
 * (preflight --scenario, a drill.json from before the clock) still gets them scaled.
 */
import * as path from "node:path";
import type { SimCloud, SimPower } from "../sim/setup";
import type { Config } from "../config/schema";
import { NAMESPACE } from "../config/load";
import { scaledGates, scaledGrace } from "./scaled-config";

export type DrillSim = Pick<
  SimCloud<SimPower>,
  "mode" | "jujuModel" | "openrcPath" | "cloudAssertScript" | "hostsConfig" | "holdGuests" | "timeScale"
> &
  Partial<Pick<SimCloud<SimPower>, "clock">>;

export function drillProgramConfig(opts: {
  /** The stack's values (after any --set). */
  values: Record<string, string>;
  /** The same values as a Config, for the numbers to scale (scaled clock only). */
  base: Config;
  sim: DrillSim;
  dir: string;
  window: string;
  /** Scaled clock only: the real floor of one call. */
  callTimeoutMs: number;
}): Record<string, string> {
  const { values, base, sim, dir, window, callTimeoutMs } = opts;
  const timing: Record<string, string> =
    sim.clock === "discrete"
      ? {}
      : {
          [`${NAMESPACE}:gates`]: JSON.stringify(scaledGates(base, sim.timeScale, callTimeoutMs)),
          [`${NAMESPACE}:octaviaErrorGrace`]: scaledGrace(base, sim.timeScale),
        };
  return {
    ...values,
    [`${NAMESPACE}:window`]: window,
    [`${NAMESPACE}:mode`]: sim.mode,
    [`${NAMESPACE}:jujuModel`]: sim.jujuModel,
    [`${NAMESPACE}:openrc`]: sim.openrcPath,
    [`${NAMESPACE}:cloudAssertScript`]: sim.cloudAssertScript,
    [`${NAMESPACE}:baselineDir`]: path.join(dir, "baseline"),
    [`${NAMESPACE}:recordDir`]: path.join(dir, "records"),
    [`${NAMESPACE}:hosts`]: JSON.stringify(sim.hostsConfig),
    [`${NAMESPACE}:holdGuests`]: JSON.stringify(sim.holdGuests),
    ...timing,
  };
}
