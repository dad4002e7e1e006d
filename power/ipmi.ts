/**
 * ipmi driver: a host's BMC over IPMI v2.0 lanplus, through ipmitool:
 *
 *   ipmitool -I lanplus -C <cipherSuite> -H <bmc> -p <port> -U <user> -N 1 -R 1 -E  chassis power status|on|off|soft
 *   ipmitool ...                                                           -f <file> chassis power ...
 *
 * The password reaches ipmitool only through the environment of that one child (`-E` reads
 * IPMI_PASSWORD; IPMITOOL_PASSWORD, which ipmitool would prefer, is removed) or through `-f
 * <file>` (ipmitool reads the file itself). Never `-P`: argv is world-readable in /proc. The
 * variable the operator exported the password in is removed from ipmitool's environment too.
 *
 * Output as ipmitool 1.8.19 prints it (fixtures/ipmitool): `Chassis Power is on|off` and
 * `Chassis Power Control: Up/On|Down/Off|Soft` on STDOUT; stderr may carry harmless warnings
 * (`Unable to Get Channel Cipher Suites`), so only stdout is parsed. `-N 1 -R 1` (1 s timeout,
 * 1 retry) make an unreachable BMC fail in ~2 s instead of ~20 s.
 *
 * A wrong user, a wrong password and an unreachable BMC all end in the same `Error: Unable to
 * establish IPMI v2 / RMCP+ session`; only `-v` (log level LOG_INFO, lib/log.c log_init) shows why,
 * on stderr, so every call runs with -v and the decisive line is picked out (ipmitool 1.8.19,
 * src/plugins/lanplus/lanplus.c; test/recorded/ipmitool):
 * - `RAKP 2 message indicates an error : unauthorized name` (unknown user) and `> RAKP 2 HMAC is
 *   invalid` (wrong password): permanent, the step stops at once;
 * - `Address lookup for <bmc> failed` (src/plugins/ipmi_intf.c ipmi_intf_socket_connect, printed
 *   even without -v, before the generic session error): permanent;
 * - `Get Auth Capabilities error` (no answer): transient, the BMC may be busy or rebooting;
 * - `Set Chassis Power Control to Soft failed: <completion code>` (lib/ipmi_chassis.c: the BMC
 *   ANSWERED, with an error) is a definitive refusal of the soft-off only for a code no retry can
 *   change (invalid command or data, not supported, disabled, no privilege); busy, timeout, in
 *   progress and unknown codes are transient, like `Unable to set Chassis Power Control to Soft`
 *   (no answer): power/ipmi-completion-codes.ts.
 */
import { describeExit } from "../runtime/exec";
import { cutAtDeadline } from "../runtime/tool-error";
import { excerpt } from "../runtime/excerpt";
import type { StepContext } from "../runtime/step-context";
import { PowerError, type PowerDriver, type PowerState } from "./driver";
import { readSecret, redact, secretFilePath, secretWhere, type SecretRef } from "./credentials";
import { UsageError } from "../config/errors";
import { formatDuration } from "../config/duration";
import { classifySoftRefusal, formatCode } from "./ipmi-completion-codes";

export interface IpmiTarget {
  host: string;
  bmc: string;
  port: number;
  user: string;
  cipherSuite: number;
  /** Exactly one of passwordFile / passwordEnv. */
  passwordFile?: string;
  passwordEnv?: string;
}

/** The variable ipmitool's `-E` reads. */
export const IPMITOOL_PASSWORD_VAR = "IPMI_PASSWORD";
/** ipmitool's `-E` prefers this one over IPMI_PASSWORD: never let an inherited one win. */
const IPMITOOL_PREFERRED_VAR = "IPMITOOL_PASSWORD";
/** lanplus refuses longer passwords ("lanplus: password is longer than 20 bytes."). */
const MAX_PASSWORD_BYTES = 20;

/** `-N 1 -R 1`: per-message timeout 1 s, one retry. */
export const IPMI_TIMEOUT_ARGS = ["-N", "1", "-R", "1"] as const;
/** `-v`: the lanplus session's reason for failing (LOG_INFO lines on stderr). */
export const IPMI_VERBOSE_ARGS = ["-v"] as const;

