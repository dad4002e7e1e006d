/**
 * Issue #21: a lock's or a claim's holder is a process, not a pid. After a reboot or a pid wrap
 * the pid a dead holder wrote can name a live, unrelated process; the holder's process start time
 * (/proc/<pid>/stat field 22) and the boot id tell them apart (runtime/holder.ts), for the run
 * lock and the step claim alike. Old files without them are judged by the pid, as before; a
 * holder on another host is never taken over.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireRunLock, lockFile, readRunLock, WindowLockedError } from "../../runtime/run-lock";
import { claimStep } from "../../runtime/step-claim";

const W = "w1";
let dir: string;
let child: ChildProcess;
/** The live child's start time, read here independently of runtime/holder.ts. */
let childStart: number;
let boot: string;

function startTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3]);
}

beforeAll(async () => {
  child = spawn("sleep", ["60"], { stdio: "ignore" });
  await new Promise((r) => child.once("spawn", r));
  childStart = startTicks(child.pid!);
  boot = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
});
afterAll(() => child.kill());
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-holder-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const take = () => acquireRunLock({ recordDir: dir, window: W, stack: "s", kind: "drill", env: { HOME: dir } });

/** A lock naming this host and the live child, with the given identity fields. */
function lockOf(id: { procStart?: number; bootId?: string; host?: string }): void {
  const h = {
    runId: "earlier-run",
    kind: "maintenance",
    stack: "s",
    window: W,
    host: os.hostname(),
    pid: child.pid,
    user: "op",
    start: "2026-12-05T06:00:00.000Z",
    ...id,
  };
  fs.writeFileSync(lockFile(dir, W), JSON.stringify(h));
}

function claimOf(id: { procStart?: number; bootId?: string }): string {
  const file = path.join(dir, `${W}.running`, "s1.json");
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ pid: child.pid, host: os.hostname(), start: "T0", step: "s1", ...id }));
  return file;
}

const claimOpts = () => ({
  recordDir: dir,
  window: W,
  step: "s1",
  env: { HOME: dir },
  sleep: () => new Promise<void>((r) => setTimeout(r, 10)),
  // stops at the first look at a live holder: "not taken over" without waiting for it
  cancelled: () => "stop",
});

describe("the run lock names its holder's process, not only its pid", () => {
  it("writes this process's start time and the boot id beside the pid", () => {
    const lock = take();
    const seen = readRunLock(lock.file);
    expect(seen.kind === "held" && seen.holder).toMatchObject({
      pid: process.pid,
      procStart: startTicks(process.pid),
      bootId: boot,
    });
    lock.release();
  });

  it("a live pid with another start time is a reused pid: its lock is taken over, saying so", () => {
    lockOf({ procStart: childStart + 1, bootId: boot });
    const lock = take();
    expect(lock.note).toContain(`pid ${child.pid} now belongs to another process`);
    expect(lock.note).toContain("a reused pid");
    lock.release();
  });

  it("a live pid with the holder's start time is the holder: refused", () => {
    lockOf({ procStart: childStart, bootId: boot });
    expect(take).toThrow(WindowLockedError);
  });

  it("a lock written before the host last booted is dead, whatever its pid names now", () => {
    lockOf({ procStart: childStart, bootId: "00000000-0000-0000-0000-000000000000" });
    const lock = take();
    expect(lock.note).toContain("this host rebooted since");
    lock.release();
  });

  it("an old lock (no start time, no boot id) is judged by its pid alone, as before: a live pid refuses", () => {
    lockOf({});
    expect(take).toThrow(WindowLockedError);
  });

  it("a holder on another host is never taken over, even with a start time this host does not match", () => {
    lockOf({ host: "jumphost-2", procStart: 1, bootId: "other-boot" });
    expect(take).toThrow(/check on jumphost-2/);
  });

  it("a step claim whose pid was reused does not refuse a run", () => {
    claimOf({ procStart: childStart + 1, bootId: boot });
    take().release();
    claimOf({ procStart: childStart, bootId: boot });
    expect(take).toThrow(/step s1 is running in this window/);
  });
});

describe("the step claim names its holder's process, not only its pid", () => {
  it("writes this process's start time and the boot id", async () => {
    const claim = await claimStep(claimOpts());
    expect(claim.kind).toBe("claimed");
    const written = JSON.parse(fs.readFileSync(path.join(dir, `${W}.running`, "s1.json"), "utf8"));
    expect(written).toMatchObject({ pid: process.pid, procStart: startTicks(process.pid), bootId: boot });
    if (claim.kind === "claimed") claim.release();
  });

  it("a live pid with another start time is a reused pid: the claim is taken over and the reason kept", async () => {
    claimOf({ procStart: childStart + 1, bootId: boot });
    const claim = await claimStep(claimOpts());
    expect(claim).toMatchObject({
      kind: "claimed",
      stale: { pid: child.pid, gone: expect.stringContaining("reused pid") },
    });
  });

  it("a live pid with the holder's start time is the holder: not taken over", async () => {
    const file = claimOf({ procStart: childStart, bootId: boot });
    const claim = await claimStep(claimOpts());
    expect(claim.kind).toBe("cancelled"); // it met a live holder and waited (the stop ended the wait)
    expect(JSON.parse(fs.readFileSync(file, "utf8")).pid).toBe(child.pid);
  });

  it("an old claim (no start time) with a live pid is not taken over, as before", async () => {
    claimOf({});
    expect((await claimStep(claimOpts())).kind).toBe("cancelled");
  });
});
