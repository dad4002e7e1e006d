/**
 * The coldstart: config namespace: the single source of truth for what a stack file may say.
 * Secrets are deliberately absent: unseal keys, BMC passwords and MAAS keys are named here only
 * by the environment variable or file that holds them, never by value.
 */
import * as z from "zod";
import { durationMs, formatDuration } from "./duration";

/** Host names as MAAS/juju know them (the runbook's cloud: openstack0..3). */
export const hostName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a host name like openstack0 (lowercase letters, digits, '-')");

const envVarName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name like IPMI_PASSWORD_OPENSTACK0");
const nonEmpty = z.string().min(1, "expected a non-empty string");

/**
 * A URL whose host is this machine (127.0.0.0/8, ::1, localhost): plain HTTP there never puts the
 * key on a network -- the drill's and preflight's simulated MAAS listen on 127.0.0.1.
 */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * A MAAS URL that sends the API key in clear: http:// to another machine. OAuth 1.0 PLAINTEXT
 * (power/maas-oauth.ts) puts the token secret itself in every request's Authorization header.
 */
export function isPlainHttpMaas(url: string): boolean {
  return /^http:\/\//i.test(url) && !isLoopbackUrl(url);
}

/**
 * MAAS 2.0 REST API; the API key (consumer:token:secret) is read from a file or env var. https://
 * unless the stack says allowPlainHttp: MAAS serves TLS once `maas config-tls enable <key> <cert>`
 * ran (default port 5443; canonical.com/maas/docs/config-tls); caFile is the CA that signed its
 * certificate when the jumphost's system CAs do not (a self-signed MAAS).
 */
export const maasPowerSchema = z
  .object({
    driver: z.literal("maas"),
    url: z
      .string()
      .regex(/^https?:\/\/\S+\/MAAS\/?$/, "expected the MAAS URL ending in /MAAS, e.g. https://maas:5443/MAAS"),
    systemId: z.string().regex(/^[a-z0-9]{4,8}$/, "expected a MAAS system_id like e8xa8m"),
    apiKeyFile: nonEmpty.optional(),
    apiKeyEnv: envVarName.optional(),
    /** Accept http:// to another machine: the key's token secret then crosses the network in clear. */
    allowPlainHttp: z.boolean().optional(),
    /** PEM file of the CA(s) that signed MAAS's certificate (https:// only); read at each call. */
    caFile: nonEmpty.optional(),
  })
  .strict()
  .refine((p) => (p.apiKeyFile === undefined) !== (p.apiKeyEnv === undefined), {
    message: "set exactly one of apiKeyFile or apiKeyEnv (the MAAS key is never a config value)",
  })
  .refine((p) => p.allowPlainHttp === true || !isPlainHttpMaas(p.url), {
    path: ["url"],
    message:
      "plain http:// sends the MAAS API key's token secret in clear on every call: use https:// (MAAS: maas config-tls enable), or set allowPlainHttp: true on this host's power to accept that",
  })
  .refine((p) => p.caFile === undefined || /^https:\/\//i.test(p.url), {
    path: ["caFile"],
    message: "caFile is used only over https://: make url https://, or remove caFile",
  });

/**
 * IPMI v2.0 cipher suites whose authentication algorithm is RAKP-none: anyone who knows a user
 * name gets a session without the password (IPMI v2.0 rev 1.1 table 22-20, the table ipmitool(1)
 * `-C` cites: suite 0 = RAKP-none / none / none; every other standard suite authenticates with
 * RAKP-HMAC-SHA1, -MD5 or -SHA256).
 */
export const NO_AUTH_CIPHER_SUITES: readonly number[] = [0];

