/**
 * virsh driver: hosts that are libvirt domains (the prior build). `virsh -c <uri> start |
 * shutdown | destroy | domstate --reason <domain>`. Output as libvirt 9.0 prints it
 * (test/recorded/virsh, captured with libvirt-clients 9.0.0-4+deb12u2); older libvirt prints names
 * without quotes and some versions capitalise domstate, so match loosely.
 *
 * What virsh says, from libvirt v9.0.0 (Debian source libvirt_9.0.0-4+deb12u2):
 * - every error is an `error: ...` line on stderr (tools/vsh.c vshError); a command that fails in
 *   the hypervisor prints two (`error: Failed to shutdown domain 'x'` + libvirt's reason), and ssh
 *   may put its own lines before them on a qemu+ssh URI: the message shows the `error:` lines;
 * - `error: failed to connect to the hypervisor` (tools/virsh.c virshReconnect) + the reason:
 *   waiting cannot fix a wrong URI, ssh key or daemon -- permanent, the gate stops at once;
 * - `error: failed to get domain '<d>'` (tools/virsh-domain.c virshLookupDomainInternal): permanent;
 * - `start` of a running domain: `error: Domain is already active` (tools/virsh-domain.c cmdStart,
 *   checked by virsh itself before any call); `shutdown`/`destroy` of a stopped one: `Requested
 *   operation is not valid: domain is not running` (src/conf/domain_conf.c virDomainObjCheckActive,
 *   src/qemu/qemu_driver.c qemuDomainShutdownFlagsMonitor; the test driver says `internal error:
 *   domain '<d>' not running`, src/test/test_driver.c). Both mean the domain is already in the
 *   wanted state (a race with a stale domstate): success, said so in a line;
 * - a shutdown the hypervisor cannot do at all (`this function is not supported by the connection
 *   driver`, VIR_ERR_NO_SUPPORT; `Operation not supported: ...`, VIR_ERR_OPERATION_UNSUPPORTED,
 *   src/util/virerror.c, as the error's own text) is a definitive refusal of the soft-off;
 * - anything else (e.g. `Timed out during operation: cannot acquire state change lock`,
 *   src/conf/virdomainjob.c) is transient.
 * `domstate --reason` prints `<state> (<reason>)` (tools/virsh-domain-monitor.c cmdDomstate).
 */
import { describeExit } from "../runtime/exec";
import { cutAtDeadline } from "../runtime/tool-error";
import { excerpt } from "../runtime/excerpt";
import type { StepContext } from "../runtime/step-context";
import { PowerError, type PowerDriver, type PowerState } from "./driver";

export interface VirshTarget {
  host: string;
  uri: string;
  domain: string;
}

/**
 * `virsh domstate` words (tools/virsh-domain-monitor.c virshDomainState strings: no state,
 * running, idle, paused, in shutdown, shut off, crashed, pmsuspended; older virsh: blocked).
 */
const ON_STATES = new Set(["running", "idle", "blocked", "paused", "in shutdown"]);
const OFF_STATES = new Set(["shut off", "shutoff", "crashed", "pmsuspended"]);

/** The state word of `domstate [--reason]`: "running (booted)" -> "running". */
export function domstateWord(stdout: string): string | undefined {
  const line = stdout
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (line === undefined) return undefined;
  // the line is trimmed: the reason ends it
  return line.replace(/\s*\([^)]*\)$/, "").toLowerCase();
}

export function parseDomstate(stdout: string): PowerState | undefined {
  const word = domstateWord(stdout);
  if (word === undefined) return undefined;
  if (ON_STATES.has(word)) return "on";
  if (OFF_STATES.has(word)) return "off";
  return undefined;
}

/** virsh's `error:` lines, joined; the whole stderr when it has none. */
export function virshErrors(stderr: string, stdout = ""): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const errors = lines.filter((l) => l.startsWith("error:"));
  // every part is trimmed already
  return excerpt((errors.length > 0 ? errors : lines.length > 0 ? lines : [stdout.trim()]).join(" "));
}

