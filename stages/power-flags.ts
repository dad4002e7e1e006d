/**
 * Shutdown sequence / Power-on: a power step's flags ARE the host's power settings of the config
 * (config/schema.ts powerSchema), flattened into kebab-case flags (`systemId` -> `--system-id`;
 * `url` -> `--maas-url`). One set of rules: the flags are mapped back to the config's object and
 * parsed with powerSchema itself (its regexes, ranges, defaults, and "exactly one of the secret's
 * file or variable"); only the wording names flags instead of config keys. Secrets never appear:
 * only where they are (`--password-file`/`--password-env`, `--api-key-file`/`--api-key-env`).
 * Light on purpose (no driver): the stage files and the CLI's step table load it;
 * power/from-flags.ts builds the driver from what this returns.
 */
import * as z from "zod";
import { UsageError } from "../config/errors";
import { hostName, powerSchema, type Host, type PowerSpec } from "../config/schema";

type Driver = PowerSpec["driver"];
type FieldsOf<U> = U extends unknown ? Exclude<keyof U, "driver"> : never;
/** Every field of every driver's settings (url, systemId, bmc, port, ...). */
export type PowerField = FieldsOf<PowerSpec>;

/**
 * The flag of each config field, in the order create lines write them. `satisfies`: a field the
 * config gains without a flag here (or a flag for a field it lost) is a compile error.
 */
const FLAG_OF = {
  url: "maas-url",
  systemId: "system-id",
  apiKeyFile: "api-key-file",
  apiKeyEnv: "api-key-env",
  allowPlainHttp: "allow-plain-http",
  caFile: "ca-file",
  bmc: "bmc",
  port: "port",
  user: "user",
  cipherSuite: "cipher-suite",
  passwordFile: "password-file",
  passwordEnv: "password-env",
  allowNoAuthCipher: "allow-no-auth-cipher",
  uri: "uri",
  domain: "domain",
} as const satisfies Record<PowerField, string>;

/** What each flag means (`--help`); the driver it belongs to and any default are added from the config's schema. */
const MEANING: Record<PowerField, string> = {
  url: "the MAAS region API URL ending in /MAAS",
  systemId: "the host's MAAS system_id",
  apiKeyFile: "a file holding the MAAS API key (never the key itself)",
  apiKeyEnv: "the environment variable holding the MAAS API key (never the key itself)",
  allowPlainHttp: "true: accept a plain http:// MAAS URL (the API key's token secret crosses the network in clear)",
  caFile: "a PEM file of the CA(s) that signed MAAS's TLS certificate (https:// only)",
  bmc: "the BMC's address (IPMI over lanplus)",
  port: "the BMC's RMCP+ port",
  user: "the BMC user",
  cipherSuite: "the IPMI cipher suite (-C)",
  passwordFile: "a file holding the BMC password (ipmitool -f; never the password itself)",
  passwordEnv: "the environment variable holding the BMC password (ipmitool -E; never the password itself)",
  allowNoAuthCipher: "true: accept a cipher suite without authentication (suite 0)",
  uri: "the libvirt connection URI",
  domain: "the libvirt domain of the host",
};

type FieldValue<K extends PowerField> = PowerSpec extends infer U
  ? U extends unknown
    ? K extends keyof U
      ? NonNullable<U[K]>
      : never
    : never
  : never;
/**
 * A yes/no setting as a flag with a value (`--allow-plain-http true`): the step CLI's bare
 * switches are its own (`--json`), and a value reads the same in the create line and by hand.
 */
const booleanFlag = z.enum(["true", "false"]).transform((v) => v === "true");
type FlagSchemaOf<K extends PowerField> = z.ZodOptional<
  FieldValue<K> extends number
    ? z.ZodCoercedNumber<number | string>
    : FieldValue<K> extends boolean
      ? typeof booleanFlag
      : z.ZodString
>;
type PowerFlagShape = { host: typeof hostName; driver: z.ZodEnum<{ [D in Driver]: D }> } & {
  -readonly [K in PowerField as (typeof FLAG_OF)[K]]: FlagSchemaOf<K>;
};

const FIELDS = Object.keys(FLAG_OF) as PowerField[];
const VARIANTS = powerSchema.options;
const driverOf = (v: (typeof VARIANTS)[number]): Driver => v.shape.driver.value;
const variant = (driver: Driver) => VARIANTS.find((v) => driverOf(v) === driver)!;
/** The config's schema of a field, and the driver(s) it belongs to. */
function fieldIn(field: PowerField): { schema: z.core.$ZodType; drivers: Driver[] } {
  const owners = VARIANTS.filter((v) => field in v.shape);
  return { schema: (owners[0].shape as Record<string, z.core.$ZodType>)[field], drivers: owners.map(driverOf) };
}

