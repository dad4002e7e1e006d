/**
 * Issue #12 "One run at a time", at the step: a step of another run (or by hand) is refused while
 * a live run holds the window's lock (exit 5, naming the holder); the run's own steps
 * (COLDSTART_RUN_ID) pass; a stale lock refuses nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { claimStep } from "../../runtime/step-claim";
import { acquireRunLock, lockFile } from "../../runtime/run-lock";
import { stepCommand } from "../../cli/step-command";
import { fakeExec, testContext } from "../support/fake-exec";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-steplock-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const W = "w1";
const claimDirOf = () => path.join(dir, `${W}.running`);
const opts = (env: NodeJS.ProcessEnv = {}) => ({
  recordDir: dir,
  window: W,
  step: "mysql-reboot-cluster",
  env: { HOME: dir, ...env },
  sleep: () => new Promise<void>((r) => setTimeout(r, 10)),
});
const takeWindow = (kind: "drill" | "maintenance" = "drill") =>
  acquireRunLock({ recordDir: dir, window: W, stack: "roosevelt", kind, env: { HOME: dir } });

describe("claimStep under a window lock", () => {
  it("refuses a step of no run while another run holds the window, naming the holder; leaves no claim", async () => {
    const lock = takeWindow("maintenance");
    const claim = await claimStep(opts());
    expect(claim.kind).toBe("held-elsewhere");
    if (claim.kind !== "held-elsewhere") return;
    expect(claim.file).toBe(lockFile(dir, W));
    expect(claim.holder).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(claim.why).toContain(`held by a maintenance run of ${os.userInfo().username}@${os.hostname()}`);
    expect(claim.why).toContain(`remove ${lockFile(dir, W)}`);
    expect(fs.existsSync(path.join(claimDirOf(), "mysql-reboot-cluster.json"))).toBe(false);
    lock.release();
  });

  it("refuses a step of another run (a different COLDSTART_RUN_ID)", async () => {
    const lock = takeWindow();
    const claim = await claimStep(opts({ COLDSTART_RUN_ID: "some-other-run" }));
    expect(claim.kind).toBe("held-elsewhere");
    lock.release();
  });

  it("lets the lock holder's own steps claim (COLDSTART_RUN_ID from the lock's env)", async () => {
    const lock = takeWindow();
    const claim = await claimStep(opts(lock.env));
    expect(claim.kind).toBe("claimed");
    if (claim.kind === "claimed") claim.release();
    lock.release();
  });

  it("a stale lock (its holder on this host is gone) refuses nothing", async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const holder = {
      runId: "r",
      kind: "drill",
      stack: "s",
      window: W,
      host: os.hostname(),
      pid: dead,
      user: "u",
      start: "T",
    };
    fs.writeFileSync(lockFile(dir, W), JSON.stringify(holder));
    const claim = await claimStep(opts());
    expect(claim.kind).toBe("claimed");
    if (claim.kind === "claimed") claim.release();
  });

  it("with no lock, a step by hand claims as before, and that claim refuses a run until it ends", async () => {
    const claim = await claimStep(opts());
    expect(claim.kind).toBe("claimed");
    expect(() => takeWindow()).toThrow(/step mysql-reboot-cluster is running in this window/);
    if (claim.kind === "claimed") claim.release();
    takeWindow().release();
  });
});

describe("coldstart <verb> <step> while another run holds the window", () => {
  it("exits 5 (locked), runs nothing, names the holder and the lock file", async () => {
    const lock = takeWindow("drill");
    const fake = fakeExec().on(/^juju machines/, '{"machines":{}}');
    const env = { HOME: dir, COLDSTART_WINDOW: W, COLDSTART_RECORD_DIR: dir, COLDSTART_STEP: "machines-started" };
    const ctx = testContext(fake, { env });
    const err: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
      err.push(String(s));
      return true;
    });
    let code: number;
    try {
      code = await stepCommand(
        "gate",
        ["machines-started", "--model", "c:m", "--timeout", "1m", "--interval", "5s"],
        ctx,
      );
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(5);
    expect(fake.calls).toHaveLength(0);
    const text = err.join("");
    expect(text).toMatch(/^LOCKED machines-started: /);
    expect(text).toContain(os.hostname());
    expect(text).toContain(`pid ${process.pid}`);
    expect(text).toContain(lockFile(dir, W));
    lock.release();
  });
});

describe("claimStep: a run that takes the window while the step claims (issue #22)", () => {
  it("the claim looks at the lock again after it is written: the step is refused, and leaves no claim", async () => {
    // the module object runtime/step-claim.ts calls through, not this file's import copy
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeFs = require("node:fs") as typeof import("node:fs");
    const realLink = nodeFs.linkSync.bind(nodeFs);
    let lock: ReturnType<typeof takeWindow> | undefined;
    // the run starts between the step's first look at the lock and its claim landing
    const spy = jest.spyOn(nodeFs, "linkSync").mockImplementation((from, to) => {
      if (String(to).endsWith("mysql-reboot-cluster.json")) lock ??= takeWindow("maintenance");
      realLink(from, to);
    });
    try {
      const claim = await claimStep(opts());
      expect(lock).toBeDefined();
      expect(claim.kind).toBe("held-elsewhere");
      if (claim.kind === "held-elsewhere") expect(claim.file).toBe(lockFile(dir, W));
      expect(fs.existsSync(path.join(claimDirOf(), "mysql-reboot-cluster.json"))).toBe(false);
    } finally {
      spy.mockRestore();
      lock?.release();
    }
  });
});
