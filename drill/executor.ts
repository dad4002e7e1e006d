/**
 * Execute one Command the way the command provider does (local/commandOutputs.go): the create
 * line under `interpreter` (default /bin/sh -c), the provider's environment plus the step's
 * `environment`, in `dir`, `stdin` if non-empty, trailing newline trimmed from stdout/stderr.
 * A non-zero exit rejects, so the SDK never registers the step's dependents.
 */
import { spawn } from "node:child_process";

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
    });
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
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({
        exitCode: code ?? (signal ? 128 : 1),
        stdout: out.stdout.replace(/\n$/, ""),
        stderr: out.stderr.replace(/\n$/, ""),
      }),
    );
    if (inputs.stdin) child.stdin.write(inputs.stdin);
    child.stdin.end();
  });
}
