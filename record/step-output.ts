/**
 * A drill keeps every step's full output (issue #23): the console shows only RAN: / FOLLOWED: /
 * SKIPPED: / WARNING: / BLOCKER: lines and a failed step's closing lines, the record a verdict a
 * line; what a step printed in between (every poll, every call it explained) is in
 * `<drill dir>/output/<run id>/<step>.log`, one file per step run (a step runs at most once in a
 * drill run), written line by line as the step prints them, so a killed step's file holds what it
 * said up to the kill. stdout lines as they are, stderr lines after `stderr| `.
 *
 * Private like the rest of the drill's folder: the folders are made 0700 (runtime/private-dir.ts
 * privateSubdir: a symlink on the way is refused, not followed), each file is created 0600,
 * exclusively and never through a symlink (O_EXCL | O_NOFOLLOW), then appended to.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { privateSubdir } from "../runtime/private-dir";

export interface StepOutputKeeper {
  /** `<drill dir>/output/<run id>`: this run's files. */
  dir: string;
  /** One line of a step's output (drill/engine.ts EngineOptions.onOutput). */
  onOutput(step: string, stream: "stdout" | "stderr", line: string): void;
  /** Close every file (the run ended). */
  close(): void;
}

const NEW_FILE =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW | fs.constants.O_APPEND;

/** The folder a drill run keeps its steps' output in. */
export function stepOutputDir(drillDir: string, runId: string): string {
  return path.join(drillDir, "output", runId);
}

/**
 * The keeper for one drill run. A fresh drill (not a resume) first removes the output of the
 * drill before it in this folder, as it clears that drill's record: what is kept is this drill's.
 */
export function keepStepOutput(drillDir: string, runId: string, fresh: boolean): StepOutputKeeper {
  if (fresh) fs.rmSync(path.join(drillDir, "output"), { recursive: true, force: true });
  const dir = privateSubdir(drillDir, "output", runId);
  const files = new Map<string, number>();
  let lost: string | undefined;
  const fdOf = (step: string): number => {
    let fd = files.get(step);
    if (fd === undefined) {
      // a step name is a runbook name ([a-z0-9-]); anything else could not name a file safely
      const name = step.replace(/[^A-Za-z0-9._-]/g, "_");
      fd = fs.openSync(path.join(dir, `${name}.log`), NEW_FILE, 0o600);
      files.set(step, fd);
    }
    return fd;
  };
  return {
    dir,
    onOutput(step, stream, line) {
      if (lost) return;
      try {
        fs.writeSync(fdOf(step), `${stream === "stderr" ? "stderr| " : ""}${line}\n`);
      } catch (err) {
        // the drill goes on (the record and the console are whole): said once, on stderr
        lost = `${dir}: ${(err as Error).message}`;
        process.stderr.write(
          `coldstart: drill: a step's output could not be kept (${lost}); the record is unaffected\n`,
        );
      }
    },
    close() {
      for (const fd of files.values()) fs.closeSync(fd);
      files.clear();
    },
  };
}
