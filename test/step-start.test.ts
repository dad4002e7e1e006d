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
import { pathId } from "../cli/step-entry";

const ROOT = path.resolve(__dirname, "..");
const NODE = fs.existsSync(path.join(ROOT, "node_modules", ".bin", "node"))
  ? path.join(ROOT, "node_modules", ".bin", "node")
  : process.execPath;
const MAIN = path.join(ROOT, "dist", "cli", "main.js");
const STEP = "machines-started";

interface Loaded {
  /** Every module in require.cache at exit, relative to `root`. */
  modules: string[];
  /** module.getCompileCacheDir() at exit (undefined: the cache is off). */
  cacheDir?: string;
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-step-start-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Runs `file args` inside a window (as the graph does) and reports what the process loaded,
 * relative to `root` (the project the program belongs to).
 */
function runStep(file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, root = ROOT) {
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
  const r = spawnSync(file, args, { encoding: "utf8", env, timeout: 60_000 });
  const raw = JSON.parse(fs.readFileSync(out, "utf8")) as Loaded;
  const real = fs.realpathSync(root);
  // node_modules may be a link to another checkout's (a git worktree): its packages count as ours
  const packages = fs.realpathSync(path.join(root, "node_modules"));
  const relative = (m: string) =>
    m.startsWith(packages + path.sep)
      ? path.join("node_modules", path.relative(packages, m))
      : [real, root].filter((r) => m.startsWith(r + path.sep)).map((r) => path.relative(r, m))[0];
  const loaded: Loaded = {
    ...raw,
    modules: raw.modules.map(relative).filter((m): m is string => m !== undefined),
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
      // the handlers (steps/<stage>.js) load only when their step runs; steps/outcome (and the poll
      // line it prints, steps/poll-line) is shared
      (/^dist\/steps\//.test(m) && m !== "dist/steps/outcome.js" && m !== "dist/steps/poll-line.js"),
  );
}

describe("a step's start from dist/cli/main.js (the launcher's fallback, and the bundle's module graph) loads only the step path", () => {
  test("kept <step>: zod is the only package; no yaml, no @pulumi, no other command's layer, no handler", () => {
    const r = runStep(NODE, [MAIN, "kept", STEP]);
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
    // kept needs the record, not the step verbs' machinery: no stage, no flag parser, nothing that runs a program
    expect(r.loaded.modules).toContain("dist/cli/kept-command.js");
    expect(
      r.loaded.modules.filter((m) =>
        /^dist\/(cli\/(step-command|args)|stages\/.*|runtime\/(exec|cancel|deadline))\.js$/.test(m),
      ),
    ).toEqual([]);
  });

  test("gate <step> --help: its own stage file (stages/step-index.ts), not the step table, not its handler", () => {
    const r = runStep(NODE, [MAIN, "gate", STEP, "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: coldstart gate ${STEP} `));
    expect(packagesOf(r.loaded.modules)).toEqual(["zod"]);
    expect(heavyOf(r.loaded.modules)).toEqual([]);
    expect(r.loaded.modules).toContain("dist/stages/foundation.js");
    expect(r.loaded.modules).not.toContain("dist/stages/step-table.js");
    expect(r.loaded.modules.filter((m) => /^dist\/stages\/(mysql|guests|shutdown|power-on)\.js$/.test(m))).toEqual([]);
  });
});

describe("V8's compile cache, enabled by cli/main.ts", () => {
  test("lives in the project's node_modules/.cache/coldstart, never in the record dir", () => {
    const r = runStep(NODE, [MAIN, "kept", STEP]);
    expect(r.status).toBe(0);
    const cacheDir = path.join(ROOT, "node_modules", ".cache", "coldstart");
    // Node adds a per-version subfolder (v22.x-<arch>-<hash>)
    expect(r.loaded.cacheDir?.startsWith(cacheDir + path.sep)).toBe(true);
    expect(fs.readdirSync(cacheDir).length).toBeGreaterThan(0);
    expect(fs.readdirSync(r.recordDir)).toEqual(["step-start-window.jsonl"]);
  });

  test("NODE_DISABLE_COMPILE_CACHE=1 turns it off; the step runs the same", () => {
    const r = runStep(NODE, [MAIN, "kept", STEP], { NODE_DISABLE_COMPILE_CACHE: "1" });
    expect(r.status).toBe(0);
    expect(r.loaded.cacheDir).toBeUndefined();
    expect(r.stdout).toMatch(new RegExp(`^KEPT ${STEP}: `));
  });

  test("an unusable cache dir (NODE_COMPILE_CACHE below a file) costs only the speed-up: exit 0, nothing on stderr", () => {
    // a path below a regular file cannot be created, not even by root
    const blocked = path.join(dir, "a-file");
    fs.writeFileSync(blocked, "");
    const r = runStep(NODE, [MAIN, "kept", STEP], { NODE_COMPILE_CACHE: path.join(blocked, "cache") });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.readdirSync(r.recordDir)).toEqual(["step-start-window.jsonl"]);
  });
});

/**
 * bin/coldstart starts the steps (check, act, gate, kept) from the one-file step bundle that
 * `npm run build` makes (package.json build:step-bundle), when it is newer than tsc's output.
 * In a temporary copy of the project, so that the shared dist/ is never touched: its own bin/ and
 * dist/, the sources and node_modules linked.
 */
describe("bin/coldstart and the step bundle", () => {
  let project: string;
  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-step-bundle-"));
    for (const entry of fs.readdirSync(ROOT)) {
      if ([".git", "dist", "bin"].includes(entry)) continue;
      fs.symlinkSync(path.join(ROOT, entry), path.join(project, entry));
    }
    fs.mkdirSync(path.join(project, "bin"));
    fs.copyFileSync(path.join(ROOT, "bin", "coldstart"), path.join(project, "bin", "coldstart"));
    fs.chmodSync(path.join(project, "bin", "coldstart"), 0o755);
    fs.cpSync(path.join(ROOT, "dist"), path.join(project, "dist"), {
      recursive: true,
      filter: (src) => !path.basename(src).startsWith("step-bundle."),
    });
    // the build's own command, from the project's package.json
    const built = spawnSync("npm", ["run", "-s", "build:step-bundle"], { cwd: project, encoding: "utf8" });
    expect(built.stderr).toBe("");
    expect(built.status).toBe(0);
  }, 120_000);
  afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
    // the step caches this copy left in the shared node_modules/.cache (the tests that use its default folder)
    const bundle = path.join(
      fs.realpathSync(os.tmpdir()),
      path.relative(os.tmpdir(), project),
      "dist",
      "cli",
      "step-bundle.js",
    );
    for (const file of [bundle, path.join(project, "dist", "cli", "step-bundle.js")])
      fs.rmSync(path.join(ROOT, "node_modules", ".cache", "coldstart", `step-bundle-${pathId(file)}`), {
        recursive: true,
        force: true,
      });
  });

