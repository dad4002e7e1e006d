/**
 * Simulated cloud -- the fake `virsh` (Shutdown sequence and Power-on of the prior build: hosts
 * are libvirt domains named like the hosts): domstate / start / shutdown / destroy / list --all,
 * byte-for-byte like fixtures/virsh (quoted names, a blank line after every command's output).
 * `shutdown` is graceful: the domain stays `running` until the guest OS has powered off.
 */
import { powerOff, powerOn, requestShutdown, type SimState } from "../state";
import { fail, ok, parseArgs, runTool, type Session, type ToolContext, type ToolResult } from "./common";

const VALUED = ["-c", "--connect"];

function domainError(action: string, domain: string, why: string): ToolResult {
  return fail(
    `error: Failed to ${action} domain '${domain}'\nerror: Requested operation is not valid: ${why}\n`,
    1,
    "\n",
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
  if (command === "domstate") return ok(`${s.hosts[found].power === "on" ? "running" : "shut off"}\n\n`);
  return session.update((st, now) => {
    const h = st.hosts[found];
    switch (command) {
      case "start":
        if (h.power === "on") return domainError("start", domain, "domain is already running");
        powerOn(st, found, now, "virsh start");
        return ok(`Domain '${domain}' started\n\n`);
      case "shutdown":
        if (h.power === "off") return domainError("shutdown", domain, "domain is not running");
        requestShutdown(st, found, now);
        return ok(`Domain '${domain}' is being shutdown\n\n`);
      default:
        if (h.power === "off") return domainError("destroy", domain, "domain is not running");
        powerOff(st, found, now, "virsh destroy");
        return ok(`Domain '${domain}' destroyed\n\n`);
    }
  });
}

export function main(argv: string[], stdin = "", ctx: ToolContext = {}): Promise<ToolResult> {
  return runTool("virsh", argv, stdin, ctx, virsh);
}
