/**
 * Simulated cloud -- the fake `juju` (Stages 1-4, the nova config check of Stage 5, the baseline
 * capture): exactly the calls runtime/juju.ts makes, answered from the shared state in Juju 3's
 * formats. The controller is not on the hosts, so juju answers even with every host off (machines
 * down, agents lost). A wrong -m is `ERROR model "x" not found`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  machineStarted,
  rebootClusterFromCompleteOutage,
  restartChassis,
  restartNeutronServer,
  unsealReset,
  unsealWithKey,
  type SimState,
  type UnitRec,
} from "../state";
import { mysqlWritable } from "../views";
import {
  actionDoc,
  bundleDoc,
  configDoc,
  connectionStatusText,
  findUnit,
  isApplication,
  machinesDoc,
  showModelDoc,
  statusDoc,
  statusTable,
} from "../format/juju";
import * as vault from "../format/vault";
import { fail, ok, parseArgs, runTool, type Session, type ToolContext, type ToolResult } from "./common";

const VALUED = ["-m", "--model", "--format", "--unit", "-u", "--filename", "--output", "-o", "--wait"];
const EXIT_TRAILER = "; echo coldstart-exit=$?";
const CONNECTION_STATUS = "ovn-appctl -t ovn-controller connection-status";
const RESTART_CHASSIS = "systemctl restart ovs-vswitchd ovn-controller";
const RESTART_NEUTRON = "systemctl restart neutron-server";
const ACTION = "reboot-cluster-from-complete-outage";

const json = (doc: unknown) => ok(JSON.stringify(doc) + "\n");

/** The -m value must name this model (controller:model, controller:owner/model, or just model). */
function checkModel(s: SimState, given: string | undefined): ToolResult | null {
  if (given === undefined) return null;
  const colon = given.indexOf(":");
  const controller = colon >= 0 ? given.slice(0, colon) : s.controller;
  const model = (colon >= 0 ? given.slice(colon + 1) : given).replace(/^admin\//, "");
  if (controller !== s.controller) return fail(`ERROR controller "${controller}" not found\n`);
  if (model !== s.model) return fail(`ERROR model "${given}" not found\n`);
  return null;
}

function unreachable(unit: UnitRec): ToolResult {
  return fail(`ERROR timed out waiting for results from: unit ${unit.name}\n`);
}

/** `juju exec --unit U -- <command>`: the remote command's stdout; its exit code in the trailer when asked for. */
function exec(session: Session, unitName: string, command: string): ToolResult {
  const trailer = command.endsWith(EXIT_TRAILER);
  const inner = trailer ? command.slice(0, -EXIT_TRAILER.length) : command;
  const { s, now } = session.read();
  const found = findUnit(s, unitName);
  if (!found) return fail(`ERROR unit "${unitName}" not found\n`);
  const { app, unit } = found;
  if (!machineStarted(s, unit.machine, now)) return unreachable(unit);
  const remote = (stdout: string, code: number, stderr = ""): ToolResult =>
    trailer ? ok(`${stdout}coldstart-exit=${code}\n`, stderr) : { stdout, stderr, exitCode: code };
  const notFound = (program: string) => remote("", 127, `bash: line 1: ${program}: command not found\n`);

  // VAULT_ADDR=<any local listener> vault status [-format=json]: which listener answers is the charm's (format/vault.ts)
  const vaultStatus = vault.parseStatusCommand(inner);
  if (vaultStatus) {
    if (app !== "vault") return notFound("vault");
    const v = s.vault.units.find((x) => x.name === unit.name)!;
    const listener = vault.listenerAt(s, vaultStatus.url);
    if (listener === "plain-to-tls") return remote("", 1, vault.statusPlainToTls(vaultStatus.addr));
    if (listener === "refused")
      return remote(
        "",
        1,
        `Error checking seal status: Get "${vaultStatus.addr}/v1/sys/seal-status": dial tcp ${vaultStatus.url.host}:${vaultStatus.url.port}: connect: connection refused\n`,
      );
    if (!mysqlWritable(s, now)) {
      return remote(
        "",
        1,
        `Error checking seal status: Error making API request.\n\nURL: GET ${vaultStatus.addr}/v1/sys/seal-status\nCode: 500. Errors:\n\n* ${vault.STORAGE_DOWN}\n`,
      );
    }
    const text = vaultStatus.json ? vault.statusJson(s, v) : vault.statusTable(s, v);
    return remote(text, v.sealed ? 2 : 0);
  }
  if (inner === CONNECTION_STATUS) {
    if (app !== "ovn-chassis") return notFound("ovn-appctl");
    return remote(connectionStatusText(s, unit.name, now) ?? "", 0);
  }
  if (inner === RESTART_CHASSIS) {
    if (app !== "ovn-chassis")
      return remote("", 5, "Failed to restart ovn-controller.service: Unit ovn-controller.service not found.\n");
    session.update((st, t) =>
      restartChassis(
        st,
        st.ovn.chassis.findIndex((c) => c.name === unit.name),
        t,
      ),
    );
    return remote("", 0);
  }
  if (inner === RESTART_NEUTRON) {
    if (app !== "neutron-api")
      return remote("", 5, "Failed to restart neutron-server.service: Unit neutron-server.service not found.\n");
    session.update((st, t) => restartNeutronServer(st, unit.name, t));
    return remote("", 0);
  }
  return fail(`coldstart sim: juju exec: command not simulated on ${unit.name}: ${inner}\n`);
}

/** `juju ssh U -- curl … /v1/sys/unseal` with {"key": …} or {"reset": true} on stdin. */
function ssh(session: Session, unitName: string, command: string[], stdin: string): ToolResult {
  const { s, now } = session.read();
  const found = findUnit(s, unitName);
  if (!found) return fail(`ERROR unit "${unitName}" not found\n`);
  const { app, unit } = found;
  if (!machineStarted(s, unit.machine, now))
    return fail(`ERROR cannot connect to any address: [${unit.address}:22]\n`, 255);
  const arg = command.find((a) => vault.parseVaultUrl(a) !== undefined);
  const url = arg === undefined ? undefined : vault.parseVaultUrl(arg);
  if (command[0] !== "curl" || url === undefined) {
    return fail(`coldstart sim: juju ssh: command not simulated on ${unit.name}: ${command.join(" ")}\n`);
  }
  if (app !== "vault") return fail(vault.curlRefused(url), 7);
  const listener = vault.listenerAt(s, url);
  if (listener === "refused") return fail(vault.curlRefused(url), 7);
  // curl -sS without -f prints the body of Go's 400 and exits 0 (format/vault.ts PLAIN_HTTP_TO_TLS_BODY)
  if (listener === "plain-to-tls") return ok(vault.PLAIN_HTTP_TO_TLS_BODY);
  const put = command.includes("PUT");
  if (url.path === "/v1/sys/seal-status" && !put) {
    if (!mysqlWritable(s, now)) return ok(vault.errorBody(vault.STORAGE_DOWN));
    return ok(
      vault.sealStatusBody(
        s,
        s.vault.units.find((v) => v.name === unit.name)!,
      ),
    );
  }
  if (url.path !== "/v1/sys/unseal" || !put || !command.includes("@-")) {
    return fail(`coldstart sim: juju ssh: request not simulated: ${command.join(" ")}\n`);
  }
  let body: { key?: unknown; reset?: unknown };
  try {
    body = JSON.parse(stdin) as { key?: unknown; reset?: unknown };
  } catch {
    return ok(vault.errorBody("failed to parse JSON input: invalid character in request body"));
  }
  return session.update((st, t) => {
    const v = st.vault.units.find((x) => x.name === unit.name)!;
    if (!mysqlWritable(st, t)) return ok(vault.errorBody(vault.STORAGE_DOWN));
    if (body.reset === true) {
      unsealReset(v);
      return ok(vault.sealStatusBody(st, v));
    }
    if (typeof body.key !== "string" || body.key === "")
      return ok(vault.errorBody("'key' must be specified in request body as JSON, or 'reset' set to true"));
    const answer = unsealWithKey(st, v, body.key, t);
    return ok(answer.code === 200 ? vault.sealStatusBody(st, v) : vault.errorBody(answer.error));
  });
}

function runAction(session: Session, unitName: string, action: string): ToolResult {
  const { s, now } = session.read();
  const found = findUnit(s, unitName);
  if (!found) return fail(`ERROR unit "${unitName}" not found\n`);
  const { app, unit } = found;
  if (app !== "mysql-innodb-cluster" || action !== ACTION) {
    return fail(`ERROR invalid action: action "${action}" not defined on unit "${unit.name}"\n`);
  }
  if (!machineStarted(s, unit.machine, now)) return unreachable(unit);
  return session.update((st, t) => {
    const id = ++st.actionSeq;
    const result = rebootClusterFromCompleteOutage(st, unit.name, t);
    if (result.ok) return json(actionDoc(unit, id, t, { ok: true }));
    const doc = actionDoc(unit, id, t, { ok: false, wantedAddress: result.wantedAddress ?? "" });
    return {
      stdout: JSON.stringify(doc) + "\n",
      stderr: `ERROR the following task failed:\n id "${id}" with return code 1\n\nuse 'juju show-task' to inspect the failure\n`,
      exitCode: 1,
    };
  });
}

async function juju(argv: string[], stdin: string, session: Session): Promise<ToolResult> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest, VALUED);
  const format = args.options.get("--format") ?? args.options.get("-o");
  const { s, now } = session.read();
  const model = args.options.get("-m") ?? args.options.get("--model");

  switch (command) {
    case "machines":
    case "list-machines": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      return json(machinesDoc(s, now));
    }
    case "status": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      if (format === "json") return json(statusDoc(s, now, args.positional));
      if (format === "yaml") {
        const YAML = await import("yaml");
        return ok(YAML.stringify(statusDoc(s, now, args.positional)));
      }
      return ok(statusTable(s, now, args.positional));
    }
    case "config": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const app = args.positional[0];
      if (!app || !isApplication(app)) return fail(`ERROR application "${app ?? ""}" not found\n`);
      if (args.positional.length > 1) return fail("coldstart sim: juju config: setting options is not simulated\n");
      return json(configDoc(s, app));
    }
    case "run": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const [unit, action] = args.positional;
      if (!unit || !action) return fail("ERROR missing unit or action name\n", 2);
      return runAction(session, unit, action);
    }
    case "exec": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const unit = args.options.get("--unit") ?? args.options.get("-u");
      if (!unit || args.rest.length === 0) return fail("ERROR expected --unit <unit> -- <command>\n", 2);
      return exec(session, unit, args.rest.join(" "));
    }
    case "ssh": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const unit = args.positional[0];
      if (!unit) return fail("ERROR no target name specified\n", 2);
      return ssh(session, unit, args.rest.length > 0 ? args.rest : args.positional.slice(1), stdin);
    }
    case "export-bundle": {
      const bad = checkModel(s, model);
      if (bad) return bad;
      const file = args.options.get("--filename");
      const YAML = await import("yaml");
      const text = YAML.stringify(bundleDoc(s));
      if (!file) return ok(text);
      const target = path.resolve(session.cwd, file);
      fs.writeFileSync(target, text);
      return ok(`Bundle successfully exported to ${file}\n`);
    }
    case "show-model": {
      const bad = checkModel(s, args.positional[0] ?? model);
      if (bad) return bad;
      return json(showModelDoc(s));
    }
    default:
      return fail(`ERROR juju: "${command ?? ""}" is not a juju command. See "juju --help".\n`, 2);
  }
}

export function main(argv: string[], stdin = "", ctx: ToolContext = {}): Promise<ToolResult> {
  return runTool("juju", argv, stdin, ctx, juju);
}
