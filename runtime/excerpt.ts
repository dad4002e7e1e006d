/**
 * Messages quote tool output (the last stderr lines of a failed call); the output itself is
 * bounded only by runtime/exec.ts's MAX_OUTPUT_BYTES, so a quote is cut to a few KB with a
 * visible marker: a 20 MB stderr line must not become a 20 MB message, console line and record
 * line.
 */

/** The most of a tool's output one message quotes: room for a few lines of any real error. */
export const EXCERPT_BYTES = 2048;

/** "512 bytes", "3.2 KiB", "19.9 MiB", "16 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} byte${n === 1 ? "" : "s"}`;
  const [value, unit] = n < 1024 * 1024 ? [n / 1024, "KiB"] : [n / (1024 * 1024), "MiB"];
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${shown} ${unit}`;
}

/** `text` when it fits in `maxBytes` (UTF-8), else its head and "… [cut: 19.9 MiB more]". */
export function excerpt(text: string, maxBytes = EXCERPT_BYTES): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  // a character split at the cut decodes as U+FFFD: drop it rather than print a broken one
  const head = bytes
    .subarray(0, maxBytes)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
  return `${head}… [cut: ${formatBytes(bytes.length - Buffer.byteLength(head, "utf8"))} more]`;
}
