// Jest reporter: a run that passed removes its temporary folder (test/support/temp-root-setup.js);
// a run with a failure keeps it and says where, for the drills' directories and logs.
// COLDSTART_KEEP_TEST_TMP=1 keeps it always.
const fs = require("node:fs");

class TempRootReporter {
  onRunComplete(_contexts, results) {
    const root = process.env.COLDSTART_TEST_TMP_ROOT;
    if (!root || !fs.existsSync(root)) return;
    const failed = results.numFailedTests + results.numFailedTestSuites + results.numRuntimeErrorTestSuites > 0;
    if (failed || process.env.COLDSTART_KEEP_TEST_TMP === "1") {
      process.stderr.write(`\nthis run's temporary files (drill directories, logs) are kept in ${root}\n`);
      return;
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
}

module.exports = TempRootReporter;
