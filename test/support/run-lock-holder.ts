/** A run lock's holder as an earlier run on this host left it (tests of runtime/run-lock.ts). */
import { spawnSync } from "node:child_process";
import * as os from "node:os";
import { WindowLockedError, type RunLockHolder } from "../../runtime/run-lock";

/** A pid that surely ended: a child we waited for. */
export const deadPid = (): number => spawnSync(process.execPath, ["-e", "0"]).pid!;

/** An earlier maintenance run of `window` on this host, its process gone; `over` changes fields. */
export function earlierHolder(window: string, over: Partial<RunLockHolder> = {}): RunLockHolder {
  return {
    runId: "earlier-run",
    kind: "maintenance",
    stack: "roosevelt",
    window,
    host: os.hostname(),
    pid: deadPid(),
    user: "op",
    start: "2026-12-05T06:00:00.000Z",
    ...over,
  };
}

/** The WindowLockedError `fn` throws (any other error is rethrown; none at all fails). */
export function refusal(fn: () => unknown): WindowLockedError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WindowLockedError) return err;
    throw err;
  }
  throw new Error("expected a WindowLockedError");
}
