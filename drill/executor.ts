/**
 * Execute one Command the way the command provider does (local/commandOutputs.go): the create
 * line under `interpreter` (default /bin/sh -c), the provider's environment plus the step's
 * `environment`, in `dir`, `stdin` if non-empty, trailing newline trimmed from stdout/stderr.
 * A non-zero exit rejects, so the SDK never registers the step's dependents.
 */
import { spawn, type ChildProcess } from "node:child_process";

/** Steps running now (each leads its own process group). */
const running = new Set<ChildProcess>();

/**
 * Stop at once: SIGTERM every running step's process group. Steps run in their own group so a
 * terminal's Ctrl-C reaches only coldstart (which then cancels gracefully), as the command
 * provider's children are shielded from it under `pulumi up`.
 */
export function stopRunningSteps(): void {
  for (const child of running) {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
  }
}

export interface CommandInputs {
  create?: string;
  interpreter?: string[];
  dir?: string;
  environment?: Record<string, string>;
  stdin?: string;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function runCreate(
  inputs: CommandInputs,
  baseEnv: NodeJS.ProcessEnv,
  onLine?: (stream: "stdout" | "stderr", line: string) => void,
): Promise<CommandResult> {
  const [file, ...args] = inputs.interpreter ?? ["/bin/sh", "-c"];
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args, inputs.create ?? ""], {
      cwd: inputs.dir || undefined,
      env: { ...baseEnv, ...inputs.environment },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    running.add(child);
    const out: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
    for (const stream of ["stdout", "stderr"] as const) {
      let partial = "";
      child[stream].setEncoding("utf8");
      child[stream].on("data", (chunk: string) => {
        out[stream] += chunk;
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) onLine?.(stream, line);
      });
      child[stream].on("end", () => partial && onLine?.(stream, partial));
    }
    child.on("error", (err) => {
      running.delete(child);
      reject(err);
    });
    child.on("close", (code, signal) => {
      running.delete(child);
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: out.stdout.replace(/\n$/, ""),
        stderr: out.stderr.replace(/\n$/, ""),
      });
    });
    if (inputs.stdin) child.stdin.write(inputs.stdin);
    child.stdin.end();
  });
}
