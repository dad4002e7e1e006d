/**
 * `--set <key>=<value>` (repeatable): change a stack value for one run, with the stack file's
 * own keys and dotted paths into its maps (`gates.powerState.timeout=20m`), so an operator can
 * rehearse "change config, then resume" in a drill. The result is judged by the one config
 * schema like any stack file.
 */
import { CONFIG_KEYS, NAMESPACE } from "./load";
import { UsageError } from "./errors";

/** A value as the stack file would hold it: JSON where it parses (numbers, lists, maps), else text. */
function decode(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function applySets(values: Readonly<Record<string, string>>, sets: readonly string[]): Record<string, string> {
  const out = { ...values };
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${set}: expected <key>=<value>, e.g. --set gates.powerState.timeout=20m`);
    const [top, ...path] = set.slice(0, eq).split(".");
    const text = set.slice(eq + 1);
    if (!(CONFIG_KEYS as string[]).includes(top))
      throw new UsageError(`--set ${set}: unknown key "${top}" (known: ${CONFIG_KEYS.join(", ")})`);
    const key = `${NAMESPACE}:${top}`;
    if (path.length === 0) {
      out[key] = text;
      continue;
    }
    const root = decode(out[key] ?? "{}");
    if (typeof root !== "object" || root === null || Array.isArray(root))
      throw new UsageError(`--set ${set}: "${top}" is not a map, so it has no "${path.join(".")}"`);
    let node = root as Record<string, unknown>;
    for (const part of path.slice(0, -1)) {
      const next = node[part] ?? {};
      if (typeof next !== "object" || next === null || Array.isArray(next))
        throw new UsageError(`--set ${set}: "${part}" is not a map`);
      node = node[part] = next as Record<string, unknown>;
    }
    node[path[path.length - 1]] = decode(text);
    out[key] = JSON.stringify(root);
  }
  return out;
}