/** ipmitool could not resolve the BMC's name. */
export const ADDRESS_LOOKUP_FAILED = /^Address lookup for (.+) failed$/m;
/** RAKP 2 refused the user name (lanplus.c, LOG_INFO). */
export const UNAUTHORIZED_NAME = /RAKP 2 message indicates an error : unauthorized name/;
/** RAKP 2's HMAC did not match: the password is wrong (lanplus.c, LOG_INFO). */
export const HMAC_INVALID = /RAKP 2 HMAC is invalid/;
/** The BMC answered a chassis control with a completion code (ipmi_chassis.c). */
const CONTROL_REFUSED = /^Set Chassis Power Control to (\S+) failed: (.+)$/m;

export type ChassisCommand = "status" | "on" | "off" | "soft";

/** `Chassis Power is on|off` (stdout of `chassis power status`). */
export function parseChassisPowerStatus(stdout: string): PowerState | undefined {
  const m = /^Chassis Power is (on|off)\s*$/m.exec(stdout);
  return m ? (m[1] as PowerState) : undefined;
}

/** What `chassis power <cmd>` prints when the BMC accepted it. */
const CONTROL_REPLY: Record<Exclude<ChassisCommand, "status">, string> = {
  on: "Up/On",
  off: "Down/Off",
  soft: "Soft",
};

export function parseChassisControl(stdout: string): string | undefined {
  return /^Chassis Power Control: (\S+)\s*$/m.exec(stdout)?.[1];
}

/** The session could not be set up: wrong user/password, wrong cipher suite, or no BMC there. */
export const SESSION_FAILED = /Unable to establish IPMI v(?:2|1\.5) \/ RMCP\+? session/;

/** stderr lines that say nothing about the result (the last four: what -v prints on every call). */
const HARMLESS_STDERR = [
  /^Unable to Get Channel Cipher Suites$/,
  /^Get Session Challenge command failed$/,
  /^Loading IANA PEN Registry/,
  /^Running Get /,
  /^Invalid completion code received: Invalid command$/,
  /^Discovered IPMB address/,
];

function firstProblem(stderr: string, stdout: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !HARMLESS_STDERR.some((re) => re.test(l)));
  // split always gives at least one element (maybe "")
  return lines[0] ?? stdout.trim().split("\n")[0]!;
}

export class IpmiDriver implements PowerDriver {
  readonly label: string;
  private readonly secret: SecretRef;

  constructor(
    private readonly target: IpmiTarget,
    private readonly ctx: StepContext,
  ) {
    this.label = `${target.host} via ipmi (BMC ${target.bmc}:${target.port})`;
    this.secret = {
      host: target.host,
      driver: "ipmi",
      what: "BMC password",
      file: target.passwordFile,
      env: target.passwordEnv,
    };
  }

  /** The argv (no secret in it) and the child's environment changes (the secret, when -E). */
  private request(command: ChassisCommand): {
    args: string[];
    env: Record<string, string | undefined>;
    password: string;
  } {
    const t = this.target;
    const password = readSecret(this.secret, this.ctx.env);
    if (Buffer.byteLength(password, "utf8") > MAX_PASSWORD_BYTES)
      throw new UsageError(
        `${t.host} (ipmi): the BMC password in ${secretWhere(this.secret)} is longer than ${MAX_PASSWORD_BYTES} bytes; ` +
          `IPMI v2.0 (lanplus) passwords are at most ${MAX_PASSWORD_BYTES}`,
      );
    const base = ["-I", "lanplus", "-C", String(t.cipherSuite), "-H", t.bmc, "-p", String(t.port), "-U", t.user];
    const env: Record<string, string | undefined> = { [IPMITOOL_PREFERRED_VAR]: undefined };
    // The operator's variable never reaches the child under its own name.
    if (t.passwordEnv !== undefined) env[t.passwordEnv] = undefined;
    let auth: string[];
    if (t.passwordFile !== undefined) {
      // ipmitool -f reads the first line, at most 20 bytes, up to the first CR/LF/TAB.
      if (/[\r\n\t]/.test(password))
        throw new UsageError(
          `${t.host} (ipmi): the BMC password file ${t.passwordFile} must hold the password on one line ` +
            `(ipmitool -f reads only up to the first newline or tab)`,
        );
      auth = ["-f", secretFilePath(this.secret, this.ctx.env)];
      env[IPMITOOL_PASSWORD_VAR] = undefined;
    } else {
      auth = ["-E"];
      env[IPMITOOL_PASSWORD_VAR] = password;
    }
    return {
      args: [...base, ...IPMI_TIMEOUT_ARGS, ...auth, ...IPMI_VERBOSE_ARGS, "chassis", "power", command],
      env,
      password,
    };
  }

