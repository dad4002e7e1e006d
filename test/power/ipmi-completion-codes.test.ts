/**
 * Issue #22: a soft-off answered with an IPMI completion code cuts power at once only when no
 * retry can change the answer. Each code as ipmitool prints it (lib/ipmi_chassis.c: stderr
 * `Set Chassis Power Control to Soft failed: <lib/ipmi_strings.c text>`, exit 1), through the
 * pure classification, through the ipmi driver and through the power-off step; 0xFF and 0xCC
 * also from a real ipmi_sim (it cannot answer 0xC0 to Chassis Control: openipmi
 * lanserv/bmc_chassis.c handle_chassis_control only ever answers 0xCC, 0xC7 or 0xFF).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { COMPLETION_CODES, classifySoftRefusal, formatCode } from "../../power/ipmi-completion-codes";
import { fakeClock } from "../../runtime/clock";
import { IpmiDriver } from "../../power/ipmi";
import { PowerError } from "../../power/driver";
import type { StepFlags } from "../../stages/step-def";
import type { POWER_OFF } from "../../stages/shutdown";
import { powerOff } from "../../steps/power";
import { readFixture } from "../fixtures";
import { fakeExec, testContext, type Reply } from "../support/fake-exec";
import { realContext, SIM_PASSWORD, SIM_USER, startIpmiSim, type IpmiSim } from "../support/ipmi-sim";
import { failure } from "../support/failure";

/** The IPMI v2.0 table 5-2 codes that no retry can change (the list), written out, not read from the table. */
const DEFINITIVE = [0xc1, 0xc2, 0xc7, 0xc8, 0xc9, 0xcc, 0xcd, 0xd4, 0xd5, 0xd6];
/** Busy, timeout, in progress, unavailable, unspecified: a later try may pass. */
const TRANSIENT = [0xc0, 0xc3, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xff];

/** ipmitool 1.8.19's line for a soft-off answered with `text` (lib/ipmi_chassis.c ipmi_chassis_power_control). */
const softFailed = (text: string): Reply => ({
  exitCode: 1,
  stdout: "",
  stderr: `Set Chassis Power Control to Soft failed: ${text}\n`,
});
/** No answer at all (rsp == NULL in ipmi_chassis_power_control). */
const NO_ANSWER: Reply = { exitCode: 1, stdout: "", stderr: "Unable to set Chassis Power Control to Soft\n" };

const textOf = (code: number) => COMPLETION_CODES.find((c) => c.code === code)!.text;

describe("classifySoftRefusal: completion code text -> definitive | transient", () => {
  it("the codes no retry can change are definitive; busy / timeout / in progress / unspecified are transient", () => {
    for (const code of DEFINITIVE)
      expect({ code, ...classifySoftRefusal(textOf(code)) }).toMatchObject({ code, kind: "definitive" });
    for (const code of TRANSIENT)
      expect({ code, ...classifySoftRefusal(textOf(code)) }).toMatchObject({ code, kind: "transient" });
    expect(classifySoftRefusal("Node busy")).toMatchObject({ code: 0xc0, kind: "transient" });
    expect(classifySoftRefusal("Invalid data field in request")).toMatchObject({ code: 0xcc, kind: "definitive" });
  });

  it("every code of the table is classified and says why; only the issue's list is definitive", () => {
    const definitive = COMPLETION_CODES.filter((c) => c.kind === "definitive").map((c) => c.code);
    expect(definitive.sort()).toEqual([...DEFINITIVE].sort());
    for (const c of COMPLETION_CODES) expect(c.why.length).toBeGreaterThan(10);
  });

  it("an unknown text is transient: when unsure, never cut power", () => {
    expect(classifySoftRefusal("Unknown (0x80)")).toEqual({
      kind: "transient",
      code: 0x80,
      why: expect.stringContaining("outside the generic table") as string,
    });
    expect(classifySoftRefusal("Something new")).toEqual({
      kind: "transient",
      why: "not a completion code ipmitool names",
    });
    expect(classifySoftRefusal("")).toMatchObject({ kind: "transient" });
  });

  it("the text as ipmitool ends its line (blanks around it) and an unknown code's number in either case", () => {
    expect(classifySoftRefusal("  Invalid command \r")).toEqual({
      kind: "definitive",
      code: 0xc1,
      why: "the BMC does not implement Chassis Control (or this function of it)",
    });
    expect(classifySoftRefusal("Unknown (0xd5)")).toMatchObject({ code: 0xd5, kind: "definitive" });
    expect(classifySoftRefusal("Unknown (0x7)")).toMatchObject({ code: 7, kind: "transient" });
    // only the whole val2str fallback is a code
    expect(classifySoftRefusal("Unknown (0xC1) and more")).toEqual({
      kind: "transient",
      why: "not a completion code ipmitool names",
    });
    expect(classifySoftRefusal("Unknown (0x)")).toEqual({
      kind: "transient",
      why: "not a completion code ipmitool names",
    });
  });

  it("formatCode: 0x and two upper-case hex digits", () => {
    expect([0xc0, 0x7, 0xff, 0].map(formatCode)).toEqual(["0xC0", "0x07", "0xFF", "0x00"]);
  });

  it("an older ipmitool's texts: `Unknown (0xD6)` (no 0xD6 in its table) and `priviledge` are still definitive", () => {
    expect(classifySoftRefusal("Unknown (0xD6)")).toMatchObject({ code: 0xd6, kind: "definitive" });
    expect(classifySoftRefusal("Unknown (0xC0)")).toMatchObject({ code: 0xc0, kind: "transient" });
    expect(classifySoftRefusal("Insufficient priviledge level")).toMatchObject({ code: 0xd4, kind: "definitive" });
  });
});

