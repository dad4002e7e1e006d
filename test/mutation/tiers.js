// Which test files run whole drills or the whole program in other processes (issue #22): the
// mutation unit tier leaves them out (stryker.config.js, MUTATION_TIER=unit). Jest
// testPathIgnorePatterns (regular expressions on the file's path).
const DRILL_TESTS = [
  "/test/drill/",
  "/test/golden",
  "/test/automation/",
  "/test/project/",
  "/test/record/drill-record\\.test\\.ts$",
  "/test/security/unseal-keys-reach\\.test\\.ts$",
  "/test/cli-conventions\\.test\\.ts$",
  "/test/step-definitions\\.test\\.ts$",
  "/test/step-start\\.test\\.ts$",
  "/test/runtime/bug-vs-tool-error\\.test\\.ts$",
];

module.exports = { DRILL_TESTS };
