/**
 * `--help` text generated from the zod object a command parses its flags with, so the help
 * cannot drift from what is accepted: each flag, its meaning (`.describe()` or zod 4's
 * `.meta({ description })`), its value (choices, number, duration, repeatable) and its default.
 *
 * A flag's value placeholder is `.meta({ placeholder })` when given, else `<name>` for --stack,
 * `<id>` for --window, else the flag's own name.
 */
import * as z from "zod";
import { durationMs, formatDuration } from "../config/duration";

/** One flag as the help shows it. */
export interface FlagHelp {
  name: string;
  /** What follows the flag: `<stack>`, `planned|unplanned`, `<n>`; undefined for a switch. */
  value?: string;
  description?: string;
  /** The default as the operator would type it; undefined when there is none. */
  default?: string;
  required: boolean;
  repeatable: boolean;
}

type Def = {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  defaultValue?: unknown;
};

/** Help lines are filled to this many columns. */
const WIDTH = 100;

/** Placeholders every coldstart command shares, so `--stack <name>` reads the same everywhere. */
const CONVENTIONAL_PLACEHOLDER: Record<string, string> = { stack: "name", window: "id" };

const defOf = (s: z.core.$ZodType): Def => s._zod.def as unknown as Def;

function metaOf(s: z.core.$ZodType): { description?: string; placeholder?: string } {
  return (z.globalRegistry.get(s) ?? {}) as { description?: string; placeholder?: string };
}

/** Describe one flag by walking through its wrappers (optional, default, pipe, array) to the value type. */
export function describeFlag(name: string, schema: z.core.$ZodType, isSwitch: boolean): FlagHelp {
  const help: FlagHelp = { name, required: true, repeatable: false };
  let placeholder: string | undefined;
  let duration = false;
  let s = schema;
  for (;;) {
    const meta = metaOf(s);
    help.description ??= meta.description;
    placeholder ??= meta.placeholder;
    if (s === durationMs) duration = true;
    const def = defOf(s);
    if (def.type === "optional") help.required = false;
    else if (def.type === "default" || def.type === "prefault") {
      help.required = false;
      help.default = defaultText(def.defaultValue, duration || isDurationSchema(def.innerType));
    }
    if (def.type === "array" && def.element) {
      help.repeatable = true;
      s = def.element;
    } else if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  if (help.repeatable && help.default === "") help.default = undefined; // `[]`: none unless given
  if (isSwitch) return help;
  const def = defOf(s);
  if (def.type === "enum" && def.entries) help.value = Object.values(def.entries).join("|");
  else if (def.type === "literal" && def.values) help.value = def.values.map(String).join("|");
  else if (duration) help.value = `<${placeholder ?? "duration"}>`;
  else if (def.type === "number" || def.type === "int") help.value = `<${placeholder ?? "n"}>`;
  else help.value = `<${placeholder ?? CONVENTIONAL_PLACEHOLDER[name] ?? name}>`;
  return help;
}

function isDurationSchema(s: z.core.$ZodType | undefined): boolean {
  for (let cur = s; cur;) {
    if (cur === durationMs) return true;
    const def = defOf(cur);
    cur = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
  }
  return false;
}

function defaultText(value: unknown, duration: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (duration && typeof value === "number") return formatDuration(value);
  if (Array.isArray(value)) return value.map(String).join(" ");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Every flag of a command's schema, in the schema's order. */
export function flagsOf(schema: z.ZodObject, switches: readonly string[] = []): FlagHelp[] {
  const shape = schema.shape as Record<string, z.core.$ZodType>;
  return Object.entries(shape).map(([name, s]) => describeFlag(name, s, switches.includes(name)));
}

/** `--stack <stack>`, `--resume`, `--set <set>...` */
function flagWord(f: FlagHelp): string {
  return `--${f.name}${f.value ? ` ${f.value}` : ""}${f.repeatable ? "..." : ""}`;
}

/** The synopsis' words: required flags bare, the rest in brackets: `--window <id>`, `[--stack <name>]`. */
export function synopsisWords(schema: z.ZodObject, switches: readonly string[] = []): string[] {
  return flagsOf(schema, switches).map((f) => (f.required ? flagWord(f) : `[${flagWord(f)}]`));
}

/** One-line synopsis: `--window <id> [--stack <name>]`. */
export function flagSynopsis(schema: z.ZodObject, switches: readonly string[] = []): string {
  return synopsisWords(schema, switches).join(" ");
}

/** Words filled into lines of at most `width`, the first after `lead`, the rest indented by `indent`. */
export function fillWords(lead: string, words: readonly string[], indent: number, width = WIDTH): string[] {
  const lines: string[] = [];
  let line = lead;
  for (const word of words) {
    if (line.trim() && line.length + 1 + word.length > width) {
      lines.push(line);
      line = " ".repeat(indent) + word;
    } else line = line.length && !line.endsWith(" ") ? `${line} ${word}` : line + word;
  }
  lines.push(line);
  return lines.map((l) => l.trimEnd());
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

/**
 * A command's whole help: `usage` (its first line(s), e.g. "usage: coldstart drill ..." and a
 * sentence of what it does), then every flag with its meaning, whether it is required and its
 * default, then `--help`.
 */
export function renderFlagsHelp(usage: string, schema: z.ZodObject, switches: readonly string[] = []): string {
  const rows = flagsOf(schema, switches).map((f) => {
    const notes = [
      f.required ? "required" : undefined,
      f.repeatable ? "repeatable" : undefined,
      f.default !== undefined ? `default: ${f.default}` : undefined,
    ].filter(Boolean);
    const text = [f.description ?? "", notes.length ? `(${notes.join("; ")})` : ""].filter(Boolean).join(" ");
    return { word: flagWord(f), text };
  });
  rows.push({ word: "--help, -h", text: "print this help and exit 0" });
  const column = Math.min(30, Math.max(...rows.map((r) => r.word.length)) + 2);
  const lines = [usage.trimEnd(), "", "flags:"];
  for (const row of rows) {
    const body = row.text ? wrap(row.text, WIDTH - column - 2) : [];
    const first = row.word.length + 2 > column ? [`  ${row.word}`] : [];
    const rest = first.length ? body : body.slice(1);
    if (!first.length) lines.push(`  ${row.word.padEnd(column)}${body[0] ?? ""}`.trimEnd());
    else lines.push(...first);
    for (const b of rest) lines.push(" ".repeat(column + 2) + b);
  }
  return lines.join("\n") + "\n";
}

/** `--help` or `-h` among a command's words (before a `--`): the operator asks for its help. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const word of argv) {
    if (word === "--") return false;
    if (word === "--help" || word === "-h") return true;
  }
  return false;
}

/**
 * Thrown by parseFlags when the words ask for `--help`: the command names its own schema, and
 * the CLI's entry point prints the help on stdout with exit 0 (a command needs no help code).
 */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested";
  constructor(
    readonly command: string,
    readonly schema: z.ZodObject,
    readonly switches: readonly string[],
  ) {
    super(`${command}: help requested`);
  }
}
