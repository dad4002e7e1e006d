/**
 * Issue #12 "One run at a time", end to end on the simulated cloud:
 * - a second drill of the same directory and window, started while the first holds the lock, is refused
 *   with exit 5 naming the holder, and the destructive MySQL action ran once;
 * - a fresh drill in that directory does not append to the earlier run's record;
 * - the MySQL action's once-per-window guard (its marker, taken with an exclusive create before
 *   `juju run`: steps/mysql.ts) holds on its own, with no lock in play: two step processes of the
 *   same window against one sim, started together -> exactly one `juju run`.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { drillDir } from "../support/drill-run";
import { startSimClock } from "../../drill/sim-clock";
import { simLayout } from "../../sim/setup";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "coldstart");
const ARGS = ["--stack", "prior-build", "--scenario", "mysql-complete-outage"];
const ACTION = /^juju run .*reboot-cluster-from-complete-outage/;

interface Ran {
  pid: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A process to the end, without blocking the test's event loop (the two must overlap). */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env, delayMs = 0): Promise<Ran> {
  return new Promise((resolve) =>
    setTimeout(() => {
      const p = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.on("close", (status) => resolve({ pid: p.pid!, status, stdout, stderr }));
    }, delayMs),
  );
}

const lines = (file: string) =>
  fs.existsSync(file)
    ? fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const callsOf = (dir: string) =>
  lines(path.join(dir, "cloud", "calls.jsonl")) as { tool: string; argv: string[]; step?: string }[];
const matching = (dir: string, re: RegExp) => callsOf(dir).filter((c) => re.test(`${c.tool} ${c.argv.join(" ")}`));
const WINDOW = "drill-mysql-complete-outage";
const recordOf = (dir: string) => lines(path.join(dir, "records", `${WINDOW}.jsonl`));

/** Resolves once `file` exists (the first drill holds its lock), checking every 20 ms. */
function whenExists(file: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const look = () => {
      if (fs.existsSync(file)) resolve();
      else if (Date.now() > until) reject(new Error(`${file} never appeared`));
      else setTimeout(look, 20);
    };
    look();
  });
}

describe("two drills of the same directory and window, the second started while the first holds the lock", () => {
  const dir = drillDir("concurrent");
  let first: Ran;
  let second: Ran;
  beforeAll(async () => {
    // Started once the first holds the window's lock, not a fixed delay after it: on a loaded
    // machine (two jest workers on two cores) the first may not have taken it 0.15 s in.
    const firstRun = run(BIN, ["drill", ...ARGS, "--dir", dir]);
    await whenExists(path.join(dir, "records", `${WINDOW}.lock`));
    [first, second] = await Promise.all([firstRun, run(BIN, ["drill", ...ARGS, "--dir", dir])]);
  }, 120_000);

  it("the second is refused with exit 5, one line naming the holder and how to clear a stale lock", () => {
    expect(second.status).toBe(5);
    const refusal = second.stderr.split("\n").filter((l) => l.startsWith("coldstart:"));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toContain(`held by a drill run of ${os.userInfo().username}@${os.hostname()}`);
    expect(refusal[0]).toContain(`pid ${first.pid}`);
    expect(refusal[0]).toContain(`remove ${path.join(dir, "records", `${WINDOW}.lock`)}`);
    expect(second.stderr).not.toMatch(/internal error|\n\s+at /);
  });

  it("the first passes; the destructive action ran once; the lock is gone at the end", () => {
    expect(first.status).toBe(0);
    expect(matching(dir, ACTION)).toHaveLength(1);
    expect(recordOf(dir).filter((e) => e.step === "mysql-reboot-cluster")).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, "records", `${WINDOW}.lock`))).toBe(false);
  });

  it("the console showed the action's RAN: line as it happened, before the step finished", () => {
    const out = first.stderr.split("\n");
    const ran = out.findIndex((l) => / mysql-reboot-cluster: RAN: reboot-cluster-from-complete-outage on /.test(l));
    const done = out.findIndex((l) => / done {3}stage-2-mysql\/mysql-reboot-cluster /.test(l));
    expect(ran).toBeGreaterThan(-1);
    expect(done).toBeGreaterThan(ran);
  });

  it("a fresh drill in the same directory starts a new record (never appends to the earlier run's)", async () => {
    const before = recordOf(dir).length;
    expect(before).toBeGreaterThan(5);
    const fresh = await run(BIN, ["drill", ...ARGS, "--dir", dir, "--cancel-at", "machines-started"]);
    expect(fresh.status).toBe(130);
    const steps = recordOf(dir).map((e) => e.step);
    expect(steps).not.toContain("mysql-reboot-cluster");
    expect(steps).not.toContain("cloud-assert");
    expect(steps.length).toBeLessThan(before);
  }, 90_000);
});

/**
 * A drill stopped as mysql-check calls juju (the sim at the moment before the action), and a way to
 * run the mysql-reboot-cluster step's own create line against it as a step process of that window,
 * on a sim clock hosted here (cloud time moves only on a drill's clock, issue #14).
 */
