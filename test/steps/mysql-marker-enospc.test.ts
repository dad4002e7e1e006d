/**
 * Issue #21: a full disk while taking the MySQL marker (the file that makes the destructive
 * reboot-cluster-from-complete-outage run at most once per window). It used to exit 70 (a bug)
 * and leave an EMPTY marker that then stopped the window as unreadable, although the action had
 * never run. Now: a named failure (the marker file, ENOSPC, the fix), nothing left behind, and a
 * resume after space is freed runs the action, once in all.
 *
 * Two ways to fill the disk:
 * - for real: a 64 KiB tmpfs mounted as the record dir and filled to the last byte (needs root
 *   and mount(2); where mount is not permitted that part is skipped with a loud notice -- also
 *   under CI=true, since whether a CI runner may mount is the runner's business);
 * - injected: write(2) on the marker's temporary file answers ENOSPC (always runs), also for the
 *   disk filling up while the action runs.
 * The action is counted on the fake juju's call log, across every run of the step.
 */
import { spawnSync } from "node:child_process";
import type { PathLike } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mysqlReboot } from "../../steps/mysql";
import { readFixture } from "../fixtures";
import { fakeExec, testContext, type FakeExec, type Reply } from "../support/fake-exec";

// the module object itself (what steps/mysql.ts calls through), so a spy reaches its calls
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require("node:fs") as typeof import("node:fs");

const APP = "mysql-innodb-cluster";
const MODEL = "c:openstack";
const ACTION = "reboot-cluster-from-complete-outage";
const FLAGS = { model: MODEL, app: APP, units: 3 };
const STATUS_CALL = new RegExp(`^juju status -m ${MODEL} ${APP} --format=json$`);
const ACTION_CALL = new RegExp(`^juju run -m ${MODEL} (\\S+) ${ACTION} --format=json --wait=(\\d+)s$`);
const OPERATIONS_CALL = new RegExp(`^juju operations -m ${MODEL} --format=json --apps ${APP} --actions ${ACTION}$`);
const SHOW_TASK_CALL = new RegExp(`^juju show-task -m ${MODEL} (\\d+) --format=json$`);
const NO_OPERATIONS: Reply = { stdout: "", stderr: "no matching operations\n" };
const COMPLETE_OUTAGE = readFixture(`juju/${APP}.complete-outage.juju3.status.json`);
const SUCCESS = readFixture(`juju/${APP}.reboot-action.success.juju3.json`);

function mysqlFake(): FakeExec {
  return fakeExec().on(STATUS_CALL, COMPLETE_OUTAGE).on(OPERATIONS_CALL, NO_OPERATIONS).on(ACTION_CALL, SUCCESS);
}

const ctxFor = (fake: FakeExec, recordDir: string) =>
  testContext(fake, { env: { HOME: "/home/operator", COLDSTART_WINDOW: "w1", COLDSTART_RECORD_DIR: recordDir } });

const markerIn = (dir: string) => path.join(dir, "w1.mysql-reboot.json");
/** Anything of the marker's in the folder: the marker itself or a temporary file of it. */
const markerFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.includes("mysql-reboot"));

/** Run the step three times as a window would: after the failure, the resume, and one more. */
async function expectOnceInAll(dir: string, firstRunCalls: number, freeSpace: () => void): Promise<void> {
  freeSpace();
  const resume = mysqlFake();
  const r2 = await mysqlReboot(FLAGS, ctxFor(resume, dir));
  expect(r2).toMatchObject({ exitCode: 0, outcome: "pass" });
  expect(JSON.parse(fs.readFileSync(markerIn(dir), "utf8")).attempts).toEqual([
    expect.objectContaining({ unit: `${APP}/1`, outcome: "success" }),
  ]);
  const again = mysqlFake();
  const r3 = await mysqlReboot(FLAGS, ctxFor(again, dir));
  expect(r3.verdict.state).toBe("already-attempted");
  expect(firstRunCalls + resume.lines(ACTION_CALL).length + again.lines(ACTION_CALL).length).toBe(1);
}

