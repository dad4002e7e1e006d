/**
 * Issue #22: how the ipmi driver classifies what ipmitool answered -- permanent (the gate stops at
 * once), cut at the deadline, refused (power-off may cut power), or transient (retried) -- and
 * what the operator reads, for the answers the real BMC (ipmi_sim, test/power/ipmi.test.ts)
 * cannot be made to give: a deadline cut, a start failure, a session failure on stdout, a
 * password at lanplus's 20-byte limit, a control reply that is not the one asked for.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../config/errors";
import { PowerError } from "../../power/driver";
import { IpmiDriver, parseChassisControl, parseChassisPowerStatus, type IpmiTarget } from "../../power/ipmi";
import { BUDGET_SPENT } from "../../runtime/deadline";
import type { ExecRequest, ExecResult } from "../../runtime/exec";
import { readFixture } from "../fixtures";
import { fakeExec, testContext } from "../support/fake-exec";
import { failure } from "../support/failure";

const PW_VAR = "COLDSTART_TEST_BMC_PW";
const TARGET: IpmiTarget = {
  host: "openstack0",
  bmc: "10.20.0.13",
  port: 623,
  user: "admin",
  cipherSuite: 3,
  passwordEnv: PW_VAR,
};
const LABEL = "openstack0 via ipmi (BMC 10.20.0.13:623)";

type Reply = Partial<ExecResult>;

/** A driver whose every ipmitool call is answered with `reply` (stdout text, or the exec result's fields). */
function answering(reply: Reply | string, password = "pw", callTimeoutMs?: number) {
  const calls: ExecRequest[] = [];
  const ctx = testContext(fakeExec(), { env: { [PW_VAR]: password }, callTimeoutMs });
  ctx.exec = async (req) => {
    calls.push(req);
    const r = typeof reply === "string" ? { stdout: reply } : reply;
    return { exitCode: 0, stdout: "", stderr: "", timedOut: false, notFound: false, ...r };
  };
  return { calls, driver: new IpmiDriver(TARGET, ctx) };
}

/** ipmitool's answer replayed from test/recorded/ipmitool. */
function recorded(name: string): Reply {
  return {
    exitCode: Number(readFixture(`ipmitool/${name}.rc`)),
    stdout: readFixture(`ipmitool/${name}.stdout`),
    stderr: readFixture(`ipmitool/${name}.stderr`),
  };
}

describe("ipmitool that did not run to an answer", () => {
  it("cut at the step's deadline: a cut error (the gate reports the budget), neither permanent nor refused", async () => {
    const err = await failure(
      answering({ exitCode: null, timedOut: true, cutToMs: 4_000 }, "pw", 60_000).driver.off(true),
    );
    expect(err).toBeInstanceOf(PowerError);
    expect(err).toMatchObject({ cut: true, permanent: false, refused: false });
    expect(err.message).toBe(
      `${LABEL}: ipmitool chassis power soft no answer within 4s (timed out, killed; cut to what was left of the step's budget)`,
    );
  });

  it("not started because the step's budget was spent: cut, not a start failure", async () => {
    const err = await failure(answering({ exitCode: null, startError: BUDGET_SPENT }).driver.state());
    expect(err).toMatchObject({ cut: true, permanent: false });
    expect(err.message).toBe(`${LABEL}: ipmitool chassis power status could not start (${BUDGET_SPENT})`);
  });

  it("could not start (not executable): permanent, waiting cannot fix it", async () => {
    const err = await failure(answering({ exitCode: null, startError: "EACCES" }).driver.on());
    expect(err).toMatchObject({ cut: false, permanent: true, refused: false });
    expect(err.message).toBe(`${LABEL}: ipmitool could not start (EACCES)`);
  });

  it("not installed: permanent, naming the package", async () => {
    const err = await failure(answering({ notFound: true }).driver.state());
    expect(err).toMatchObject({ cut: false, permanent: true });
    expect(err.message).toBe(`${LABEL}: ipmitool is not installed on this machine (package ipmitool)`);
  });

  it("killed at the call timeout (not the deadline): transient, the timeout named", async () => {
    const err = await failure(answering({ exitCode: null, timedOut: true }, "pw", 90_000).driver.state());
    expect(err).toMatchObject({ cut: false, permanent: false, refused: false });
    expect(err.message).toBe(`${LABEL}: ipmitool chassis power status gave no answer within 90s (killed)`);
  });
});

