/**
 * Issue #21 part 4: the shell that sources the admin openrc prints the openrc's OS_* on stdout,
 * OS_PASSWORD among them. Whatever happens to that shell -- killed mid-way after printing, exiting
 * non-zero with garbage, a value holding a newline -- the password reaches no message, console
 * line or record line, and a value is never read as another variable. Real bash, real openrc
 * files; the step case runs the built CLI (npm run -s build first).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { realExec } from "../../runtime/exec";
import { OpenStack } from "../../runtime/openstack";
import { ToolError } from "../../runtime/tool-error";
import { recordFile } from "../../runtime/record";
import { fakeExec, testContext } from "../support/fake-exec";

const ROOT = path.resolve(__dirname, "../..");
const COLDSTART = path.join(ROOT, "bin", "coldstart");
const PASSWORD = "s3cret-openrc-pw-Zq81";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-openrc-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An admin openrc with `extra` lines after its exports (functions it defines stay in the shell). */
function openrc(extra: string, password = PASSWORD): string {
  const file = path.join(dir, "admin-openrc");
  fs.writeFileSync(
    file,
    [
      "export OS_AUTH_URL=http://keystone.invalid:5000/v3",
      "export OS_USERNAME=admin",
      `export OS_PASSWORD=${password}`,
      extra,
      "",
    ].join("\n"),
  );
  return file;
}

/** The ToolError credentials() throws (a test fails if it throws nothing). */
async function credentialsError(file: string): Promise<string> {
  const ctx = testContext(fakeExec(), { env: { HOME: dir } });
  ctx.exec = realExec;
  try {
    await new OpenStack(ctx, file).credentials();
  } catch (err) {
    if (err instanceof ToolError) return err.message;
    throw err;
  }
  throw new Error("credentials() did not fail");
}

/**
 * The shell killed right after it printed the variables: a `grep` function in the openrc (a
 * function defined by a sourced file stays defined, and a pipeline's stages inherit it) prints,
 * then SIGKILLs the sourcing shell ($$ is that shell in a subshell too).
 */
const KILLED_AFTER_PRINTING = 'grep() { command grep "$@"; kill -9 $$; }';
/** After printing the variables, the shell's exit trap prints a broken line with the password and exits 7. */
const GARBAGE_AND_EXIT = `trap 'printf "OS_PASSWORD=%s garbage OS_" "$OS_PASSWORD"; exit 7' EXIT`;
/** `env` prints only a broken line with the password (no NUL-ended entry): the shell exits 0. */
const GARBAGE_ONLY = `env() { printf 'OS_PASSWORD=%s garbage OS_' "$OS_PASSWORD"; }`;

describe("sourcing the openrc fails after printing the credentials", () => {
  it.each([
    ["the shell is killed mid-way (SIGKILL after printing)", KILLED_AFTER_PRINTING, /: killed by SIGKILL$/],
    ["the shell prints a broken line and exits 7", GARBAGE_AND_EXIT, /: exited 7$/],
    [
      "the shell prints only a broken line and exits 0",
      GARBAGE_ONLY,
      /: sets no OS_AUTH_URL \(not an admin openrc\?\)/,
    ],
  ])("%s: named by how it ended, the password in no message", async (_, extra, ending) => {
    const message = await credentialsError(openrc(extra));
    expect(message).toMatch(ending);
    expect(message).not.toContain(PASSWORD);
  });

  it("a step (act lb-failover, in a window) prints and records no password", () => {
    const file = openrc(KILLED_AFTER_PRINTING);
    const recordDir = path.join(dir, "records");
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
    const r = spawnSync(COLDSTART, ["act", "lb-failover", "--openrc", file, "--parallel", "1"], {
      env: { ...env, HOME: dir, COLDSTART_WINDOW: "w-openrc", COLDSTART_RECORD_DIR: recordDir },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("killed by SIGKILL");
    const record = fs.readFileSync(recordFile(recordDir, "w-openrc", {}), "utf8");
    expect(record).toContain('"outcome":"fail"');
    for (const text of [r.stdout, r.stderr, record]) expect(text).not.toContain(PASSWORD);
  });
});

describe("a value that holds a newline", () => {
  it("stays whole and never sets another variable (NUL-ended entries, not lines)", async () => {
    // the password's second line looks like a variable of its own
    const tricky = `$'pw-line1\\nOS_AUTH_URL=http://attacker.invalid/v3'`;
    const ctx = testContext(fakeExec(), { env: { HOME: dir } });
    ctx.exec = realExec;
    const env = await new OpenStack(ctx, openrc("", tricky)).credentials();
    expect(env.OS_AUTH_URL).toBe("http://keystone.invalid:5000/v3");
    expect(env.OS_PASSWORD).toBe("pw-line1\nOS_AUTH_URL=http://attacker.invalid/v3");
    expect(env.OS_USERNAME).toBe("admin");
  });
});
