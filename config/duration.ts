import * as z from "zod";

/** Durations are written the way operators say them: "90s", "10m", "1h", "500ms". */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

/** A zod type that accepts "10m"-style text and yields milliseconds. */
export const durationMs = z.string().transform((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: "custom",
      message: `expected a duration like "90s", "10m" or "1h", found "${text}"`,
    });
    return z.NEVER;
  }
  return ms;
});

/** Render milliseconds back as the shortest exact operator form ("600000" -> "10m"). */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    const size = UNIT_MS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
