/**
 * What a tool (juju, openstack, ipmitool, virsh, bash sourcing the openrc, the ops repo's
 * cloud-assert script, the pulumi CLI of preflight) inherits from coldstart: an ALLOW-LIST, not
 * coldstart's whole environment minus a pattern (issue #21: a fake `juju` run by hand or by
 * preflight saw IPMI_PW_OPENSTACK0, MAAS_KEY and PULUMI_CONFIG_PASSPHRASE, whose names no pattern
 * can guess). A step that means a tool to have a value passes it in the call's `env`
 * (ipmitool's IPMI_PASSWORD, the openrc's OS_*, the sim's PATH): those are not filtered.
 *
 * The entries come from what each tool is known to read (from the tools' documentation and
 * source as remembered, not re-checked against a source tree here: no search was available when
 * this list was written). A variable a site needs and this list lacks shows up as a tool that
 * behaves differently under coldstart than in the operator's shell: add it here with its why.
 */

/** Names a tool inherits, each with why. Never a credential: NEVER_INHERITED still applies over them. */
export const TOOL_ENV_ALLOWED: Readonly<Record<string, string>> = {
  // every program
  PATH: "finding the tools themselves (and ssh under `juju ssh`, python under `openstack`)",
  HOME: "juju's ~/.local/share/juju, ssh's ~/.ssh, the openrc's ~/, the maas/pulumi CLIs' profiles",
  USER: "ssh's default login name and libvirt's per-user session; some tools refuse to start without it",
  LOGNAME: "as USER (POSIX names both; getlogin fallbacks read it)",
  LANG: "the tools' text encoding (python's openstack decodes its answers with it)",
  LANGUAGE: "gettext's message language (virsh, ipmitool messages)",
  TZ: "timestamps in the tools' own messages",
  TERM: "harmless to non-interactive tools; ssh and libvirt warn without it",
  TMPDIR: "where tools put temporary files (a jumphost may not allow /tmp)",
  // XDG base directories: juju's data dir defaults to $XDG_DATA_HOME/juju, libvirt's session
  // socket lives in $XDG_RUNTIME_DIR/libvirt, openstack's clouds.yaml in $XDG_CONFIG_HOME/openstack
  XDG_RUNTIME_DIR: "libvirt's per-user socket, snapd's confinement of a snap-installed juju/openstack",
  XDG_DATA_HOME: "juju's data directory (default $XDG_DATA_HOME/juju)",
  XDG_CONFIG_HOME: "libvirt's and openstackclient's per-user configuration",
  XDG_CACHE_HOME: "openstackclient's and keystoneauth's caches",
  // juju (juju/osenv vars.go)
  JUJU_DATA: "the client's controllers, accounts and ssh keys (juju's own variable)",
  JUJU_MODEL: "juju's default model (steps always pass -m; kept so a bare `juju` call in a script agrees)",
  JUJU_CONTROLLER: "juju's default controller (as JUJU_MODEL)",
  JUJU_LOGGING_CONFIG: "the client's log levels (debugging a failing call)",
  JUJU_STARTUP_LOGGING_CONFIG: "as JUJU_LOGGING_CONFIG, for the client's start",
  JUJU_DEV_FEATURE_FLAGS: "juju's feature flags, when a site runs with some",
  // ssh under `juju ssh` (and virsh qemu+ssh://): the agent holds the keys, the socket is not one
  SSH_AUTH_SOCK: "the ssh agent `juju ssh` and qemu+ssh:// authenticate through (a socket path, not a key)",
  // proxies (curl/python requests/go net/http all read both spellings); a proxy URL with
  // user:password in it is the site's choice: without it no tool reaches its API at all
  http_proxy: "the proxy to the controller / keystone / BMC network",
  https_proxy: "as http_proxy",
  no_proxy: "hosts reached directly (the cloud's own endpoints, usually)",
  HTTP_PROXY: "as http_proxy (go and python read the upper-case spelling too)",
  HTTPS_PROXY: "as https_proxy",
  NO_PROXY: "as no_proxy",
  all_proxy: "curl's catch-all proxy",
  ALL_PROXY: "as all_proxy",
  // CA bundles: a site CA for keystone / the juju controller / MAAS over https
  SSL_CERT_FILE: "OpenSSL's and go's CA bundle file",
  SSL_CERT_DIR: "OpenSSL's and go's CA directory",
  REQUESTS_CA_BUNDLE: "python requests' CA bundle (openstackclient through keystoneauth)",
  CURL_CA_BUNDLE: "curl's and python requests' fallback CA bundle",
  // virsh / libvirt
  LIBVIRT_DEFAULT_URI: "libvirt's default connection (steps pass -c; kept for the ops repo's scripts)",
  VIRSH_DEFAULT_CONNECT_URI: "virsh's older spelling of LIBVIRT_DEFAULT_URI",
  LIBVIRT_AUTH_FILE: "the path of libvirt's auth.conf (a path, not a credential)",
  // the pulumi CLI of preflight's stack check reads its own PULUMI_* only when given on purpose
  // (preflight/run.ts passes the backend's), never here: PULUMI_CONFIG_PASSPHRASE is one of them
};

