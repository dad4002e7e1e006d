/**
 * The sim's clocks (sim/time.ts, issue #14): the scaled clock stays what it was; on the discrete
 * clock every read comes from <simdir>/clock and every wait of a fake tool (a hang, juju's
 * --wait, a scenario latency) is ONE sleepS of the exact sim seconds, never a real timer; the call
 * log's `at` is sim ms; a tool that never waits never joins the clock server.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import execa from "execa";
import { startSimClock, type SimClockServer } from "../../drill/sim-clock";
import * as clientSide from "../../runtime/sim-clock";
import { machinesVerdict } from "../../gates/machines";
import { authorizationHeader, parseApiKey } from "../../power/maas-oauth";
import { readCallLog } from "../../sim/call-log";
import { startSimMaas } from "../../sim/maas-api";
import { loadScenario, ScenarioError, type ScenarioInput } from "../../sim/scenario";
import { createSimCloud, SIM_MAAS_KEY_VAR, simState, type SimCloud } from "../../sim/setup";
import { loadState } from "../../sim/store";
import {
  clockFilePath,
  clockFileTime,
  SIM_CLOCK_FILE_VAR,
  SIM_CLOCK_VAR,
  discreteTime,
  readClockFileMs,
  scaledTime,
  SimClockError,
  writeClockFileMs,
  type SimTime,
} from "../../sim/time";
import type { ToolResult } from "../../sim/tools/common";
import { main as juju } from "../../sim/tools/juju";
import { main as virsh } from "../../sim/tools/virsh";
import { cleanupAll, harness, MODEL, tempDir } from "./sim-harness";

afterAll(cleanupAll);

const MYSQL = "mysql-innodb-cluster";
const ACTION = "reboot-cluster-from-complete-outage";

/**
 * What the drill's clock server does for one waiting tool, in-process: record the wait, then move
 * the clock file by exactly that much (a "forever" wait is recorded and let through, so the test
 * can see what the tool does next; in a drill only the parent's kill would end it).
 */
function fakeServer(dir: string): { time: SimTime; waits: number[] } {
  const waits: number[] = [];
  const file = clockFilePath(dir);
  return {
    waits,
    time: {
      kind: "discrete",
      nowS: () => readClockFileMs(file) / 1000,
      sleepS: async (s) => {
        if (!(s > 0)) return;
        waits.push(s);
        if (Number.isFinite(s)) writeClockFileMs(dir, readClockFileMs(file) + Math.round(s * 1000));
      },
    },
  };
}

function discreteCloud(scenario: string | { name: string; scenario: ReturnType<typeof loadScenario>["scenario"] }) {
  const cloud = createSimCloud({ dir: tempDir(), scenario, clock: "discrete" });
  const server = fakeServer(cloud.dir);
  const env = { ...process.env, ...cloud.env, ...cloud.osEnv };
  const call = (tool: typeof juju, argv: string[], time: SimTime = server.time): Promise<ToolResult> =>
    tool(argv, "", { env, time });
  return { cloud, server, env, call };
}

/** Power every host on with `virsh start` at the current sim instant. */
async function startHosts(cloud: SimCloud, call: (tool: typeof virsh, argv: string[]) => Promise<ToolResult>) {
  for (const h of cloud.hostsConfig) {
    expect((await call(virsh, ["-c", h.power.uri, "start", h.power.domain])).exitCode).toBe(0);
  }
}

const scenarioWith = (name: string, extra: Partial<ScenarioInput>) => {
  const file = path.join(tempDir(), `${name}.json`);
  const base = JSON.parse(fs.readFileSync(loadScenario(name).file, "utf8")) as ScenarioInput;
  fs.writeFileSync(file, JSON.stringify({ ...base, ...extra }));
  return loadScenario(file);
};

