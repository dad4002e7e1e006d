import type * as z from "zod";

/** A config or usage problem: printed as one clear message, never a stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Turn zod issues into lines that name the key, what was expected and what was found,
 * e.g. `coldstart:hosts[1].power.bmc: expected a non-empty string, found ""`.
 */
export function describeIssues(prefix: string, error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const key = formatPath(prefix, issue.path);
    const found = valueAt(input, issue.path);
    const foundText = found.present ? `, found ${preview(found.value)}` : ", found nothing (it is missing)";
    const base =
      issue.code === "invalid_type" ? `expected ${issue.expected}` : issue.message.replace(/^Invalid option: /, "");
    const message = base.includes("found") ? base : `${base}${foundText}`;
    return `${key}: ${message}`;
  });
}

function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  path.forEach((part, i) => {
    if (typeof part === "number") out += `[${part}]`;
    else out += i === 0 && (prefix === "" || prefix.endsWith(":")) ? String(part) : `.${String(part)}`;
  });
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): { present: boolean; value?: unknown } {
  let cur: unknown = input;
  for (const part of path) {
    if (cur === null || typeof cur !== "object" || !(String(part) in (cur as object))) return { present: false };
    cur = (cur as Record<string, unknown>)[String(part)];
  }
  return { present: true, value: cur };
}

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
