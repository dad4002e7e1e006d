/**
 * The fault campaign's pure part (issue #23 item 2): which calls of a reference drill are kill
 * points, which calls are state-changing requests (and to which target), and how a killed-then-
 * resumed window's requests compare with the reference's. No I/O here: scripts/campaign/run.ts
 * runs the drills.
 */
import * as z from "zod";
import { callText } from "../../drill/at-call";

/** One line of the sim's call log (sim/call-log.ts), the fields the campaign reads. */
export const loggedCall = z.object({
  tool: z.string(),
  argv: z.array(z.string()),
  step: z.string().optional(),
  exitCode: z.number().nullable().optional(),
});
export type LoggedCall = z.infer<typeof loggedCall>;

/** calls.jsonl as text -> its calls (a torn last line, from a kill while appending, is skipped). */
export function parseCallLog(text: string): LoggedCall[] {
  const out: LoggedCall[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const call = loggedCall.safeParse(json);
    if (call.success) out.push(call.data);
  }
  return out;
}

/** The runbook's steps that change the cloud (README "When a step is killed outright"). */
export const STATE_CHANGING_STEP =
  /^(hold-guests|power-off-.+|power-on-.+|mysql-reboot-cluster|vault-unseal|ovn-tls-sweep|start-shutoff-guests|lb-failover)$/;

/**
 * The state-changing request a call is, as `<verb> <target>` (one key per request kind and
 * target), or undefined for a read. What differs between attempts of one request (juju's
 * `--wait` budget, the key sent on stdin) is left out.
 */
export function requestOf(call: LoggedCall): string | undefined {
  const a = call.argv;
  switch (call.tool) {
    case "virsh": {
      const verb = a.find((x) => ["shutdown", "destroy", "start", "reboot", "reset"].includes(x));
      return verb ? `virsh ${verb} ${a[a.length - 1]}` : undefined;
    }
    case "ipmitool": {
      const i = a.indexOf("power");
      const verb = i >= 0 ? a[i + 1] : undefined;
      const host = a[a.indexOf("-H") + 1] ?? "?";
      return verb && verb !== "status" ? `ipmitool power ${verb} ${host}` : undefined;
    }
    case "openstack": {
      if (a[0] === "server" && ["stop", "start", "reboot"].includes(a[1] ?? "")) return `server ${a[1]} ${a[2]}`;
      if (a[0] === "loadbalancer" && a[1] === "failover") return `loadbalancer failover ${a[2]}`;
      return undefined;
    }
    case "juju": {
      const [unit, action] = positionals(a);
      if (a[0] === "run") return `juju run ${unit ?? "?"} ${action ?? "?"}`;
      const text = a.join(" ");
      if (a[0] === "exec" && /systemctl (re)?start/.test(text))
        return `juju exec ${a[a.indexOf("--unit") + 1] ?? "?"} ${text.slice(text.indexOf("systemctl"))}`;
      if (a[0] === "ssh" && /\/v1\/sys\/unseal\b/.test(text)) return `vault unseal ${unit ?? "?"}`;
      return undefined;
    }
    default:
      return undefined;
  }
}

/** A juju command's positional arguments after its subcommand, up to `--` (`-m M`, `--unit U` skipped). */
function positionals(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (arg === "-m" || arg === "--unit") i++;
    else if (!arg.startsWith("-")) out.push(arg);
  }
  return out;
}

/** How many times each request was sent. */
export function countRequests(calls: readonly LoggedCall[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const r = requestOf(call);
    if (r) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return counts;
}

/**
 * The requests whose count differs from the reference run's (a run with no kill): the killed
 * window must send each exactly as often. More = a request sent again; fewer = one never sent.
 */
export function requestDiff(reference: Map<string, number>, window: Map<string, number>): string[] {
  const keys = new Set([...reference.keys(), ...window.keys()]);
  return [...keys]
    .sort()
    .flatMap((k) =>
      (reference.get(k) ?? 0) === (window.get(k) ?? 0)
        ? []
        : [`${k}: sent ${window.get(k) ?? 0}x, a run with no kill sends it ${reference.get(k) ?? 0}x`],
    );
}

/** One place to kill a drill: the step, and `--at-call` that selects the call (drill/at-call.ts). */
export interface KillPoint {
  step: string;
  atCall: string;
  /** Is the call a state-changing request (not a read)? */
  request: boolean;
}

/**
 * Every call of every state-changing step in a reference run's log, as a kill point: the call's
 * full text and its occurrence among the step's calls that start with that text.
 */
export function killPoints(calls: readonly LoggedCall[], step: RegExp = STATE_CHANGING_STEP): KillPoint[] {
  const seen = new Map<string, string[]>();
  const points: KillPoint[] = [];
  for (const call of calls) {
    if (!call.step || !step.test(call.step)) continue;
    const text = callText(call);
    const before = seen.get(call.step) ?? [];
    before.push(text);
    seen.set(call.step, before);
    const nth = before.filter((t) => t.startsWith(text)).length;
    points.push({ step: call.step, atCall: `${text}#${nth}`, request: requestOf(call) !== undefined });
  }
  return points;
}
