/**
 * The power steps done by hand (issue #24): per driver, the commands coldstart's own drivers send
 * (power/maas.ts, power/ipmi.ts, power/virsh.ts), with the host's settings from its flags. Light
 * on purpose: the stage files import it (types only from power-flags).
 *
 * - maas: the `maas` CLI, logged in once per procedure with the key on stdin (`maas login <profile>
 *   <url> -`: canonical/maas src/maascli/auth.py obtain_credentials reads one line from stdin when
 *   the credentials are "-"), never in argv. The CLI's verbs are the API's ops with `_` -> `-`
 *   (src/maascli/utils.py safe_name): `machine power-on|power-off|query-power-state <system_id>`;
 *   power_off takes `stop_mode=soft|hard` (src/maasserver/api/machines.py, default hard), exactly
 *   the form fields power/maas.ts POSTs. The URL is given with /api/2.0/ (older CLIs default to 1.0).
 * - ipmi: `ipmitool -I lanplus -H <bmc> -p <port> -U <user> -C <suite>` with the password from
 *   `-f <file>`, or `-E` with IPMI_PASSWORD set for that one command from the stack's variable.
 *   ipmitool's -E prefers IPMITOOL_PASSWORD over IPMI_PASSWORD (lib/ipmi_main.c), so the command
 *   unsets it (`env -u`), as the driver does. Never -P.
 * - virsh: `virsh -c <uri> start|shutdown|destroy|domstate --reason <domain>`.
 */
import type { ManualBlock } from "../manual";
import { shellWord } from "../manual";
import type { powerFlags } from "../power-flags";

/** A power step's host flags, as the stage passes them. */
export type PowerInput = ReturnType<typeof powerFlags>;

/** The `maas` CLI profile the procedures log in (one per jumphost user; logging in again replaces it). */
export const MAAS_PROFILE = "coldstart";
/** ipmitool's defaults in the config's powerSchema (port 623, cipher suite 3). */
const IPMI_PORT = 623;
const IPMI_CIPHER_SUITE = 3;

/** The BMC password variable ipmitool -E reads, and the one it would prefer (removed). */
const IPMI_ENV = "IPMI_PASSWORD";
const IPMI_PREFERRED_ENV = "IPMITOOL_PASSWORD";

/** The `maas` CLI's API URL: the stack's /MAAS URL with /api/2.0/. */
export function maasApiUrl(url: string): string {
  return `${url.replace(/\/+$/, "")}/api/2.0/`;
}

/** `maas login`, the API key on stdin (from the stack's file, or its variable through printf, a builtin). */
export function maasLogin(f: PowerInput): string {
  const ca = f["ca-file"] !== undefined ? ` --cacerts ${shellWord(f["ca-file"])}` : "";
  const login = `maas login${ca} ${MAAS_PROFILE} ${shellWord(maasApiUrl(need(f, "maas-url")))} -`;
  if (f["api-key-file"] !== undefined) return `${login} < ${shellWord(f["api-key-file"])}`;
  return `printf '%s\\n' "$${need(f, "api-key-env")}" | ${login}`;
}

function need<K extends keyof PowerInput>(f: PowerInput, flag: K): NonNullable<PowerInput[K]> {
  const v = f[flag];
  if (v === undefined) throw new Error(`${f.host} (${f.driver}): the --${String(flag)} flag is missing`);
  return v as NonNullable<PowerInput[K]>;
}

/** `ipmitool ... chassis power <cmd>`, the password through -f or -E. */
export function ipmitool(f: PowerInput, cmd: "status" | "on" | "off" | "soft"): string {
  const target = [
    "-I lanplus",
    `-H ${shellWord(need(f, "bmc"))}`,
    `-p ${String(f.port ?? IPMI_PORT)}`,
    `-U ${shellWord(need(f, "user"))}`,
    `-C ${String(f["cipher-suite"] ?? IPMI_CIPHER_SUITE)}`,
  ].join(" ");
  if (f["password-file"] !== undefined)
    return `ipmitool ${target} -f ${shellWord(f["password-file"])} chassis power ${cmd}`;
  const env = need(f, "password-env");
  return `env -u ${IPMI_PREFERRED_ENV} ${IPMI_ENV}="$${env}" ipmitool ${target} -E chassis power ${cmd}`;
}