/** The innermost type of a config field (under optional / default), and its default if any. */
function baseOf(schema: z.core.$ZodType): { type: string; default?: unknown } {
  let s = schema;
  let dflt: unknown;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; defaultValue?: unknown };
    if (def.type === "default") dflt = def.defaultValue;
    if (!def.innerType) return { type: def.type, default: dflt };
    s = def.innerType;
  }
}

/** The flags of a host's power control, made from the config's own schema: text or numbers here, the rules in powerSchema. */
export const powerFlagShape = Object.fromEntries([
  ["host", hostName.describe("the host this step acts on, as MAAS/juju know it (coldstart:hosts[].name)")],
  [
    "driver",
    z
      .enum(VARIANTS.map(driverOf) as [Driver, ...Driver[]])
      .describe("how the host's power is controlled (coldstart:hosts[].power.driver)"),
  ],
  ...FIELDS.map((field) => {
    const { schema, drivers } = fieldIn(field);
    const base = baseOf(schema);
    const flag =
      base.type === "number" ? z.coerce.number<number | string>() : base.type === "boolean" ? booleanFlag : z.string();
    const dflt = base.default === undefined ? "" : `; default ${String(base.default)}`;
    return [
      FLAG_OF[field],
      flag
        .optional()
        .describe(`${MEANING[field]} (--driver ${drivers.join("|")}${dflt}; coldstart:hosts[].power.${field})`),
    ];
  }),
]) as PowerFlagShape;

/** The power flags as a step's handler receives them. */
export type PowerFlags = z.output<z.ZodObject<PowerFlagShape>>;

/** The create line's flags of a host (stages/shutdown.ts, stages/power-on.ts): its config, flattened. */
export function powerFlags(host: Host): z.input<z.ZodObject<PowerFlagShape>> {
  const spec = host.power as Partial<Record<PowerField, string | number | boolean>>;
  const flags: Record<string, string | number> = { host: host.name, driver: host.power.driver };
  for (const field of FIELDS) {
    const value = spec[field];
    // an opt-in is written only when given as true: `false` is what leaving it out means
    if (value === undefined || value === false) continue;
    flags[FLAG_OF[field]] = value === true ? "true" : value;
  }
  return flags as z.input<z.ZodObject<PowerFlagShape>>;
}

/**
 * The config's power settings these flags describe, parsed with the config's powerSchema; a
 * problem is a UsageError naming the flag: missing, not a flag of this driver, both or neither of
 * a secret's file/variable flags, or a value the config would refuse too.
 */
export function powerSpecFromFlags(flags: PowerFlags): PowerSpec {
  const where = `with --driver ${flags.driver} (host ${flags.host})`;
  const own = variant(flags.driver).shape as Record<string, z.core.$ZodType>;
  const given = flags as unknown as Record<string, unknown>;
  const settings: Record<string, unknown> = { driver: flags.driver };
  for (const field of FIELDS) {
    const value = given[FLAG_OF[field]];
    if (value === undefined) continue;
    if (!(field in own))
      throw new UsageError(
        `--${FLAG_OF[field]}: not a flag of --driver ${flags.driver} (it belongs to --driver ${fieldIn(field).drivers.join("|")}; host ${flags.host})`,
      );
    settings[field] = value;
  }
  const parsed = powerSchema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue.path[0] as PowerField | undefined;
  if (field === undefined) {
    // the schema's only object-level rule: exactly one of a secret's file and variable
    const [file, env] = Object.keys(own).filter((k) => /(File|Env)$/.test(k)) as PowerField[];
    const both = settings[file] !== undefined && settings[env] !== undefined;
    throw new UsageError(
      both
        ? `--${FLAG_OF[file]} and --${FLAG_OF[env]}: give only one ${where}`
        : `--${FLAG_OF[file]} or --${FLAG_OF[env]}: one is required ${where}`,
    );
  }
  if (settings[field] === undefined) throw new UsageError(`--${FLAG_OF[field]}: required ${where}`);
  throw new UsageError(
    `--${FLAG_OF[field]}: ${issue.message}, found ${JSON.stringify(settings[field])} (host ${flags.host})`,
  );
}