function expectNamedFailure(r: Awaited<ReturnType<typeof mysqlReboot>>, dir: string): void {
  expect(r).toMatchObject({ exitCode: 1, outcome: "fail" });
  expect(r.verdict.state).toBe("marker-not-written");
  expect(r.verdict.summary).toContain(`marker ${markerIn(dir)} could not be written (ENOSPC: no space left on device`);
  expect(r.verdict.summary).toContain("there is no marker: the action was not run");
  expect(r.verdict.summary).toContain(`Free space on the filesystem of the record dir ${dir}`);
  expect(r.verdict.summary).toContain("then resume");
  expect(r.verdict.summary).not.toContain("\n");
  expect(r.verdict.details).toEqual([`marker: ${markerIn(dir)}`, "error: ENOSPC"]);
}

// --- for real: a full tmpfs ---------------------------------------------------------------------

const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-enospc-"));
const mountProblem = ((): string | undefined => {
  if (process.platform !== "linux") return "not Linux";
  if (process.getuid?.() !== 0) return "not root (mount needs it)";
  // Stryker ends a runner at a timeout: afterAll would never unmount, and the next run's removal of
  // the temp roots (test/mutation/jest-global-setup.js, shared by every run) would fail EBUSY
  if (process.env.MUTATION_TMPDIR !== undefined) return "under mutation testing";
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k,mode=0700", "coldstart-enospc", mountPoint], {
    encoding: "utf8",
  });
  if (r.error) return `mount: ${r.error.message}`;
  return r.status === 0 ? undefined : `mount: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`}`;
})();
if (mountProblem)
  process.stderr.write(
    `\nNOTICE: test/steps/mysql-marker-enospc: a tmpfs cannot be mounted here (${mountProblem}): the REAL full-disk test ` +
      `is NOT run; the injected ENOSPC tests are. Run as root with mount(2) permitted to run it.\n\n`,
  );

afterAll(() => {
  if (!mountProblem) spawnSync("umount", [mountPoint]);
  fs.rmSync(mountPoint, { recursive: true, force: true });
});

/** Fill the filesystem at `dir` to its last byte. */
function fill(dir: string): string {
  const filler = path.join(dir, "filler");
  const fd = fs.openSync(filler, "w");
  try {
    for (const size of [4096, 1])
      for (;;) {
        try {
          fs.writeSync(fd, Buffer.alloc(size));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw err;
        }
      }
  } finally {
    fs.closeSync(fd);
  }
  expect(() => fs.writeFileSync(path.join(dir, "probe"), "x")).toThrow(/ENOSPC/);
  fs.rmSync(path.join(dir, "probe"), { force: true });
  return filler;
}

(mountProblem ? describe.skip : describe)("the marker on a really full disk (a 64 KiB tmpfs)", () => {
  it("a named failure, no marker and no temporary file left; the resume after freeing space runs the action once in all", async () => {
    const filler = fill(mountPoint);
    const first = mysqlFake();
    const r1 = await mysqlReboot(FLAGS, ctxFor(first, mountPoint));
    expectNamedFailure(r1, mountPoint);
    expect(first.lines(ACTION_CALL)).toEqual([]);
    expect(markerFiles(mountPoint)).toEqual([]);
    await expectOnceInAll(mountPoint, first.lines(ACTION_CALL).length, () => fs.rmSync(filler));
  });
});

// --- injected: write(2) on the marker's temporary file answers ENOSPC ---------------------------

/** While armed, every write to a temporary file of the marker fails as a full disk does. */
function injectEnospc(): { armed: boolean } {
  const state = { armed: false };
  const tmpFds = new Set<number>();
  const realOpen = fs.openSync.bind(fs);
  const realWrite = fs.writeSync.bind(fs) as (...a: unknown[]) => number;
  const realClose = fs.closeSync.bind(fs);
  jest.spyOn(fs, "openSync").mockImplementation((...a: Parameters<typeof fs.openSync>) => {
    const fd = realOpen(...a);
    if (/\.mysql-reboot\.json\..*\.tmp$/.test(String(a[0]))) tmpFds.add(fd);
    return fd;
  });
  jest.spyOn(fs, "closeSync").mockImplementation((fd: number) => {
    tmpFds.delete(fd);
    realClose(fd);
  });
  (jest.spyOn(fs, "writeSync") as jest.SpyInstance).mockImplementation((...a: unknown[]) => {
    if (state.armed && tmpFds.has(a[0] as number))
      throw Object.assign(new Error("ENOSPC: no space left on device, write"), {
        errno: -28,
        code: "ENOSPC",
        syscall: "write",
      });
    return realWrite(...a);
  });
  return state;
}

describe("the marker on a disk that answers ENOSPC (injected)", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-enospc-inj-"))));
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("taking the marker: a named failure, nothing left behind; the resume runs the action once in all", async () => {
    const disk = injectEnospc();
    disk.armed = true;
    const first = mysqlFake();
    const r1 = await mysqlReboot(FLAGS, ctxFor(first, dir));
    expectNamedFailure(r1, dir);
    expect(first.lines(ACTION_CALL)).toEqual([]);
    expect(markerFiles(dir)).toEqual([]);
    await expectOnceInAll(dir, 0, () => (disk.armed = false));
  });

  it("the disk fills while the action runs: a named failure, the marker keeps the attempt, the resume follows its task and never runs it again", async () => {
    const disk = injectEnospc();
    const ops = JSON.parse(readFixture("juju/operations.reboot-action.assembled.json")) as Record<string, unknown>;
    const mine = {
      ...(ops["13"] as object),
      summary: `${ACTION} run on unit-mysql-innodb-cluster-1`,
      tasks: { "16": { host: `${APP}/1`, status: "completed", timing: {} } },
    };
    const first = mysqlFake()
      .on(OPERATIONS_CALL, JSON.stringify(ops))
      .on(ACTION_CALL, () => {
        disk.armed = true; // full by the time juju answers
        return SUCCESS;
      });
    const r1 = await mysqlReboot(FLAGS, ctxFor(first, dir));
    expect(first.lines(ACTION_CALL)).toHaveLength(1);
    expect(r1).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(r1.verdict.state).toBe("marker-not-written");
    expect(r1.verdict.summary).toContain("could not be written (ENOSPC");
    expect(r1.verdict.summary).toContain("the marker keeps what it held before");
    // the attempt as taken before the action (its baseline: operation 13), no outcome; no temporary file
    expect(markerFiles(dir)).toEqual(["w1.mysql-reboot.json"]);
    expect(JSON.parse(fs.readFileSync(markerIn(dir), "utf8")).attempts).toEqual([
      { unit: `${APP}/1`, at: expect.any(String), after: 13 },
    ]);

    disk.armed = false;
    const resume = mysqlFake()
      .on(OPERATIONS_CALL, JSON.stringify({ ...ops, "15": mine }))
      .on(SHOW_TASK_CALL, (call) =>
        call.line.includes(" 16 ")
          ? readFixture("juju/show-task.reboot-action.completed.assembled.json")
              .replace(`${APP}/2`, `${APP}/1`)
              .replace('"id":"14"', '"id":"16"')
          : { exitCode: 1, stderr: "ERROR id not found\n" },
      );
    const r2 = await mysqlReboot(FLAGS, ctxFor(resume, dir));
    expect(r2).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(resume.lines(ACTION_CALL)).toEqual([]);
    expect(first.lines(ACTION_CALL).length + resume.lines(ACTION_CALL).length).toBe(1);
  });
});

/**
 * Issue #22: the marker's NAME is flushed too (the record dir fsynced) before the action: after a
 * power loss a marker written but not yet named on disk would let the next run start the
 * destructive action a second time. Where a folder cannot be opened for that, the write stands.
 */
describe("the marker's folder entry is flushed before the action", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-dirsync-"))));
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the marker's text, then its name (the record dir, opened, fsynced, closed) are flushed before juju run; its rewrites too", async () => {
    const events: string[] = [];
    const dirFds = new Set<number>();
    const textFds = new Set<number>(); // the marker's text, in its temporary file
    const open = fs.openSync;
    jest.spyOn(fs, "openSync").mockImplementation(((p: PathLike, ...rest: unknown[]) => {
      const fd = (open as (...a: unknown[]) => number)(p, ...rest);
      if (p === dir) dirFds.add(fd);
      if (/\.mysql-reboot\.json\..*\.tmp$/.test(String(p))) textFds.add(fd);
      return fd;
    }) as typeof fs.openSync);
    const fsync = fs.fsyncSync;
    jest.spyOn(fs, "fsyncSync").mockImplementation((fd: number) => {
      if (dirFds.has(fd)) events.push(`fsync dir (marker ${fs.existsSync(markerIn(dir)) ? "named" : "absent"})`);
      if (textFds.has(fd)) events.push("fsync marker text");
      fsync(fd);
    });
    const close = fs.closeSync;
    jest.spyOn(fs, "closeSync").mockImplementation((fd: number) => {
      if (dirFds.has(fd)) events.push("close dir");
      dirFds.delete(fd); // a number the next open may reuse
      textFds.delete(fd);
      close(fd);
    });
    const fake = mysqlFake().on(ACTION_CALL, () => (events.push("juju run"), SUCCESS));
    const r = await mysqlReboot(FLAGS, ctxFor(fake, dir));
    expect(r).toMatchObject({ exitCode: 0, outcome: "pass" });
    // the text flushed before it takes the name, the name before the action; every rewrite flushed too
    expect(events.slice(0, 5)).toEqual([
      "fsync marker text",
      "fsync dir (marker named)",
      "close dir",
      "juju run",
      "fsync marker text",
    ]);
  });

  it("a record dir that cannot be opened for the flush: the marker stands and the action runs once", async () => {
    const open = fs.openSync;
    jest.spyOn(fs, "openSync").mockImplementation(((p: PathLike, ...rest: unknown[]) => {
      if (p === dir) throw Object.assign(new Error(`EACCES: permission denied, open '${dir}'`), { code: "EACCES" });
      return (open as (...a: unknown[]) => number)(p, ...rest);
    }) as typeof fs.openSync);
    const fake = mysqlFake();
    const r = await mysqlReboot(FLAGS, ctxFor(fake, dir));
    expect(r).toMatchObject({ exitCode: 0, outcome: "pass" });
    expect(fake.lines(ACTION_CALL)).toHaveLength(1);
    expect(JSON.parse(fs.readFileSync(markerIn(dir), "utf8")).attempts).toEqual([
      expect.objectContaining({ unit: `${APP}/1`, outcome: "success" }),
    ]);
  });
});

describe("rewriting the marker after the action, when the rename fails", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-rename-"))));
  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a named failure; the marker keeps the attempt as taken, and its temporary file is removed", async () => {
    const rename = fs.renameSync;
    jest.spyOn(fs, "renameSync").mockImplementation((from: PathLike, to: PathLike) => {
      if (String(to) === markerIn(dir))
        throw Object.assign(new Error(`EROFS: read-only file system, rename '${String(from)}'`), {
          errno: -30,
          code: "EROFS",
          syscall: "rename",
        });
      rename(from, to);
    });
    const fake = mysqlFake();
    const r = await mysqlReboot(FLAGS, ctxFor(fake, dir));
    expect(fake.lines(ACTION_CALL)).toHaveLength(1);
    expect(r).toMatchObject({ exitCode: 1, outcome: "fail" });
    expect(r.verdict.state).toBe("marker-not-written");
    expect(r.verdict.details).toEqual([`marker: ${markerIn(dir)}`, "error: EROFS"]);
    expect(markerFiles(dir)).toEqual(["w1.mysql-reboot.json"]);
    expect(JSON.parse(fs.readFileSync(markerIn(dir), "utf8")).attempts).toEqual([
      { unit: `${APP}/1`, at: expect.any(String), after: 0 },
    ]);
  });
});
