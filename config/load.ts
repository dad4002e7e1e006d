/**
 * Read the coldstart: namespace into a validated Config. Pulumi hands every value over as text
 * (objects and arrays as JSON), so this module decodes, then lets the zod schema judge.
 */
import * as z from "zod";
import { configSchema, type Config } from "./schema";
import { describeIssues, UsageError } from "./errors";

export const NAMESPACE = "coldstart";
export const CONFIG_KEYS = Object.keys(configSchema.shape) as (keyof Config)[];

/** Per-run overrides that must not require editing the committed stack file. */
export const ENV_OVERRIDES: Partial<Record<keyof Config, string>> = {
  window: "COLDSTART_WINDOW",
  mode: "COLDSTART_MODE",
  vaultUnsealBy: "COLDSTART_VAULT_UNSEAL_BY",
};

/** Keys whose Pulumi config value is plain text; every other key is JSON (number, array, object). */
function isTextKey(key: keyof Config): boolean {
  let schema: z.core.$ZodType = configSchema.shape[key];
  for (;;) {
    const def = schema._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.type === "default" || def.type === "prefault" || def.type === "optional") schema = def.innerType!;
    else if (def.type === "pipe") schema = def.in!;
    else return def.type === "string" || def.type === "enum";
  }
}

/**
 * `coldstart:` keys of a stack that the schema does not know, each with the fix (a near miss is
 * named: `coldstart:holdGuest` -> holdGuests). Pulumi itself never complains about them (a stack
 * file may hold any key), so without this a typo such as `holdGuest` is silently ignored and the
 * guest it should keep down auto-resumes.
 * @param fullKeys every config key of the stack, `namespace:key` (pulumi.runtime.allConfig()'s keys)
 */
export function unknownConfigKeys(fullKeys: Iterable<string>): string[] {
  const known = new Set<string>(CONFIG_KEYS);
  const problems: string[] = [];
  for (const full of fullKeys) {
    if (!full.startsWith(`${NAMESPACE}:`)) continue;
    const key = full.slice(NAMESPACE.length + 1);
    if (known.has(key)) continue;
    const near = CONFIG_KEYS.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
    problems.push(
      `${full}: not a coldstart setting${near ? ` (did you mean ${NAMESPACE}:${near}?)` : ""}; known: ${CONFIG_KEYS.join(", ")}`,
    );
  }
  return problems;
}

/** Levenshtein distance: "did you mean" for a mistyped key or name. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/**
 * @param read    returns the raw text of `coldstart:<key>` or undefined when unset
 * @param env     process environment, for the per-run overrides above
 * @param allKeys every key the stack sets (`namespace:key`), to reject unknown `coldstart:` keys
 */
export function loadConfig(
  read: (key: string) => string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  allKeys: Iterable<string> = [],
): Config {
  const raw: Record<string, unknown> = {};
  const problems: string[] = unknownConfigKeys(allKeys);
  for (const key of CONFIG_KEYS) {
    const override = ENV_OVERRIDES[key];
    const text = (override && env[override]) || read(key);
    if (text === undefined) continue;
    if (isTextKey(key)) {
      raw[key] = text;
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      problems.push(`${NAMESPACE}:${key}: expected JSON (a number, list or map), found ${JSON.stringify(text)}`);
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) problems.push(...describeIssues(`${NAMESPACE}:`, parsed.error, raw));
  if (problems.length > 0) {
    const hint = missingWindowHint(problems);
    throw new UsageError(`invalid coldstart configuration:\n  ${problems.join("\n  ")}${hint}`);
  }
  return parsed.data!;
}

/** A stack file's values (`coldstart:<key>` -> text) as a Config for `window`, through loadConfig. */
export function parseStackValues(values: Readonly<Record<string, string>>, window: string): Config {
  return loadConfig((key) => values[`${NAMESPACE}:${key}`], { COLDSTART_WINDOW: window }, Object.keys(values));
}

function missingWindowHint(problems: string[]): string {
  return problems.some((p) => p.startsWith(`${NAMESPACE}:window:`))
    ? `\n  (set the maintenance window id with COLDSTART_WINDOW=<id> or \`pulumi config set coldstart:window <id>\`)`
    : "";
}
