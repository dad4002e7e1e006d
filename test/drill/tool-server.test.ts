/**
 * A drill's fake tool calls answered in the drill process (issue #14): the perl thin client
 * (sim/bin/tool-client.pl) as a real process against the tool server (drill/tool-server.ts) on a
 * real clock (drill/sim-clock.ts), with tools of the test's own; then the shims' choice, and the
 * real tools' answers and call-log lines through the client against the node process's.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { startSimClock, type SimClockServer } from "../../drill/sim-clock";
import { SIM_TOOLS_VAR, startToolServer, type ToolServer } from "../../drill/tool-server";
import type { ToolContext, ToolResult } from "../../sim/tools/common";
import type { ToolMain } from "../../sim/tools/registry";
import { createSimCloud } from "../../sim/setup";
import { readCallLog } from "../../sim/call-log";
import { SIM_CLOCK_FILE_VAR, SIM_CLOCK_VAR } from "../../runtime/sim-clock";

const ROOT = path.resolve(__dirname, "../..");
const CLIENT = path.join(ROOT, "sim/bin/tool-client.pl");
/** A step's side of the clock, built (test/drill/sim-clock.test.ts runs it the same way). */
const STEP_CLIENT = path.join(ROOT, "dist/runtime/sim-clock.js");

let dir: string;
let clock: SimClockServer;
let server: ToolServer;
let fatal: string[];
/** What the test tools saw, by call. */
let seen: { argv: string[]; stdin: string; cwd?: string; x?: string }[];
let resumedAfterHang: boolean;

const answer = (r: Partial<ToolResult>): ToolResult => ({ stdout: "", stderr: "", exitCode: 0, ...r });
const TEST_TOOLS: Record<string, (argv: string[], stdin: string, ctx: ToolContext) => Promise<ToolResult>> = {
  echo: async (argv, stdin, ctx) => {
    seen.push({ argv, stdin, cwd: ctx.cwd, x: ctx.env?.TEST_X });
    return answer({ stdout: JSON.stringify(argv), stderr: `stdin ${Buffer.byteLength(stdin)}\n` });
  },
  exit: async (argv) => answer({ stdout: "out\n", stderr: "err\n", exitCode: Number(argv[0]) }),
  throws: async () => {
    throw new Error("the tool broke");
  },
  big: async () => answer({ stdout: "é".repeat(600_000) + "\n" }), // 1.2 MB of UTF-8
  sleep: async (argv, _stdin, ctx) => {
    await ctx.time?.sleepS(Number(argv[0]));
    return answer({ stdout: `${ctx.time?.nowS()}\n` });
  },
  hang: async (argv, _stdin, ctx) => {
    await ctx.time?.sleepS(argv[0] === "forever" ? Infinity : Number(argv[0]));
    resumedAfterHang = true;
    return answer({ stdout: "late\n" });
  },
};
const tools: Record<string, () => Promise<ToolMain>> = Object.fromEntries(
  Object.entries(TEST_TOOLS).map(([k, f]) => [k, async () => (argv, stdin, ctx) => f(argv, stdin, ctx ?? {})]),
);

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-tools-"));
  fatal = [];
  seen = [];
  resumedAfterHang = false;
  clock = await startSimClock({ clockFile: path.join(dir, "clock"), watchdogS: 5, onFatal: (m) => fatal.push(m) });
  server = await startToolServer({ clock, tools });
});
afterEach(async () => {
  await server.close();
  await clock.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: Buffer;
  err: string;
}

/**
 * Run `file args` as the engine runs a step: its token registered before spawn, ended at close. */
function run(
  file: string,
  args: string[],
  o: { stdin?: Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Ran> {
  const { id, env } = clock.spawnToken(`${path.basename(file)} ${args.join(" ")}`);
  const child = spawn(file, args, {
    env: { ...process.env, ...env, ...server.env, ...o.env },
    cwd: o.cwd,
    stdio: [o.stdin ? "pipe" : "ignore", "pipe", "pipe"],
  });
  child.stdin?.end(o.stdin);
  const out: Buffer[] = [];
  let err = "";
  child.stdout?.on("data", (b: Buffer) => out.push(b));
  child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
  return new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clock.endToken(id);
      resolve({ code, signal, out: Buffer.concat(out), err });
    }),
  );
}
const client = (tool: string, args: string[], o: Parameters<typeof run>[2] = {}) =>
  run("perl", [CLIENT, tool, ...args], o);