const CONNECT_FAILED = /failed to connect to the hypervisor/;
const NO_DOMAIN = /failed to get domain/;
const ALREADY_ACTIVE = /Domain is already active/;
const NOT_RUNNING = /domain is not running|domain '[^']*' not running/;
/**
 * libvirt's own error codes, as the message starts (src/util/virerror.c: VIR_ERR_NO_SUPPORT,
 * VIR_ERR_OPERATION_UNSUPPORTED) -- not an OS errno's strerror at the end of another error
 * (`...: Operation not supported`, EOPNOTSUPP), which says nothing about the shutdown itself.
 */
const SOFT_UNSUPPORTED =
  /(?:^|error: )(?:this function is not supported by the connection driver|Operation not supported:)/;

type VirshCommand = "domstate" | "start" | "shutdown" | "destroy";

export class VirshDriver implements PowerDriver {
  readonly label: string;
  constructor(
    private readonly target: VirshTarget,
    private readonly ctx: StepContext,
  ) {
    this.label = `${target.host} via virsh (${target.uri}, domain ${target.domain})`;
  }

  /** Run one virsh command; resolves with stdout, or with "already" when the domain was already in the wanted state. */
  private async virsh(command: VirshCommand): Promise<{ stdout: string; already?: string }> {
    const args = ["-c", this.target.uri, command, ...(command === "domstate" ? ["--reason"] : []), this.target.domain];
    const res = await this.ctx.exec({ file: "virsh", args, timeoutMs: this.ctx.callTimeoutMs });
    if (res.notFound)
      throw new PowerError(`${this.label}: virsh is not installed on this machine (package libvirt-clients)`, true);
    if (cutAtDeadline(res))
      throw new PowerError(`${this.label}: virsh ${command} ${describeExit(res, this.ctx.callTimeoutMs)}`, false, true);
    if (res.startError) throw new PowerError(`${this.label}: virsh ${describeExit(res)}`, true);
    if (res.timedOut)
      throw new PowerError(
        `${this.label}: virsh ${command} gave no answer within ${Math.round(this.ctx.callTimeoutMs / 1000)}s`,
      );
    // cut at the cap and killed: nothing it printed can be trusted (transient, like no answer)
    if (res.overflow) throw new PowerError(`${this.label}: virsh ${command} ${describeExit(res)}`);
    if (res.exitCode === 0) return { stdout: res.stdout };
    const why = virshErrors(res.stderr, res.stdout) || describeExit(res);
    if (command === "start" && ALREADY_ACTIVE.test(why)) return { stdout: res.stdout, already: why };
    if ((command === "shutdown" || command === "destroy") && NOT_RUNNING.test(why))
      return { stdout: res.stdout, already: why };
    const message = `${this.label}: virsh ${command} failed: ${why}`;
    if (CONNECT_FAILED.test(why) || NO_DOMAIN.test(why)) throw new PowerError(message, true);
    if (command === "shutdown" && SOFT_UNSUPPORTED.test(why)) throw new PowerError(message, false, false, true);
    throw new PowerError(message);
  }

  async state(): Promise<PowerState> {
    const { stdout } = await this.virsh("domstate");
    const state = parseDomstate(stdout);
    if (!state)
      throw new PowerError(
        `${this.label}: virsh domstate printed ${JSON.stringify(stdout.trim())}, expected running or shut off`,
      );
    return state;
  }

  async on(): Promise<void> {
    const r = await this.virsh("start");
    if (r.already)
      this.ctx.out.line(`${this.label}: virsh start: ${r.already} -- it is running already (the wanted state)`);
  }

  async off(graceful: boolean): Promise<string | void> {
    const command = graceful ? "shutdown" : "destroy";
    const r = await this.virsh(command);
    if (r.already) return `virsh ${command}: ${r.already} -- it is off already (the wanted state)`;
  }
}
