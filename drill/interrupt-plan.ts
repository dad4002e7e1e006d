/**
 * `drill --cancel-at/--kill-at <step> [--at-call <prefix>]`, checked against the stack's plan
 * before anything runs (issue #23): a rehearsal of a stop at a step that is not in the plan, or at
 * a call that step never makes, would run the whole drill and pass -- a rehearsal that did not
 * happen, read as passed. Pure: the plan comes in, a one-line usage error (or nothing) goes out.
 *
 * A call is matched as the engine matches it (drill/engine.ts watchCalls): the call log's
 * `<tool> <argv joined by spaces>` starts with the prefix. What each step can call is the table
 * below, by the step's `<verb> <command>` (and, for the power steps, its driver): the argv each
 * step's code builds (runtime/juju.ts, runtime/openstack.ts, power/*.ts, steps/baseline.ts).
 * test/drill/interruption-flags.test.ts checks every call of real drills against it.
 */
import { parseAtCall } from "./at-call";
import { UsageError } from "../config/errors";

export interface InterruptRequest {
  step: string;
  how: "cancel" | "kill";
  call?: string;
}

/** The parts of a plan step this needs (plan/model.ts PlanStep). */
export interface PlannedStep {
  name: string;
  verb: string;
  command: string;
  create: string;
}

/**
 * One call a step can make, as words: `*` is any one word, a final `...` any words after. The
 * tools' flags the steps always pass come first where the tool takes them first (`virsh -c URI`).
 */
type CallPattern = string;

const JUJU = (...subs: string[]): CallPattern[] => subs.map((s) => `juju ${s} ...`);
const OPENSTACK = (...subs: string[]): CallPattern[] => subs.map((s) => `openstack ${s} ...`);

/** Power steps by driver: power/virsh.ts, power/maas.ts (HTTP, logged as tool "maas"), power/ipmi.ts. */
const POWER: Record<string, Record<"off" | "on" | "state", CallPattern[]>> = {
  virsh: {
    off: ["virsh -c * domstate ...", "virsh -c * shutdown ...", "virsh -c * destroy ..."],
    on: ["virsh -c * domstate ...", "virsh -c * start ..."],
    state: ["virsh -c * domstate ..."],
  },
  maas: {
    off: ["maas GET * ...", "maas POST * ..."],
    on: ["maas GET * ...", "maas POST * ..."],
    state: ["maas GET * ..."],
  },
  ipmi: { off: ["ipmitool ..."], on: ["ipmitool ..."], state: ["ipmitool ..."] },
};

const CALLS: Record<string, CallPattern[]> = {
  "act baseline-capture": [
    ...JUJU("export-bundle", "show-model", "status"),
    ...OPENSTACK("loadbalancer amphora list", "loadbalancer list", "server list"),
  ],
  "act hold-guests": OPENSTACK("server list", "server show", "server stop"),
  "gate machines-started": JUJU("machines"),
  "check mysql-cluster": JUJU("status"),
  "act mysql-reboot-cluster-from-complete-outage": JUJU("status", "operations", "run", "show-task", "show-operation"),
  "gate mysql-cluster-online": JUJU("status"),
  "act vault-unseal": JUJU("status", "exec", "ssh"),
  "gate vault-unsealed": JUJU("status", "exec"),
  "check ovn-chassis": JUJU("status", "exec"),
  "act ovn-tls-sweep": JUJU("status", "exec"),
  "gate ovn-chassis-connected": JUJU("status", "exec"),
  "check nova-resume-flag": JUJU("config"),
  "act start-shutoff-guests": OPENSTACK("server list", "server show", "server start"),
  "gate guests-active": OPENSTACK("server list"),
  "act octavia-grace": OPENSTACK("loadbalancer list"),
  "act lb-failover": OPENSTACK("loadbalancer list", "loadbalancer show", "loadbalancer failover"),
  "gate lbs-active": OPENSTACK("loadbalancer list"),
  "gate cloud-assert": ["cloud-assert ..."],
};

/** The calls a planned step can make, or undefined for a step this table does not know. */
export function callsOf(step: PlannedStep): CallPattern[] | undefined {
  const key = `${step.verb} ${step.command}`;
  const driver = /--driver (\S+)/.exec(step.create)?.[1];
  const power =
    key === "act power-off" ? "off" : key === "act power-on" ? "on" : key === "gate power-state" ? "state" : undefined;
  if (power) return driver ? POWER[driver]?.[power] : undefined;
  return CALLS[key];
}

/** Whether a call of `pattern` can start with `prefix` (the last word of the prefix may be cut short). */
export function canStartWith(pattern: CallPattern, prefix: string): boolean {
  const want = pattern.split(" ");
  const have = prefix.split(" ");
  for (let i = 0; i < have.length; i++) {
    const p = want[i];
    const h = have[i]!;
    if (p === undefined) return false; // longer than every call of this pattern
    if (p === "...") return true;
    const last = i === have.length - 1;
    if (p === "*") continue;
    if (last ? !p.startsWith(h) : p !== h) return false;
  }
  return true;
}

/** Whether a logged call (`<tool> <argv...>`) is one of `patterns`. */
export function isCallOf(patterns: readonly CallPattern[], line: string): boolean {
  const words = line.split(" ");
  return patterns.some((pattern) => {
    const want = pattern.split(" ");
    for (let i = 0; i < want.length; i++) {
      if (want[i] === "...") return true;
      if (i >= words.length || (want[i] !== "*" && want[i] !== words[i])) return false;
    }
    return words.length === want.length;
  });
}

/**
 * The interruption flags as given, checked against the plan. Throws a UsageError (exit 2) naming
 * the flag and the fix; returns the request (or undefined when none was asked for).
 */
export function checkInterrupt(
  flags: { cancelAt?: string; killAt?: string; atCall?: string },
  plan: { stack: string; mode: string; steps: readonly PlannedStep[] },
): InterruptRequest | undefined {
  const { cancelAt, killAt, atCall } = flags;
  if (cancelAt !== undefined && killAt !== undefined)
    throw new UsageError("drill: --cancel-at and --kill-at: give one of them, not both");
  if (cancelAt === undefined && killAt === undefined) {
    if (atCall !== undefined)
      throw new UsageError(
        `drill: --at-call ${JSON.stringify(atCall)} goes with --cancel-at <step> or --kill-at <step> (which step's call); add one of them`,
      );
    return undefined;
  }
  const how = cancelAt !== undefined ? "cancel" : "kill";
  const name = (cancelAt ?? killAt)!;
  const flag = `--${how}-at`;
  const step = plan.steps.find((s) => s.name === name);
  if (!step)
    throw new UsageError(
      `drill: ${flag} ${name}: no such step in stack ${plan.stack}'s ${plan.mode} plan; give one of: ${plan.steps.map((s) => s.name).join(", ")} (or see: coldstart plan --stack ${plan.stack} --mode ${plan.mode})`,
    );
  const calls = callsOf(step);
  // `#N` picks the N-th such call (drill/at-call.ts): the step must be able to make the call itself
  if (atCall !== undefined && calls && !calls.some((c) => canStartWith(c, parseAtCall(atCall).prefix)))
    throw new UsageError(
      `drill: --at-call ${JSON.stringify(atCall)}: ${name} makes no call that starts with it; give the start of one of its calls: ${calls.map((c) => c.replace(/ \.\.\.$/, "")).join(", ")}${calls.some((c) => c.includes(" * ")) ? " (* = any word)" : ""}`,
    );
  return { step: name, how, ...(atCall !== undefined ? { call: atCall } : {}) };
}
