/**
 * Issue #10 part 3: the engine's timeout exceeds every step's own worst case, for both stacks in
 * both modes; each worst case covers what the step's own flags say it waits; steps enforce their
 * budget; the drill kills at customTimeouts the way the command provider does.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Plan } from "../plan/model";
import { parseDurationMs } from "../config/duration";
import { loadConfig } from "../config/load";
import { readStackConfig } from "../config/stack-files";
import { runCommand, providerTimeoutMs } from "../drill/executor";
import { execWithinDeadline } from "../runtime/deadline";
import { runGate } from "../steps/outcome";
import { fakeExec, testContext } from "./support/fake-exec";
import { Juju } from "../runtime/juju";
import { runPlanProgram } from "../plan/plan";
import { STEP_BUDGET_ENV } from "../runtime/deadline";
import { WORST_CASE_SLACK_MS } from "../stages/budget";
import { SIM_PASSWORD, SIM_USER, startIpmiSim, type IpmiSim } from "./support/ipmi-sim";

const ROOT = path.resolve(__dirname, "..");

function plan(stack: string, mode: string): Plan {
  const r = spawnSync(
    path.join(ROOT, "bin", "coldstart"),
    ["plan", "--stack", stack, "--mode", mode, "--format", "json"],
    {
      encoding: "utf8",
      env: { ...process.env, COLDSTART_WINDOW: "" },
    },
  );
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Plan;
}

/**
 * The value of `--name value` in a create line, as ms (undefined when the flag is absent). The
 * value ends at a space or at the line's `; exit $?`; one that is there but no duration throws.
 */
function flagMs(create: string, name: string): number | undefined {
  const m = new RegExp(`(?:^|\\s)--${name} ([^\\s;]+)`).exec(create);
  if (!m) return undefined;
  const ms = parseDurationMs(m[1]);
  if (ms === undefined) throw new Error(`--${name} ${m[1]}: not a duration, in ${create}`);
  return ms;
}

describe.each([
  ["roosevelt", "planned"],
  ["roosevelt", "unplanned"],
  ["prior-build", "planned"],
  ["prior-build", "unplanned"],
])("%s, %s: engine timeouts against coldstart's worst cases", (stack, mode) => {
  const p = plan(stack, mode);
  const config = loadConfig((k) => readStackConfig(ROOT, stack).values[`coldstart:${k}`], { COLDSTART_WINDOW: "w" });
  const ct = config.gates.commandTimeout;

  it("every step: engine timeout (whole seconds) > worst case > 0, and the update only keeps", () => {
    expect(p.steps.length).toBeGreaterThan(20);
    for (const s of p.steps) {
      // README "Timeouts": the engine's customTimeouts is the worst case plus 60 s, so coldstart's
      // own named verdict always comes first; a number here, not the constant, so a smaller
      // margin in stages/budget.ts fails
      expect({ step: s.name, margin: s.timeoutMs - s.worstCaseMs >= 60_000 }).toEqual({ step: s.name, margin: true });
      expect({ step: s.name, margin: s.timeoutMs - s.worstCaseMs < 61_000 }).toEqual({ step: s.name, margin: true });
      expect(s.timeoutMs % 1000).toBe(0);
      expect(s.worstCaseMs).toBeGreaterThan(0);
      expect(s.update).toBe(`coldstart kept ${s.name}`);
      expect(s.budget.length).toBeGreaterThan(0);
    }
  });

  it("every step that waits says how long in its own line: every gate --timeout, hold-guests --timeout, power-off --graceful-timeout, octavia-grace --grace", () => {
    // what each step must announce; the check below only holds a flag to account if it is there
    const mustAnnounce = (s: Plan["steps"][number]): string[] => {
      if (s.verb === "gate" || s.name === "hold-guests") return ["timeout"];
      if (s.name.startsWith("power-off-")) return ["graceful-timeout"];
      if (s.name === "octavia-grace") return ["grace"];
      return [];
    };
    const announced = (create: string) =>
      ["timeout", "graceful-timeout", "grace"].filter((f) => flagMs(create, f) !== undefined);
    const gates = p.steps.filter((s) => s.verb === "gate").map((s) => s.name);
    // 4 powered-off (planned only), 4 powered-on, machines-started, mysql-cluster-online,
    // vault-unsealed, ovn-chassis-connected, guests-active, lbs-active, cloud-assert
    expect(gates).toHaveLength(mode === "planned" ? 15 : 11);
    for (const s of p.steps) {
      expect({ step: s.name, announces: announced(s.create) }).toEqual({ step: s.name, announces: mustAnnounce(s) });
      if (s.verb === "gate")
        expect({ step: s.name, interval: (flagMs(s.create, "interval") ?? 0) > 0 }).toEqual({
          step: s.name,
          interval: true,
        });
    }
  });

  it("every worst case covers the waits the step's own command line announces", () => {
    for (const s of p.steps) {
      const timeout = flagMs(s.create, "timeout");
      const graceful = flagMs(s.create, "graceful-timeout");
      const grace = flagMs(s.create, "grace");
      // a gate: its timeout (its last probe is cut at it)
      if (timeout !== undefined)
        expect({ step: s.name, covers: s.worstCaseMs > timeout }).toEqual({ step: s.name, covers: true });
      // power-off: state, soft off and hard off calls around the graceful wait
      if (graceful !== undefined)
        expect({ step: s.name, covers: s.worstCaseMs >= graceful + 3 * ct }).toEqual({ step: s.name, covers: true });
      if (grace !== undefined) expect(s.worstCaseMs).toBeGreaterThan(grace);
    }
    // the MySQL action: juju status, then up to two `juju run` waits of 5 x commandTimeout
    const reboot = p.steps.find((s) => s.name === "mysql-reboot-cluster")!;
    expect(reboot.worstCaseMs).toBeGreaterThanOrEqual(11 * ct);
  });
});

