/**
 * A second local user for the shared-jumphost tests (issue #21): folders and files another
 * account planted where coldstart looks. Making one needs root (useradd). As jest.config.js does
 * for missing real programs: under CI=true a missing capability fails the suite; on a developer
 * machine the tests are skipped with a loud NOTICE instead.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";

export interface SecondUser {
  name: string;
  uid: number;
  gid: number;
}

/** Why no second user can be made here, or undefined when one can. */
function missing(): string | undefined {
  if (process.getuid?.() !== 0) return "not running as root (useradd needs it)";
  for (const tool of ["/usr/sbin/useradd", "/usr/sbin/userdel"])
    if (!fs.existsSync(tool)) return `${tool} is not installed (apt-get install passwd)`;
  return undefined;
}

/**
 * `describe` when a second user can be made; otherwise a failing test under CI=true, and a
 * skipped block with a NOTICE on stderr elsewhere.
 */
export function describeWithSecondUser(name: string, body: () => void): void {
  const why = missing();
  if (!why) return describe(name, body);
  if (process.env.CI === "true")
    return describe(name, () => {
      it("can make a second local user", () => {
        throw new Error(`${name}: needs a second local user, but ${why}; CI must run these tests`);
      });
    });
  process.stderr.write(`\nNOTICE: ${name}: NOT run here: ${why}. CI runs it (as root).\n\n`);
  describe.skip(name, body);
}

/** Make a throwaway user (no home, no login, no group of its own), run `fn`, always remove it. */
export async function withSecondUser<T>(fn: (user: SecondUser) => T | Promise<T>): Promise<T> {
  const why = missing();
  if (why) throw new Error(`withSecondUser: ${why}`);
  const name = `coldstart-t${randomBytes(4).toString("hex")}`;
  execFileSync("/usr/sbin/useradd", ["-M", "-s", "/usr/sbin/nologin", "-N", name], { stdio: "pipe" });
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
    return await fn({ name, uid: id("-u"), gid: id("-g") });
  } finally {
    execFileSync("/usr/sbin/userdel", [name], { stdio: "pipe" });
  }
}

/** chown -R `dir` to `user` (what that user would own had she made it). */
export function giveTo(dir: string, user: SecondUser): void {
  execFileSync("chown", ["-R", `${user.uid}:${user.gid}`, dir]);
}
