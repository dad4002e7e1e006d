/**
 * The drill's `kill -9` of a step (drill/executor.ts killStepGroup) kills what a lost jumphost
 * kills: the step's group and every tool call under it, though each tool call leads a process
 * group of its own (runtime/exec.ts).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { killStepGroup } from "../../drill/executor";
import { descendants, parseStat } from "../../drill/process-tree";
import { fieldsAfterComm } from "../../runtime/holder";

/** Alive and not a zombie waiting for its reaper. */
function alive(pid: number): boolean {
  try {
    return fieldsAfterComm(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20)))
    if (!alive(pid)) return true;
  return !alive(pid);
}

/** A step-like shell in its own group whose child is a tool in ANOTHER group (setsid), as exec.ts starts them. */
function stepWithToolInItsOwnGroup(): Promise<{ shell: ReturnType<typeof spawn>; tool: number; sub: number }> {
  const shell = spawn("bash", ["-c", "setsid bash -c 'sleep 300 & echo $!; wait' & sleep 300; wait"], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    shell.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const sub = Number.parseInt(out, 10);
      if (!out.includes("\n") || !Number.isInteger(sub)) return;
      // the setsid'd bash is the parent of the sleep whose pid it printed
      const tool = parseStat(fs.readFileSync(`/proc/${sub}/stat`, "utf8"))!.ppid;
      resolve({ shell, tool, sub });
    });
    shell.on("error", reject);
  });
}

describe("the drill's kill -9 of a step", () => {
  it("reads a stat line whose command name holds spaces and parentheses", () => {
    expect(parseStat("4242 (a) (b c) S 17 4242 4242 0 -1")).toEqual({ pid: 4242, ppid: 17, pgid: 4242 });
    expect(parseStat("garbage")).toBeUndefined();
  });

  it("kills a tool call that leads a process group of its own, and what the tool started", async () => {
    const { shell, tool, sub } = await stepWithToolInItsOwnGroup();
    const tree = descendants(shell.pid!).map((p) => p.pid);
    expect(tree).toEqual(expect.arrayContaining([tool, sub]));
    // the tool is outside the step's group: a group kill alone would leave it running
    expect(parseStat(fs.readFileSync(`/proc/${tool}/stat`, "utf8"))!.pgid).not.toBe(shell.pid);

    killStepGroup(shell);

    expect(await waitGone(shell.pid!)).toBe(true);
    expect(await waitGone(tool)).toBe(true);
    expect(await waitGone(sub)).toBe(true);
  });
});
