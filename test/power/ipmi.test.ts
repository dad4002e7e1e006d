/**
 * The IPMI driver against a REAL BMC: ipmi_sim (openipmi) on 127.0.0.1, driven by the real
 * ipmitool through the real exec. Plus the parsers on the recorded ipmitool outputs, and the
 * leak test: the password is never in any argv, output, error or written file, and reaches only
 * the ipmitool child, under IPMI_PASSWORD.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../config/errors";
import { PowerError } from "../../power/driver";
import {
  IpmiDriver,
  parseChassisControl,
  parseChassisPowerStatus,
  ADDRESS_LOOKUP_FAILED,
  HMAC_INVALID,
  SESSION_FAILED,
  UNAUTHORIZED_NAME,
  type IpmiTarget,
} from "../../power/ipmi";
import { driverFromFlags } from "../../power/from-flags";
import { NEVER_INHERITED, SECRET_VARS, realExec, type Exec } from "../../runtime/exec";
import { fixturePath, readFixture } from "../fixtures";
import {
  CANARY_PASSWORD,
  CANARY_USER,
  freeUdpPort,
  realContext,
  SIM_PASSWORD,
  SIM_USER,
  startIpmiSim,
  type IpmiSim,
} from "../support/ipmi-sim";
import { captureReporter } from "../support/fake-exec";
import { failure } from "../support/failure";

let sim: IpmiSim;
let tmp: string;

beforeAll(async () => {
  sim = await startIpmiSim();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-ipmi-test-"));
});

afterAll(async () => {
  await sim?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  sim.setPower("on");
  sim.setSoftMode("off");
  sim.clearCalls();
});

const PW_VAR = "COLDSTART_TEST_BMC_PW";

function target(over: Partial<IpmiTarget> = {}): IpmiTarget {
  return {
    host: "openstack0",
    bmc: sim.host,
    port: sim.port,
    user: SIM_USER,
    cipherSuite: 3,
    passwordEnv: PW_VAR,
    ...over,
  };
}

function driver(over: Partial<IpmiTarget> = {}, env: NodeJS.ProcessEnv = { [PW_VAR]: SIM_PASSWORD }) {
  const ctx = realContext({ env });
  return { ctx, driver: new IpmiDriver(target(over), ctx) };
}

describe("ipmi driver against ipmi_sim", () => {
  it("reads the power state: on", async () => {
    const { driver: d } = driver();
    await expect(d.state()).resolves.toBe("on");
    expect(sim.calls()).toEqual(["get power"]);
  });

  it("hard power off -> status off; power on -> status on", async () => {
    const { driver: d, ctx } = driver();
    await d.off(false);
    expect(sim.power()).toBe("off");
    await expect(d.state()).resolves.toBe("off");
    await d.on();
    expect(sim.power()).toBe("on");
    await expect(d.state()).resolves.toBe("on");
    expect(sim.calls()).toEqual(["set power 0", "get power", "set power 1", "get power"]);
    expect(ctx.records.map((r) => r.args.slice(-3).join(" "))).toEqual([
      "chassis power off",
      "chassis power status",
      "chassis power on",
      "chassis power status",
    ]);
  });

  it("graceful off is `chassis power soft`; the host goes off when its OS obeys", async () => {
    const { driver: d, ctx } = driver();
    await d.off(true);
    expect(ctx.records[0]?.args.slice(-3)).toEqual(["chassis", "power", "soft"]);
    expect(sim.calls()).toEqual(["set shutdown 1"]);
    await expect(d.state()).resolves.toBe("off");
  });

  it("soft is only a request: an OS that ignores it stays on", async () => {
    sim.setSoftMode("ignore");
    const { driver: d } = driver();
    await d.off(true);
    await expect(d.state()).resolves.toBe("on");
  });

  it("runs ipmitool with lanplus, the cipher suite, -N 1 -R 1, -E and -v; the password only in IPMI_PASSWORD", async () => {
    const { driver: d, ctx } = driver({ cipherSuite: 3 });
    await d.state();
    const call = ctx.records[0]!;
    expect(call.file).toBe("ipmitool");
    expect(call.args).toEqual([
      "-I",
      "lanplus",
      "-C",
      "3",
      "-H",
      "127.0.0.1",
      "-p",
      String(sim.port),
      "-U",
      SIM_USER,
      "-N",
      "1",
      "-R",
      "1",
      "-E",
      "-v",
      "chassis",
      "power",
      "status",
    ]);
    expect(call.args).not.toContain("-P");
    expect(call.env).toEqual({ IPMI_PASSWORD: SIM_PASSWORD, IPMITOOL_PASSWORD: undefined, [PW_VAR]: undefined });
    expect(call.input).toBeUndefined(); // no stdin at all: /dev/null, as the runbook's </dev/null
  });

  it("reads the password from a file with -f (path expanded from ~/, trailing newline fine)", async () => {
    fs.writeFileSync(path.join(tmp, "bmc-password"), `${SIM_PASSWORD}\n`, { mode: 0o600 });
    const { driver: d, ctx } = driver({ passwordEnv: undefined, passwordFile: "~/bmc-password" }, { HOME: tmp });
    await expect(d.state()).resolves.toBe("on");
    const call = ctx.records[0]!;
    expect(call.args).toEqual(expect.arrayContaining(["-f", path.join(tmp, "bmc-password")]));
    expect(call.args).not.toContain("-E");
    expect(call.env).toEqual({ IPMI_PASSWORD: undefined, IPMITOOL_PASSWORD: undefined });
  });

  it("is built from a power step's flags", async () => {
    const ctx = realContext({ env: { [PW_VAR]: SIM_PASSWORD } });
    const d = driverFromFlags(
      {
        host: "openstack2",
        driver: "ipmi",
        bmc: sim.host,
        port: sim.port,
        user: SIM_USER,
        "cipher-suite": 3,
        "password-env": PW_VAR,
      },
      ctx,
    );
    expect(d.label).toBe(`openstack2 via ipmi (BMC 127.0.0.1:${sim.port})`);
    await expect(d.state()).resolves.toBe("on");
  });

  it("a wrong password: the decisive line (-v: RAKP 2 HMAC is invalid), permanent, fast", async () => {
    const { driver: d } = driver({}, { [PW_VAR]: "wrongpass" });
    const started = Date.now();
    const err = await failure(d.state());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toBe(
      `the BMC 127.0.0.1:${sim.port} for openstack0 (ipmi) refused the password of user ${SIM_USER} (RAKP 2 HMAC is invalid): ` +
        `wrong password in environment variable ${PW_VAR}`,
    );
    expect((err as PowerError).permanent).toBe(true);
    expect(err.message).not.toContain("wrongpass");
    expect(sim.calls()).toEqual([]);
  });

  it("an unknown user: the decisive line (-v: RAKP 2 unauthorized name), permanent", async () => {
    const err = await failure(driver({ user: "nosuchuser" }).driver.state());
    expect(err.message).toBe(
      `the BMC 127.0.0.1:${sim.port} for openstack0 (ipmi) refused user nosuchuser (RAKP 2: unauthorized name): wrong user in the stack config`,
    );
    expect((err as PowerError).permanent).toBe(true);
  });

  it("a BMC name that does not resolve: ipmitool's `Address lookup for … failed`, permanent, not the session line", async () => {
    const err = await failure(driver({ bmc: "bmc-openstack0.invalid" }).driver.state());
    expect(err.message).toBe(
      "openstack0 via ipmi (BMC bmc-openstack0.invalid:" +
        `${sim.port}): the BMC address bmc-openstack0.invalid does not resolve (ipmitool: Address lookup for bmc-openstack0.invalid failed): ` +
        "fix bmc in the stack config or the jumphost's DNS",
    );
    expect((err as PowerError).permanent).toBe(true);
  });

  it("nothing listening on the port: the honest line, transient, in about 2 s (not 20)", async () => {
    const port = await freeUdpPort();
    const { driver: d } = driver({ port });
    const started = Date.now();
    const err = await failure(d.state());
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toMatch(
      new RegExp(`^cannot authenticate to or reach the BMC 127\\.0\\.0\\.1:${port} for openstack0 \\(ipmi\\)`),
    );
    expect(err.message).toContain("no session (Get Auth Capabilities error)");
    expect((err as PowerError).permanent).toBe(false);
    expect(err.message).not.toContain("\n");
    expect(took).toBeGreaterThan(1_000);
    expect(took).toBeLessThan(6_000);
  });

  it("each call is bounded by ctx.callTimeoutMs", async () => {
    const port = await freeUdpPort();
    const ctx = realContext({ env: { [PW_VAR]: SIM_PASSWORD }, callTimeoutMs: 600 });
    const started = Date.now();
    const err = await failure(new IpmiDriver(target({ port }), ctx).state());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.message).toBe(
      `openstack0 via ipmi (BMC 127.0.0.1:${port}): ipmitool chassis power status gave no answer within 600ms (killed)`,
    );
  });

  it("a BMC that rejects soft: the BMC's reason, not the cipher-suite warning", async () => {
    const exec: Exec = async () => ({
      exitCode: Number(readFixture("ipmitool/chassis-power-soft-ipmi_sim-rejected.rc")),
      stdout: readFixture("ipmitool/chassis-power-soft-ipmi_sim-rejected.stdout"),
      stderr: readFixture("ipmitool/chassis-power-soft-ipmi_sim-rejected.stderr"),
      timedOut: false,
      notFound: false,
    });
    const ctx = { ...realContext({ env: { [PW_VAR]: SIM_PASSWORD } }), exec };
    const err = await failure(new IpmiDriver(target(), ctx).off(true));
    expect(err.message).toBe(
      `openstack0 via ipmi (BMC 127.0.0.1:${sim.port}): ipmitool chassis power soft failed (exited 1): ` +
        "Set Chassis Power Control to Soft failed: Invalid data field in request " +
        "(this BMC refused a soft, ACPI power-off)",
    );
    // the BMC answered with a completion code: a definitive refusal (power-off may cut power now)
    expect(err).toMatchObject({ refused: true, permanent: false });
  });

  it("ipmitool not installed: says which package", async () => {
    const exec: Exec = async () => ({ exitCode: null, stdout: "", stderr: "", timedOut: false, notFound: true });
    const ctx = { ...realContext({ env: { [PW_VAR]: SIM_PASSWORD } }), exec };
    const err = await failure(new IpmiDriver(target(), ctx).state());
    expect(err.message).toMatch(/ipmitool is not installed on this machine \(package ipmitool\)$/);
  });
});

describe("ipmi credentials: where, never what", () => {
  it("a missing variable names the host, driver and variable", async () => {
    const { driver: d, ctx } = driver({}, {});
    const err = await failure(d.state());
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `openstack0 (ipmi): the BMC password variable ${PW_VAR} is not set in the environment of this run ` +
        "(export it in the shell that runs pulumi up)",
    );
    expect(ctx.records).toEqual([]);
  });

  it("a missing file names the path as configured and as expanded", async () => {
    const { driver: d } = driver({ passwordEnv: undefined, passwordFile: "~/nope" }, { HOME: tmp });
    const err = await failure(d.state());
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `openstack0 (ipmi): the BMC password file ~/nope (${path.join(tmp, "nope")}) does not exist`,
    );
  });

  it("an empty secret is refused", async () => {
    fs.writeFileSync(path.join(tmp, "empty"), "\n", { mode: 0o600 });
    const fromFile = driver({ passwordEnv: undefined, passwordFile: path.join(tmp, "empty") }, {});
    expect((await failure(fromFile.driver.state())).message).toBe(
      `openstack0 (ipmi): the BMC password in file ${path.join(tmp, "empty")} is empty`,
    );
    const fromEnv = driver({}, { [PW_VAR]: "" });
    expect((await failure(fromEnv.driver.state())).message).toBe(
      `openstack0 (ipmi): the BMC password in environment variable ${PW_VAR} is empty`,
    );
  });

  it("a password longer than lanplus allows (20 bytes) is refused before ipmitool runs", async () => {
    const { driver: d, ctx } = driver({}, { [PW_VAR]: "x".repeat(21) });
    const err = await failure(d.state());
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain("longer than 20 bytes");
    expect(err.message).not.toContain("x".repeat(21));
    expect(ctx.records).toEqual([]);
  });

  it("a password file ipmitool would read differently (several lines) is refused", async () => {
    fs.writeFileSync(path.join(tmp, "two-lines"), "alphaPW\nbetaPW\n", { mode: 0o600 });
    const { driver: d } = driver({ passwordEnv: undefined, passwordFile: path.join(tmp, "two-lines") }, {});
    const err = await failure(d.state());
    expect(err.message).toContain("must hold the password on one line");
    expect(err.message).not.toMatch(/alphaPW|betaPW/);
  });

  it("from flags: a missing flag, or both/neither secret flag, is a usage error naming it", () => {
    const ctx = realContext();
    const base = { host: "openstack1" as const, driver: "ipmi" as const, bmc: "10.0.0.9", port: 623, user: "admin" };
    expect(() => driverFromFlags({ ...base, "cipher-suite": 3 }, ctx)).toThrow(
      new UsageError("--password-file or --password-env: one is required with --driver ipmi (host openstack1)"),
    );
    expect(() =>
      driverFromFlags({ ...base, "cipher-suite": 3, "password-file": "/f", "password-env": "PW" }, ctx),
    ).toThrow(new UsageError("--password-file and --password-env: give only one with --driver ipmi (host openstack1)"));
    expect(() => driverFromFlags({ ...base, bmc: undefined, "cipher-suite": 3, "password-env": "PW" }, ctx)).toThrow(
      new UsageError("--bmc: required with --driver ipmi (host openstack1)"),
    );
    // the config's rules (config/schema.ts powerSchema): --cipher-suite defaults to 3, a value out of range is refused
    expect(() => driverFromFlags({ ...base, "password-env": "PW" }, ctx)).not.toThrow();
    expect(() => driverFromFlags({ ...base, "cipher-suite": 18, "password-env": "PW" }, ctx)).toThrow(
      /^--cipher-suite: .*found 18 \(host openstack1\)$/,
    );
    expect(() => driverFromFlags({ ...base, "password-env": "PW", uri: "qemu:///system" }, ctx)).toThrow(
      new UsageError("--uri: not a flag of --driver ipmi (it belongs to --driver virsh; host openstack1)"),
    );
  });
});

// --- the leak test ---------------------------------------------------------------------------

interface ProcSnapshot {
  pid: number;
  comm: string;
  cmdline: string[];
  environ: string[];
}

/** Every live child of `parent`, with its argv and environment as the kernel shows them. */
function childrenOf(parent: number): ProcSnapshot[] {
  const out: ProcSnapshot[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const afterComm = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(afterComm[1]) !== parent) continue;
      out.push({
        pid: Number(name),
        comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")),
        cmdline: fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").filter(Boolean),
        environ: fs.readFileSync(`/proc/${name}/environ`, "utf8").split("\0").filter(Boolean),
      });
    } catch {
      // the process ended between readdir and read
    }
  }
  return out;
}

