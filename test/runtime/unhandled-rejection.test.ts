/**
 * No process-wide swallowing of unhandled rejections: a drill expects exactly one shape (the SDK's
 * rejection of a failed step's registration and its dependents'), anything else is a bug and
 * exits 70 with one line.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

function withFilter(rejection: string) {
  const script = `
    const { expectSkippedStepRejections } = require(${JSON.stringify(path.join(ROOT, "dist/plan/mock-engine.js"))});
    expectSkippedStepRejections();
    Promise.reject(new Error(${JSON.stringify(rejection)}));
    setTimeout(() => process.stdout.write("still running\\n"), 50);
  `;
  return spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000 });
}

describe("unhandled rejections in a drill", () => {
  it("a failed step's registration (and its dependents') is expected: the run goes on", () => {
    const r = withFilter(
      "failed to register new resource mysql-check [command:local:Command]: mysql-check: exit status 3",
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("still running\n");
    expect(r.stderr).toBe("");
  });

  it("anything else is a bug: one internal-error line and exit 70, never swallowed", () => {
    const r = withFilter("Cannot read properties of undefined (reading 'name')");
    expect(r.status).toBe(70);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^coldstart: internal error \(a bug, please report\): unhandled rejection: Error: Cannot read properties/,
    );
  });
});