// --- through the driver and the step (fake ipmitool answers, fake clock) -----------------------

const PW_VAR = "COLDSTART_TEST_BMC_PW";
const ipmi = {
  host: "openstack1" as const,
  driver: "ipmi" as const,
  bmc: "10.20.0.13",
  port: 623,
  user: "admin",
  "cipher-suite": 3,
  "password-env": PW_VAR,
};
const GRACEFUL = 60_000;
const offFlags: StepFlags<typeof POWER_OFF> = { ...ipmi, "graceful-timeout": GRACEFUL, interval: 10_000 };
const STATUS = /chassis power status$/;
const SOFT = /chassis power soft$/;
const HARD = /chassis power off$/;

/** A BMC whose host stays on and whose soft-off is answered with `soft`. */
function bmc(soft: Reply) {
  const fake = fakeExec()
    .on(STATUS, "Chassis Power is on\n")
    .on(SOFT, soft)
    .on(HARD, "Chassis Power Control: Down/Off\n");
  const ctx = testContext(fake, { env: { [PW_VAR]: "pw" } });
  return { fake, ctx };
}

describe("each completion code through the ipmi driver and the power-off step", () => {
  it.each(DEFINITIVE.map((c) => [formatCode(c), textOf(c)] as const))(
    "%s %s: a definitive refusal -> hard off at once",
    async (_code, text) => {
      const { fake, ctx } = bmc(softFailed(text));
      const err = await failure(new IpmiDriver({ ...ipmi, cipherSuite: 3, passwordEnv: PW_VAR }, ctx).off(true));
      expect(err).toMatchObject({ refused: true, permanent: false });
      expect(err.message).toContain(`Set Chassis Power Control to Soft failed: ${text} (this BMC refused a soft`);

      fake.calls.length = 0;
      const o = await powerOff(offFlags, ctx);
      expect(o.verdict.state).toBe("hard-off-sent");
      expect(fake.lines().map((l) => l.split(" ").slice(-1)[0])).toEqual(["status", "soft", "off"]);
    },
  );

  it.each(TRANSIENT.map((c) => [formatCode(c), textOf(c)] as const))(
    "%s %s: transient -> the soft-off is retried, power is never cut",
    async (_code, text) => {
      const { fake, ctx } = bmc(softFailed(text));
      const err = await failure(new IpmiDriver({ ...ipmi, cipherSuite: 3, passwordEnv: PW_VAR }, ctx).off(true));
      expect(err).toBeInstanceOf(PowerError);
      expect(err).toMatchObject({ refused: false, permanent: false });
      expect(err.message).toContain(`the soft-off is tried again`);

      fake.calls.length = 0;
      const o = await powerOff(offFlags, ctx);
      expect(o.outcome).toBe("fail");
      expect(o.verdict.state).toBe("soft-off-not-delivered");
      expect(fake.count(HARD)).toBe(0);
      expect(fake.count(SOFT)).toBe(7); // every 10 s for the 60 s graceful timeout
    },
  );

  it("`Node busy` takes exactly the path of a BMC that did not answer: same calls, same times, same verdict", async () => {
    const run = async (soft: Reply) => {
      const { fake, ctx } = bmc(soft);
      const t0 = ctx.clock.now();
      const at: string[] = [];
      fake.on(SOFT, () => (at.push(`soft @${ctx.clock.now() - t0}`), soft));
      const o = await powerOff(offFlags, ctx);
      return { lines: fake.lines(), at, outcome: o.outcome, state: o.verdict.state, route: o.verdict.route };
    };
    const busy = await run(softFailed("Node busy"));
    const silent = await run(NO_ANSWER);
    expect(busy).toEqual(silent);
    expect(busy.at).toEqual([0, 10, 20, 30, 40, 50, 60].map((s) => `soft @${s * 1000}`));
    expect(busy.lines.some((l) => HARD.test(l))).toBe(false);
  });

  it("busy twice, then taken; the OS ignores it: the hard off comes only a whole graceful timeout after the FIRST soft-off request", async () => {
    const { fake, ctx } = bmc(softFailed("Node busy"));
    const t0 = ctx.clock.now();
    const soft: number[] = [];
    const hard: number[] = [];
    fake
      .on(SOFT, (_c, n) => {
        soft.push(ctx.clock.now() - t0);
        return n <= 2 ? softFailed("Node busy") : "Chassis Power Control: Soft\n";
      })
      .on(HARD, () => (hard.push(ctx.clock.now() - t0), "Chassis Power Control: Down/Off\n"));
    const o = await powerOff(offFlags, ctx);
    expect(o.verdict.state).toBe("hard-off-sent");
    expect(soft).toEqual([0, 10_000, 20_000]);
    expect(hard).toHaveLength(1);
    // the OS gets the whole graceful timeout from the soft-off that was taken (20 s), so well after
    // a graceful timeout since the first request
    expect(hard[0]! - soft[0]!).toBeGreaterThanOrEqual(GRACEFUL);
    expect(hard[0]! - soft[2]!).toBeGreaterThanOrEqual(GRACEFUL);
  });
});