it("carries argv with spaces, newlines, unicode and empty words, and the cwd and environment", async () => {
  const argv = ["a b", "line1\nline2", "üñí €", "", "--format=json", "-"];
  const r = await client("echo", argv, { env: { TEST_X: "x=1 y" }, cwd: dir });
  expect(r.err).toBe("stdin 0\n");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.out.toString("utf8"))).toEqual(argv);
  expect(seen).toEqual([{ argv, stdin: "", cwd: fs.realpathSync(dir), x: "x=1 y" }]);
});

it("carries stdin bytes, binary-ish ones decoded as node decodes stdin (UTF-8)", async () => {
  const bytes = Buffer.from([0x6b, 0x65, 0x79, 0x00, 0xff, 0xc3, 0xa9, 0x0a, 0x80]);
  const r = await client("echo", [], { stdin: bytes });
  expect(r.code).toBe(0);
  expect(seen[0].stdin).toBe(bytes.toString("utf8")); // entry.ts: fs.readFileSync(0, "utf8")
  expect(r.err).toBe(`stdin ${Buffer.byteLength(bytes.toString("utf8"))}\n`);
  const empty = await client("echo", [], { stdin: Buffer.alloc(0) });
  expect(empty.err).toBe("stdin 0\n");
});

it("writes a stdout larger than 1 MiB whole", async () => {
  const r = await client("big", []);
  expect(r.code).toBe(0);
  expect(r.out.length).toBe(1_200_001);
  expect(r.out.toString("utf8")).toBe("é".repeat(600_000) + "\n");
});

it.each([0, 1, 127, 70])("exits with the tool's code %i, stdout and stderr as the tool gave them", async (code) => {
  const r = await client("exit", [String(code)]);
  expect({ code: r.code, out: r.out.toString(), err: r.err }).toEqual({ code, out: "out\n", err: "err\n" });
});

