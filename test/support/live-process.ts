/** Process checks shared by the tests of runtime/exec.ts's process groups (Linux /proc). */
import * as fs from "node:fs";

/** Is `pid` a live process: not gone, and not a zombie that no one reaped yet (/proc/<pid>/stat). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
