/**
 * The drill's discrete-event clock (issue #14): an in-process server (drill/sim-clock.ts) and real
 * `node -e` participants using the built client (dist/runtime/sim-clock.js). Cloud time jumps to
 * the next wake-up only when everyone waits: an hour of sleeping takes no real hour, a hung child
 * is killed exactly at its call timeout, and a deadlock or a stall ends with the tokens named.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startSimClock, type SimClockServer } from "../../drill/sim-clock";

const CLIENT = path.resolve(__dirname, "../../dist/runtime/sim-clock.js");
let dir: string;
let server: SimClockServer;
let fatal: string[];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-simclock-"));
  fatal = [];
  server = await startSimClock({ clockFile: path.join(dir, "clock"), watchdogS: 3, onFatal: (m) => fatal.push(m) });
});
afterEach(async () => {
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run `code` as a participant (the engine's way: token registered before spawn, ended at close). */
function participant(code: string, label = "node -e"): Promise<{ code: number | null; out: string; err: string }> {
  const { id, env } = server.spawnToken(label);
  const child = spawn(process.execPath, ["-e", `const sc = require(${JSON.stringify(CLIENT)});\n${code}`], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((resolve) =>
    child.on("close", (code) => {
      server.endToken(id);
      resolve({ code, out, err });
    }),
  );
}

it("sleeps an hour of cloud time in a moment of real time", async () => {
  const t0 = Date.now();
  const r = await participant(`
    const c = sc.joinSimClock(process.env);
    c.clock.sleep(3_600_000).then(() => { console.log(c.nowMs()); c.close(); });`);
  expect(r.err).toBe("");
  expect(r.out.trim()).toBe("3600000");
  expect(server.nowMs()).toBe(3_600_000);
  expect(Date.now() - t0).toBeLessThan(10_000);
});

it("interleaves two sleepers by cloud time, whatever their real speed", async () => {
  const log: string[] = [];
  const sleeper = (name: string, steps: number[]) =>
    participant(`
      const c = sc.joinSimClock(process.env);
      (async () => { for (const s of ${JSON.stringify(steps)}) { await c.sleepS(s); console.log(c.nowMs()); } c.close(); })();`).then(
      (r) =>
        r.out
          .trim()
          .split("\n")
          .forEach((t) => log.push(`${name}@${t}`)),
    );
  await Promise.all([sleeper("a", [3, 3, 3]), sleeper("b", [5, 5])]);
  expect(log.sort()).toEqual(["a@3000", "a@6000", "a@9000", "b@10000", "b@5000"].sort());
  expect(server.nowMs()).toBe(10_000);
  expect(server.stats.advances).toBe(5); // 3, 5, 6, 9, 10
});

it("a child call's sleep is cloud time too, and the parent sees it end", async () => {
  const r = await participant(`
    const c = sc.joinSimClock(process.env);
    c.exec({ file: process.execPath, timeoutMs: 120_000, args: ["-e",
      "const k = require(${JSON.stringify(CLIENT).replace(/"/g, '\\"')}).joinSimClock(process.env); k.sleepS(30).then(() => { console.log('child ' + k.nowMs()); k.close(); })"] })
      .then((res) => { console.log(res.stdout.trim(), 'exit', res.exitCode, 'parent', c.nowMs()); c.close(); });`);
  expect(r.err).toBe("");
  expect(r.out.trim()).toBe("child 30000 exit 0 parent 30000");
});

it("a hung child is killed exactly at its call timeout", async () => {
  const r = await participant(`
    const c = sc.joinSimClock(process.env);
    c.exec({ file: process.execPath, timeoutMs: 120_000, args: ["-e",
      "require(${JSON.stringify(CLIENT).replace(/"/g, '\\"')}).joinSimClock(process.env).sleepS(Infinity)"] })
      .then((res) => { console.log('timedOut', res.timedOut, 'at', c.nowMs()); c.close(); });`);
  expect(r.err).toBe("");
  expect(r.out.trim()).toBe("timedOut true at 120000");
  expect(fatal).toEqual([]);
});

it("names a deadlock: everyone waits forever", async () => {
  const r = await participant(`sc.joinSimClock(process.env).sleepS(Infinity);`, "waits-for-nothing");
  expect(r.code).toBe(70);
  expect(fatal).toHaveLength(1);
  expect(fatal[0]).toMatch(/deadlock at cloud time 0 ms: s1 \(pid \d+\) `waits-for-nothing` waits forever/);
  expect(r.err).toMatch(/the drill's clock stopped this process: drill clock: deadlock/);
});

it("names a stall: a participant busy past the watchdog", async () => {
  const { id } = server.spawnToken("spins");
  const hog = spawn(process.execPath, ["-e", "for(;;);"], { stdio: "ignore" });
  try {
    await new Promise((r) => setTimeout(r, 5_000));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(
      /no progress for 3 real s at cloud time 0 ms; busy: s1 `spins` busy for \d+ s \(not connected/,
    );
  } finally {
    hog.kill("SIGKILL");
    server.endToken(id);
  }
});

it("decides admissions at quiescence in catalog order, never in arrival order", async () => {
  const order: number[] = [];
  const decided = Promise.all([3, 1, 2].map((n) => server.admit(n, () => (order.push(n), "go"))));
  await decided;
  expect(order).toEqual([1, 2, 3]);
});

it("fires the engine's timers on cloud time, and continues a saved clock", async () => {
  const fired: number[] = [];
  server.timer(90_000, () => fired.push(server.nowMs()));
  const r = await participant(`
    const c = sc.joinSimClock(process.env);
    c.sleepS(100).then(() => { console.log(c.nowMs()); c.close(); });`);
  expect(fired).toEqual([90_000]);
  expect(r.out.trim()).toBe("100000");
  await server.close();
  server = await startSimClock({ clockFile: path.join(dir, "clock"), onFatal: (m) => fatal.push(m) });
  expect(server.nowMs()).toBe(100_000);
});

it("an in-process participant waits on its token like a joined process; close() cancels its wait, its token is busy", async () => {
  const aborts: string[] = [];
  const a = server.spawnToken("call a");
  const b = server.spawnToken("call b");
  const pa = server.participant(a.id, { onAbort: (why) => aborts.push(why) });
  const pb = server.participant(b.id, { onAbort: (why) => aborts.push(why) });
  let aWoke = false;
  void pa.time.sleepS(10).then(() => (aWoke = true));
  await pb.time.sleepS(5);
  expect(pb.time.nowS()).toBe(5);
  pb.close();
  server.endToken(b.id);
  // a's process is gone: its wait is cancelled, and its token (no connection) is busy until its end
  pa.close();
  await new Promise((r) => setTimeout(r, 200));
  expect(server.nowMs()).toBe(5_000);
  expect(aWoke).toBe(false);
  server.endToken(a.id);
  expect(fatal).toEqual([]);
  expect(aborts).toEqual([]);
});

it("an in-process participant waiting forever is part of a deadlock and hears the abort", async () => {
  const { id } = server.spawnToken("hangs forever");
  const aborts: string[] = [];
  void server.participant(id, { pid: 4242, onAbort: (why) => aborts.push(why) }).time.sleepS(Infinity);
  await new Promise((r) => setTimeout(r, 200));
  expect(fatal).toEqual([`drill clock: deadlock at cloud time 0 ms: s1 (pid 4242) \`hangs forever\` waits forever`]);
  expect(aborts).toEqual(fatal);
  server.endToken(id);
});
