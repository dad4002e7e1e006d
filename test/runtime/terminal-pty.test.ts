/**
 * cli/terminal.ts through a real pseudo-terminal (util-linux `script -qc`): the hidden unseal-key
 * prompt never echoes what is typed and gives the terminal back (canonical mode and echo on, raw
 * mode off) on every path -- Enter, Ctrl-D, Ctrl-C (exit 130), the input failing, and the process
 * exiting from elsewhere while the prompt is open; `confirm` likewise for y, Enter and Ctrl-C.
 * After the prompt, `stty -a` on the same terminal shows its modes.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const TERMINAL = path.join(ROOT, "dist/cli/terminal.js");
/**
 * util-linux `script` gives the harness its pseudo-terminal. CI installs it (.ci/run: bsdutils)
 * and must run these tests, so there a missing `script` fails the suite; on a developer machine
 * without it they are left out with a loud notice, as jest.config.js does for ipmitool. Never
 * skipped silently (test/safety/pty-guard.test.ts runs this file without `script`).
 */
const haveScript = spawnSync("script", ["--version"]).status === 0;
const SCRIPT_MISSING =
  "util-linux `script` not on PATH: the pty tests of the hidden unseal prompt (test/runtime/terminal-pty.test.ts)";
if (!haveScript && process.env.CI === "true") {
  describe("the pty tests' own program", () => {
    it("util-linux `script` is installed (CI runs the pty tests)", () => {
      throw new Error(`${SCRIPT_MISSING} cannot run, and CI must run them: apt-get install bsdutils (.ci/run does)`);
    });
  });
} else if (!haveScript) {
  process.stderr.write(
    `\nNOTICE: ${SCRIPT_MISSING} are NOT run here. Install it with: apt-get install bsdutils (CI does, and runs them).\n\n`,
  );
}
const maybe = haveScript ? describe : describe.skip;

/** The program run on the pseudo-terminal: one prompt, then what it returned and the raw flag. */
const HARNESS = `
const t = require(${JSON.stringify(TERMINAL)});
const mode = process.argv[2];
if (mode === "exit-elsewhere") process.stdin.once("data", () => setTimeout(() => process.exit(3), 50));
if (mode === "error") process.stdin.once("data", () => setTimeout(() => process.stdin.emit("error", new Error("EIO")), 50));
const ask = mode.startsWith("confirm") ? t.confirm("Proceed? [y/N] ") : t.promptSecret("Unseal key 1 of 3: ");
ask.then(
  (v) => console.log("RESULT=" + JSON.stringify(v) + " RAW=" + process.stdin.isRaw),
  (e) => console.log("REJECTED=" + e.message + " RAW=" + process.stdin.isRaw),
).finally(() => process.stdin.pause());
`;

interface PtyRun {
  out: string;
  exit: number;
  /** `stty -a` of the terminal after the program ended. */
  stty: string;
}

/** Run the harness in `mode` on a pty; once the prompt shows, type `keys` (a list: one write each, 100 ms apart). */
function onPty(mode: string, keys: string[]): Promise<PtyRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-pty-"));
  const harness = path.join(dir, "harness.js");
  fs.writeFileSync(harness, HARNESS);
  const cmd = `${process.execPath} ${harness} ${mode}; echo "EXIT=$?"; echo STTY-BEGIN; stty -a; echo STTY-END`;
  const child = spawn("script", ["-qc", cmd, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let typed = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`pty run timed out; output so far: ${out}`));
    }, 20_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!typed && /Unseal key 1 of 3: |Proceed\? \[y\/N\] /.test(out)) {
        typed = true;
        keys.forEach((k, i) => setTimeout(() => child.stdin.write(k), 100 * (i + 1)));
      }
    });
    child.on("close", () => {
      clearTimeout(timer);
      child.stdin.destroy();
      const exit = Number(/EXIT=(\d+)/.exec(out)?.[1] ?? NaN);
      const stty = /STTY-BEGIN([\s\S]*)STTY-END/.exec(out)?.[1] ?? "";
      resolve({ out, exit, stty });
    });
  });
}

/** Canonical mode and echo are on again: the terminal is usable after the prompt. */
function expectRestored(r: PtyRun): void {
  expect(r.stty).toMatch(/(^|\s)icanon(\s|$)/);
  expect(r.stty).toMatch(/(^|\s)echo(\s|$)/);
  expect(r.stty).not.toMatch(/(^|\s)-icanon(\s|$)/);
  expect(r.stty).not.toMatch(/(^|\s)-echo(\s|$)/);
}

maybe("the hidden prompt on a real terminal", () => {
  jest.setTimeout(60_000);

  it("Enter: the value (Backspace applied), never echoed, raw mode off, the terminal restored", async () => {
    const r = await onPty("secret", ["s3cr", "x\u007f", "et", "\r"]);
    expect(r.out).toContain('RESULT="s3cret" RAW=false');
    // nothing typed is echoed: between the label and the harness's own line there is only the newline
    expect(/Unseal key 1 of 3: ([\s\S]*?)RESULT=/.exec(r.out)?.[1].trim()).toBe("");
    expect(r.exit).toBe(0);
    expectRestored(r);
  });

  it("Ctrl-D ends the value like Enter", async () => {
    const r = await onPty("secret", ["abc", "\u0004"]);
    expect(r.out).toContain('RESULT="abc" RAW=false');
    expectRestored(r);
  });

  it("Ctrl-C: exit 130 before anything runs, the terminal restored", async () => {
    const r = await onPty("secret", ["ab", "\u0003"]);
    expect(r.exit).toBe(130);
    expect(r.out).not.toContain("RESULT=");
    expectRestored(r);
  });

  it("the input failing: the prompt rejects, raw mode off", async () => {
    const r = await onPty("error", ["a"]);
    expect(r.out).toContain("REJECTED=cannot read the terminal: EIO RAW=false");
    expectRestored(r);
  });

  it("the process exiting from elsewhere while the prompt is open: the terminal is restored on the way out", async () => {
    const r = await onPty("exit-elsewhere", ["a"]);
    expect(r.exit).toBe(3);
    expectRestored(r);
  });
});

maybe("confirm on a real terminal", () => {
  jest.setTimeout(60_000);

  it("y + Enter: true, the terminal restored", async () => {
    const r = await onPty("confirm", ["y\r"]);
    expect(r.out).toContain("RESULT=true RAW=false");
    expectRestored(r);
  });

  it("Enter alone: false (the default is no)", async () => {
    const r = await onPty("confirm", ["\r"]);
    expect(r.out).toContain("RESULT=false RAW=false");
    expectRestored(r);
  });

  it("Ctrl-C: exit 130, the terminal restored", async () => {
    const r = await onPty("confirm", ["\u0003"]);
    expect(r.exit).toBe(130);
    expect(r.out).not.toContain("RESULT=");
    expectRestored(r);
  });
});
