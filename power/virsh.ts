/**
 * virsh driver: hosts that are libvirt domains (the prior build). `virsh -c <uri> start |
 * shutdown | destroy | domstate <domain>`. Output as libvirt 9 prints it; older libvirt prints
 * names without quotes and some versions capitalise domstate, so match loosely.
 */
import { describeExit } from "../runtime/exec";
import { cutAtDeadline } from "../runtime/tool-error";
import type { StepContext } from "../runtime/step-context";
import { PowerError, type PowerDriver, type PowerState } from "./driver";

export interface VirshTarget {
  host: string;
  uri: string;
  domain: string;
}

/** `virsh domstate` words that mean the guest (our host) is not running. */
const OFF_STATES = new Set(["shut off", "shutoff", "crashed", "pmsuspended"]);

export function parseDomstate(stdout: string): PowerState | undefined {
  const word = stdout.trim().split("\n")[0]?.trim().toLowerCase();
  if (word === undefined || word === "") return undefined;
  if (word === "running" || word === "paused" || word === "in shutdown" || word === "blocked") return "on";
  if (OFF_STATES.has(word)) return "off";
  return undefined;
}

export class VirshDriver implements PowerDriver {
  readonly label: string;
  constructor(
    private readonly target: VirshTarget,
    private readonly ctx: StepContext,
  ) {
    this.label = `${target.host} via virsh (${target.uri}, domain ${target.domain})`;
  }

  private async virsh(command: string) {
    const res = await this.ctx.exec({
      file: "virsh",
      args: ["-c", this.target.uri, command, this.target.domain],
      timeoutMs: this.ctx.callTimeoutMs,
    });
    if (res.notFound)
      throw new PowerError(`${this.label}: virsh is not installed on this machine (package libvirt-clients)`, true);
    if (cutAtDeadline(res))
      throw new PowerError(`${this.label}: virsh ${command} ${describeExit(res, this.ctx.callTimeoutMs)}`, false, true);
    if (res.startError) throw new PowerError(`${this.label}: virsh ${describeExit(res)}`, true);
    if (res.timedOut)
      throw new PowerError(
        `${this.label}: virsh ${command} gave no answer within ${Math.round(this.ctx.callTimeoutMs / 1000)}s`,
      );
    if (res.exitCode !== 0) {
      const why = (res.stderr.trim() || res.stdout.trim()).split("\n")[0] ?? "";
      // "failed to get domain": a wrong domain name in the stack config will not appear by waiting
      throw new PowerError(
        `${this.label}: virsh ${command} failed: ${why || describeExit(res)}`,
        /failed to get domain/.test(why),
      );
    }
    return res.stdout;
  }

  async state(): Promise<PowerState> {
    const out = await this.virsh("domstate");
    const state = parseDomstate(out);
    if (!state)
      throw new PowerError(
        `${this.label}: virsh domstate printed ${JSON.stringify(out.trim())}, expected running or shut off`,
      );
    return state;
  }

  async on(): Promise<void> {
    await this.virsh("start");
  }

  async off(graceful: boolean): Promise<void> {
    await this.virsh(graceful ? "shutdown" : "destroy");
  }
}
