/**
 * The pty tests of the hidden unseal prompt (test/runtime/terminal-pty.test.ts) need util-linux
 * `script`. Without it they must never pass by being skipped in silence: run that file under Jest
 * with a PATH that has node and no `script`, as CI (CI=true: the run fails, naming the package)
 * and as a developer machine (a NOTICE on stderr, the tests skipped).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const JEST = require.resolve("jest/bin/jest");

let bin: string;
beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-no-script-"));
  fs.symlinkSync(process.execPath, path.join(bin, "node"));
});
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));

function runPtyTests(ci: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  const r = spawnSync(process.execPath, [JEST, "--ci", "test/runtime/terminal-pty.test.ts"], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("terminal-pty.test.ts on a machine without util-linux script", () => {
  jest.setTimeout(180_000);

  it("the setup of this test: no `script` on the PATH it gives Jest", () => {
    expect(spawnSync("script", ["--version"], { env: { PATH: bin } }).error).toMatchObject({ code: "ENOENT" });
  });

  it("under CI=true the run fails, naming the missing program and its package", () => {
    const r = runPtyTests("true");
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/✕ util-linux `script` is installed \(CI runs the pty tests\)/);
    expect(r.out).toContain("apt-get install bsdutils");
  });

  it("elsewhere the tests are skipped with a NOTICE on stderr, never silently", () => {
    const r = runPtyTests(undefined);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/NOTICE: util-linux `script` not on PATH: .* are NOT run here/);
    expect(r.out).toMatch(/Tests: +\d+ skipped, \d+ total/);
  });
});

describe("CI's entry point (.ci/run)", () => {
  it("installs the package the CI failure names when `script` is missing", () => {
    const run = fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8");
    expect(run).toMatch(/! command -v script >\/dev\/null/);
    const install = /apt-get install ([^\n>]*)/.exec(run)?.[1].split(/\s+/) ?? [];
    expect(install).toContain("bsdutils");
  });
});
