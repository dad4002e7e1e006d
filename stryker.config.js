// StrykerJS: mutation testing of the safety core (issue #22; README "Mutation testing").
// `npm run mutation` runs it; `npm run mutation -- --mutate stages/budget.ts` one file;
// `npm run mutation:survivors` lists what lived (test/mutation/equivalent/*.json: the equivalents).
//
// Many tests run the BUILT program (bin/coldstart -> dist/, and the esbuild step bundle), not the
// TS sources, so the sandbox is built after Stryker instruments it (buildCommand): dist/ then holds
// every mutant behind Stryker's switch. A child process picks the active mutant up from the
// environment: the instrumented header reads process.env.__STRYKER_ACTIVE_MUTANT__, which the jest
// runner sets in its own process for each mutant run and children inherit (test/mutation/README.md
// has the file references). Its coverage does not come back by itself: test/mutation/ has a
// preload that writes a child's coverage at exit and a jest setup that adds it to the test that ran
// the child, so "perTest" coverage also counts what only a drill reaches.
//
// MUTATION_TIER=unit (`npm run mutation:unit`): the same, without the tests that run whole drills
// (test/mutation/tiers.js). Each mutant then costs its unit tests only: minutes for a file instead of
// hours. Its score is a floor of the full one (a drill can only kill more).
const tiers = require("./test/mutation/tiers.js");
const jestFile = require("./jest.config.js");
const unitTier = process.env.MUTATION_TIER === "unit";
// MUTATION_TESTS="test/gates/**/*.test.ts,test/recorded/**/*.test.ts": only those test files (Jest
// testMatch globs), for a quick look at one file's survivors while writing its tests.
const onlyTests = (process.env.MUTATION_TESTS ?? "")
  .split(",")
  .map((glob) => glob.trim())
  .filter((glob) => glob !== "")
  .map((glob) => `<rootDir>/${glob}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
module.exports = {
  mutate: [
    "gates/**/*.ts",
    "steps/mysql.ts",
    "steps/vault.ts",
    "steps/power.ts",
    "power/**/*.ts",
    "runtime/step-claim.ts",
    "runtime/run-lock.ts",
    "runtime/exec.ts",
    "stages/budget.ts",
    "stages/command-line.ts",
  ],
  testRunner: "jest",
  jest: {
    projectType: "custom",
    configFile: "jest.config.js",
    // Jest's findRelatedTests follows imports only: a drill test reaches steps/ through a child
    // process, never an import, and would be left out of the mutant's run.
    enableFindRelatedTests: false,
    config: {
      // per run: a fresh temp root (the default reporter that removes it is off under Stryker),
      // and the children's coverage channel
      globalSetup: "<rootDir>/test/mutation/jest-global-setup.js",
      setupFilesAfterEnv: ["<rootDir>/test/mutation/child-coverage-setup.js"],
      ...(unitTier ? { testPathIgnorePatterns: [...jestFile.testPathIgnorePatterns, ...tiers.DRILL_TESTS] } : {}),
      ...(onlyTests.length > 0 ? { testMatch: onlyTests } : {}),
    },
  },
  coverageAnalysis: "perTest",
  // A static mutant (module-level code: the budget table, zod schemas, regexes) runs when a file
  // loads; with no per-test coverage Stryker would run the WHOLE suite for it, in one process
  // (estimated at 96 % of the time of stages/budget.ts, command-line.ts and runtime/run-lock.ts).
  // Such a mutant is reported as Ignored instead. One that a child process loads has per-test
  // coverage (test/mutation/child-coverage-setup.js) and still runs with those tests: all 72
  // static mutants of those three files did, none was ignored.
  ignoreStatic: true,
  checkers: ["typescript"],
  tsconfigFile: "tsconfig.json",
  // The instrumented files are not type-correct (`// @ts-nocheck` on them), and their loosened
  // types reach the files that import them: the sandbox's build emits without type checking
  // (package.json mutation:build, tsc --noCheck; one npm script, as Stryker runs the command
  // without a shell). The mutants' types are checked by the typescript checker, one by one.
  disableTypeChecks: "{gates,steps,power,runtime,stages}/**/*.ts",
  buildCommand: "npm run -s mutation:build",
  ignorePatterns: ["dist", "coverage", "records", ".drill", "maintenance-reports", "reports"],
  incremental: true,
  incrementalFile: unitTier ? "reports/stryker-incremental-unit.json" : "reports/stryker-incremental.json",
  concurrency: 2,
  // A drill's test waits on step processes; a mutant may make one slower without a loop. Jest's
  // own testTimeout (30 s) still ends a hung test.
  timeoutFactor: 3,
  timeoutMS: 20000,
  // The initial run is the whole suite in one process (Jest runInBand, every drill in series): on a
  // busy shared 2-core machine it passed 40 min (README "Mutation testing").
  dryRunTimeoutMinutes: 120,
  reporters: ["clear-text", "json", "progress"],
  // MUTATION_REPORT=reports/mutation/gates.json: a part's own report, so parts run one after the
  // other keep theirs (`npm run mutation:survivors -- <report>...` reads several).
  jsonReporter: {
    fileName:
      process.env.MUTATION_REPORT ||
      (unitTier ? "reports/mutation/mutation-unit.json" : "reports/mutation/mutation.json"),
  },
  clearTextReporter: {
    allowColor: false,
    logTests: false,
    reportTests: false,
    reportScoreTable: true,
    reportMutants: false,
  },
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
