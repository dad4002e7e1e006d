/**
 * How a step says a state-changing request it sent (issue #23): one `RAN: <what>: <answer>` line
 * once the answer is in, also when the request failed (it may still have reached the cloud), so
 * the console and the record (cli/step-record.ts keeps every RAN: / FOLLOWED: line) show every
 * request and what the cloud said. An earlier run's request still in progress, waited for instead
 * of sent again, is a `FOLLOWED: <what>` line.
 */
import type { Reporter } from "../runtime/step-context";
import { forConsole } from "../runtime/safe-text";

/** An answer quoted in a RAN: line: its first line, terminal-safe, at most this many characters. */
const ANSWER_CHARS = 300;

export function answerOf(err: unknown): string {
  const text = forConsole(
    String(err instanceof Error ? err.message : err)
      .trim()
      .split("\n")[0] ?? "",
  );
  return text.length > ANSWER_CHARS ? `${text.slice(0, ANSWER_CHARS)}…` : text;
}

/** Send `send` and say it: `RAN: <what>: <answer>`, or `RAN: <what>: FAILED (<error>)` and rethrow. */
export async function sent<T>(
  out: Reporter,
  what: string,
  send: () => Promise<T>,
  answer: (r: T) => string = () => "accepted",
): Promise<T> {
  let r: T;
  try {
    r = await send();
  } catch (err) {
    out.line(`RAN: ${what}: FAILED (${answerOf(err)})`);
    throw err;
  }
  out.line(`RAN: ${what}: ${answer(r)}`);
  return r;
}

/** `FOLLOWED: <what>`: an earlier request of this step, still in progress, waited for rather than sent again. */
export function followed(out: Reporter, what: string): string {
  const line = `FOLLOWED: ${what}`;
  out.line(line);
  return line;
}