/** IPMI over lanplus; the password reaches ipmitool through -E (IPMI_PASSWORD) or -f, never -P. */
export const ipmiPowerSchema = z
  .object({
    driver: z.literal("ipmi"),
    bmc: nonEmpty,
    port: z.number().int().min(1).max(65535).default(623),
    user: nonEmpty,
    passwordFile: nonEmpty.optional(),
    passwordEnv: envVarName.optional(),
    cipherSuite: z.number().int().min(0).max(17).default(3),
    /** Accept a cipher suite without authentication (NO_AUTH_CIPHER_SUITES). */
    allowNoAuthCipher: z.boolean().optional(),
  })
  .strict()
  .refine((p) => (p.passwordFile === undefined) !== (p.passwordEnv === undefined), {
    message: "set exactly one of passwordFile or passwordEnv (the BMC password is never a config value)",
  })
  .refine((p) => p.allowNoAuthCipher === true || !NO_AUTH_CIPHER_SUITES.includes(p.cipherSuite), {
    path: ["cipherSuite"],
    message:
      "cipher suite 0 has no authentication (RAKP-none: a session without the password): use 3 or 17, or set allowNoAuthCipher: true on this host's power to accept that",
  });

/** A host that is a libvirt domain (the prior build ran on VMs). */
export const virshPowerSchema = z
  .object({
    driver: z.literal("virsh"),
    uri: z.string().regex(/^[a-z0-9+]+:\/\/\S*$/, "expected a libvirt URI like qemu+ssh://kvm1/system"),
    domain: nonEmpty,
  })
  .strict();

export const powerSchema = z.discriminatedUnion("driver", [maasPowerSchema, ipmiPowerSchema, virshPowerSchema]);
export type PowerSpec = z.infer<typeof powerSchema>;

export const hostSchema = z
  .object({
    name: hostName,
    power: powerSchema,
  })
  .strict();
export type Host = z.infer<typeof hostSchema>;

const gateTimingSchema = z
  .object({
    timeout: durationMs,
    interval: durationMs,
  })
  .strict()
  // A gate polls at once and then every interval until its timeout: an interval longer than the
  // timeout means one poll and a verdict nobody confirmed (a typo such as 5s/10m swapped).
  .refine((t) => t.interval <= t.timeout, {
    path: ["interval"],
    error: (issue) => {
      const t = issue.input as { timeout: number; interval: number };
      return `interval ${formatDuration(t.interval)} is longer than timeout ${formatDuration(t.timeout)}: set interval below timeout (e.g. { timeout: 10m, interval: 15s })`;
    },
  });
export type GateTiming = z.infer<typeof gateTimingSchema>;

function timing(timeout: string, interval: string) {
  // prefault: the default is parsed like a written value, so it goes through durationMs too.
  return gateTimingSchema.prefault({ timeout, interval });
}

/** Every gate polls; these are the defaults the runbook's own numbers suggest. */
export const gatesSchema = z
  .object({
    powerState: timing("10m", "10s"),
    machinesStarted: timing("15m", "15s"), // runbook: "typically 2-5 min"
    mysqlCluster: timing("30m", "20s"),
    vaultUnsealed: timing("5m", "5s"),
    ovnChassis: timing("10m", "15s"),
    guestsActive: timing("20m", "20s"),
    lbsActive: timing("30m", "30s"),
    cloudAssert: timing("20m", "1m"),
    commandTimeout: durationMs.prefault("2m"), // one juju/openstack call
  })
  .strict();

export const appsSchema = z
  .object({
    mysql: nonEmpty.default("mysql-innodb-cluster"),
    vault: nonEmpty.default("vault"),
    ovnChassis: nonEmpty.default("ovn-chassis"),
    novaCompute: nonEmpty.default("nova-compute"),
    neutronApi: nonEmpty.default("neutron-api"),
  })
  .strict();

export const windowId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    "expected a window id of letters, digits, '.', '_' or '-' (e.g. 2026-12-05-roosevelt)",
  );