describe("scaledTime", () => {
  it("is today's formula: now from the real clock, a wait of s sim s is ceil(s x 1000 x timeScale) real ms", async () => {
    const clock = { ms: 1_000_000 };
    const slept: number[] = [];
    const t = scaledTime(
      { startedAtMs: 1_000_000, timeScale: 1 / 600 },
      { now: () => clock.ms, sleep: async (ms) => void slept.push(ms) },
    );
    clock.ms += 100;
    expect(t.kind).toBe("scaled");
    expect(t.nowS()).toBeCloseTo(60);
    await t.sleepS(60);
    await t.sleepS(25);
    await t.sleepS(0);
    await t.sleepS(-5);
    await t.sleepS(Infinity);
    expect(slept).toEqual([100, 42, 24 * 3600 * 1000]);
  });
});

describe("createSimCloud({clock: 'discrete'})", () => {
  it("writes <dir>/clock at 0; a scaled cloud made in the same dir afterwards removes it", () => {
    const dir = tempDir();
    const cloud = createSimCloud({ dir, scenario: "healthy-unplanned", clock: "discrete" });
    expect(cloud.clock).toBe("discrete");
    expect(loadState(dir).clock).toBe("discrete");
    expect(JSON.parse(fs.readFileSync(path.join(dir, "clock"), "utf8"))).toEqual({ t: 0 });
    const again = createSimCloud({ dir, scenario: "healthy-unplanned" });
    expect(again.clock).toBe("scaled");
    expect(loadState(dir).clock).toBe("scaled");
    expect(fs.existsSync(path.join(dir, "clock"))).toBe(false);
  });

  it("the state follows the clock file, not real time: agents start exactly 120 sim s after power-on", async () => {
    const { cloud, call } = discreteCloud("healthy-unplanned");
    await startHosts(cloud, call);
    const started = async () => {
      const res = await call(juju, ["machines", "-m", MODEL, "--format=json"], clockFileTime(clockFilePath(cloud.dir)));
      return machinesVerdict(JSON.parse(res.stdout) as Parameters<typeof machinesVerdict>[0]).ok;
    };
    await new Promise((r) => setTimeout(r, 50)); // real time passing changes nothing
    writeClockFileMs(cloud.dir, 119_999);
    expect(await started()).toBe(false);
    expect(simState(cloud.dir).hosts.every((h) => h.power === "on" && h.onSince === 0)).toBe(true);
    writeClockFileMs(cloud.dir, 135_000); // containers: 120 + 15
    expect(await started()).toBe(true);
  });
});

