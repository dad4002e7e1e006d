/**
 * The create line's `; exit $?` (KEEP_CHILD, stages/command-line.ts) keeps coldstart a child of
 * the step's shell: the engine's cancel and its customTimeouts SIGKILL only that shell, so
 * coldstart must not BE the shell. bash execs a lone simple command given with -c (dash does too
 * since 0.5.11; Debian 12's dash 0.5.12 still forks), so without the suffix the kill would take
 * coldstart with it mid-action. Run through bash and dash explicitly, never through whatever
 * /bin/sh is: a drill on a machine whose sh forks anyway cannot notice the suffix missing.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandLine, KEEP_CHILD } from "../../stages/command-line";

const SHELLS = ["bash", "dash"].map((name) => {
  const found = spawnSync("/bin/sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  return { name, file: found || name };
});

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-keep-child-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in for coldstart: says its pid and parent, takes 600 ms, leaves a file when it finished, exits 7. */
function fakeColdstart(): { cli: string; started: string; finished: string } {
  const cli = path.join(dir, "coldstart");
  const started = path.join(dir, "started");
  const finished = path.join(dir, "finished");
  fs.writeFileSync(
    cli,
    `#!/bin/sh\necho "$$ $PPID" > '${started}.tmp' && mv '${started}.tmp' '${started}'\nsleep 0.6\necho done > '${finished}'\nexit 7\n`,
    { mode: 0o755 },
  );
  return { cli, started, finished };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(file: string, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(20)) if (fs.existsSync(file)) return true;
  return fs.existsSync(file);
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );

/** Start `line` under `shell -c`, wait until the fake coldstart runs; its pid and parent's. */
async function startUnder(shell: string, line: string, started: string) {
  const child = spawn(shell, ["-c", line], { stdio: "ignore" });
  const done = exited(child);
  expect(await waitForFile(started, 5_000)).toBe(true);
  const [pid, ppid] = fs.readFileSync(started, "utf8").trim().split(" ").map(Number);
  return { child, done, pid, ppid };
}

const createLine = (cli: string) => commandLine(cli, "act", "power-off", { host: "openstack0" });

describe.each(SHELLS)("the create line under $name -c", ({ name, file }) => {
  it(`${name} is there to run it`, () => {
    expect(spawnSync(file, ["-c", "exit 0"]).status).toBe(0);
  });

  it("ends with the suffix, and the shell forks coldstart and waits for it (its exit code is the step's)", async () => {
    const { cli, started, finished } = fakeColdstart();
    const line = createLine(cli);
    expect(line.endsWith(KEEP_CHILD)).toBe(true);
    const { child, done, pid, ppid } = await startUnder(file, line, started);
    expect({ coldstartIsTheShell: pid === child.pid, parent: ppid }).toEqual({
      coldstartIsTheShell: false,
      parent: child.pid,
    });
    expect(await done).toEqual({ code: 7, signal: null });
    expect(fs.existsSync(finished)).toBe(true);
  });

  it("a SIGKILL of the shell (the engine's cancel or timeout) leaves coldstart running to its end", async () => {
    const { cli, started, finished } = fakeColdstart();
    const { child, done } = await startUnder(file, createLine(cli), started);
    child.kill("SIGKILL"); // exec.CommandContext's kill: the direct child only
    expect(await done).toEqual({ code: null, signal: "SIGKILL" });
    expect(fs.existsSync(finished)).toBe(false);
    expect(await waitForFile(finished, 5_000)).toBe(true);
  });
});

describe("what the suffix guards against (the test above can see it)", () => {
  it("bash -c execs a lone simple command: without the suffix coldstart IS the shell, and the kill ends it mid-action", async () => {
    const { cli, started, finished } = fakeColdstart();
    const bare = createLine(cli).replace(/;.*$/, ""); // the command's words alone
    expect(bare.endsWith("--host openstack0")).toBe(true);
    const { child, done, pid } = await startUnder(SHELLS[0].file, bare, started);
    expect(pid).toBe(child.pid);
    child.kill("SIGKILL");
    expect(await done).toEqual({ code: null, signal: "SIGKILL" });
    expect(await waitForFile(finished, 1_500)).toBe(false);
  });
});