  const launcher = () => path.join(project, "bin", "coldstart");
  const bundleFresh = () => {
    // the bundle newer than main.js, as `npm run build` leaves them (tsc first)
    const later = new Date(Date.now() + 1000);
    fs.utimesSync(path.join(project, "dist", "cli", "step-bundle.js"), later, later);
  };

  test("a step runs from the bundle alone (through cli/step-entry.ts): no other module of the project, no package file", () => {
    bundleFresh();
    const r = runStep(launcher(), ["kept", STEP], {}, project);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^KEPT ${STEP}: `));
    // the entry is the one module Node loads; it runs the bundle itself (vm.Script, with its code cache)
    expect(r.loaded.modules).toEqual(["dist/cli/step-entry.js"]);
    // the same record line as from main.js, version included (package.json of the project)
    const line = JSON.parse(fs.readFileSync(path.join(r.recordDir, "step-start-window.jsonl"), "utf8")) as {
      outcome: string;
      version: string;
    };
    expect(line.outcome).toBe("kept");
    expect(line.version).toBe(
      (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    );
    // V8 caches the bundle's compilation in the project's cache, never in the record dir
    expect(r.loaded.cacheDir).toContain(path.join("node_modules", ".cache", "coldstart"));
    expect(fs.readdirSync(r.recordDir)).toEqual(["step-start-window.jsonl"]);
  });

  test("errors and help from the bundle are the CLI's: unknown step exits 2 with one line; --help exits 0", () => {
    bundleFresh();
    const bad = runStep(launcher(), ["gate", "no-such-step"], {}, project);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^coldstart: gate: unknown step "no-such-step" \(known: .*machines-started/);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.loaded.modules).toEqual(["dist/cli/step-entry.js"]);
    fs.rmSync(path.join(dir, "records"), { recursive: true });
    const help = runStep(launcher(), ["act", "power-on", "--help"], {}, project);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: coldstart act power-on /);
  });

  describe("the bundle's code cache (cli/step-entry.ts)", () => {
    const bundle = () => path.join(project, "dist", "cli", "step-bundle.js");
    // one folder per bundle path (cli/step-entry.ts pathId): there is only this project's here
    const cacheOf = (kind: string) => {
      const folders = fs.readdirSync(path.join(dir, "cache")).filter((f) => f.startsWith("step-bundle-"));
      expect(folders).toHaveLength(1);
      return path.join(dir, "cache", folders[0], `${kind}.v8`);
    };
    const kept = (env: NodeJS.ProcessEnv = {}) => {
      fs.rmSync(path.join(dir, "records"), { recursive: true, force: true });
      return runStep(launcher(), ["kept", STEP], { NODE_COMPILE_CACHE: path.join(dir, "cache"), ...env }, project);
    };

    test("made by a step's first run, one file per kind of step, used as it is by the next run", () => {
      bundleFresh();
      expect(kept().status).toBe(0);
      const made = fs.statSync(cacheOf("kept"));
      // it starts with the bundle it was made from
      expect(fs.readFileSync(cacheOf("kept")).includes(fs.readFileSync(bundle()))).toBe(true);
      expect(kept().status).toBe(0);
      expect(fs.statSync(cacheOf("kept")).mtimeMs).toBe(made.mtimeMs);
      expect(fs.statSync(cacheOf("kept")).ino).toBe(made.ino);
      fs.rmSync(path.join(dir, "records"), { recursive: true, force: true });
      const gate = runStep(launcher(), ["gate", STEP, "--model", "a:b", "--timeout", "1s", "--interval", "1s"], {
        NODE_COMPILE_CACHE: path.join(dir, "cache"),
        PATH: "/usr/bin:/bin", // no juju here: the gate fails at once, named
      });
      expect(gate.status).toBe(1);
      expect(fs.readdirSync(path.dirname(cacheOf("kept"))).sort()).toEqual([`gate-${STEP}.v8`, "kept.v8"]);
      // another checkout sharing the cache folder (git worktrees share node_modules) keeps its own files
      fs.rmSync(path.join(dir, "records"), { recursive: true, force: true });
      const other = runStep(path.join(ROOT, "bin", "coldstart"), ["kept", STEP], {
        NODE_COMPILE_CACHE: path.join(dir, "cache"),
      });
      expect(other.status).toBe(0);
      expect(fs.readdirSync(path.join(dir, "cache")).filter((f) => f.startsWith("step-bundle-"))).toHaveLength(2);
    });

    test("a bundle changed to another of the SAME length runs as changed (V8 checks only the length; the entry compares every byte) and its cache is made again", () => {
      bundleFresh();
      expect(kept().stdout).toMatch(/^KEPT /);
      const original = fs.readFileSync(bundle());
      try {
        const changed = Buffer.from(original.toString("latin1").replaceAll("KEPT ", "KEPX "), "latin1");
        expect(changed.length).toBe(original.length);
        expect(changed.equals(original)).toBe(false);
        fs.writeFileSync(bundle(), changed);
        bundleFresh();
        const r = kept();
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^KEPX ${STEP}: `));
        expect(fs.readFileSync(cacheOf("kept")).includes(changed)).toBe(true);
      } finally {
        fs.writeFileSync(bundle(), original);
        bundleFresh();
      }
    });

    test("none for --help or a usage error, none with NODE_DISABLE_COMPILE_CACHE=1", () => {
      bundleFresh();
      fs.rmSync(path.join(dir, "cache"), { recursive: true, force: true });
      const env = { NODE_COMPILE_CACHE: path.join(dir, "cache") };
      expect(runStep(launcher(), ["gate", STEP, "--help"], env, project).status).toBe(0);
      fs.rmSync(path.join(dir, "records"), { recursive: true });
      expect(runStep(launcher(), ["gate", STEP, "--no-such-flag", "x"], env, project).status).toBe(2);
      const folders = () => (fs.existsSync(path.join(dir, "cache")) ? fs.readdirSync(path.join(dir, "cache")) : []);
      expect(folders().filter((f) => f.startsWith("step-bundle-"))).toEqual([]);
      const off = kept({ NODE_DISABLE_COMPILE_CACHE: "1" });
      expect(off.status).toBe(0);
      expect(folders().filter((f) => f.startsWith("step-bundle-"))).toEqual([]);
    });

    test("a cache folder that cannot be written costs only the speed-up: the step runs, nothing on stderr", () => {
      bundleFresh();
      const blocked = path.join(dir, "a-file");
      fs.writeFileSync(blocked, "");
      fs.rmSync(path.join(dir, "records"), { recursive: true, force: true });
      const r = runStep(launcher(), ["kept", STEP], { NODE_COMPILE_CACHE: path.join(blocked, "cache") }, project);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^KEPT ${STEP}: `));
    });

    test("a damaged cache file is not used: the step runs and the file is made again", () => {
      bundleFresh();
      expect(kept().status).toBe(0);
      const good = fs.readFileSync(cacheOf("kept"));
      fs.writeFileSync(cacheOf("kept"), good.subarray(0, good.length - 1000));
      const r = kept();
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(fs.readFileSync(cacheOf("kept")).length).toBeGreaterThan(good.length - 1000);
    });
  });

  test("the bundle holds no YAML, no Pulumi SDK and no other command's layer", () => {
    const meta = JSON.parse(fs.readFileSync(path.join(project, "dist", "cli", "step-bundle.meta.json"), "utf8")) as {
      inputs: Record<string, unknown>;
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    // esbuild names inputs from its cwd through real paths: ../../work/main/cli/x.ts
    const inputs = Object.keys(meta.inputs).map((i) => path.relative(ROOT, path.resolve(project, i)));
    expect(inputs).toContain("cli/step-command.ts");
    expect(
      inputs.filter(
        (i) =>
          /node_modules\/(yaml|@pulumi|execa)\//.test(i) ||
          /^(plan|drill|sim|automation|preflight)\//.test(i) ||
          i === "config/stack-files.ts",
      ),
    ).toEqual([]);
    // zod imported as a namespace is shaken: of its ~70 locales only English reaches the output
    const output = Object.values(meta.outputs)[0].inputs;
    const locales = Object.keys(output).filter(
      (i) => output[i].bytesInOutput > 0 && /zod\/v4\/locales\/(?!index\.js)/.test(i),
    );
    expect(locales.map((i) => path.basename(i))).toEqual(["en.js"]);
  });

  test("a bundle older than tsc's output (a tsc-only build) is not used: the step runs from main.js", () => {
    const earlier = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(project, "dist", "cli", "step-bundle.js"), earlier, earlier);
    const r = runStep(launcher(), ["kept", STEP], {}, project);
    expect(r.status).toBe(0);
    expect(r.loaded.modules).toContain("dist/cli/main.js");
    expect(r.loaded.modules).toContain("dist/cli/kept-command.js");
    expect(r.loaded.modules).not.toContain("dist/cli/step-bundle.js");
  });

  test("other commands never run from the bundle", () => {
    bundleFresh();
    const r = runStep(launcher(), ["--version"], {}, project);
    expect(r.status).toBe(0);
    expect(r.loaded.modules).toContain("dist/cli/main.js");
    expect(r.loaded.modules).not.toContain("dist/cli/step-bundle.js");
  });
});
