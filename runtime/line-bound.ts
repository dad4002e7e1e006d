/**
 * Every line a step prints is at most MAX_LINE_BYTES, whatever the tools it quotes printed.
 *
 * Why: pulumi-command streams a step's output to the engine one line at a time through a default
 * `bufio.Scanner` (pulumi-command v1.2.1 provider/pkg/provider/util/util.go `LogOutput`, fed by
 * commandOutputs.go `run` through an io.Pipe). A Scanner's line limit is 64 KiB
 * (bufio.MaxScanTokenSize); past it Scan returns false (ErrTooLong) and LogOutput returns
 * without draining or closing the pipe. The provider's next write into that pipe then blocks for
 * good, and with it the goroutine copying the step's stdout, so cmd.Wait never returns: the step
 * stalls with no error, and not even the engine's timeout ends it (killing the shell does not
 * unblock that copy; no WaitDelay is set). A line is cut well below the limit (16 KiB): the
 * provider writes stdout and stderr into the same pipe, so a line of one stream can be joined by
 * a piece of the other.
 *
 * A cut line ends with LINE_CUT_MARKER and a newline at once (so a step killed mid-line still
 * leaves whole lines); the rest of that line, up to its own newline, is dropped. The record keeps
 * the step's verdict whole (runtime/record.ts): only the console line is cut.
 */

export const MAX_LINE_BYTES = 16 * 1024;
export const LINE_CUT_MARKER = " … [line cut at 16 KiB: the rest of it is not shown]";

/** A stateful filter over one stream's text: returns what to write instead of `chunk`. */
export function lineBounder(maxBytes = MAX_LINE_BYTES): (chunk: string) => string {
  let lineBytes = 0;
  let dropping = false;
  return (chunk) => {
    let out = "";
    const parts = chunk.split("\n");
    parts.forEach((part, i) => {
      const ends = i < parts.length - 1;
      if (dropping) {
        // the cut line's newline was written with its marker
        if (ends) dropping = false;
        return;
      }
      const bytes = Buffer.byteLength(part, "utf8");
      if (lineBytes + bytes <= maxBytes) {
        out += part;
        lineBytes += bytes;
      } else {
        out += headBytes(part, maxBytes - lineBytes) + LINE_CUT_MARKER + "\n";
        lineBytes = 0;
        dropping = !ends;
        return;
      }
      if (ends) {
        out += "\n";
        lineBytes = 0;
      }
    });
    return out;
  };
}

/** The longest head of `text` of at most `max` UTF-8 bytes that splits no character. */
function headBytes(text: string, max: number): string {
  const head = Buffer.from(text, "utf8").subarray(0, Math.max(0, max)).toString("utf8");
  return head.replace(/\uFFFD$/, "");
}

type Write = NodeJS.WriteStream["write"];

/**
 * Route every write of `stream` through a lineBounder (once per stream). Only a step process
 * calls this, on its own stdout and stderr: what it writes is the console of `pulumi up`.
 */
export function boundLines(stream: NodeJS.WriteStream, maxBytes = MAX_LINE_BYTES): void {
  const marked = stream as NodeJS.WriteStream & { coldstartLineBound?: true };
  if (marked.coldstartLineBound) return;
  marked.coldstartLineBound = true;
  const bound = lineBounder(maxBytes);
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    // coldstart writes utf8 text (strings, or Buffers of it); a string in another encoding passes as is
    const other = typeof rest[0] === "string" && !/^utf-?8$/i.test(rest[0]);
    if (other) return write(chunk, ...rest);
    if (typeof chunk === "string") return write(bound(chunk), ...rest);
    if (chunk instanceof Uint8Array) return write(bound(Buffer.from(chunk).toString("utf8")), ...rest);
    return write(chunk, ...rest);
  }) as Write;
}

/** A step process's own stdout and stderr. */
export function boundStepOutput(): void {
  boundLines(process.stdout);
  boundLines(process.stderr);
}
