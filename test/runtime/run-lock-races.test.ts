/**
 * Issue #22: the run lock (runtime/run-lock.ts) at the moments two runs, or a run and a step,
 * meet: a lock that vanishes or is replaced between two looks, a stale lock another run takes
 * over first, a claim folder holding more than live claims, a lock that cannot be read. The races
 * are made to happen by wrapping node:fs calls of the module object run-lock.ts calls through.
 */
import * as path from "node:path";
import { spawn } from "node:child_process";
import { acquireRunLock, describeHolder, lockFile, readRunLock, type RunLockHolder } from "../../runtime/run-lock";
import { earlierHolder, refusal } from "../support/run-lock-holder";

// the module objects themselves (what runtime/run-lock.ts calls through), not import copies
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require("node:fs") as typeof import("node:fs");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const os = require("node:os") as typeof import("node:os");

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-runlock-races-"))));
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const W = "2026-12-05-roosevelt";
const take = (env: NodeJS.ProcessEnv = { HOME: dir }) =>
  acquireRunLock({ recordDir: dir, window: W, stack: "roosevelt", kind: "drill", env });

const holder = (over: Partial<RunLockHolder> = {}): RunLockHolder => earlierHolder(W, over);
const writeLock = (h: RunLockHolder) => fs.writeFileSync(lockFile(dir, W), JSON.stringify(h));

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/** Calls of `fs.linkSync` onto the lock's own name. */
function onLinkToLock(fn: (from: string, to: string, real: () => void) => void): void {
  const realLink = fs.linkSync.bind(fs);
  jest.spyOn(fs, "linkSync").mockImplementation((from, to) => {
    if (String(to) === lockFile(dir, W)) fn(String(from), String(to), () => realLink(from, to));
    else realLink(from, to);
  });
}

describe("readRunLock says why a lock cannot be read", () => {
  it("none, held, not JSON, not a coldstart lock, and a read error with its text", () => {
    const file = lockFile(dir, W);
    expect(readRunLock(file)).toEqual({ kind: "none" });
    writeLock(holder({ pid: 42 }));
    expect(readRunLock(file)).toEqual({ kind: "held", holder: holder({ pid: 42 }) });
    fs.writeFileSync(file, "{half");
    expect(readRunLock(file)).toEqual({ kind: "unreadable", why: "not JSON" });
    fs.writeFileSync(file, JSON.stringify({ runId: "r", pid: "not a number" }));
    expect(readRunLock(file)).toEqual({ kind: "unreadable", why: "not a coldstart lock" });
    // a lock that is there but cannot be read (here a folder) is not "no lock"
    fs.rmSync(file);
    fs.mkdirSync(file);
    expect(readRunLock(file)).toEqual({ kind: "unreadable", why: expect.stringMatching(/^EISDIR: /) });
  });

  it("a run refuses a lock it cannot read, with the reason, instead of taking the window", () => {
    fs.writeFileSync(lockFile(dir, W), JSON.stringify({ hello: "world" }));
    expect(refusal(() => take()).message).toBe(
      `window ${W}: its lock ${lockFile(dir, W)} cannot be read (not a coldstart lock); nothing was done. Check that no coldstart run acts on this window, then remove that file`,
    );
    fs.rmSync(lockFile(dir, W));
    fs.mkdirSync(lockFile(dir, W));
    const err = refusal(() => take());
    expect(err.holder).toBeUndefined();
    expect(err.message).toContain("cannot be read (EISDIR: ");
  });
});

describe("describeHolder", () => {
  it("says whether the holder runs on this host, and where to check it", () => {
    const here = holder({ pid: 4242, runId: "r-1", user: "op" });
    const file = lockFile(dir, W);
    expect(describeHolder(here, file)).toBe(
      `window ${W} of stack roosevelt is held by a maintenance run of op@${os.hostname()} (pid 4242 on this host, started 2026-12-05T06:00:00.000Z, run r-1); ` +
        `nothing was done. If that run is gone for good (check on ${os.hostname()}: ps -p 4242), remove ${file} and start again`,
    );
    expect(describeHolder({ ...here, host: "jumphost-2" }, file)).toContain(
      "held by a maintenance run of op@jumphost-2 (pid 4242 on jumphost-2, started",
    );
  });
});

