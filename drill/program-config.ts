/**
 * The config a drill gives the program: the stack's values with the simulated cloud's endpoints
 * and the scaled timing. One builder for the drill's run and the maintenance driver's preview of
 * a resumed drill, so the two can never hash a step's inputs differently.
 */
import * as path from "node:path";
import type { SimCloud, SimPower } from "../sim/setup";
import type { Config } from "../config/schema";
import { NAMESPACE } from "../config/load";
import { scaledGates, scaledGrace } from "./scaled-config";

export type DrillSim = Pick<
  SimCloud<SimPower>,
  "mode" | "jujuModel" | "openrcPath" | "cloudAssertScript" | "hostsConfig" | "holdGuests" | "timeScale"
>;

export function drillProgramConfig(opts: {
  /** The stack's values (after any --set). */
  values: Record<string, string>;
  /** The same values as a Config, for the numbers to scale. */
  base: Config;
  sim: DrillSim;
  dir: string;
  window: string;
  callTimeoutMs: number;
}): Record<string, string> {
  const { values, base, sim, dir, window, callTimeoutMs } = opts;
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
    [`${NAMESPACE}:gates`]: JSON.stringify(scaledGates(base, sim.timeScale, callTimeoutMs)),
    [`${NAMESPACE}:octaviaErrorGrace`]: scaledGrace(base, sim.timeScale),
  };
}