export const configSchema = z
  .object({
    mode: z.enum(["planned", "unplanned"]).default("planned"),
    window: windowId,
    jujuModel: z
      .string()
      .regex(/^[A-Za-z0-9._-]+:[A-Za-z0-9._/-]+$/, "expected controller:model, e.g. maas-controller:openstack"),
    openrc: nonEmpty.default("~/admin-openrc"),
    baselineDir: nonEmpty.default("~/openstack-baseline"),
    cloudAssertScript: nonEmpty,
    recordDir: nonEmpty.default("~/coldstart-records"),
    cli: nonEmpty.default("coldstart"),
    hosts: z
      .array(hostSchema)
      .min(1, "expected at least one host (the runbook's cloud has openstack0..3)")
      .superRefine(checkHostList),
    holdGuests: z.array(nonEmpty).default([]),
    /**
     * Guests (names or IDs) Stage 5 starts when SHUTOFF, on top of those ACTIVE in the baseline;
     * unset = not decided. An unplanned recovery with no baseline stops (BLOCKER) until it is set,
     * `[]` included (= start none). steps/guests.ts.
     */
    startGuests: z.array(nonEmpty).optional(),
    /**
     * Who unseals Vault at Stage 3 (README "Unseal key custody"). `environment`: coldstart sends
     * the keys it is given (COLDSTART_UNSEAL_KEY_n or COLDSTART_UNSEAL_KEYS_FILE); too few = BLOCKER.
     * `keyholders`: the keyholders unseal by hand; coldstart sends the keys it holds (none, or up to
     * Vault's threshold), prints the manual unseal procedure for every unit still sealed, and the
     * vault-unsealed gate waits (gates.vaultUnsealed.timeout) until Vault reports unsealed. Per run:
     * COLDSTART_VAULT_UNSEAL_BY overrides it (the maintenance workflow's default is keyholders).
     */
    vaultUnsealBy: z.enum(["environment", "keyholders"]).default("environment"),
    apps: appsSchema.prefault({}),
    mysqlUnits: z.number().int().min(1).default(3),
    gates: gatesSchema.prefault({}),
    octaviaErrorGrace: durationMs.prefault("5m"),
    /**
     * The engine's `--parallel` (drill/drill.ts; `pulumi up` through maintenance) and the fan-out
     * inside a step (guest starts, LB failovers, chassis sweeps). Power stages are one round only
     * when this is at least the number of hosts. At most 64: each slot is a live process on the
     * jumphost (a waiting step's node + sh: about 60 MB RSS, measured; a fan-out slot one
     * `openstack`/`juju` call), so 64 is about 4 GB, and the `pulumi up` default of a 16-core
     * jumphost (pulumi/pulumi @ 1b5949891b3cefcb9974752b24a5ecef0acc86c8
     * pkg/cmd/pulumi/operations/up.go `defaultParallel`: GOMAXPROCS x 4, or PULUMI_PARALLEL).
     */
    parallelism: z.number().int().min(1).max(64).default(4),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** What one host's power driver acts on: two hosts on one target would power one machine twice. */
export function powerTarget(p: PowerSpec): string {
  switch (p.driver) {
    case "maas":
      return `MAAS machine ${p.systemId} at ${p.url.replace(/\/+$/, "")}`;
    case "ipmi":
      return `BMC ${p.bmc}:${p.port}`;
    case "virsh":
      return `libvirt domain ${p.domain} at ${p.uri}`;
  }
}

/**
 * The host list README allows: each name once, each power target once (a copy-pasted systemId
 * would power one machine off twice and leave another running through the window).
 */
function checkHostList(hosts: Host[], ctx: z.core.$RefinementCtx<Host[]>): void {
  const names = new Map<string, number>();
  const targets = new Map<string, number>();
  hosts.forEach((h, i) => {
    const sameName = names.get(h.name);
    if (sameName !== undefined)
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `host ${h.name} is listed twice (also hosts[${sameName}]): list each host once`,
      });
    else names.set(h.name, i);
    const target = powerTarget(h.power);
    const sameTarget = targets.get(target);
    if (sameTarget !== undefined)
      ctx.addIssue({
        code: "custom",
        path: [i, "power"],
        message: `${h.name} and ${hosts[sameTarget].name} both power ${target}: each host needs its own power target`,
      });
    else targets.set(target, i);
  });
}
export type Mode = Config["mode"];
export type GateName = Exclude<keyof Config["gates"], "commandTimeout">;
