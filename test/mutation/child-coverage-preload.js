// Preloaded (NODE_OPTIONS --require) into every Node child a test starts under Stryker
// (test/mutation/jest-global-setup.js). Stryker's instrumented code counts the mutants it passes
// in globalThis.__stryker__.mutantCoverage; in a child that count stays in the child. At exit this
// writes the ids it holds to MUTATION_CHILD_COVERAGE_DIR, and test/mutation/child-coverage-setup.js
// adds them to the test that ran the child. A child killed by SIGKILL writes nothing (its mutants
// then count as covered by no test unless another child or the test itself reaches them).
const fs = require("node:fs");
const path = require("node:path");

const dir = process.env.MUTATION_CHILD_COVERAGE_DIR;
if (dir) {
  process.on("exit", () => {
    const coverage = globalThis.__stryker__ && globalThis.__stryker__.mutantCoverage;
    if (!coverage) return;
    const ids = {};
    for (const counts of [coverage.static, ...Object.values(coverage.perTest || {})]) {
      for (const id of Object.keys(counts || {})) ids[id] = 1;
    }
    if (Object.keys(ids).length === 0) return;
    try {
      const file = path.join(dir, `${process.pid}-${Date.now()}.json`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(ids));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // the run's temp root is gone (the test ended): nothing to report to
    }
  });
}