describe("the BMC password: lanplus's 20-byte limit and ipmitool -f's one line", () => {
  it("a variable that is not set: a usage error naming the host, the secret and the variable; ipmitool not run", async () => {
    const calls: ExecRequest[] = [];
    const ctx = testContext(fakeExec(), { env: {} });
    ctx.exec = async (req) => {
      calls.push(req);
      throw new Error("not to be run");
    };
    const err = await failure(new IpmiDriver(TARGET, ctx).state());
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `openstack0 (ipmi): the BMC password variable ${PW_VAR} is not set in the environment of this run ` +
        "(export it in the shell that runs pulumi up)",
    );
    expect(calls).toEqual([]);
  });

  it("20 bytes is accepted, 21 refused; counted in UTF-8 bytes, not characters", async () => {
    const ok = answering("Chassis Power is on\n", "p".repeat(20));
    await expect(ok.driver.state()).resolves.toBe("on");
    expect(ok.calls[0]?.env).toMatchObject({ IPMI_PASSWORD: "p".repeat(20) });

    const long = answering("Chassis Power is on\n", "p".repeat(21));
    const err = await failure(long.driver.state());
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `openstack0 (ipmi): the BMC password in environment variable ${PW_VAR} is longer than 20 bytes; ` +
        "IPMI v2.0 (lanplus) passwords are at most 20",
    );
    expect(long.calls).toEqual([]);

    // 11 characters, 22 bytes
    const wide = answering("Chassis Power is on\n", "é".repeat(11));
    expect(await failure(wide.driver.state())).toBeInstanceOf(UsageError);
    expect(wide.calls).toEqual([]);
  });

  it("a password in the environment may hold a tab (-E passes it whole); the password never in argv", async () => {
    const { calls, driver } = answering("Chassis Power is on\n", "a\tb");
    await expect(driver.state()).resolves.toBe("on");
    // the keys set to undefined are REMOVED from ipmitool's environment: an inherited
    // IPMITOOL_PASSWORD would win over IPMI_PASSWORD, and the operator's variable stays behind
    expect(calls[0]?.env).toStrictEqual({ IPMI_PASSWORD: "a\tb", IPMITOOL_PASSWORD: undefined, [PW_VAR]: undefined });
    expect(calls[0]?.file).toBe("ipmitool");
    expect(calls[0]?.args).toEqual(
      ["-I", "lanplus", "-C", "3", "-H", "10.20.0.13", "-p", "623", "-U", "admin"].concat([
        "-N",
        "1",
        "-R",
        "1",
        "-E",
        "-v",
        "chassis",
        "power",
        "status",
      ]),
    );
    expect(calls[0]?.args.join(" ")).not.toContain("a\tb");
    expect(calls[0]?.timeoutMs).toBe(120_000);
  });

  describe("from a file (-f)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-ipmi-answers-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const fromFile = (content: string) => {
      fs.writeFileSync(path.join(dir, "pw"), content, { mode: 0o600 });
      const calls: ExecRequest[] = [];
      const ctx = testContext(fakeExec(), { env: { HOME: dir, IPMI_PASSWORD: "inherited" } });
      ctx.exec = async (req) => {
        calls.push(req);
        return { exitCode: 0, stdout: "Chassis Power is on\n", stderr: "", timedOut: false, notFound: false };
      };
      const { passwordEnv: _, ...target } = TARGET;
      return { calls, driver: new IpmiDriver({ ...target, passwordFile: "~/pw" }, ctx) };
    };

    it("ipmitool reads the file itself: -f <expanded path>, and no IPMI_PASSWORD reaches it", async () => {
      const { calls, driver } = fromFile("pw\n");
      await expect(driver.state()).resolves.toBe("on");
      expect(calls[0]?.args.slice(10, 16)).toEqual(["-N", "1", "-R", "1", "-f", path.join(dir, "pw")]);
      expect(calls[0]?.env).toStrictEqual({ IPMI_PASSWORD: undefined, IPMITOOL_PASSWORD: undefined });
    });

    it.each([
      ["a tab", "pass\tword"],
      ["a carriage return", "pass\rword"],
      ["a second line", "pass\nword\n"],
    ])("a file with %s is refused: ipmitool -f would read only up to it", async (_what, content) => {
      const { calls, driver } = fromFile(content);
      const err = await failure(driver.state());
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(
        "openstack0 (ipmi): the BMC password file ~/pw must hold the password on one line " +
          "(ipmitool -f reads only up to the first newline or tab)",
      );
      expect(calls).toEqual([]);
    });
  });
});

