/**
 * Minimal flag parsing: `--name value` (repeatable) and bare `--switch`. Each command describes
 * its flags with a zod object; errors name the flag, what was expected and what was found.
 * `--help` / `-h` anywhere raises HelpRequested with that same object (cli/help.ts renders it).
 */
import * as z from "zod";
import { describeIssues, UsageError } from "../config/errors";
import { HelpRequested, wantsHelp } from "./help";

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export function splitArgs(argv: readonly string[], switches: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!word.startsWith("--") || word === "--") {
      positionals.push(word);
      continue;
    }
    const eq = word.indexOf("=");
    const name = eq > 0 ? word.slice(2, eq) : word.slice(2);
    let value: string;
    if (eq > 0) value = word.slice(eq + 1);
    else if (switches.includes(name)) value = "true";
    else {
      if (i + 1 >= argv.length || argv[i + 1].startsWith("--"))
        throw new UsageError(`--${name}: expected a value after the flag, found nothing`);
      value = argv[++i];
    }
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { positionals, flags };
}

function isArraySchema(schema: z.core.$ZodType): boolean {
  let s = schema;
  for (;;) {
    const def = s._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.type === "array") return true;
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else return false;
  }
}

/** Parse `argv` against a zod object whose keys are the flag names (kebab-case). */
export function parseFlags<S extends z.ZodObject>(
  command: string,
  argv: readonly string[],
  schema: S,
  switches: readonly string[] = [],
): z.infer<S> {
  if (wantsHelp(argv)) throw new HelpRequested(command, schema, switches);
  const { positionals, flags } = splitArgs(argv, switches);
  if (positionals.length)
    throw new UsageError(`${command}: unexpected argument "${positionals[0]}" (flags are --name value)`);
  const shape = schema.shape as Record<string, z.core.$ZodType>;
  const raw: Record<string, unknown> = {};
  for (const [name, values] of flags) {
    if (!(name in shape)) {
      throw new UsageError(
        `${command}: unknown flag --${name} (known: ${Object.keys(shape)
          .map((k) => `--${k}`)
          .join(" ")})`,
      );
    }
    raw[name] = isArraySchema(shape[name]) ? values : values[values.length - 1];
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(
      describeIssues("", parsed.error, raw)
        .map((line) => `${command}: --${line}`)
        .join("\n"),
    );
  }
  return parsed.data;
}