/**
 * Locale categories (LC_ALL, LC_CTYPE, LC_MESSAGES …, locale(7)): how a tool decodes and prints
 * text. A prefix, since the categories are many and none carries anything but a locale name.
 */
export const TOOL_ENV_PREFIXES: readonly string[] = ["LC_"];

/**
 * The simulated cloud's wiring, for drills and `preflight --scenario`: which sim folder a fake
 * tool answers from, the drill's tool server and clock sockets (paths), the child id the clock
 * knows the call by, the node binary and the checkout the shim runs from (sim/bin/sim-tool,
 * sim/tools/common.ts, sim/time.ts discreteTime, runtime/sim-clock.ts joinSimClock,
 * drill/tool-server.ts), and the step whose call it logs (sim/call-log.ts). Folder and socket
 * paths, ids and a step name: no secret. Named one by one, not by the COLDSTART_SIM_ prefix:
 * COLDSTART_SIM_MAAS_API_KEY (sim/setup.ts) shares it and is a key.
 */
export const SIM_TOOL_ENV: readonly string[] = [
  "COLDSTART_SIM_DIR",
  "COLDSTART_SIM_ROOT",
  "COLDSTART_SIM_NODE",
  "COLDSTART_SIM_TOOLS",
  "COLDSTART_SIM_CLOCK",
  "COLDSTART_SIM_CLOCK_FILE",
  "COLDSTART_SIM_ID",
  "COLDSTART_STEP",
];

/**
 * Names no child ever inherits, even when allowed above: unseal keys travel on stdin only, and
 * whatever looks like a credential (BMC passwords, MAAS keys, tokens) reaches a child only when a
 * step passes it in `env` on purpose (ipmitool's IPMI_PASSWORD, the openrc's OS_PASSWORD).
 * PULUMI_*: the engine's own (PULUMI_CONFIG_PASSPHRASE, PULUMI_ACCESS_TOKEN), no tool's business.
 */
export const NEVER_INHERITED =
  /^COLDSTART_UNSEAL_|^PULUMI_|PASSWORD|PASSWD|PASSPHRASE|SECRET|API_?KEY|TOKEN|CREDENTIAL/i;
/** Names of the stack's own credential variables (hosts' passwordEnv / apiKeyEnv), comma-separated; set by the graph. */
export const SECRET_VARS = "COLDSTART_SECRET_VARS";

/** Whether `name` must stay out of a child's inherited environment (the pattern, or a name the graph lists). */
export function neverInherited(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (NEVER_INHERITED.test(name)) return true;
  return (env[SECRET_VARS] ?? "").split(",").some((v) => v.trim() === name);
}

const SIM = new Set(SIM_TOOL_ENV);

/** Whether a tool inherits `name` from coldstart's environment (allowed, and no credential). */
export function toolInherits(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const allowed =
    Object.hasOwn(TOOL_ENV_ALLOWED, name) || SIM.has(name) || TOOL_ENV_PREFIXES.some((p) => name.startsWith(p));
  return allowed && !neverInherited(name, env);
}

/**
 * A tool's whole environment: the allowed part of `parent`, then what the call passes on purpose
 * (`passed`: a value sets, undefined removes). What is passed is not filtered: it is the step's
 * deliberate choice (the openrc's OS_PASSWORD, ipmitool's IPMI_PASSWORD).
 */
export function toolEnv(
  parent: NodeJS.ProcessEnv,
  passed: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) if (v !== undefined && toolInherits(k, parent)) env[k] = v;
  for (const [k, v] of Object.entries(passed)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * State-backend variable families the pulumi CLI reads: PULUMI_BACKEND_URL / PULUMI_HOME /
 * PULUMI_ACCESS_TOKEN (Pulumi Cloud), and the object stores' own (AWS_* for s3://, AZURE_* for
 * azblob://, GOOGLE_* for gs://: the pulumi docs' "state and backends" page).
 */
const PULUMI_BACKEND = /^(PULUMI_|AWS_|AZURE_|GOOGLE_)/;
/** Listing stacks decrypts nothing: the passphrase never goes, even to pulumi. */
const PULUMI_NOT_NEEDED = /^PULUMI_CONFIG_PASSPHRASE/;

/**
 * What preflight's `pulumi stack ls` gets on purpose on top of the allow-list: the backend's
 * variables. pulumi is the engine (it holds all of them when it runs the window); no cloud tool
 * ever gets them.
 */
export function pulumiCliEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (v !== undefined && PULUMI_BACKEND.test(k) && !PULUMI_NOT_NEEDED.test(k)) out[k] = v;
  return out;
}