describe("fake tools on the discrete clock", () => {
  it("juju run without --wait: one wait of 60 sim s, the timeout; with --wait=10m: one wait of 151 s (1 s to start + 150 s); call log at = sim ms", async () => {
    const { cloud, server, call } = discreteCloud("mysql-slow-action");
    await startHosts(cloud, call);
    writeClockFileMs(cloud.dir, 200_000);
    const first = await call(juju, ["run", "-m", MODEL, `${MYSQL}/1`, ACTION, "--format=json"]);
    expect(first.exitCode).toBe(1);
    expect(first.stderr).toMatch(/ERROR timed out waiting for results from: unit mysql-innodb-cluster\/1/);
    expect(server.waits).toEqual([60]);
    expect(readClockFileMs(clockFilePath(cloud.dir))).toBe(260_000);

    const fresh = discreteCloud("mysql-slow-action");
    await startHosts(fresh.cloud, fresh.call);
    writeClockFileMs(fresh.cloud.dir, 200_000);
    const done = await fresh.call(juju, ["run", "-m", MODEL, `${MYSQL}/1`, ACTION, "--format=json", "--wait=10m"]);
    expect(done.exitCode).toBe(0);
    expect(fresh.server.waits).toEqual([151]);
    const log = readCallLog(fresh.cloud.dir);
    expect(log.at(-1)).toMatchObject({ tool: "juju", exitCode: 0, at: 351_000 });
    expect(log[0]).toMatchObject({ tool: "virsh", at: 0 });
  });

  it("juju show-task --wait and exec on a down machine wait on the sim clock for exactly the sim seconds asked", async () => {
    const { cloud, server, call } = discreteCloud("mysql-slow-action");
    await startHosts(cloud, call);
    writeClockFileMs(cloud.dir, 200_000);
    const run = await call(juju, ["run", "-m", MODEL, `${MYSQL}/1`, ACTION, "--format=json", "--wait=5s"]);
    expect(server.waits).toEqual([5]);
    const task = /Waiting for task (\d+)\.\.\./.exec(run.stderr)?.[1] ?? "none";
    // the task completes at 200 + 1 + 150 = 351 s; now is 205 s: 146 s left, inside --wait=3m
    const shown = await call(juju, ["show-task", "-m", MODEL, task, "--wait=3m", "--format=json"]);
    expect(shown.stderr).toBe("");
    expect(shown.exitCode).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: "completed" });
    expect(server.waits).toEqual([5, 146]);

    const down = discreteCloud("healthy-unplanned"); // hosts off: every machine down
    const res = await down.call(juju, ["exec", "-m", MODEL, "--unit", "vault/0", "--wait=45s", "--", "hostname"]);
    expect(res.stderr).toBe("ERROR timed out waiting for results from: unit vault/0\n");
    expect(down.server.waits).toEqual([45]);
  });

  it("a 'forever' hang is one wait of Infinity, logged (exitCode null) at the sim instant it began", async () => {
    const { cloud, server, call } = discreteCloud("juju-hangs");
    writeClockFileMs(cloud.dir, 42_000);
    await call(juju, ["status", "-m", MODEL, MYSQL, "--format=json"]);
    expect(server.waits).toEqual([Infinity]);
    expect(readCallLog(cloud.dir)).toEqual([expect.objectContaining({ tool: "juju", exitCode: null, at: 42_000 })]);
  });

  it("outside a drill (no clock server) a discrete sim still answers, but a wait fails by name instead of sleeping", async () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "juju-hangs", clock: "discrete" });
    const env = { ...process.env, ...cloud.env };
    delete env.COLDSTART_SIM_CLOCK;
    const answered = await juju(["machines", "-m", MODEL, "--format=json"], "", { env });
    expect(answered.exitCode).toBe(0);
    const hung = await juju(["status", "-m", MODEL, MYSQL, "--format=json"], "", { env });
    expect(hung.exitCode).toBe(70);
    expect(hung.stderr).toMatch(/cannot wait Infinity s: .* COLDSTART_SIM_CLOCK is not set/);
  });

  it("a scaled sim called with the discrete clock is refused (two time domains), naming COLDSTART_SIM_CLOCK", async () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "healthy-planned" });
    writeClockFileMs(cloud.dir, 0);
    const res = await juju(["machines", "-m", MODEL, "--format=json"], "", {
      env: { ...process.env, ...cloud.env },
      time: clockFileTime(clockFilePath(cloud.dir)),
    });
    expect(res.exitCode).toBe(127);
    expect(res.stderr).toMatch(/COLDSTART_SIM_CLOCK is set but the sim in .* runs on the scaled clock/);
    expect(readCallLog(cloud.dir)).toEqual([]);
  });

  it("the shim in its own process, with COLDSTART_SIM_CLOCK set, answers a call that does not wait without ever connecting", async () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "healthy-planned", clock: "discrete" });
    writeClockFileMs(cloud.dir, 7_250);
    const res = await execa(path.join(cloud.binDir, "juju"), ["machines", "-m", MODEL, "--format=json"], {
      // a socket that does not exist: connecting would fail the call
      env: {
        ...cloud.env,
        COLDSTART_SIM_CLOCK: path.join(cloud.dir, "no-such.sock"),
        COLDSTART_SIM_CLOCK_FILE: clockFilePath(cloud.dir),
      },
      reject: false,
    });
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    expect(machinesVerdict(JSON.parse(res.stdout) as Parameters<typeof machinesVerdict>[0]).ok).toBe(true);
    expect(readCallLog(cloud.dir)).toEqual([expect.objectContaining({ tool: "juju", exitCode: 0, at: 7_250 })]);
  });
});

