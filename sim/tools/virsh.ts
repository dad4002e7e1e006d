/**
 * Simulated cloud -- the fake `virsh` (Shutdown sequence and Power-on of the prior build: hosts
 * are libvirt domains named like the hosts): domstate [--reason] / start / shutdown / destroy /
 * list --all, byte-for-byte like test/recorded/virsh (libvirt-clients 9.0.0: quoted names, a blank
 * line after every command's output, `error:` lines on stderr and a lone newline on stdout when a
 * command fails). `shutdown` is graceful: the domain stays `running` until the guest OS has
 * powered off. Messages from libvirt v9.0.0 (Debian source libvirt_9.0.0-4+deb12u2):
 * - start of a running domain: `error: Domain is already active` (tools/virsh-domain.c cmdStart);
 * - shutdown / destroy of a stopped one: `error: Failed to <verb> domain '<d>'` + `error: Requested
 *   operation is not valid: domain is not running` (src/conf/domain_conf.c virDomainObjCheckActive,
 *   as the qemu driver reports it);
 * - domstate --reason: `<state> (<reason>)` (tools/virsh-domain-monitor.c cmdDomstate; reasons
 *   booted / destroyed / shutdown / unknown as virshDomainStateReasonToString prints them);
 * - scenario transientPowerErrors: `error: Failed to <verb> domain '<d>'` + `error: Timed out during
 *   operation: cannot acquire state change lock` (src/conf/virdomainjob.c, VIR_ERR_OPERATION_TIMEOUT);
 * - scenario virshRaces: the domain reaches the wanted state just before the call arrives.
 */
import { powerOff, powerOn, requestShutdown, type SimState } from "../state";
import { fail, ok, parseArgs, runTool, type Session, type ToolContext, type ToolResult } from "./common";

const VALUED = ["-c", "--connect"];

function domainError(action: string, domain: string, why: string): ToolResult {
  return fail(`error: Failed to ${action} domain '${domain}'\nerror: ${why}\n`, 1, "\n");
}

/**
 * The hypervisor of this domain does not answer (scenario hosts.unreachableBmc): virsh's own two
 * lines when the connection cannot be made (tools/virsh.c virshReconnect; the shape of
 * test/recorded/virsh/connect-failed-qemu-ssh.*, libvirt-clients 9.0), here with ssh's
 * "No route to host" as the reason (ssh's wording, not captured).
 */
function unreachable(uri: string): ToolResult {
  const host = /^[a-z0-9+]+:\/\/(?:[^@/]*@)?([^/:]*)/.exec(uri)?.[1] || "localhost";
  return fail(
    `error: failed to connect to the hypervisor\nerror: Cannot recv data: ssh: connect to host ${host} port 22: No route to host: Connection reset by peer\n`,
  );
}

function lookup(s: SimState, domain: string): number | ToolResult {
  const i = s.hosts.findIndex((h) => h.name === domain);
  return i >= 0 ? i : fail(`error: failed to get domain '${domain}'\n`, 1, "\n");
}

function list(s: SimState): string {
  const rows = s.hosts.map((h, i) => [
    h.power === "on" ? String(i + 1) : "-",
    h.name,
    h.power === "on" ? "running" : "shut off",
  ]);
  const w = [2, 4, 5].map((min, c) => Math.max(min, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => ` ${r[0].padEnd(w[0])}   ${r[1].padEnd(w[1])}   ${r[2]}`.trimEnd();
  // vshTable: a rule as wide as the padded columns plus two
  const rule = "-".repeat(1 + w[0] + 3 + w[1] + 3 + w[2] + 2);
  return [line(["Id", "Name", "State"]), rule, ...rows.map(line)].join("\n") + "\n\n";
}

/** The reason `domstate --reason` shows, from the last power event of this host (sim/state.ts `why`). */
function reason(s: SimState, host: number): string {
  const h = s.hosts[host];
  const last = [...s.events].reverse().find((e) => e.what.startsWith(`${h.name} powered `));
  const why = last?.what ?? "";
  if (h.power === "on") return /powered on/.test(why) ? "booted" : "unknown";
  if (/destroy|stop_mode=hard/.test(why)) return "destroyed";
  if (/graceful shutdown completed/.test(why)) return "shutdown";
  return "unknown";
}

/** A transient fault for this call, counted down under the lock. */
function takeFault(st: SimState, host: number, call: "soft-off" | "hard-off" | "on"): boolean {
  const f = st.powerFaults?.find((x) => x.host === host && x.call === call && x.remaining > 0);
  if (!f) return false;
  f.remaining--;
  return true;
}

/** A race for this call: the domain gets to the wanted state on its own, just before the call. */
function takeRace(st: SimState, host: number, call: "shutdown" | "destroy" | "start", now: number): void {
  const r = st.virshRaces?.find((x) => x.host === host && x.call === call && !x.done);
  if (!r) return;
  r.done = true;
  if (call === "start") powerOn(st, host, now, "came back on by itself just before virsh start (race)");
  else powerOff(st, host, now, "went off by itself just before virsh " + call + " (race)");
}

const VERB_FAULT = { start: "on", shutdown: "soft-off", destroy: "hard-off" } as const;

function virsh(argv: string[], _stdin: string, session: Session): ToolResult {
  const args = parseArgs(argv, VALUED);
  const uri = args.options.get("-c") ?? args.options.get("--connect");
  const [command, domain] = args.positional;
  const { s } = session.read();
  if (uri !== undefined && uri !== s.virshUri) {
    return fail(`error: failed to connect to the hypervisor\nerror: no connection driver available for ${uri}\n`);
  }
  if (command === "list") return ok(list(s));
  if (!command || !["domstate", "start", "shutdown", "destroy"].includes(command)) {
    return fail(`error: unknown command: '${command ?? ""}'\n`);
  }
  if (!domain) return fail(`error: command '${command}' requires <domain> option\n`);
  const found = lookup(s, domain);
  if (typeof found !== "number") return found;
  if (s.hosts[found].bmcUnreachable) return unreachable(s.virshUri);
  if (command === "domstate") {
    const state = s.hosts[found].power === "on" ? "running" : "shut off";
    return ok(args.options.has("--reason") ? `${state} (${reason(s, found)})\n\n` : `${state}\n\n`);
  }
  const verb = command as "start" | "shutdown" | "destroy";
  return session.update((st, now) => {
    const h = st.hosts[found];
    if (takeFault(st, found, VERB_FAULT[verb]))
      return domainError(verb, domain, "Timed out during operation: cannot acquire state change lock");
    takeRace(st, found, verb, now);
    switch (verb) {
      case "start":
        if (h.power === "on") return fail("error: Domain is already active\n", 1, "\n");
        powerOn(st, found, now, "virsh start");
        return ok(`Domain '${domain}' started\n\n`);
      case "shutdown":
        if (h.power === "off")
          return domainError("shutdown", domain, "Requested operation is not valid: domain is not running");
        requestShutdown(st, found, now);
        return ok(`Domain '${domain}' is being shutdown\n\n`);
      default:
        if (h.power === "off")
          return domainError("destroy", domain, "Requested operation is not valid: domain is not running");
        powerOff(st, found, now, "virsh destroy");
        return ok(`Domain '${domain}' destroyed\n\n`);
    }
  });
}

export function main(argv: string[], stdin = "", ctx: ToolContext = {}): Promise<ToolResult> {
  return runTool("virsh", argv, stdin, ctx, virsh);
}
