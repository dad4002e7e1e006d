// Jest globalSetup under Stryker only (stryker.config.js jest.config). Stryker runs Jest once per
// mutant, in one process per runner, with Jest's reporters off, so test/support/temp-root-reporter.js
// never removes a run's temp root: this does. Every root goes under one folder,
// $TMPDIR/coldstart-mutation, with the runner's pid in it; a run removes the roots of runners that
// are gone (Stryker replaces a runner after a timeout) and its own previous one (runs in one runner
// are serial). Then the children's coverage channel (test/mutation/README.md): NODE_OPTIONS
// preloads child-coverage-preload.js in every Node child, which writes what the child covered into
// MUTATION_CHILD_COVERAGE_DIR (not COLDSTART_*: the drill strips those from its steps).
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const tempRootSetup = require("../support/temp-root-setup.js");

const BASE = "MUTATION_TMPDIR";
const PID_FILE = "stryker-runner.pid";

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
};

module.exports = async () => {
  if (process.env[BASE] === undefined) process.env[BASE] = path.join(os.tmpdir(), "coldstart-mutation");
  const base = process.env[BASE];
  fs.mkdirSync(base, { recursive: true });
  for (const name of fs.readdirSync(base)) {
    const root = path.join(base, name);
    let pid = NaN;
    try {
      pid = Number(fs.readFileSync(path.join(root, PID_FILE), "utf8"));
    } catch {
      // no pid file yet: a runner that is starting its run
      continue;
    }
    if (pid !== process.pid && alive(pid)) continue;
    // A root that cannot be removed (a test's tmpfs still mounted in it after its runner was
    // killed: EBUSY) stays; failing here would fail this run's initial test run for another's mess.
    try {
      fs.rmSync(root, { recursive: true, force: true });
    } catch (err) {
      process.stderr.write(`mutation: could not remove ${root} (${err.code ?? err.message}); left in place\n`);
    }
  }
  process.env.TMPDIR = base;

  await tempRootSetup();
  const root = process.env.COLDSTART_TEST_TMP_ROOT;
  fs.writeFileSync(path.join(root, PID_FILE), String(process.pid));

  // MUTATION_CHILD_COVERAGE=off: only what the tests' own process covers counts (a mutant that only
  // a child reaches is "no coverage"): far faster, scores understated (README "Mutation testing")
  if (process.env.MUTATION_CHILD_COVERAGE === "off") return;
  const dir = path.join(root, "stryker-child-coverage");
  fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
  fs.chmodSync(dir, 0o777); // a step run as another user (nobody) writes here too
  process.env.MUTATION_CHILD_COVERAGE_DIR = dir;
  const preload = `--require ${path.join(__dirname, "child-coverage-preload.js")}`;
  const options = process.env.NODE_OPTIONS ?? "";
  if (!options.includes(preload)) process.env.NODE_OPTIONS = `${options} ${preload}`.trim();
};