  private async ipmitool(command: ChassisCommand): Promise<string> {
    const t = this.target;
    const { args, env, password } = this.request(command);
    const res = await this.ctx.exec({ file: "ipmitool", args, env, timeoutMs: this.ctx.callTimeoutMs });
    const what = `ipmitool chassis power ${command}`;
    if (res.notFound)
      throw new PowerError(`${this.label}: ipmitool is not installed on this machine (package ipmitool)`, true);
    if (cutAtDeadline(res))
      throw new PowerError(`${this.label}: ${what} ${describeExit(res, this.ctx.callTimeoutMs)}`, false, true);
    if (res.startError) throw new PowerError(`${this.label}: ipmitool ${describeExit(res)}`, true);
    if (res.timedOut)
      throw new PowerError(
        `${this.label}: ${what} gave no answer within ${formatDuration(this.ctx.callTimeoutMs)} (killed)`,
      );
    // cut at the cap and killed: nothing it printed can be trusted (transient, like no answer)
    if (res.overflow) throw new PowerError(`${this.label}: ${what} ${describeExit(res)}`);
    const lookup = ADDRESS_LOOKUP_FAILED.exec(res.stderr);
    if (lookup)
      throw new PowerError(
        `${this.label}: the BMC address ${t.bmc} does not resolve (ipmitool: ${lookup[0]}): fix bmc in the stack config or the jumphost's DNS`,
        true,
      );
    if (SESSION_FAILED.test(res.stderr) || SESSION_FAILED.test(res.stdout)) {
      if (UNAUTHORIZED_NAME.test(res.stderr))
        throw new PowerError(
          `the BMC ${t.bmc}:${t.port} for ${t.host} (ipmi) refused user ${t.user} (RAKP 2: unauthorized name): wrong user in the stack config`,
          true,
        );
      if (HMAC_INVALID.test(res.stderr))
        throw new PowerError(
          `the BMC ${t.bmc}:${t.port} for ${t.host} (ipmi) refused the password of user ${t.user} (RAKP 2 HMAC is invalid): ` +
            `wrong password in ${secretWhere(this.secret)}`,
          true,
        );
      throw new PowerError(
        `cannot authenticate to or reach the BMC ${t.bmc}:${t.port} for ${t.host} (ipmi): ` +
          `no session (${excerpt(redact(firstProblem(res.stderr, res.stdout), password))}): the BMC is down, busy or unreachable, ` +
          `or cipher suite ${t.cipherSuite} is not offered`,
      );
    }
    if (res.exitCode !== 0) {
      const why = excerpt(redact(firstProblem(res.stderr, res.stdout), password));
      const refused = CONTROL_REFUSED.exec(res.stderr);
      // a completion code refuses the soft-off for good only if no retry can change it
      const code = command === "soft" && refused !== null ? classifySoftRefusal(refused[2]!) : undefined;
      const softRefused = code?.kind === "definitive";
      const hint = !code
        ? ""
        : softRefused
          ? " (this BMC refused a soft, ACPI power-off)"
          : ` (${code.code !== undefined ? `completion code ${formatCode(code.code)}: ` : ""}${code.why}; the soft-off is tried again)`;
      throw new PowerError(
        `${this.label}: ${what} failed (${describeExit(res)})${why ? `: ${why}` : ""}${hint}`,
        false,
        false,
        softRefused,
      );
    }
    return res.stdout;
  }

  async state(): Promise<PowerState> {
    const out = await this.ipmitool("status");
    const state = parseChassisPowerStatus(out);
    if (!state)
      throw new PowerError(
        `${this.label}: ipmitool chassis power status printed ${JSON.stringify(out.trim())}, expected "Chassis Power is on|off"`,
      );
    return state;
  }

  async on(): Promise<void> {
    await this.control("on");
  }

  /** graceful: `chassis power soft` (ACPI soft-off, the OS shuts down); otherwise `chassis power off`. */
  async off(graceful: boolean): Promise<void> {
    await this.control(graceful ? "soft" : "off");
  }

  private async control(command: Exclude<ChassisCommand, "status">): Promise<void> {
    const out = await this.ipmitool(command);
    const reply = parseChassisControl(out);
    if (reply !== CONTROL_REPLY[command])
      throw new PowerError(
        `${this.label}: ipmitool chassis power ${command} printed ${JSON.stringify(out.trim())}, ` +
          `expected "Chassis Power Control: ${CONTROL_REPLY[command]}"`,
      );
  }
}
