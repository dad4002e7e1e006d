/**
 * Stage 7's manual procedure (issue #24), and the openrc lines every openstack procedure starts
 * with: the seed's scrub of inherited OS_* variables (its baseline capture) and `source <openrc>`,
 * as coldstart does before every openstack call (runtime/openstack.ts: OS_* unset, then the openrc
 * sourced; credentials reach the client through the environment, never argv).
 */
import * as path from "node:path";
import { shellWord, type ManualBlock } from "../manual";

export const SECTION = "ops-restart-procedure.md, Stage 7 -- end-to-end behavioral gate";

/** The seed's own scrub line (its pre-maintenance baseline capture). */
export const SCRUB_OS = `for v in $(env | awk -F= '/^OS_/{print $1}'); do unset "$v"; done`;

/** Scrub, then `source <openrc>` as its own line. */
export function sourceOpenrc(openrc: string): string[] {
  return [SCRUB_OS, `source ${shellWord(openrc)}`];
}

/** coldstart runs the script from the repository root (steps/cloud-assert.ts: two levels above the script). */
export function repoRoot(script: string): string {
  return path.posix.dirname(path.posix.dirname(script));
}

export function cloudAssertBlocks(f: {
  openrc: string;
  script: string;
  timeout: string;
  interval: string;
}): ManualBlock[] {
  return [
    {
      label: "GATE",
      says: "the script prints CLOUD-ASSERT: PASS (a line of its own), no FAIL line, and exits 0; any FAIL routes to appendix-A by its message",
      where: "jumphost",
      commands: [...sourceOpenrc(f.openrc), `cd ${shellWord(repoRoot(f.script))}`, `bash ${shellWord(f.script)}`],
      repeat: `every ${f.interval}, up to ${f.timeout}`,
    },
  ];
}
