/**
 * Who ran a step, where, in which run: the fields every record line carries (runtime/record.ts)
 * so a record handed in says what it is a record of without anything else.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RecordEntry } from "../runtime/record";
import { SIM_EPOCH_MS } from "../runtime/clock-file";

let version: string | undefined;

/**
 * package.json's version: the nearest package.json named coldstart above this file (dist/ or the
 * sources alike); "unknown" if unreadable. Plain JSON.parse on purpose: every step process calls
 * this, and config/stack-files (for the project dir) would load the YAML parser into each one.
 */
export function coldstartVersion(): string {
  if (version === undefined) {
    version = "unknown";
    for (let dir = __dirname; ; dir = path.dirname(dir)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
          name?: unknown;
          version?: unknown;
        };
        if (pkg.name === "coldstart") {
          if (typeof pkg.version === "string") version = pkg.version;
          break;
        }
      } catch {
        // no (readable) package.json here: look further up
      }
      if (path.dirname(dir) === dir) break;
    }
  }
  return version;
}

/** user@host; the user from the OS (a process with no passwd entry falls back to $USER). */
export function whoRan(env: NodeJS.ProcessEnv): string {
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    user = env.USER ?? env.LOGNAME;
  }
  return `${user || "unknown"}@${os.hostname()}`;
}

/**
 * A drill when the run says so (COLDSTART_RUN_KIND=drill, runtime/run-lock.ts) or the step talks
 * to the simulated cloud (COLDSTART_SIM_DIR, which sim/setup.ts exports to every fake tool).
 */
export function windowKind(env: NodeJS.ProcessEnv): "drill" | "real" {
  return env.COLDSTART_RUN_KIND === "drill" || (env.COLDSTART_SIM_DIR ?? "") !== "" ? "drill" : "real";
}

/** The fields of a record line that describe the run rather than the step's verdict. */
export function runFields(
  env: NodeJS.ProcessEnv,
  mode: string | undefined,
): Pick<RecordEntry, "windowKind" | "mode" | "version" | "by" | "runId" | "runKind"> {
  return {
    windowKind: windowKind(env),
    mode: env.COLDSTART_MODE || mode,
    version: coldstartVersion(),
    by: whoRan(env),
    runId: env.COLDSTART_RUN_ID || undefined,
    runKind: env.COLDSTART_RUN_KIND || undefined,
  };
}

/**
 * When a drill's own line (a cancel, a stop at once) happened, on the cloud's clock as every step
 * of the drill writes its line (runtime/sim-clock.ts: SIM_EPOCH_MS + cloud ms): one clock per
 * record, so a cancelled 2 s drill does not show a window of days between the simulated steps and
 * the real now (issue #23).
 */
export function onCloudClock(fromMs: number, toMs: number): Pick<RecordEntry, "start" | "end" | "durationMs"> {
  return {
    start: new Date(SIM_EPOCH_MS + fromMs).toISOString(),
    end: new Date(SIM_EPOCH_MS + toMs).toISOString(),
    durationMs: toMs - fromMs,
  };
}
