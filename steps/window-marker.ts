/**
 * A step's own note of a request it is about to send, kept for the rest of the window in
 * `<recordDir>/<window>.<name>.json` (issue #23): written whole (temporary file beside it, then
 * rename) BEFORE the request, so a run killed right after the request reached the cloud leaves
 * what the resume needs to tell its own earlier request from anyone else's, and to check the
 * cloud's state for its effect instead of sending it again. Outside a window (no
 * COLDSTART_WINDOW / COLDSTART_RECORD_DIR) nothing is kept. Never holds a secret.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as zod from "zod";
import type * as z from "zod";
import { expandHome } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import { writeTempBeside } from "../runtime/whole-file";

export interface WindowMarker<T> {
  /** What the earlier runs of this window wrote (undefined: none, or unreadable). */
  readonly earlier: T | undefined;
  write(value: T): void;
}

export function windowMarker<T>(ctx: StepContext, name: string, schema: z.ZodType<T>): WindowMarker<T> {
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir } = ctx.env;
  const file = window && recordDir ? path.join(expandHome(recordDir, ctx.env), `${window}.${name}.json`) : undefined;
  let earlier: T | undefined;
  if (file && fs.existsSync(file)) {
    try {
      const read = schema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (read.success) earlier = read.data;
    } catch {
      // a torn or hand-edited file: as if none (every caller then falls back to its safe path)
    }
  }
  return {
    earlier,
    write: (value) => {
      if (!file) return;
      const tmp = writeTempBeside(file, JSON.stringify(value) + "\n", { durable: true });
      fs.renameSync(tmp, file);
    },
  };
}

/**
 * A window marker keyed by unit: what this step noted for each unit before its request to it
 * (the sweep's restarts, the unseal's key index). `earlier` is what the window's earlier runs
 * left; `note` rewrites the whole file with this unit's entry added or replaced.
 */
export interface UnitMarker<V> {
  earlier(unit: string): V | undefined;
  /** Did this window's earlier runs note any unit? */
  any(): boolean;
  note(unit: string, value: V): void;
}

export function unitMarker<V>(ctx: StepContext, name: string, value: z.ZodType<V>): UnitMarker<V> {
  const marker = windowMarker(ctx, name, zod.object({ units: zod.record(zod.string(), value) }));
  const earlier: Record<string, V> = { ...marker.earlier?.units };
  const units: Record<string, V> = { ...earlier };
  return {
    earlier: (unit) => earlier[unit],
    any: () => Object.keys(earlier).length > 0,
    note: (unit, v) => {
      units[unit] = v;
      marker.write({ units });
    },
  };
}
