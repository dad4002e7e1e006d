import type { Parsed } from "../gates/parse";
import { ToolError } from "../runtime/tool-error";

/** An output of unexpected shape is a named failure of the step (ToolError), never a crash. */
export function unwrap<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new ToolError(parsed.error);
  return parsed.value;
}