// --- a real BMC: ipmi_sim ------------------------------------------------------------------------

describe("a real BMC (ipmi_sim) failing the soft-off", () => {
  let sim: IpmiSim;
  beforeAll(async () => (sim = await startIpmiSim()));
  afterAll(async () => sim?.stop());
  beforeEach(() => {
    sim.setPower("on");
    sim.clearCalls();
  });

  const real = () => ({
    host: "openstack1" as const,
    driver: "ipmi" as const,
    bmc: sim.host,
    port: sim.port,
    user: SIM_USER,
    "cipher-suite": 3,
    "password-env": PW_VAR,
  });

  it("0xFF (its chassis control failed) is transient: tried again, no `chassis power off`, the host stays on", async () => {
    sim.setSoftMode("fail");
    const ctx = realContext({ env: { [PW_VAR]: SIM_PASSWORD }, clock: fakeClock(0) });
    const o = await powerOff({ ...real(), "graceful-timeout": 20_000, interval: 10_000 }, ctx);
    expect(o.verdict.state).toBe("soft-off-not-delivered");
    const chassis = ctx.records.map((r) => r.args.slice(-3).join(" "));
    expect(chassis).not.toContain("chassis power off");
    expect(chassis.filter((c) => c === "chassis power soft")).toHaveLength(3); // at 0, 10 and 20 s
    expect(sim.calls()).not.toContain("set power 0");
    expect(sim.power()).toBe("on");
    // the decisive line as recorded (-v adds its usual noise before it)
    expect(ctx.records.find((r) => r.args.at(-1) === "soft")?.result?.stderr).toContain(
      readFixture("ipmitool/chassis-power-soft-ipmi_sim-unspecified.stderr"),
    );
  });

  it("0xC0 Node busy, which ipmi_sim cannot answer: a stand-in `ipmitool` printing ipmitool's exact line, through the real exec", async () => {
    // lib/ipmi_chassis.c ipmi_chassis_power_control: on rsp->ccode it prints
    // "Set Chassis Power Control to %s failed: %s" (val2str of the code) to stderr and returns -1 (exit 1)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-fake-ipmitool-"));
    try {
      const script = path.join(dir, "ipmitool");
      fs.writeFileSync(
        script,
        [
          "#!/bin/sh",
          `for last; do :; done`,
          `echo "$last" >> "${dir}/calls"`,
          `case "$last" in`,
          `  status) echo "Chassis Power is on" ;;`,
          `  soft) echo "Set Chassis Power Control to Soft failed: Node busy" >&2; exit 1 ;;`,
          `  off) echo "Chassis Power Control: Down/Off" ;;`,
          `esac`,
          "",
        ].join("\n"),
        { mode: 0o755 },
      );
      const ctx = realContext({ env: { [PW_VAR]: "pw" }, clock: fakeClock(0) });
      const exec = ctx.exec;
      ctx.exec = (req) => exec({ ...req, file: req.file === "ipmitool" ? script : req.file });
      const o = await powerOff({ ...ipmi, "graceful-timeout": 20_000, interval: 10_000 }, ctx);
      expect(o.verdict.state).toBe("soft-off-not-delivered");
      const calls = fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
      expect(calls).toEqual(["status", "soft", "status", "soft", "status", "soft"]);
      expect(
        ctx.out.lines.filter((l) =>
          /^RAN: .*: graceful shutdown.*: transient error \(.*\); graceful path retried/.test(l),
        )[0],
      ).toContain("Set Chassis Power Control to Soft failed: Node busy (completion code 0xC0: ");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the recorded 0xCC of an ipmi_sim without chassis control stays a definitive refusal", () => {
    const stderr = readFixture("ipmitool/chassis-power-soft-ipmi_sim-rejected.stderr");
    const text = /failed: (.+)$/m.exec(stderr)![1]!;
    expect(classifySoftRefusal(text)).toMatchObject({ code: 0xcc, kind: "definitive" });
  });
});
