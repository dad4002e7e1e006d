// ESLint flat config: TypeScript rules on our sources; generated and vendored files ignored.
//
// Type-aware rules (typescript-eslint 8, `parserOptions.projectService`): a promise nobody awaits
// loses its rejection, and an async function where a void callback is expected (a signal handler,
// an event listener) drops its errors. Both are errors here.
//
// Layers (README "Layout"): cli/ is the top layer; nothing below it imports from cli/. gates/ is
// pure: it parses and judges what a tool said, and never runs a program or touches a file.
const js = require("@eslint/js");
const tseslint = require("typescript-eslint");

/** Every directory below cli/ (each is a layer that cli/ may use, never the other way round). */
const BELOW_CLI = [
  "steps",
  "power",
  "automation",
  "drill",
  "sim",
  "runtime",
  "gates",
  "config",
  "stages",
  "plan",
  "record",
  "preflight",
];

/** An import that climbs into cli/ from any depth: "../cli/args", "../../cli/exit-codes". */
const NO_CLI = {
  regex: "^(\\.\\./)+cli(/|$)",
  message:
    "cli/ is the top layer: a lower layer never imports from it (README Layout, Layers). Move the shared piece down.",
};

/**
 * zod as a namespace (`import * as z from "zod"`, zod 4's own style): with the named `z` export
 * the step bundle's esbuild kept all of zod, every locale and the JSON-schema code (1.07 MB, not
 * 0.47 MB; every step's start compiles it: bench/step-start.ts, issue #14).
 */
const ZOD_AS_NAMESPACE = {
  selector:
    'ImportDeclaration[source.value="zod"] > ImportSpecifier, ImportDeclaration[source.value="zod"] > ImportDefaultSpecifier',
  message: 'import * as z from "zod": a named or default import keeps all of zod in the step bundle (issue #14).',
};

/** gates/ is pure: no process, no file (README Layout, Layers). */
const GATES_PURE_PATHS = [
  "node:fs",
  "fs",
  "node:fs/promises",
  "fs/promises",
  "node:child_process",
  "child_process",
].map((name) => ({
  name,
  message: "gates/ is pure: it judges what a tool said; running programs and file access live in runtime/ and steps/.",
}));
const GATES_NO_EXEC = {
  regex: "^(\\.\\./)+runtime/exec$",
  message: "gates/ is pure: it judges what a tool said; running programs lives in runtime/ and steps/.",
};

module.exports = tseslint.config(
  { ignores: ["node_modules/", "dist/", "coverage/", ".stryker-tmp/", "reports/", "**/*.js", "sim/bin/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "no-restricted-syntax": ["error", ZOD_AS_NAMESPACE],
    },
  },
  {
    files: BELOW_CLI.map((dir) => `${dir}/**/*.ts`),
    rules: { "no-restricted-imports": ["error", { patterns: [NO_CLI] }] },
  },
  {
    // one rule entry per file: this one replaces the one above for gates/, so it repeats NO_CLI
    files: ["gates/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: GATES_PURE_PATHS, patterns: [NO_CLI, GATES_NO_EXEC] }] },
  },
);