function virsh(f: PowerInput, cmd: "start" | "shutdown" | "destroy" | "domstate --reason"): string {
  return `virsh -c ${shellWord(need(f, "uri"))} ${cmd} ${shellWord(need(f, "domain"))}`;
}

function maas(f: PowerInput, verb: string, ...params: string[]): string {
  return [`maas ${MAAS_PROFILE} machine ${verb} ${shellWord(need(f, "system-id"))}`, ...params].join(" ");
}

/** virsh domstate words that count as on / off (power/virsh.ts ON_STATES, OFF_STATES). */
const VIRSH_ON = "running|idle|blocked|paused|in shutdown";
const VIRSH_OFF = "shut off|shutoff|crashed|pmsuspended";

/** Prints the host's power state as its driver reports it. */
export function readState(f: PowerInput): string {
  switch (f.driver) {
    case "maas":
      return `${maas(f, "query-power-state")} | jq -r .state`;
    case "ipmi":
      return ipmitool(f, "status");
    case "virsh":
      return virsh(f, "domstate --reason");
  }
}

/** Prints the state and succeeds only when it is `expect` (what the power-state gate reads). */
export function stateIs(f: PowerInput, expect: "on" | "off"): string {
  switch (f.driver) {
    case "maas":
      return `${readState(f)} | grep -x ${expect}`;
    case "ipmi":
      return `${readState(f)} | grep -x 'Chassis Power is ${expect}'`;
    case "virsh":
      return `${readState(f)} | grep -Ei '^(${expect === "on" ? VIRSH_ON : VIRSH_OFF})( \\(|$)'`;
  }
}

export function powerOnCommand(f: PowerInput): string {
  switch (f.driver) {
    case "maas":
      return maas(f, "power-on");
    case "ipmi":
      return ipmitool(f, "on");
    case "virsh":
      return virsh(f, "start");
  }
}

/** graceful: the soft-off (ACPI: the OS shuts down); otherwise the hard off. */
export function powerOffCommand(f: PowerInput, graceful: boolean): string {
  switch (f.driver) {
    case "maas":
      return maas(f, "power-off", `stop_mode=${graceful ? "soft" : "hard"}`);
    case "ipmi":
      return ipmitool(f, graceful ? "soft" : "off");
    case "virsh":
      return virsh(f, graceful ? "shutdown" : "destroy");
  }
}

/** How the state reads when it is `state`, in the driver's own words. */
export function stateWords(f: PowerInput, state: "on" | "off"): string {
  switch (f.driver) {
    case "maas":
      return state;
    case "ipmi":
      return `Chassis Power is ${state}`;
    case "virsh":
      return state === "on" ? "running" : "shut off";
  }
}

/** The maas driver's first block: log the CLI in (nothing for ipmi or virsh). */
export function loginBlocks(f: PowerInput): ManualBlock[] {
  if (f.driver !== "maas") return [];
  const from =
    f["api-key-file"] !== undefined
      ? `the API key from ${f["api-key-file"]} on stdin`
      : `the API key from $${f["api-key-env"]} on stdin`;
  return [
    {
      label: "RUN",
      says: `log the maas CLI in to ${need(f, "maas-url")} as profile ${MAAS_PROFILE} (${from}, never in argv)`,
      where: "jumphost",
      commands: [maasLogin(f)],
    },
  ];
}

/** Who does it: "openstack0 via maas (system id e8xa8m)". */
export function via(f: PowerInput): string {
  switch (f.driver) {
    case "maas":
      return `${f.host} via maas (system id ${f["system-id"]})`;
    case "ipmi":
      return `${f.host} via ipmi (BMC ${f.bmc}:${f.port ?? IPMI_PORT})`;
    case "virsh":
      return `${f.host} via virsh (domain ${f.domain} on ${f.uri})`;
  }
}

/** Read the host's power first: a host already in `state` needs nothing (power-on and power-off both begin so). */
export function alreadyCheck(f: PowerInput, state: "on" | "off"): ManualBlock {
  return {
    label: "CHECK",
    says: `power state of ${via(f)}: if it reads ${stateWords(f, state)}, the host is ${state} already -- nothing to do`,
    where: "jumphost",
    commands: [readState(f)],
  };
}