describe("a step keeps to its budget", () => {
  it("a call is cut at the step's deadline, and one that would start after it is refused", async () => {
    const fake = fakeExec().on(/^juju machines/, "{}");
    const ctx = testContext(fake);
    ctx.deadline = ctx.clock.now() + 30_000;
    ctx.exec = execWithinDeadline(ctx, ctx.exec);
    await new Juju(ctx, "c:m").machines();
    expect(fake.calls[0].timeoutMs).toBe(30_000); // 2m asked, 30 s left
    await ctx.clock.sleep(30_000);
    const before = fake.calls.length;
    await expect(new Juju(ctx, "c:m").machines()).rejects.toThrow(
      /could not start \(not started: the step's time budget was spent\)$/,
    );
    expect(fake.calls.length).toBe(before); // never started
  });

  it("a gate's last probe is cut at the gate's deadline, not left to overrun it by a call timeout", async () => {
    const fake = fakeExec().on(/^juju machines/, "{}");
    const ctx = testContext(fake, { callTimeoutMs: 120_000 });
    ctx.exec = execWithinDeadline(ctx, ctx.exec);
    const juju = new Juju(ctx, "c:m");
    const t0 = ctx.clock.now();
    const at: number[] = [];
    await runGate(ctx, {
      expected: "x",
      timeoutMs: 100_000,
      intervalMs: 30_000,
      probe: async () => {
        at.push(ctx.clock.now() - t0);
        await juju.machines();
        return { ok: false, state: "waiting", summary: "not yet", details: [] };
      },
    });
    const timeouts = fake.calls.map((c) => c.timeoutMs);
    // every probe's call may run until the gate's deadline, never its own 2 m: the last one (the
    // waits grow to the 30 s interval, runtime/poll-schedule.ts) less than an interval; the probe
    // at the deadline itself makes no call
    expect(at.at(-1)).toBe(100_000);
    expect(timeouts).toEqual(at.filter((t) => t < 100_000).map((t) => 100_000 - t));
    expect(at.length).toBeGreaterThan(4);
    expect(timeouts[timeouts.length - 1]).toBeLessThanOrEqual(30_000);
    expect(ctx.deadline).toBeUndefined(); // restored after the gate
  });
});

describe("a real step takes its deadline from the budget stages/budget.ts gives it", () => {
  let sim: IpmiSim;
  let dir: string;
  beforeAll(async () => {
    sim = await startIpmiSim();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-budget-"));
  });
  afterAll(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The graph's power-off step for one ipmi host on ipmi_sim, with small gate timings. */
  async function powerOffStep() {
    const hosts = [
      {
        name: "openstack0",
        power: { driver: "ipmi", bmc: sim.host, port: sim.port, user: SIM_USER, passwordEnv: "COLDSTART_TEST_BMC_PW" },
      },
    ];
    const gates = {
      ...(JSON.parse(readStackConfig(ROOT, "prior-build").values["coldstart:gates"]!) as object),
      powerState: { timeout: "2s", interval: "500ms" },
      commandTimeout: "1s",
    };
    const { plan: p, resources } = await runPlanProgram({
      stack: "prior-build",
      window: "w1",
      overrides: { "coldstart:hosts": JSON.stringify(hosts), "coldstart:gates": JSON.stringify(gates) },
    });
    const step = p.steps.find((s) => s.name === "power-off-openstack0")!;
    const resource = resources.find((r) => r.name === "power-off-openstack0")!;
    return { step, environment: resource.inputs.environment as Record<string, string> };
  }

  it("the graph hands every step its budget: the worst case less the slack, in COLDSTART_STEP_BUDGET_MS", async () => {
    const { resources, plan: p } = await runPlanProgram({ stack: "roosevelt", window: "w1" });
    for (const s of p.steps) {
      const env = resources.find((r) => r.name === s.name)!.inputs.environment as Record<string, string>;
      const budgetMs = Number(env[STEP_BUDGET_ENV]);
      expect({ step: s.name, budgetMs }).toEqual({ step: s.name, budgetMs: s.worstCaseMs - WORST_CASE_SLACK_MS });
      expect(budgetMs).toBeGreaterThan(0);
    }
  });

  it("power-off against a host that never goes off, flags asking to wait longer than the budget: cut at the budget, named, no hard off", async () => {
    const { step, environment } = await powerOffStep();
    const budgetMs = Number(environment[STEP_BUDGET_ENV]);
    // 8 calls x 1 s + max(1 s, 3 x 500 ms) + 1 s + start-up 2 s (stages/shutdown.ts)
    expect(budgetMs).toBe(12_500);
    expect(step.create).toMatch(/ --graceful-timeout 1s /);
    sim.setPower("on");
    sim.setSoftMode("ignore");
    sim.clearCalls();
    // the OS would get 10 min: only the budget can end the step
    const create = step.create.replace(/ --graceful-timeout 1s /, " --graceful-timeout 10m ");
    const started = Date.now();
    // exec: the step's node process is the one spawnSync kills if the budget does not end it
    const r = spawnSync("sh", ["-c", `exec ${create.replace(/; exit \$\?$/, "")}`], {
      encoding: "utf8",
      cwd: ROOT,
      timeout: 60_000,
      killSignal: "SIGKILL",
      env: {
        ...process.env,
        ...environment,
        // no window record here: the record is not what this test is about
        COLDSTART_WINDOW: "",
        COLDSTART_RECORD_DIR: "",
        COLDSTART_TEST_BMC_PW: SIM_PASSWORD,
        // the built CLI (npm run build), as the jumphost's `coldstart` on PATH
        PATH: `${path.join(ROOT, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
      },
    });
    const took = Date.now() - started;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^FAILED power-off-openstack0$/m);
    expect(r.stderr).toMatch(
      /saw: +openstack0 via ipmi \(BMC 127\.0\.0\.1:\d+\): the step's time budget was spent \d+m?s into the graceful wait of 10m; no hard power off was sent$/m,
    );
    expect(took).toBeGreaterThanOrEqual(budgetMs);
    expect(took).toBeLessThan(budgetMs + WORST_CASE_SLACK_MS);
    // the soft-off was sent; power was never cut
    expect(sim.calls()).toContain("set shutdown 1");
    expect(sim.calls()).not.toContain("set power 0");
    expect(sim.power()).toBe("on");
  }, 90_000);
});

describe("the drill enforces customTimeouts as the command provider does", () => {
  const node = process.execPath;
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-ct-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("truncates to whole seconds like pulumi-go-provider (time.Duration of float seconds)", () => {
    expect(providerTimeoutMs(1_999)).toBe(1_000);
    expect(providerTimeoutMs(999)).toBeUndefined(); // 0 s: no timeout at all
    expect(providerTimeoutMs(undefined)).toBeUndefined();
  });

  it("kills the shell at the deadline; the step under it runs on, and the result waits for its pipes", async () => {
    const script = path.join(dir, "slow.js");
    fs.writeFileSync(script, "setTimeout(() => console.log('finished'), 2500);\n");
    const started = Date.now();
    const r = await runCommand(`${node} ${script}; exit $?`, {}, process.env, { timeoutMs: 1_500 });
    const took = Date.now() - started;
    expect(r).toMatchObject({ exitCode: null, signal: "SIGKILL", killedBy: "timeout", stdout: "finished" });
    expect(took).toBeGreaterThanOrEqual(2_400); // Go's Wait without WaitDelay: until the orphan closes the pipe
  });
});
