/**
 * Issue #22: the step claim (runtime/step-claim.ts) at the moments two runs of a step, or a step
 * and a run, meet: a claim folder that vanishes, a claim that is gone or damaged when read, an
 * unreadable window lock, a holder waited for. The races are made to happen by wrapping node:fs
 * calls of the module object step-claim.ts (and runtime/whole-file.ts) call through.
 */
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { claimStep, type ClaimOptions } from "../../runtime/step-claim";
import { acquireRunLock, lockFile } from "../../runtime/run-lock";
import { appendRecord, recordFile } from "../../runtime/record";
import { recordEntry } from "../support/record-entry";

// the module objects themselves (what the claim calls through), not import copies
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require("node:fs") as typeof import("node:fs");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const os = require("node:os") as typeof import("node:os");

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-claim-races-"))));
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const W = "w1";
const claimsDir = () => path.join(dir, `${W}.running`);
const claimFile = () => path.join(claimsDir(), "s1.json");
const opts = (over: Partial<ClaimOptions> = {}): ClaimOptions => ({
  recordDir: dir,
  window: W,
  step: "s1",
  env: { HOME: dir },
  sleep: () => new Promise<void>((r) => setTimeout(r, 10)),
  ...over,
});

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/** Calls of `fs.linkSync` onto the claim's own name (runtime/whole-file.ts createWhole). */
function onLinkToClaim(fn: (real: () => void) => void): void {
  const realLink = fs.linkSync.bind(fs);
  jest.spyOn(fs, "linkSync").mockImplementation((from, to) => {
    if (String(to) === claimFile()) fn(() => realLink(from, to));
    else realLink(from, to);
  });
}

describe("the claim written", () => {
  it("carries the step's clock as its start, and its release removes the claim and the emptied folder", async () => {
    const at = Date.parse("2026-12-05T06:30:00.000Z");
    const claim = await claimStep(opts({ now: () => at }));
    expect(claim.kind).toBe("claimed");
    expect(JSON.parse(fs.readFileSync(claimFile(), "utf8"))).toMatchObject({
      step: "s1",
      pid: process.pid,
      start: "2026-12-05T06:30:00.000Z",
    });
    if (claim.kind === "claimed") claim.release();
    expect(fs.existsSync(claimsDir())).toBe(false);
  });

  it("a release leaves the folder while another step of the window holds a claim", async () => {
    const a = await claimStep(opts());
    const b = await claimStep(opts({ step: "s2" }));
    if (a.kind === "claimed") a.release();
    expect(fs.readdirSync(claimsDir())).toEqual(["s2.json"]);
    if (b.kind === "claimed") b.release();
    expect(fs.existsSync(claimsDir())).toBe(false);
  });
});

describe("the window's lock comes first", () => {
  it("a step that passed earlier in this window is still refused while another run holds the window", async () => {
    appendRecord(recordFile(dir, W), recordEntry(W, "s1", "pass"));
    const lock = acquireRunLock({ recordDir: dir, window: W, stack: "s", kind: "maintenance", env: { HOME: dir } });
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({
      kind: "held-elsewhere",
      file: lockFile(dir, W),
      holder: { pid: process.pid, host: os.hostname(), step: "s1" },
    });
    const seen = JSON.parse(fs.readFileSync(lock.file, "utf8")) as { start: string };
    expect(claim.kind === "held-elsewhere" && claim.holder.start).toBe(seen.start);
    // it looked at nothing else: no claim folder was made
    expect(fs.existsSync(claimsDir())).toBe(false);
    lock.release();
  });

  it("a lock that cannot be read refuses the step, naming the file and the reason", async () => {
    fs.writeFileSync(lockFile(dir, W), "{half");
    const claim = await claimStep(opts());
    expect(claim).toEqual({
      kind: "held-elsewhere",
      holder: { pid: 0, host: "unknown", start: "unknown", step: "s1" },
      file: lockFile(dir, W),
      why: `window ${W}: its lock ${lockFile(dir, W)} cannot be read (not JSON); nothing was run. Check that no coldstart run acts on this window, then remove that file`,
    });
    expect(fs.existsSync(claimFile())).toBe(false);
  });
});