it("a tool that throws answers one line and exit 70 (entry.ts's error path); an unknown tool 64", async () => {
  const r = await client("throws", []);
  expect({ code: r.code, err: r.err }).toEqual({ code: 70, err: "coldstart sim: the tool broke\n" });
  const u = await client("constructor", []);
  expect(u.code).toBe(64);
  expect(u.err).toMatch(/^coldstart sim: unknown tool "constructor" \(one of echo, exit/);
});

it("exits 70 with one line when the server drops the connection or is not there", async () => {
  const rude = net.createServer((s) => s.once("data", () => s.destroy()));
  const rudePath = path.join(dir, "rude");
  await new Promise<void>((resolve) => rude.listen(rudePath, resolve));
  try {
    const r = await client("echo", ["x"], { env: { [SIM_TOOLS_VAR]: rudePath } });
    expect(r.code).toBe(70);
    expect(r.err).toBe(
      `coldstart sim: the drill's tool server (${rudePath}) dropped the connection before answering echo\n`,
    );
  } finally {
    rude.close();
  }
  const none = await client("echo", ["x"], { env: { [SIM_TOOLS_VAR]: path.join(dir, "nobody") } });
  expect(none.code).toBe(70);
  expect(none.err.split("\n")).toHaveLength(2); // one line
  expect(none.err).toMatch(/tool server \(.*nobody\) is gone: No such file or directory/);
});

it("a tool's wait is cloud time on the call's token: two calls interleave, no real time passes", async () => {
  const t0 = Date.now();
  const [a, b] = await Promise.all([client("sleep", ["3600"]), client("sleep", ["5"])]);
  expect([a.out.toString(), b.out.toString()]).toEqual(["3600\n", "5\n"]);
  expect(clock.nowMs()).toBe(3_600_000);
  expect(clock.stats.advances).toBe(2);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(fatal).toEqual([]);
});

it("a hang killed by SIGKILL at its call timeout frees the server: its wait is cancelled, the tool never resumes", async () => {
  // a step as steps are: runtime/sim-clock.ts's exec, whose call timeout (60 s of a 100 s hang) is cloud time
  const step = await run(process.execPath, [
    "-e",
    `const c = require(${JSON.stringify(STEP_CLIENT)}).joinSimClock(process.env);
     c.exec({ file: "perl", args: ${JSON.stringify([CLIENT, "hang", "100"])}, timeoutMs: 60_000 })
       .then((res) => { console.log(res.timedOut, res.exitCode, c.nowMs()); c.close(); });`,
  ]);
  expect(step.err).toBe("");
  expect(step.out.toString()).toBe("true null 60000\n");
  // time goes on past the hang's end: the abandoned wait does not wake, nothing is left waiting
  const after = await client("sleep", ["200"]);
  expect(after.out.toString()).toBe("260\n");
  expect(clock.stats.advances).toBe(2); // 60 s, 260 s: never 100 s
  expect(resumedAfterHang).toBe(false);
  expect(fatal).toEqual([]);
});

it("a hang forever with nobody to end it is the clock's deadlock: the client exits 70 with the clock's word", async () => {
  const r = await client("hang", ["forever"]);
  expect(r.code).toBe(70);
  expect(r.err).toMatch(
    /^coldstart: the drill's clock stopped this process: drill clock: deadlock at cloud time 0 ms: s1 \(pid \d+\)/,
  );
  expect(fatal).toHaveLength(1);
});

describe("the shims", () => {
  const shim = (tool: string) => path.join(ROOT, "sim/bin", tool);
  const shimEnv = (extra: NodeJS.ProcessEnv) => ({
    COLDSTART_SIM_ROOT: ROOT,
    COLDSTART_SIM_NODE: process.execPath,
    ...extra,
  });

  it("without perl on PATH, run the tool in node even with a tool server set", async () => {
    let connections = 0;
    const spy = net.createServer((s) => (connections++, s.destroy()));
    const spyPath = path.join(dir, "spy");
    await new Promise<void>((resolve) => spy.listen(spyPath, resolve));
    try {
      const bin = fs.mkdtempSync(path.join(dir, "bin-")); // a PATH with no perl (and no node: COLDSTART_SIM_NODE is absolute)
      const r = await run(shim("juju"), ["status"], {
        env: shimEnv({ PATH: bin, [SIM_TOOLS_VAR]: spyPath, COLDSTART_SIM_DIR: "" }),
      });
      // entry.js answered (runTool's own refusal), not the client
      expect(r.err).toBe(
        "coldstart sim juju: COLDSTART_SIM_DIR is not set (use the env that createSimCloud returns)\n",
      );
      expect(r.code).toBe(127);
      expect(connections).toBe(0);
    } finally {
      spy.close();
    }
  });

  it("answer every real tool the same through the client as in node, with the same call-log lines", async () => {
    const sim = createSimCloud({ dir: path.join(dir, "cloud"), scenario: "healthy-planned", clock: "discrete" });
    await server.close();
    server = await startToolServer({ clock }); // the real tools
    const calls: [string, string[], string?][] = [
      ["juju", ["status", "--format=json", "-m", sim.jujuModel]],
      ["juju", ["status", "-m", sim.jujuModel]],
      ["openstack", ["server", "list", "--all-projects", "-f", "json"]],
      ["virsh", ["list", "--all"]],
      ["juju", ["no-such-command"]],
      ["openstack", ["token", "issue", "-f", "value", "-c", "expires"], "a secret on stdin é\n"],
    ];
    const env = (tools: boolean) => ({
      ...shimEnv({}),
      ...sim.env,
      ...sim.osEnv,
      COLDSTART_STEP: "a-step",
      [SIM_CLOCK_VAR]: clock.socketPath,
      [SIM_CLOCK_FILE_VAR]: path.join(sim.dir, "clock"),
      [SIM_TOOLS_VAR]: tools ? server.socketPath : "",
    });
    const results: Record<string, unknown[]> = { node: [], client: [] };
    for (const way of ["node", "client"] as const)
      for (const [tool, args, stdin] of calls) {
        const r = await run(shim(tool), args, {
          env: env(way === "client"),
          cwd: dir,
          stdin: stdin === undefined ? undefined : Buffer.from(stdin),
        });
        results[way].push({ tool, args, code: r.code, out: r.out.toString("utf8"), err: r.err });
      }
    expect(results.client).toEqual(results.node);
    expect(results.node.filter((x) => (x as { code: number }).code === 0).length).toBeGreaterThanOrEqual(4);
    const log = readCallLog(sim.dir);
    expect(log).toHaveLength(2 * calls.length);
    expect(log.slice(calls.length)).toEqual(log.slice(0, calls.length));
    expect(log[calls.length - 1]).toMatchObject({
      stdinBytes: Buffer.byteLength("a secret on stdin é\n"),
      cwd: fs.realpathSync(dir),
      step: "a-step",
    });
    expect(spawnSync("grep", ["-rl", "a secret on stdin", dir]).stdout.toString()).toBe("");
  });
});
