// Jest: TypeScript through ts-jest (type checking happens once, in `npm run build`).
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

/**
 * The power tests drive real programs (ipmitool against ipmi_sim, virsh). CI installs them
 * (.ci/run) and must run those tests: there a missing program fails the suite. On a developer
 * machine with only Node + npm they are left out with a loud notice instead.
 */
const REAL_PARTS = { ipmitool: "ipmitool", ipmi_sim: "openipmi", virsh: "libvirt-clients" };
const onPath = (program) =>
  (process.env.PATH || "").split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, program)));
const missing = Object.keys(REAL_PARTS).filter((p) => !onPath(p));
const skipRealParts = missing.length > 0 && process.env.CI !== "true";
if (skipRealParts) {
  const packages = [...new Set(missing.map((p) => REAL_PARTS[p]))].join(" ");
  process.stderr.write(
    `\nNOTICE: ${missing.join(", ")} not installed: the real-part power tests (test/power/ipmi, virsh, power-steps) ` +
      `are NOT run here. Install them with: apt-get install ${packages} (CI does, and runs them).\n\n`,
  );
}

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: [
    "/node_modules/",
    ...(skipRealParts ? ["/test/power/(ipmi|virsh|power-steps)\\.test\\.ts$"] : []),
  ],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
  testTimeout: 30000,
  // one temporary folder per run, removed when the run passed (kept and named when it did not)
  globalSetup: "<rootDir>/test/support/temp-root-setup.js",
  reporters: ["default", "<rootDir>/test/support/temp-root-reporter.js"],
  // Jest's default is one worker per core but one (so ONE on a 2-core CI machine: every suite in
  // series). Most of the suite's time is drills, and a drill spends it waiting on its step
  // processes one after the other (~85 % of one core): two drills side by side use both cores.
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
};
