/**
 * A drill's clock file, `<sim dir>/clock` = `{"t":<sim ms>}`, and the names every process finds it
 * by: written by the drill's clock server (drill/sim-clock.ts) before any wake, read by every step
 * (runtime/sim-clock.ts), by `kept` (cli/kept-command.ts) and by the fake tools (sim/time.ts).
 * node:fs only: a fake tool call and a `kept` step load it on their hot path.
 */
import * as fs from "node:fs";

/** The server's socket path; set = "this process runs in a drill on the discrete-event clock". */
export const SIM_CLOCK_VAR = "COLDSTART_SIM_CLOCK";
/** `<sim dir>/clock`: `{"t":<sim ms>}`, written (tmp + rename) before any wake. */
export const SIM_CLOCK_FILE_VAR = "COLDSTART_SIM_CLOCK_FILE";
/** Cloud time 0 as an epoch: records and the fake tools' outputs get stable ISO times. */
export const SIM_EPOCH_MS = Date.UTC(2026, 11, 5, 6, 0, 0);

export class SimClockError extends Error {
  override readonly name = "SimClockError";
}

/** Sim ms in a clock file. Throws a SimClockError naming the file when it is missing or not one. */
export function readClockFileMs(file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    throw new SimClockError(`coldstart sim: no clock file ${file} (a discrete sim is created with clock "discrete")`);
  }
  let t: unknown;
  try {
    t = (JSON.parse(text) as { t?: unknown }).t;
  } catch {
    t = undefined;
  }
  // sim ms; a wait of a fraction of a second may leave a fraction of a ms (runtime/sim-clock.ts sleepS)
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) {
    throw new SimClockError(`coldstart sim: clock file ${file} does not hold {"t":<sim ms>}: ${text.slice(0, 80)}`);
  }
  return t;
}

/** Write the clock file (tmp + rename: a reader sees the old value or the new one, never half). */
export function writeClockFile(file: string, ms: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  // never through a symlink at the temp name (issue #21); a leftover file of ours is overwritten
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
  const fd = fs.openSync(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, JSON.stringify({ t: ms }));
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Cloud time now (sim ms since the cloud began), from the clock file the environment names. */
export function readSimClockMs(env: NodeJS.ProcessEnv = process.env): number {
  const file = env[SIM_CLOCK_FILE_VAR];
  if (!file)
    throw new SimClockError(`${SIM_CLOCK_FILE_VAR} is not set (the drill engine sets it with ${SIM_CLOCK_VAR})`);
  return readClockFileMs(file);
}