async function beforeTheAction(dir: string) {
  const upTo = await run(BIN, ["drill", ...ARGS, "--dir", dir, "--cancel-at", "mysql-check"]);
  if (upTo.status !== 130) throw new Error(`setup drill: exit ${upTo.status}\n${upTo.stderr}`);
  const saved = JSON.parse(fs.readFileSync(path.join(dir, "drill.json"), "utf8")) as {
    window: string;
    sim: { jujuModel: string };
  };
  // the sim's PATH and folder as the drill derives them (drill.json holds data only, issue #21)
  const simEnv = simLayout(path.join(dir, "cloud")).env;
  // The step's create line from the plan, on the sim's model (the drill's config sets it).
  const plan = await run(BIN, ["plan", "--stack", "prior-build", "--format", "json"]);
  const step = (JSON.parse(plan.stdout) as { steps: { name: string; create: string }[] }).steps.find(
    (s) => s.name === "mysql-reboot-cluster",
  )!;
  const create = step.create.replace(/--model \S+/, `--model ${saved.sim.jujuModel}`);
  expect(create).toMatch(/^coldstart act mysql-reboot-cluster-from-complete-outage /);
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) base[k] = v;
  const env = (stepName: string): NodeJS.ProcessEnv => ({
    ...base,
    ...simEnv,
    PATH: `${path.join(ROOT, "bin")}${path.delimiter}${simEnv.PATH}`,
    COLDSTART_WINDOW: saved.window,
    COLDSTART_RECORD_DIR: path.join(dir, "records"),
    COLDSTART_STACK: "prior-build",
    COLDSTART_STAGE: "stage-2-mysql",
    // two step names: each gets its own claim, so only the marker stands between them
    COLDSTART_STEP: stepName,
  });
  expect(matching(dir, ACTION)).toHaveLength(0);
  const clock = await startSimClock({
    clockFile: path.join(dir, "cloud", "clock"),
    onFatal: (m) => process.stderr.write(`${m}\n`),
  });
  /** The step as a process holding `token` of the clock (a token that is not yet running holds time still). */
  const onClock = (name: string, token = clock.spawnToken(name)) =>
    run("/bin/sh", ["-c", create], { ...env(name), ...token.env }).finally(() => clock.endToken(token.id));
  return { clock, onClock, marker: path.join(dir, "records", `${WINDOW}.mysql-reboot.json`) };
}

describe("the MySQL action's once-per-window guard, two step processes at once, no lock", () => {
  const dir = drillDir("marker-race");
  let a: Ran;
  let b: Ran;
  beforeAll(async () => {
    const { clock, onClock } = await beforeTheAction(dir);
    try {
      [a, b] = await Promise.all([onClock("mysql-reboot-cluster"), onClock("mysql-reboot-cluster-by-hand")]);
    } finally {
      await clock.close();
    }
  }, 120_000);

  it("exactly one juju run of the action; the other process met the marker and did not run it", () => {
    expect(matching(dir, ACTION)).toHaveLength(1);
    const said = [a, b].map((r) => r.stdout + r.stderr);
    expect(said.filter((s) => /^RAN: reboot-cluster-from-complete-outage /m.test(s))).toHaveLength(1);
    // the other one met the marker: taken by the first a moment before (SKIPPED by the guard), or
    // already naming the first's attempt, which it follows (waiting for juju to list its task)
    // instead of running it again
    const other = said.find((s) => !/^RAN: /m.test(s)) ?? "";
    expect(other).toMatch(
      /^(SKIPPED: reboot-cluster-from-complete-outage \(guard: |FOLLOWED: reboot-cluster-from-complete-outage on \S+: the earlier attempt.*following its task, not run again$)/m,
    );
    expect(other).not.toMatch(/attempt-not-found|may never have been enqueued/);
    expect(fs.existsSync(path.join(dir, "records", `${WINDOW}.mysql-reboot.json`))).toBe(true);
  });
});

describe("the second step process starts after the first took the marker, before its action ended", () => {
  // The case CI met under load: the second reads a marker whose attempt has no outcome yet, and
  // perhaps no task juju lists yet. It must follow that attempt, never call it lost.
  const dir = drillDir("marker-follow");
  let a: Ran;
  let b: Ran;
  let marker: { attempts: { outcome?: string }[] };
  beforeAll(async () => {
    const { clock, onClock, marker: file } = await beforeTheAction(dir);
    try {
      // the second's token, taken now and not yet running, holds cloud time still: the first's
      // action (25 sim s) cannot end before the second has read the marker
      const second = clock.spawnToken("mysql-reboot-cluster-by-hand");
      const first = onClock("mysql-reboot-cluster");
      await whenExists(file);
      [a, b] = await Promise.all([first, onClock("mysql-reboot-cluster-by-hand", second)]);
    } finally {
      await clock.close();
    }
    marker = JSON.parse(fs.readFileSync(file, "utf8")) as typeof marker;
  }, 120_000);

  it("one juju run; the second followed the first's attempt to its end and passed, naming it", () => {
    expect(matching(dir, ACTION)).toHaveLength(1);
    expect(a.stdout + a.stderr).toMatch(/^RAN: reboot-cluster-from-complete-outage /m);
    const second = b.stdout + b.stderr;
    expect(second).not.toMatch(/^RAN: /m);
    expect(second).toMatch(
      /^FOLLOWED: reboot-cluster-from-complete-outage on \S+: the earlier attempt.*following its task, not run again$/m,
    );
    expect(b.status).toBe(0);
    expect(a.status).toBe(0);
    expect(marker.attempts).toEqual([expect.objectContaining({ outcome: "success" })]);
  });
});
