/**
 * Issue #14, "Per-step start": under the real engine every runbook step is a fresh
 * `bin/coldstart <verb> <step>` process, so what it loads is overhead in a real window. These
 * tests keep that path light by behaviour (which modules the real entry loads, where V8's compile
 * cache goes), never by timing: `npm run bench` prints the figures (bench/step-start.ts).
 *
 * Runs the built bin/coldstart (build first: `npx tsc -p .`), with a preload (NODE_OPTIONS
 * --require) that writes, at exit, every module the process loaded and its compile-cache dir.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "coldstart");
const STEP = "machines-started";

interface Loaded {
  /** Every module in require.cache at exit, relative to the project root. */
  modules: string[];
  /** module.getCompileCacheDir() at exit (undefined: the cache is off). */
  cacheDir?: string;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-step-start-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs bin/coldstart inside a window (as the graph does) and reports what the process loaded. */
function runStep(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const recordDir = path.join(dir, "records");
  fs.mkdirSync(recordDir);
  const out = path.join(dir, "loaded.json");
  const preload = path.join(dir, "report-loaded.js");
  fs.writeFileSync(
    preload,
    `process.on("exit", () => {
  const m = require("node:module");
  require("node:fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify({
    modules: Object.keys(require.cache),
    cacheDir: typeof m.getCompileCacheDir === "function" ? m.getCompileCacheDir() : undefined,
  }));
});
`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COLDSTART_WINDOW: "step-start-window",
    COLDSTART_RECORD_DIR: recordDir,
    NODE_OPTIONS: `--require ${preload}`,
  };
  // the project's own settings, not whatever the machine running the tests has
  delete env.NODE_COMPILE_CACHE;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  Object.assign(env, extraEnv);
  const r = spawnSync(BIN, args, { encoding: "utf8", env, timeout: 60_000 });
  const raw = JSON.parse(fs.readFileSync(out, "utf8")) as Loaded;
  const loaded: Loaded = {
    ...raw,
    modules: raw.modules.filter((m) => m.startsWith(ROOT + path.sep)).map((m) => path.relative(ROOT, m)),
  };
  return { ...r, loaded, recordDir };
}

/** The npm packages among the loaded modules (`@scope/name` or `name`). */
function packagesOf(modules: string[]): string[] {
  const names = modules
    .map((m) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(m)?.[1])
    .filter((n): n is string => n !== undefined);
  return [...new Set(names)].sort();
}

/** What no step start may load: the engine, YAML, other commands' layers, any step's handler. */
function heavyOf(modules: string[]): string[] {
  return modules.filter(
    (m) =>
      /^dist\/(plan|drill|sim|automation|preflight|power)\//.test(m) ||
      m === "dist/config/stack-files.js" ||
      // the handlers (steps/<stage>.js) load only when their step runs; steps/outcome is shared
      (/^dist\/steps\//.test(m) && m !== "dist/steps/outcome.js"),
  );
}

describe("a step's start loads only the step path", () => {
  test("kept <step>: zod is the only package; no yaml, no @pulumi, no other command's layer, no handler", () => {
    const r = runStep(["kept", STEP]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^KEPT ${STEP}: `));
    // it did the step's work: one record line, kept
    const lines = fs.readFileSync(path.join(r.recordDir, "step-start-window.jsonl"), "utf8").trim().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { outcome: string; version: string }).outcome)).toEqual(["kept"]);
    // the version comes from package.json (record/meta.ts), without the YAML parser
    expect((JSON.parse(lines[0]) as { version: string }).version).toBe(
      (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    );
    expect(packagesOf(r.loaded.modules)).toEqual(["zod"]);
    expect(heavyOf(r.loaded.modules)).toEqual([]);
    expect(r.loaded.modules).toContain("dist/cli/step-command.js");
  });

  test("gate <step> --help: the step table, not its handler", () => {
    const r = runStep(["gate", STEP, "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: coldstart gate ${STEP} `));
    expect(packagesOf(r.loaded.modules)).toEqual(["zod"]);
    expect(heavyOf(r.loaded.modules)).toEqual([]);
  });
});

describe("V8's compile cache of the step path", () => {
  test("lives in the project's node_modules/.cache/coldstart, never in the record dir", () => {
    const r = runStep(["kept", STEP]);
    expect(r.status).toBe(0);
    const cacheDir = path.join(ROOT, "node_modules", ".cache", "coldstart");
    // Node adds a per-version subfolder (v22.x-<arch>-<hash>)
    expect(r.loaded.cacheDir?.startsWith(cacheDir + path.sep)).toBe(true);
    expect(fs.readdirSync(cacheDir).length).toBeGreaterThan(0);
    expect(fs.readdirSync(r.recordDir)).toEqual(["step-start-window.jsonl"]);
  });

  test("NODE_DISABLE_COMPILE_CACHE=1 turns it off; the step runs the same", () => {
    const r = runStep(["kept", STEP], { NODE_DISABLE_COMPILE_CACHE: "1" });
    expect(r.status).toBe(0);
    expect(r.loaded.cacheDir).toBeUndefined();
    expect(r.stdout).toMatch(new RegExp(`^KEPT ${STEP}: `));
  });

  test("an unusable cache dir (NODE_COMPILE_CACHE below a file) costs only the speed-up: exit 0, nothing on stderr", () => {
    // a path below a regular file cannot be created, not even by root
    const blocked = path.join(dir, "a-file");
    fs.writeFileSync(blocked, "");
    const r = runStep(["kept", STEP], { NODE_COMPILE_CACHE: path.join(blocked, "cache") });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.readdirSync(r.recordDir)).toEqual(["step-start-window.jsonl"]);
  });
});