describe("a claim folder that vanishes under the claim", () => {
  it("once (another step's release removed it): made again, and the step is claimed", async () => {
    let vanished = 0;
    onLinkToClaim((real) => {
      if (vanished++ === 0) throw errno("ENOENT");
      real();
    });
    const claim = await claimStep(opts());
    expect(vanished).toBe(2);
    expect(claim.kind).toBe("claimed");
    if (claim.kind === "claimed") claim.release();
  });

  it("for good: twenty tries, then the error (no endless loop)", async () => {
    let tries = 0;
    onLinkToClaim(() => {
      tries++;
      throw errno("ENOENT");
    });
    await expect(claimStep(opts())).rejects.toThrow("ENOENT: simulated");
    expect(tries).toBe(20);
  });

  it("another error writing the claim (a full disk) is thrown at once", async () => {
    let tries = 0;
    onLinkToClaim(() => {
      tries++;
      throw errno("ENOSPC");
    });
    await expect(claimStep(opts())).rejects.toThrow("ENOSPC: simulated");
    expect(tries).toBe(1);
  });
});

describe("a claim already there", () => {
  it("gone when we read it (released between our two looks): the step claims on the next try", async () => {
    let refused = 0;
    onLinkToClaim((real) => {
      if (refused++ === 0) throw errno("EEXIST");
      real();
    });
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({ kind: "claimed", stale: undefined });
    if (claim.kind === "claimed") claim.release();
  });

  it("damaged (not JSON): its holder cannot be named, so it is stale and taken over, named by its step", async () => {
    fs.mkdirSync(claimsDir());
    fs.writeFileSync(claimFile(), "{half");
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({
      kind: "claimed",
      stale: { pid: 0, host: os.hostname(), start: "unknown", step: "s1", gone: "its process (pid 0) is gone" },
    });
    expect(JSON.parse(fs.readFileSync(claimFile(), "utf8")).pid).toBe(process.pid);
  });

  it("unreadable for another reason than its absence: taken for dead too, never a loop", async () => {
    fs.mkdirSync(claimsDir());
    fs.writeFileSync(claimFile(), "{}");
    const realRead = fs.readFileSync.bind(fs);
    let failed = false;
    jest.spyOn(fs, "readFileSync").mockImplementation(((...a: Parameters<typeof fs.readFileSync>) => {
      if (String(a[0]) === claimFile() && !failed) {
        failed = true;
        throw errno("EIO");
      }
      return realRead(...a);
    }) as typeof fs.readFileSync);
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({ kind: "claimed", stale: { pid: 0, step: "s1" } });
  });

  it("held by a dead process: named with why it is dead, then claimed", async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    fs.mkdirSync(claimsDir());
    fs.writeFileSync(claimFile(), JSON.stringify({ pid: dead, host: os.hostname(), start: "T0", step: "s1" }));
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({ kind: "claimed", stale: { pid: dead, gone: `its process (pid ${dead}) is gone` } });
  });

  it("a dead claim that another run removes first: no error, the step is claimed", async () => {
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
    fs.mkdirSync(claimsDir());
    fs.writeFileSync(claimFile(), JSON.stringify({ pid: dead, host: os.hostname(), start: "T0", step: "s1" }));
    const realRm = fs.rmSync.bind(fs);
    jest.spyOn(fs, "rmSync").mockImplementation((p, o) => {
      if (String(p) === claimFile() && fs.existsSync(claimFile())) realRm(claimFile()); // the other run's removal
      realRm(p, o);
    });
    const claim = await claimStep(opts());
    expect(claim).toMatchObject({ kind: "claimed", stale: { pid: dead } });
  });

  it("held by a live process: says so once however long it waits, and stops when cancelled", async () => {
    fs.mkdirSync(claimsDir());
    fs.writeFileSync(claimFile(), JSON.stringify({ pid: process.pid, host: os.hostname(), start: "T0", step: "s1" }));
    const said: string[] = [];
    let looks = 0;
    const claim = await claimStep(
      opts({
        say: (l) => said.push(l),
        cancelled: () => (++looks > 4 ? "stop requested by op" : undefined),
      }),
    );
    expect(claim).toEqual({ kind: "cancelled", why: "stop requested by op" });
    expect(said).toEqual([
      `s1: an earlier run of this step is still running (pid ${process.pid}, started T0); waiting for it to finish instead of running it twice`,
    ]);
    // the live holder's claim is left as it was
    expect(JSON.parse(fs.readFileSync(claimFile(), "utf8")).start).toBe("T0");
  });
});
