// Jest globalSetup under Stryker only (stryker.config.js jest.config). Stryker runs Jest once per
// mutant, in one process per runner, with Jest's reporters off, so test/support/temp-root-reporter.js
// never removes a run's temp root: this removes the previous run's instead (runs in one runner
// process are serial) and makes the next one beside it, not inside it (TMPDIR is back to the
// original first). Then the children's coverage channel (test/mutation/README.md):
// NODE_OPTIONS preloads child-coverage-preload.js in every Node child, which writes what the child
// covered into MUTATION_CHILD_COVERAGE_DIR (not COLDSTART_*: the drill strips those from its steps).
const fs = require("node:fs");
const path = require("node:path");
const tempRootSetup = require("../support/temp-root-setup.js");

const BASE = "MUTATION_BASE_TMPDIR";

module.exports = async () => {
  const previous = process.env.COLDSTART_TEST_TMP_ROOT;
  if (previous) fs.rmSync(previous, { recursive: true, force: true });
  if (process.env[BASE] === undefined) process.env[BASE] = process.env.TMPDIR ?? "";
  if (process.env[BASE]) process.env.TMPDIR = process.env[BASE];
  else delete process.env.TMPDIR;

  await tempRootSetup();

  // MUTATION_CHILD_COVERAGE=off: only what the tests' own process covers counts (a mutant that only
  // a child reaches is "no coverage"): far faster, scores understated (README "Mutation testing")
  if (process.env.MUTATION_CHILD_COVERAGE === "off") return;
  const dir = path.join(process.env.COLDSTART_TEST_TMP_ROOT, "stryker-child-coverage");
  fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
  fs.chmodSync(dir, 0o777); // a step run as another user (nobody) writes here too
  process.env.MUTATION_CHILD_COVERAGE_DIR = dir;
  const preload = `--require ${path.join(__dirname, "child-coverage-preload.js")}`;
  const options = process.env.NODE_OPTIONS ?? "";
  if (!options.includes(preload)) process.env.NODE_OPTIONS = `${options} ${preload}`.trim();
};