describe("the parsers read the line ipmitool prints, whole", () => {
  it("`Chassis Power is on|off`, with or without the newline, trailing blanks allowed", () => {
    expect(parseChassisPowerStatus("Chassis Power is on")).toBe("on");
    expect(parseChassisPowerStatus("warning\nChassis Power is off  \n")).toBe("off");
    for (const not of ["Chassis Power is onward\n", "Chassis Power is on-ish\n", "Last Chassis Power is on\n"])
      expect(parseChassisPowerStatus(not)).toBeUndefined();
  });

  it("`Chassis Power Control: <reply>`, with or without the newline, trailing blanks allowed", () => {
    expect(parseChassisControl("Chassis Power Control: Up/On")).toBe("Up/On");
    expect(parseChassisControl("Chassis Power Control: Down/Off  \n")).toBe("Down/Off");
    for (const not of ["Chassis Power Control: Up/On pending\n", "Set Chassis Power Control: Up/On\n"])
      expect(parseChassisControl(not)).toBeUndefined();
  });
});

describe("ipmitool's answers: which are permanent, which transient, what the operator reads", () => {
  it("a session failure printed on stdout (no -v detail on stderr) is still a session failure: transient", async () => {
    const err = await failure(
      answering({
        exitCode: 1,
        stdout: "Error: Unable to establish IPMI v2 / RMCP+ session\n",
        stderr: "",
      }).driver.state(),
    );
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(
      "cannot authenticate to or reach the BMC 10.20.0.13:623 for openstack0 (ipmi): " +
        "no session (Error: Unable to establish IPMI v2 / RMCP+ session): the BMC is down, busy or unreachable, " +
        "or cipher suite 3 is not offered",
    );
  });

  it("the session line quotes the first stderr line -v did not add, the password redacted", async () => {
    const { driver } = answering(
      {
        exitCode: 1,
        stdout: "",
        stderr:
          "\nLoading IANA PEN Registry...\nRunning Get PICMG Properties my_addr 0x20, transit 0, target 0x20\n" +
          "  BMC said s3cretpw is wrong  \nError: Unable to establish IPMI v2 / RMCP+ session\n",
      },
      "s3cretpw",
    );
    const err = await failure(driver.state());
    expect(err.message).toContain("no session (BMC said <redacted> is wrong)");
    expect(err.message).not.toContain("s3cretpw");
  });

  it("the recorded -v answers: a wrong password, an unknown user, a name that does not resolve -- permanent, the decisive line", async () => {
    const password = await failure(answering(recorded("bad-password-lanplus-verbose")).driver.state());
    expect(password).toMatchObject({ permanent: true, refused: false });
    expect(password.message).toBe(
      "the BMC 10.20.0.13:623 for openstack0 (ipmi) refused the password of user admin (RAKP 2 HMAC is invalid): " +
        `wrong password in environment variable ${PW_VAR}`,
    );
    const user = await failure(answering(recorded("unknown-user-lanplus-verbose")).driver.state());
    expect(user).toMatchObject({ permanent: true, refused: false });
    expect(user.message).toBe(
      "the BMC 10.20.0.13:623 for openstack0 (ipmi) refused user admin (RAKP 2: unauthorized name): wrong user in the stack config",
    );
    const lookup = await failure(answering(recorded("address-lookup-failed-lanplus")).driver.off(true));
    expect(lookup).toMatchObject({ permanent: true, refused: false });
    expect(lookup.message).toBe(
      `${LABEL}: the BMC address 10.20.0.13 does not resolve (ipmitool: Address lookup for nosuchhost.invalid failed): ` +
        "fix bmc in the stack config or the jumphost's DNS",
    );
    const unreachable = await failure(answering(recorded("unreachable-bmc-lanplus-verbose")).driver.state());
    expect(unreachable).toMatchObject({ permanent: false, refused: false });
    expect(unreachable.message).toBe(
      "cannot authenticate to or reach the BMC 10.20.0.13:623 for openstack0 (ipmi): no session (Get Auth Capabilities error): " +
        "the BMC is down, busy or unreachable, or cipher suite 3 is not offered",
    );
  });

  it("the recorded unreachable BMC without -v: the session line itself is what is quoted", async () => {
    const err = await failure(answering(recorded("unreachable-bmc-lanplus")).driver.state());
    expect(err).toMatchObject({ permanent: false });
    expect(err.message).toContain("no session (Error: Unable to establish IPMI v2 / RMCP+ session)");
  });

  it("a failed control with nothing on stderr quotes stdout's first line", async () => {
    const err = await failure(
      answering({ exitCode: 1, stdout: "\n  Chassis Power Control failed\nsecond line\n", stderr: "" }).driver.on(),
    );
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(`${LABEL}: ipmitool chassis power on failed (exited 1): Chassis Power Control failed`);
  });

  it("a failed call that printed nothing says only how it ended", async () => {
    const err = await failure(answering({ exitCode: 1, stdout: "", stderr: "" }).driver.off(false));
    expect(err.message).toBe(`${LABEL}: ipmitool chassis power off failed (exited 1)`);
  });

  it("a completion code on a HARD off is no refusal of a soft-off: no hint, not refused", async () => {
    const err = await failure(
      answering({
        exitCode: 1,
        stdout: "",
        stderr: "Set Chassis Power Control to Down/Off failed: Invalid data field in request\n",
      }).driver.off(false),
    );
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(
      `${LABEL}: ipmitool chassis power off failed (exited 1): ` +
        "Set Chassis Power Control to Down/Off failed: Invalid data field in request",
    );
  });

  it("a soft-off failing without a completion code (no answer): transient, no hint", async () => {
    const err = await failure(
      answering({ exitCode: 1, stdout: "", stderr: "Unable to set Chassis Power Control to Soft\n" }).driver.off(true),
    );
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(
      `${LABEL}: ipmitool chassis power soft failed (exited 1): Unable to set Chassis Power Control to Soft`,
    );
  });

  it("a soft-off refused with a text ipmitool does not name: transient, said so without a code", async () => {
    const err = await failure(
      answering({
        exitCode: 1,
        stdout: "",
        stderr: "Set Chassis Power Control to Soft failed: Frobnicated\n",
      }).driver.off(true),
    );
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(
      `${LABEL}: ipmitool chassis power soft failed (exited 1): Set Chassis Power Control to Soft failed: Frobnicated ` +
        "(not a completion code ipmitool names; the soft-off is tried again)",
    );
  });

  it("a soft-off refused with a transient code: the code and why, tried again", async () => {
    const err = await failure(
      answering({
        exitCode: 1,
        stdout: "",
        stderr: "Set Chassis Power Control to Soft failed: Node busy\n",
      }).driver.off(true),
    );
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toBe(
      `${LABEL}: ipmitool chassis power soft failed (exited 1): Set Chassis Power Control to Soft failed: Node busy ` +
        "(completion code 0xC0: the BMC is out of resources for this command just now; the spec says to retry; " +
        "the soft-off is tried again)",
    );
  });

  it("a status that does not parse, or a control reply that is not the one asked for: transient, quoted", async () => {
    const status = await failure(answering("Chassis Power is unknown\n").driver.state());
    expect(status).toMatchObject({ permanent: false, refused: false });
    expect(status.message).toBe(
      `${LABEL}: ipmitool chassis power status printed "Chassis Power is unknown", expected "Chassis Power is on|off"`,
    );
    const on = await failure(answering("Chassis Power Control: Down/Off\n").driver.on());
    expect(on.message).toBe(
      `${LABEL}: ipmitool chassis power on printed "Chassis Power Control: Down/Off", expected "Chassis Power Control: Up/On"`,
    );
    const off = await failure(answering("Chassis Power Control: Up/On\n").driver.off(false));
    expect(off.message).toBe(
      `${LABEL}: ipmitool chassis power off printed "Chassis Power Control: Up/On", expected "Chassis Power Control: Down/Off"`,
    );
    await expect(answering("Chassis Power Control: Soft\n").driver.off(true)).resolves.toBeUndefined();
  });
});
