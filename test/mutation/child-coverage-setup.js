// Jest setupFilesAfterEnv under Stryker only (stryker.config.js). Adds what the test's child
// processes covered (files from child-coverage-preload.js) to Stryker's per-test coverage, so a
// mutant that only a drill's step reaches is run with that drill's test instead of "no coverage".
// In a test file whose children run in beforeAll (one drill, several tests reading its report), the
// coverage found before a test starts is given to every test of the file that comes after it.
const fs = require("node:fs");
const path = require("node:path");

const dir = process.env.MUTATION_CHILD_COVERAGE_DIR;

function drain() {
  const ids = {};
  let names = [];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return ids;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      Object.assign(ids, JSON.parse(fs.readFileSync(file, "utf8")));
    } catch {
      // half-written by a child that is still exiting: the next drain reads it
      continue;
    }
    fs.rmSync(file, { force: true });
  }
  return ids;
}

if (dir) {
  const beforeTests = {};
  beforeEach(() => {
    Object.assign(beforeTests, drain());
  });
  afterEach(() => {
    const ids = { ...beforeTests, ...drain() };
    const ns = globalThis.__stryker__;
    if (!ns || !ns.currentTestId) return; // a mutant run, not the coverage run
    const coverage = ns.mutantCoverage || (ns.mutantCoverage = { static: {}, perTest: {} });
    const perTest = coverage.perTest || (coverage.perTest = {});
    const test = perTest[ns.currentTestId] || (perTest[ns.currentTestId] = {});
    for (const id of Object.keys(ids)) test[id] = (test[id] || 0) + 1;
  });
}
