// Jest globalSetup: every temporary file of this run (tests' mkdtemp dirs, drill dirs, the drills'
// clock and tool sockets) goes under one folder, so the run can remove what it made and nothing
// else (test/support/temp-root-reporter.js). Workers start after this and inherit TMPDIR, which
// os.tmpdir() reads on every call (nodejs.org/api/os.html#ostmpdir).
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

module.exports = async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-jest-"));
  // traversable, as /tmp is: some tests run a step as another user (nobody) in a folder of theirs
  fs.chmodSync(root, 0o755);
  process.env.COLDSTART_TEST_TMP_ROOT = root;
  process.env.TMPDIR = root;
};
