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
      expect({ step: s.name, above: s.timeoutMs > s.worstCaseMs }).toEqual({ step: s.name, above: true });
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
