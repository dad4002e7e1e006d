/**
 * Simulated cloud -- its clock. Every fake tool, the store and the sim MAAS read "now" and wait
 * through a SimTime, so the same code runs on either clock:
 * - scaled: sim s = (real ms - startedAtMs) / (1000 * timeScale) (state.ts simNow). The sim's unit
 *   tests (fake real clock), preflight --scenario and drills built before issue #14 use it.
 * - discrete: the drill's discrete-event clock (issue #14; SIMCLOCK-INTERFACE.md). Cloud time is
 *   the integer sim ms in <simdir>/clock, written by the drill's clock server only while every
 *   participant waits, so a running process reads it synchronously and it is always current.
 *   Waiting goes through the server (runtime/sim-clock.ts joinSimClock), which moves time only
 *   when everyone waits: a tool's wait costs cloud time, never real time.
 * No zod here: the fake tools import this on every call (scenario.ts: zod costs ~40 ms per call).
 */
import * as path from "node:path";
import type * as SimClockClient from "../runtime/sim-clock";
import { simNow, simToRealMs, type SimState } from "./state";
import {
  SIM_CLOCK_FILE_VAR,
  SIM_CLOCK_VAR,
  SimClockError,
  readClockFileMs,
  writeClockFile,
} from "../runtime/clock-file";

export type ClockKind = "scaled" | "discrete";

export interface SimTime {
  readonly kind: ClockKind;
  /** Sim seconds since the simulated cloud began. */
  nowS(): number;
  /** Resolves once sim time has reached now + s (Infinity: never; only a kill ends the wait). */
  sleepS(s: number): Promise<void>;
  /** Let go of the clock server if this process joined it (so the process can exit). */
  close?(): void;
}

/** <simdir>/clock: `{"t":<sim ms>}` (SIMCLOCK-INTERFACE.md). */
export const CLOCK_FILE = "clock";
/** The variables naming the clock (set on every step shell and fake-tool call of a discrete drill),
 *  its file's reader and its errors: one definition, runtime/clock-file.ts (node:fs only, so a tool
 *  that never waits loads none of the clock's client). */
export { SIM_CLOCK_FILE_VAR, SIM_CLOCK_VAR, SimClockError, readClockFileMs } from "../runtime/clock-file";

/** A "forever" wait on the scaled clock: a real timer that outlives any call timeout. */
const FOREVER_MS = 24 * 3600 * 1000;

export interface ScaledOptions {
  /** Real clock (epoch ms); tests inject a fake one. */
  now?: () => number;
  /** How a wait passes (real ms); tests inject an instant one that moves their fake clock. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The scaled clock of a state (its startedAtMs and timeScale). */
export function scaledTime(s: Pick<SimState, "startedAtMs" | "timeScale">, opts: ScaledOptions = {}): SimTime {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  return {
    kind: "scaled",
    nowS: () => simNow(s, now()),
    // rounded up: after the sleep, the sim clock has reached the instant
    sleepS: async (sec) => {
      if (!(sec > 0)) return;
      await sleep(Number.isFinite(sec) ? Math.ceil(simToRealMs(s, sec)) : FOREVER_MS);
    },
  };
}

export function clockFilePath(dir: string): string {
  return path.join(dir, CLOCK_FILE);
}

/** Write the clock file as the server does (tmp + rename: a reader sees the old value or the new one). */
export function writeClockFileMs(dir: string, ms: number): void {
  writeClockFile(clockFilePath(dir), ms);
}

/** What waits on the discrete clock (runtime/sim-clock.ts joinSimClock's answer). */
export interface SimClockWaiter {
  sleepS(s: number): Promise<void>;
  close?(): void;
}
export type JoinSimClock = (env: NodeJS.ProcessEnv) => SimClockWaiter;

/**
 * A read-only discrete clock: now from the clock file, no waiting (nobody to wake us). For readers
 * outside the drill's processes (tests' assertions, simState) and for a tool run without a server.
 */
export function clockFileTime(file: string): SimTime {
  return {
    kind: "discrete",
    nowS: () => readClockFileMs(file) / 1000,
    sleepS: async (sec) => {
      if (!(sec > 0)) return;
      throw new SimClockError(
        `coldstart sim: cannot wait ${sec} s: this sim runs on the drill's discrete clock and ${SIM_CLOCK_VAR} is not set (run it in a drill)`,
      );
    },
  };
}

/**
 * The discrete clock of a process in a drill: now from COLDSTART_SIM_CLOCK_FILE, waits through the
 * clock server. Joins only on the first wait that is longer than 0: a tool that never waits never
 * connects (its token stays busy until its parent sees it exit, so time cannot move meanwhile).
 */
export function discreteTime(env: NodeJS.ProcessEnv, join?: JoinSimClock): SimTime {
  const file = env[SIM_CLOCK_FILE_VAR];
  if (!env[SIM_CLOCK_VAR] || !file) {
    throw new SimClockError(`coldstart sim: ${SIM_CLOCK_VAR} and ${SIM_CLOCK_FILE_VAR} must both be set`);
  }
  let waiter: SimClockWaiter | undefined;
  return {
    kind: "discrete",
    nowS: () => readClockFileMs(file) / 1000,
    sleepS: async (sec) => {
      if (!(sec > 0)) return;
      // loaded only when a tool waits: most calls never do, and never connect
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      waiter ??= (join ?? (require("../runtime/sim-clock") as typeof SimClockClient).joinSimClock)(env);
      await waiter.sleepS(sec);
    },
    close: () => waiter?.close?.(),
  };
}

/**
 * The time a reader without a clock of its own uses for the sim in `dir`: the state's scaled clock,
 * or the clock file of a discrete sim (read only).
 */
export function stateTime(dir: string, s: Pick<SimState, "startedAtMs" | "timeScale" | "clock">): SimTime {
  return s.clock === "discrete" ? clockFileTime(clockFilePath(dir)) : scaledTime(s);
}

/**
 * A call-log line's `at`: sim ms on the discrete clock; real ms since the sim began on the scaled
 * one (what it has always been there: sim s * 1000 * timeScale).
 */
export function callLogAt(time: SimTime, s: Pick<SimState, "timeScale">): number {
  const ms = time.nowS() * 1000;
  return Math.round(time.kind === "discrete" ? ms : ms * s.timeScale);
}