describe("scenario latency (sim s per call, ours)", () => {
  it("discrete: each call of the tool waits its latency before it looks at the cloud; other tools do not wait", async () => {
    const loaded = scenarioWith("healthy-unplanned", { latency: { juju: 2, virsh: 0.5 } });
    const { cloud, server, call } = discreteCloud({ name: loaded.name, scenario: loaded.scenario });
    await startHosts(cloud, call);
    expect(server.waits).toEqual([0.5, 0.5, 0.5, 0.5]);
    writeClockFileMs(cloud.dir, 133_000);
    // 133 + 2 = 135 s when juju reads the cloud: the containers (power-on at 0, 0.5, 1, 1.5 s + 135 s) are not all up
    const res = await call(juju, ["machines", "-m", MODEL, "--format=json"]);
    expect(server.waits.at(-1)).toBe(2);
    expect(machinesVerdict(JSON.parse(res.stdout) as Parameters<typeof machinesVerdict>[0]).ok).toBe(false);
    expect(readCallLog(cloud.dir).at(-1)).toMatchObject({ tool: "juju", at: 135_000 });
  });

  it("scaled: the same wait passes on the real clock (the harness's fake one); absent latency costs nothing", async () => {
    const loaded = scenarioWith("healthy-planned", { latency: { openstack: 3 } });
    const h = harness({ name: loaded.name, scenario: loaded.scenario });
    const t0 = h.now();
    await h.call("juju", ["machines", "-m", MODEL, "--format=json"]);
    expect(h.now()).toBeCloseTo(t0);
    const res = await h.call("openstack", ["server", "list", "--all-projects", "-f", "json"]);
    expect(res.exitCode).toBe(0);
    expect(h.now() - t0).toBeCloseTo(3, 1);
  });

  it("a latency for a tool the sim has no latency for (maas) is refused by name", () => {
    const file = path.join(tempDir(), "bad-latency.json");
    fs.writeFileSync(file, JSON.stringify({ description: "x", mode: "planned", latency: { maas: 1 } }));
    expect(() => loadScenario(file)).toThrow(ScenarioError);
    expect(() => loadScenario(file)).toThrow(/latency: unknown key "maas"/);
  });
});

describe("discreteTime (a drill process's clock)", () => {
  it("reads now from COLDSTART_SIM_CLOCK_FILE; joins the server only on the first real wait, once", async () => {
    const dir = tempDir();
    writeClockFileMs(dir, 1_500);
    const joins: NodeJS.ProcessEnv[] = [];
    const waits: number[] = [];
    let closed = 0;
    const env = { COLDSTART_SIM_CLOCK: path.join(dir, "sock"), COLDSTART_SIM_CLOCK_FILE: clockFilePath(dir) };
    const t = discreteTime(env, (e) => {
      joins.push(e);
      return { sleepS: async (s) => void waits.push(s), close: () => void closed++ };
    });
    expect(t.kind).toBe("discrete");
    expect(t.nowS()).toBe(1.5);
    await t.sleepS(0);
    t.close?.();
    expect(joins).toHaveLength(0);
    expect(closed).toBe(0);
    await t.sleepS(5);
    await t.sleepS(Infinity);
    t.close?.();
    expect(joins).toEqual([env]);
    expect(waits).toEqual([5, Infinity]);
    expect(closed).toBe(1);
  });

  it("without both variables, or with a clock file that is not {t: ms}, it says which", () => {
    expect(() => discreteTime({ COLDSTART_SIM_CLOCK: "/x" })).toThrow(SimClockError);
    expect(() => discreteTime({ COLDSTART_SIM_CLOCK: "/x" })).toThrow(/COLDSTART_SIM_CLOCK_FILE/);
    const dir = tempDir();
    fs.writeFileSync(clockFilePath(dir), '{"t":-1}');
    expect(() => clockFileTime(clockFilePath(dir)).nowS()).toThrow(/does not hold \{"t":<sim ms>\}/);
    expect(() => clockFileTime(path.join(dir, "none")).nowS()).toThrow(/no clock file/);
  });
});

