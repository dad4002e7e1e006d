/**
 * Parsing external output with zod: an unexpected shape becomes a named failure
 * ("juju status: expected applications.mysql-innodb-cluster.units, found nothing"), never a crash.
 */
import type * as z from "zod";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function at(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur = input;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[String(part)];
  }
  return cur;
}

/** Validate already-decoded data against `schema`; `tool` names the source in the error. */
export function parseWith<S extends z.ZodType>(tool: string, schema: S, data: unknown): Parsed<z.infer<S>> {
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  const path = issue.path.map(String).join(".");
  return {
    ok: false,
    error: `${tool}: expected ${path || "the document"} to match (${issue.message}), found ${describe(at(data, issue.path))}`,
  };
}

/** Decode JSON text and validate it; text that is not JSON is a named failure too. */
export function parseJson<S extends z.ZodType>(tool: string, schema: S, text: string): Parsed<z.infer<S>> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    const head = text.trim().split("\n")[0] ?? "";
    return { ok: false, error: `${tool}: expected JSON output, found ${describe(head === "" ? undefined : head)}` };
  }
  return parseWith(tool, schema, data);
}