describe("the lock file", () => {
  it("is private to its owner (0600) and one line of JSON", () => {
    const lock = take();
    expect(fs.statSync(lock.file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(lock.file, "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(2);
    lock.release();
  });

  it("names the user from USER or LOGNAME when the system has no name for the uid (a container)", () => {
    jest.spyOn(os, "userInfo").mockImplementation(() => {
      throw errno("ENOENT");
    });
    const userOf = (env: NodeJS.ProcessEnv) => {
      const lock = take({ HOME: dir, ...env });
      const seen = readRunLock(lock.file);
      lock.release();
      return seen.kind === "held" ? seen.holder.user : seen.kind;
    };
    expect(userOf({ USER: "alice", LOGNAME: "bob" })).toBe("alice");
    expect(userOf({ LOGNAME: "bob" })).toBe("bob");
    expect(userOf({})).toBe("unknown");
  });
});

describe("release", () => {
  it("is safe to call twice, and the second call leaves a later run's lock alone", () => {
    const lock = take();
    lock.release();
    expect(() => lock.release()).not.toThrow();
    const next = take();
    lock.release();
    expect(readRunLock(next.file)).toMatchObject({ kind: "held", holder: { runId: next.runId } });
    next.release();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("a lock that comes and goes between two looks", () => {
  it("released between our link and our read: the run tries again and takes the window", () => {
    let refusedOnce = false;
    onLinkToLock((_from, _to, real) => {
      if (!refusedOnce) {
        refusedOnce = true;
        throw errno("EEXIST"); // a lock was there at link time; it is gone when we read it
      }
      real();
    });
    const lock = take();
    expect(refusedOnce).toBe(true);
    expect(lock.note).toBeUndefined();
    expect(readRunLock(lock.file)).toMatchObject({ kind: "held", holder: { runId: lock.runId } });
    lock.release();
  });

  it("a lock that keeps vanishing and coming back: six tries, then link's own error, and no file left", () => {
    let tries = 0;
    onLinkToLock(() => {
      tries++;
      throw errno("EEXIST");
    });
    expect(take).toThrow("EEXIST: simulated");
    expect(tries).toBe(6);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("another error of link (a full disk) is thrown at once, the temporary file removed", () => {
    let tries = 0;
    onLinkToLock(() => {
      tries++;
      throw errno("ENOSPC");
    });
    expect(take).toThrow("ENOSPC: simulated");
    expect(tries).toBe(1);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("a stale lock that another run deals with at the same moment", () => {
  /** Calls of `fs.renameSync` of the lock aside (takeOverStale). */
  function onMoveAside(fn: (real: () => void) => void): void {
    const realRename = fs.renameSync.bind(fs);
    jest.spyOn(fs, "renameSync").mockImplementation((from, to) => {
      if (String(from) === lockFile(dir, W)) fn(() => realRename(from, to));
      else realRename(from, to);
    });
  }

  it("the other run moved it first: this run takes the window, and says nothing of a takeover it did not do", () => {
    writeLock(holder());
    onMoveAside((real) => {
      fs.rmSync(lockFile(dir, W)); // the other run's rename: ours finds nothing (ENOENT)
      real();
    });
    const lock = take();
    expect(lock.note).toBeUndefined();
    expect(readRunLock(lock.file)).toMatchObject({ kind: "held", holder: { runId: lock.runId } });
    lock.release();
  });

  it("a run took the window between our look and our move: its lock is put back, and we are refused", () => {
    writeLock(holder());
    const fresh = holder({ runId: "fresh-run", pid: process.pid, kind: "drill" });
    onMoveAside((real) => {
      writeLock(fresh); // the other run took the stale lock over and holds the window now
      real();
    });
    const err = refusal(() => take());
    expect(err.holder).toEqual(fresh);
    expect(err.message).toContain("run fresh-run");
    expect(readRunLock(lockFile(dir, W))).toEqual({ kind: "held", holder: fresh });
    // nothing of ours, nothing moved aside, is left
    expect(fs.readdirSync(dir)).toEqual([`${W}.lock`]);
  });

  it("what we moved aside is not the lock we judged (something unreadable): it is put back and refuses", () => {
    writeLock(holder());
    onMoveAside((real) => {
      fs.writeFileSync(lockFile(dir, W), "{half");
      real();
    });
    const err = refusal(() => take());
    expect(err.message).toContain("cannot be read (not JSON)");
    expect(fs.readFileSync(lockFile(dir, W), "utf8")).toBe("{half");
    expect(fs.readdirSync(dir)).toEqual([`${W}.lock`]);
  });

  it("the run that put back a fresh lock and then saw it released takes the window without a takeover note", () => {
    writeLock(holder());
    const fresh = holder({ runId: "fresh-run", pid: process.pid, kind: "drill" });
    onMoveAside((real) => {
      writeLock(fresh);
      real();
    });
    // the fresh run ends just after its lock is put back
    const realRm = fs.rmSync.bind(fs);
    jest.spyOn(fs, "rmSync").mockImplementation((p, o) => {
      realRm(p, o);
      if (String(p).startsWith(`${lockFile(dir, W)}.stale.`)) realRm(lockFile(dir, W), { force: true });
    });
    const lock = take();
    expect(lock.note).toBeUndefined();
    lock.release();
  });

  it("an error moving the stale lock aside is the run's error, not taken for a race", () => {
    writeLock(holder());
    onMoveAside(() => {
      throw errno("EACCES");
    });
    expect(take).toThrow("EACCES: simulated");
    expect(fs.existsSync(lockFile(dir, W))).toBe(true);
  });
});

describe("the step claims a run looks at", () => {
  const claims = () => path.join(dir, `${W}.running`);
  const live = { pid: process.pid, host: os.hostname(), start: "T1", step: "mysql-reboot-cluster" };

  it("only <step>.json files are claims: a step's temporary file beside them refuses nothing", () => {
    fs.mkdirSync(claims());
    fs.writeFileSync(path.join(claims(), `.mysql-reboot-cluster.json.${process.pid}.x.tmp`), JSON.stringify(live));
    take().release();
  });

  it("a damaged or foreign file among the claims refuses nothing; a live claim after it still does", () => {
    fs.mkdirSync(claims());
    fs.writeFileSync(path.join(claims(), "a-damaged.json"), "{half");
    fs.writeFileSync(path.join(claims(), "b-foreign.json"), JSON.stringify({ hello: "world" }));
    take().release();
    fs.writeFileSync(path.join(claims(), "c-live.json"), JSON.stringify(live));
    const err = refusal(() => take());
    expect(err.holder).toEqual({ kind: "step-claim", ...live });
    expect(err.file).toBe(path.join(claims(), "c-live.json"));
    expect(err.message).toBe(
      `step mysql-reboot-cluster is running in this window by hand or under a bare pulumi up (pid ${process.pid} on ${os.hostname()}, started T1); nothing was done. ` +
        `Wait for it to end; if it is gone for good (check on ${os.hostname()}: ps -p ${process.pid}), remove ${path.join(claims(), "c-live.json")}`,
    );
  });
});

describe("the run's own steps, in processes of their own", () => {
  it("a step started with the run's env passes the lock; the same step without it is refused", async () => {
    const mod = path.resolve(__dirname, "../../dist/runtime/step-claim.js");
    expect(fs.existsSync(mod)).toBe(true); // build first: npm run -s build
    const lock = take();
    const script = `
      const { claimStep } = require(${JSON.stringify(mod)});
      claimStep({ recordDir: ${JSON.stringify(dir)}, window: ${JSON.stringify(W)}, step: "s1", env: process.env, sleep: async () => undefined })
        .then((c) => { process.stdout.write(c.kind); if (c.kind === "claimed") c.release(); });`;
    const step = (env: NodeJS.ProcessEnv) =>
      new Promise<string>((resolve) => {
        const p = spawn(process.execPath, ["-e", script], { env, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout.on("data", (d: Buffer) => (out += d.toString()));
        p.on("close", () => resolve(out));
      });
    const parentEnv: NodeJS.ProcessEnv = { ...process.env, HOME: dir };
    delete parentEnv.COLDSTART_RUN_ID;
    delete parentEnv.COLDSTART_RUN_KIND;
    expect(await step({ ...parentEnv, ...lock.env })).toBe("claimed");
    expect(await step(parentEnv)).toBe("held-elsewhere");
    lock.release();
  });
});