/** Run `work` while sampling this process's children every 10 ms. */
async function watchChildren<T>(work: () => Promise<T>): Promise<{ result: T; seen: Map<number, ProcSnapshot> }> {
  const seen = new Map<number, ProcSnapshot>();
  let done = false;
  const sampler = (async () => {
    while (!done) {
      for (const p of childrenOf(process.pid)) if (!seen.has(p.pid) && p.cmdline.length > 0) seen.set(p.pid, p);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  try {
    const result = await work();
    return { result, seen };
  } finally {
    done = true;
    await sampler;
  }
}

describe("the BMC password never leaks", () => {
  const saved = process.env[PW_VAR];
  beforeAll(() => {
    // As on the jumphost: the operator exported the password in the run's environment.
    process.env[PW_VAR] = CANARY_PASSWORD;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env[PW_VAR];
    else process.env[PW_VAR] = saved;
  });

  it("not in argv (/proc/<pid>/cmdline of every child), outputs, errors or files; only in ipmitool's IPMI_PASSWORD", async () => {
    const ctx = realContext({ env: process.env });
    const d = new IpmiDriver(target({ user: CANARY_USER }), ctx);
    const unreachable = new IpmiDriver(target({ user: CANARY_USER, port: await freeUdpPort() }), ctx);
    const errors: string[] = [];

    const { seen } = await watchChildren(async () => {
      await d.state();
      await d.off(false);
      await d.on();
      await d.off(true);
      // ~2 s of a live ipmitool: the sampler sees its argv and environment for sure.
      errors.push((await failure(unreachable.state())).message);
      const badUser = new IpmiDriver(target({ user: SIM_USER }), ctx); // canary is not ipmiusr's password
      errors.push((await failure(badUser.state())).message);
    });
    expect(sim.calls()).toEqual(["get power", "set power 0", "set power 1", "set shutdown 1"]);

    // argv, as the kernel shows it, of every child seen -- and as requested through ctx.exec.
    const ipmitools = [...seen.values()].filter((p) => p.comm === "ipmitool");
    expect(ipmitools.length).toBeGreaterThan(0);
    for (const p of seen.values()) {
      expect(p.cmdline.join(" ")).not.toContain(CANARY_PASSWORD);
      expect(p.cmdline).not.toContain("-P");
    }
    expect(ctx.records.length).toBe(6);
    for (const r of ctx.records) {
      expect(r.args.join(" ")).not.toContain(CANARY_PASSWORD);
      expect(r.args).not.toContain("-P");
      expect(r.input ?? "").not.toContain(CANARY_PASSWORD);
      // the operator's variable is removed; the password travels only as IPMI_PASSWORD
      expect(r.env).toHaveProperty(PW_VAR, undefined);
      expect(Object.entries(r.env ?? {}).filter(([, v]) => v === CANARY_PASSWORD)).toEqual([
        ["IPMI_PASSWORD", CANARY_PASSWORD],
      ]);
    }

    // the live ipmitool's environment: IPMI_PASSWORD (the channel), not the operator's variable
    for (const p of ipmitools) {
      expect(p.environ).toContain(`IPMI_PASSWORD=${CANARY_PASSWORD}`);
      expect(p.environ.some((e) => e.startsWith(`${PW_VAR}=`))).toBe(false);
      expect(p.environ.some((e) => e.startsWith("IPMITOOL_PASSWORD="))).toBe(false);
    }

    // outputs, errors, what the BMC side logged, the driver's label
    const everything = [
      ctx.out.all(),
      ...errors,
      d.label,
      ...ctx.records.map((r) => `${r.result?.stdout ?? ""}${r.result?.stderr ?? ""}`),
      sim.calls().join("\n"),
      sim.output(),
    ].join("\n");
    expect(everything).not.toContain(CANARY_PASSWORD);
    expect(errors.every((e) => !e.includes("\n"))).toBe(true);

    // nothing the run wrote (the simulator's state dir and power files) holds it
    const written = fs
      .readdirSync(sim.dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name !== "lan.conf") // lan.conf is the BMC's own user table
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"));
    expect(written.join("\n")).not.toContain(CANARY_PASSWORD);
  });

  it("the driver never puts the password into this process's environment: unrelated children do not get IPMI_PASSWORD", async () => {
    const ctx = realContext({ env: process.env });
    await new IpmiDriver(target({ user: CANARY_USER }), ctx).state();
    expect(process.env.IPMI_PASSWORD).toBeUndefined();
    const unrelated = await realExec({ file: "env", args: [], timeoutMs: 5_000 });
    expect(unrelated.stdout).not.toMatch(/^IPMI_PASSWORD=/m);
    expect(unrelated.stdout).not.toMatch(/^IPMITOOL_PASSWORD=/m);
  });

  it("an unrelated child does not inherit the operator's password variable (named in COLDSTART_SECRET_VARS by the graph)", async () => {
    expect(NEVER_INHERITED.test(PW_VAR)).toBe(false); // a name the heuristic cannot guess...
    process.env[SECRET_VARS] = `OTHER_VAR,${PW_VAR}`; // ...so the graph names it
    try {
      const unrelated = await realExec({ file: "env", args: [], timeoutMs: 5_000 });
      expect(process.env[PW_VAR]).toBe(CANARY_PASSWORD);
      expect(unrelated.stdout).not.toContain(CANARY_PASSWORD);
    } finally {
      delete process.env[SECRET_VARS];
    }
  });

  it.each(["IPMI_PASSWORD_OPENSTACK0", "MAAS_API_KEY", "VAULT_TOKEN", "COLDSTART_UNSEAL_KEY_1"])(
    "never passes %s on to a child by inheritance",
    async (name) => {
      process.env[name] = "PLANTED-inherited-secret";
      try {
        const unrelated = await realExec({ file: "env", args: [], timeoutMs: 5_000 });
        expect(unrelated.stdout).not.toContain("PLANTED-inherited-secret");
      } finally {
        delete process.env[name];
      }
    },
  );
});

describe("ipmitool output parsers on the recorded captures", () => {
  it("parses `chassis power status` from stdout only", () => {
    expect(parseChassisPowerStatus(readFixture("ipmitool/chassis-power-status-on.stdout"))).toBe("on");
    expect(parseChassisPowerStatus(readFixture("ipmitool/chassis-power-status-off.stdout"))).toBe("off");
    expect(parseChassisPowerStatus(readFixture("ipmitool/chassis-power-status-on-cipher-warning.stdout"))).toBe("on");
    expect(parseChassisPowerStatus(readFixture("ipmitool/chassis-power-status-on-cipher-warning.stderr"))).toBe(
      undefined,
    );
    expect(parseChassisPowerStatus(readFixture("ipmitool/chassis-status-on.stdout"))).toBe(undefined);
    expect(parseChassisPowerStatus("")).toBe(undefined);
  });

  it("parses `chassis power on|off|soft` replies", () => {
    expect(parseChassisControl(readFixture("ipmitool/chassis-power-on.stdout"))).toBe("Up/On");
    expect(parseChassisControl(readFixture("ipmitool/chassis-power-off.stdout"))).toBe("Down/Off");
    expect(parseChassisControl(readFixture("ipmitool/chassis-power-soft.assembled.stdout"))).toBe("Soft");
    expect(parseChassisControl(readFixture("ipmitool/chassis-power-soft-ipmi_sim-rejected.stdout"))).toBe(undefined);
  });

  it("without -v the session failure is the same for a bad password and an unreachable BMC; -v tells them apart", () => {
    expect(HMAC_INVALID.test(readFixture("ipmitool/bad-password-lanplus-verbose.stderr"))).toBe(true);
    expect(UNAUTHORIZED_NAME.test(readFixture("ipmitool/unknown-user-lanplus-verbose.stderr"))).toBe(true);
    for (const f of ["unreachable-bmc-lanplus-verbose", "chassis-power-status-off-verbose"]) {
      expect(HMAC_INVALID.test(readFixture(`ipmitool/${f}.stderr`))).toBe(false);
      expect(UNAUTHORIZED_NAME.test(readFixture(`ipmitool/${f}.stderr`))).toBe(false);
    }
    expect(ADDRESS_LOOKUP_FAILED.exec(readFixture("ipmitool/address-lookup-failed-lanplus.stderr"))?.[1]).toBe(
      "nosuchhost.invalid",
    );
    const bad = readFixture("ipmitool/bad-password-lanplus.stderr");
    const unreachable = readFixture("ipmitool/unreachable-bmc-lanplus.stderr");
    expect(bad).toBe(unreachable);
    expect(SESSION_FAILED.test(bad)).toBe(true);
    expect(SESSION_FAILED.test("Error: Unable to establish IPMI v1.5 / RMCP session")).toBe(true);
    expect(SESSION_FAILED.test(readFixture("ipmitool/chassis-power-off.stderr"))).toBe(false);
  });

  it("replays every capture through the driver", async () => {
    const replay =
      (name: string): Exec =>
      async () => ({
        exitCode: Number(readFixture(`ipmitool/${name}.rc`)),
        stdout: readFixture(`ipmitool/${name}.stdout`),
        stderr: fs.existsSync(fixturePath(`ipmitool/${name}.stderr`)) ? readFixture(`ipmitool/${name}.stderr`) : "",
        timedOut: false,
        notFound: false,
      });
    const make = (name: string) =>
      new IpmiDriver(target({ port: 623, bmc: "10.20.0.13" }), {
        exec: replay(name),
        clock: realContext().clock,
        env: { [PW_VAR]: "pw" },
        out: captureReporter(),
        callTimeoutMs: 5_000,
      });
    await expect(make("chassis-power-status-on").state()).resolves.toBe("on");
    await expect(make("chassis-power-status-off").state()).resolves.toBe("off");
    await expect(make("chassis-power-status-on-cipher-warning").state()).resolves.toBe("on");
    await expect(make("chassis-power-on").on()).resolves.toBeUndefined();
    await expect(make("chassis-power-off").off(false)).resolves.toBeUndefined();
    await expect(make("chassis-power-off").off(true)).rejects.toThrow(/expected "Chassis Power Control: Soft"/);
    await expect(make("bad-password-lanplus").state()).rejects.toThrow(
      /^cannot authenticate to or reach the BMC 10\.20\.0\.13:623 for openstack0 \(ipmi\)/,
    );
    await expect(make("unreachable-bmc-lanplus").on()).rejects.toThrow(
      /^cannot authenticate to or reach the BMC 10\.20\.0\.13:623 for openstack0 \(ipmi\)/,
    );
    // the -v captures: the -v noise on stderr is not an error; the decisive lines are
    await expect(make("chassis-power-status-off-verbose").state()).resolves.toBe("off");
    await expect(make("bad-password-lanplus-verbose").state()).rejects.toMatchObject({
      permanent: true,
      message: expect.stringContaining("(RAKP 2 HMAC is invalid): wrong password in environment variable"),
    });
    await expect(make("unknown-user-lanplus-verbose").state()).rejects.toMatchObject({
      permanent: true,
      message: expect.stringContaining("refused user ipmiusr (RAKP 2: unauthorized name)"),
    });
    await expect(make("unreachable-bmc-lanplus-verbose").state()).rejects.toMatchObject({
      permanent: false,
      message: expect.stringContaining("no session (Get Auth Capabilities error)"),
    });
    await expect(make("address-lookup-failed-lanplus").state()).rejects.toMatchObject({
      permanent: true,
      message: expect.stringContaining("(ipmitool: Address lookup for nosuchhost.invalid failed)"),
    });
  });
});
