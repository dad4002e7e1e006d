/**
 * Issue #12 "One run at a time": one lock per stack and window (runtime/run-lock.ts). A second
 * run is refused naming the holder and how to clear it; a dead holder of this host is taken over;
 * a holder on another host never is; a live step claim refuses the run too.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireRunLock, lockFile, readRunLock, type RunLockHolder } from "../../runtime/run-lock";
import { deadPid, earlierHolder, refusal } from "../support/run-lock-holder";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-runlock-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const W = "2026-12-05-roosevelt";
const take = (kind: "maintenance" | "drill" | "step" = "drill", env: NodeJS.ProcessEnv = { HOME: dir }) =>
  acquireRunLock({ recordDir: dir, window: W, stack: "roosevelt", kind, env });

function writeHolder(over: Partial<RunLockHolder>): void {
  const h = earlierHolder(W, over);
  fs.writeFileSync(lockFile(dir, W), JSON.stringify(h));
}

describe("acquireRunLock", () => {
  it("writes the holder, gives the run's env, and release removes only our own lock", () => {
    const lock = take("maintenance");
    expect(lock.file).toBe(path.join(dir, `${W}.lock`));
    const seen = readRunLock(lock.file);
    expect(seen.kind).toBe("held");
    if (seen.kind !== "held") return;
    expect(seen.holder).toMatchObject({
      runId: lock.runId,
      kind: "maintenance",
      stack: "roosevelt",
      window: W,
      host: os.hostname(),
      pid: process.pid,
    });
    expect(lock.env).toEqual({ COLDSTART_RUN_ID: lock.runId, COLDSTART_RUN_KIND: "maintenance" });
    expect(lock.note).toBeUndefined();
    // no temporary file is left next to the lock
    expect(fs.readdirSync(dir)).toEqual([`${W}.lock`]);
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);

    // a lock taken over by someone else since is not ours to remove
    const again = take();
    writeHolder({ runId: "someone-else", pid: process.pid });
    again.release();
    expect(fs.existsSync(again.file)).toBe(true);
  });

  it("expands ~ in recordDir with the given HOME", () => {
    const lock = acquireRunLock({ recordDir: "~/records", window: W, stack: "s", kind: "step", env: { HOME: dir } });
    expect(lock.file).toBe(path.join(dir, "records", `${W}.lock`));
    lock.release();
  });

  it("refuses a second run while the first holds the window, naming the holder and the file to remove", () => {
    const first = take("drill");
    const err = refusal(() => take("maintenance"));
    expect(err.file).toBe(first.file);
    expect(err.message).toContain(`a drill run of ${os.userInfo().username}@${os.hostname()}`);
    expect(err.message).toContain(`pid ${process.pid}`);
    expect(err.message).toMatch(/started \d{4}-\d\d-\d\dT/);
    expect(err.message).toContain(`remove ${first.file}`);
    expect(err.message).toContain(`ps -p ${process.pid}`);
    expect(err.message).not.toContain("\n");
    first.release();
    take().release();
  });

  it("takes over a lock whose holder on this host is gone, and says so", () => {
    writeHolder({});
    const lock = take();
    expect(lock.note).toMatch(/earlier maintenance run of window .* ended without releasing its lock/);
    expect(lock.note).toContain("earlier-run");
    const seen = readRunLock(lock.file);
    expect(seen.kind === "held" && seen.holder.runId).toBe(lock.runId);
    lock.release();
  });

  it("a holder that is a zombie (killed, not reaped yet) is dead: its lock is taken over", async () => {
    // `sleep 0.1`'s parent becomes `sleep 3` (exec), which never reaps it: a zombie for 3 s
    const parent = spawn("/bin/sh", ["-c", "sleep 0.1 & echo $!; exec sleep 3"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    const zombie = await new Promise<number>((resolve) =>
      parent.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
    );
    await new Promise((r) => setTimeout(r, 400));
    expect(fs.readFileSync(`/proc/${zombie}/stat`, "utf8")).toMatch(/\) Z /);
    expect(() => process.kill(zombie, 0)).not.toThrow(); // kill(0) alone would call it alive
    writeHolder({ pid: zombie });
    const lock = take();
    expect(lock.note).toContain(`pid ${zombie}`);
    lock.release();
    parent.kill();
  });

  it("never presumes a holder on another host dead", () => {
    writeHolder({ host: "jumphost-2", pid: deadPid(), user: "alice" });
    const err = refusal(() => take());
    expect(err.message).toContain("a maintenance run of alice@jumphost-2");
    expect(err.message).toContain("check on jumphost-2");
    expect(fs.existsSync(lockFile(dir, W))).toBe(true);
  });

  it("refuses an unreadable lock, naming the file, and leaves it", () => {
    fs.writeFileSync(lockFile(dir, W), "{half");
    const err = refusal(() => take());
    expect(err.message).toContain(`remove that file`);
    expect(err.message).toContain(lockFile(dir, W));
    expect(fs.readFileSync(lockFile(dir, W), "utf8")).toBe("{half");
  });

  it("refuses while a live step claim of the window runs (a step by hand), and not for a dead one", () => {
    const claims = path.join(dir, `${W}.running`);
    fs.mkdirSync(claims);
    const dead = { pid: deadPid(), host: os.hostname(), start: "T0", step: "power-off" };
    fs.writeFileSync(path.join(claims, "power-off.json"), JSON.stringify(dead));
    take().release();
    const live = { pid: process.pid, host: os.hostname(), start: "T1", step: "mysql-reboot-cluster" };
    fs.writeFileSync(path.join(claims, "mysql-reboot-cluster.json"), JSON.stringify(live));
    const err = refusal(() => take("maintenance"));
    expect(err.message).toContain("step mysql-reboot-cluster is running in this window");
    expect(err.message).toContain(path.join(claims, "mysql-reboot-cluster.json"));
    // the refused run leaves no lock behind
    expect(fs.existsSync(lockFile(dir, W))).toBe(false);
  });

  it("of several processes that start together, exactly one gets the window", async () => {
    const mod = path.resolve(__dirname, "../../dist/runtime/run-lock.js");
    expect(fs.existsSync(mod)).toBe(true); // build first: npx tsc -p .
    // The winner holds the lock until the test closes its stdin, which it does only once the three
    // others have ended: a loaded machine that starts one late cannot let it in after a release.
    const script = `
      const { acquireRunLock } = require(${JSON.stringify(mod)});
      const start = Number(process.argv[1]);
      while (Date.now() < start) {}
      try {
        const l = acquireRunLock({ recordDir: ${JSON.stringify(dir)}, window: ${JSON.stringify(W)}, stack: "s", kind: "drill", env: process.env });
        process.stdout.write("GOT " + l.runId);
        process.stdin.on("data", () => undefined);
        process.stdin.on("end", () => l.release());
      } catch (e) { process.stdout.write("REFUSED " + e.name); process.exitCode = 5; process.stdin.destroy(); }`;
    const at = String(Date.now() + 1500);
    const children = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ["-e", script, at], { stdio: ["pipe", "pipe", "inherit"] }),
    );
    let ended = 0;
    const releaseAll = () => children.forEach((c) => c.stdin.end());
    // two winners would wait for each other: let them go after a while, the count below says so
    const backstop = setTimeout(releaseAll, 10_000);
    const runs = await Promise.all(
      children.map(
        (p) =>
          new Promise<{ code: number | null; out: string }>((resolve) => {
            let out = "";
            p.stdout.on("data", (d: Buffer) => (out += d.toString()));
            p.on("close", (code) => {
              resolve({ code, out });
              if (++ended === children.length - 1) releaseAll();
            });
          }),
      ),
    );
    clearTimeout(backstop);
    expect(runs.filter((r) => r.out.startsWith("GOT")).length).toBe(1);
    expect(runs.filter((r) => r.code === 5 && r.out === "REFUSED WindowLockedError").length).toBe(3);
    expect(fs.existsSync(lockFile(dir, W))).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