describe("the sim MAAS on a SimTime (in a drill: the clock server's)", () => {
  it("a soft power-off completes shutdownSeconds later on that clock, not in real time; the call log is in sim ms", async () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "healthy-planned", power: "maas", clock: "discrete" });
    const key = cloud.env[SIM_MAAS_KEY_VAR]!;
    writeClockFileMs(cloud.dir, 10_000);
    const maas = await startSimMaas(cloud.dir, { apiKey: key, time: clockFileTime(clockFilePath(cloud.dir)) });
    try {
      const id = maas.systemIds.openstack1!;
      const post = (op: string, form?: string) =>
        fetch(`${maas.url}/api/2.0/machines/${id}/?op=${op}`, {
          method: "POST",
          headers: {
            Authorization: authorizationHeader(parseApiKey(key)),
            ...(form ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
          },
          body: form,
        });
      expect((await post("power_off", "stop_mode=soft")).status).toBe(200);
      const shutdown = simState(cloud.dir).shutdownSeconds;
      writeClockFileMs(cloud.dir, 10_000 + shutdown * 1000 - 1);
      expect(simState(cloud.dir).hosts[1]!.power).toBe("on");
      writeClockFileMs(cloud.dir, 10_000 + shutdown * 1000);
      expect(simState(cloud.dir).hosts[1]!.power).toBe("off");
      expect(readCallLog(cloud.dir)).toEqual([expect.objectContaining({ tool: "maas", exitCode: 0, at: 10_000 })]);
    } finally {
      await maas.close();
    }
  });
});

describe("the fake tools' processes against the drill's clock server (drill/sim-clock.ts)", () => {
  let server: SimClockServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("uses the client's variable names (not imported, so a call that never waits loads none of it)", () => {
    expect([SIM_CLOCK_VAR, SIM_CLOCK_FILE_VAR]).toEqual([clientSide.SIM_CLOCK_VAR, clientSide.SIM_CLOCK_FILE_VAR]);
  });

  it("a 90 sim s hang and a 2 s latency cost cloud time only: the server advances to exactly 92 s, in little real time", async () => {
    const loaded = scenarioWith("juju-hangs", {
      hangs: [{ tool: "juju", args: ["status", MYSQL], seconds: 90 }],
      latency: { juju: 2 },
    });
    const cloud = createSimCloud({
      dir: tempDir(),
      scenario: { name: loaded.name, scenario: loaded.scenario },
      clock: "discrete",
    });
    const fatal: string[] = [];
    server = await startSimClock({ clockFile: clockFilePath(cloud.dir), onFatal: (m) => void fatal.push(m) });
    const token = server.spawnToken("juju status");
    const started = Date.now();
    const res = await execa(path.join(cloud.binDir, "juju"), ["status", "-m", MODEL, MYSQL, "--format=json"], {
      env: { ...cloud.env, ...token.env },
      reject: false,
      timeout: 60_000,
    });
    server.endToken(token.id);
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    expect(fatal).toEqual([]);
    expect(server.nowMs()).toBe(92_000);
    expect(readClockFileMs(clockFilePath(cloud.dir))).toBe(92_000);
    // on the scaled clock at x1 this would be 92 real s
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(readCallLog(cloud.dir).map((c) => [c.exitCode, c.at])).toEqual([[null, 0]]);
  });

  it("a 'forever' hang with nobody to kill it is a deadlock the server names (the call's label), never a silent hang", async () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "juju-hangs", clock: "discrete" });
    const fatal: string[] = [];
    server = await startSimClock({ clockFile: clockFilePath(cloud.dir), onFatal: (m) => void fatal.push(m) });
    const token = server.spawnToken("juju status mysql-innodb-cluster");
    const child = execa(path.join(cloud.binDir, "juju"), ["status", "-m", MODEL, MYSQL, "--format=json"], {
      env: { ...cloud.env, ...token.env },
      reject: false,
    });
    try {
      for (const start = Date.now(); fatal.length === 0 && Date.now() - start < 30_000;) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(fatal).toEqual([expect.stringMatching(/deadlock at cloud time 0 ms: .*juju status mysql-innodb-cluster/)]);
      expect(server.nowMs()).toBe(0);
    } finally {
      child.kill("SIGKILL");
      await child;
      server.endToken(token.id);
    }
  });
});
