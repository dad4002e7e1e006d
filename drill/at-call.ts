/**
 * `--at-call "<prefix>[#N]"`: which of a step's cloud calls a drill's `--cancel-at`/`--kill-at`
 * lands at. The prefix is matched against `<tool> <argv joined by spaces>` of each call the sim
 * logs for that step (sim/call-log.ts); `#N` (N >= 1) picks the N-th such call instead of the
 * first, so a fault campaign can stop a step at any call, e.g. its 3rd `virsh … domstate`.
 * Kept in one module so the flag's grammar lives in one place (issue #23).
 */
export interface AtCall {
  prefix: string;
  /** 1-based: the N-th call of the step that starts with `prefix`. */
  nth: number;
}

const OCCURRENCE = /^(.*)#([1-9]\d*)$/s;

/** "juju run" -> first call starting so; "virsh domstate#3" -> the third. */
export function parseAtCall(text: string): AtCall {
  const m = OCCURRENCE.exec(text);
  if (m && m[1]) return { prefix: m[1], nth: Number(m[2]) };
  return { prefix: text, nth: 1 };
}

/** The text a call is matched on: what an operator would have typed. */
export function callText(call: { tool?: string; argv?: readonly string[] }): string {
  return `${call.tool ?? ""} ${(call.argv ?? []).join(" ")}`;
}

/** A matcher that says true once, at the selected occurrence (calls are fed in log order). */
export function occurrenceMatcher(
  atCall: string | undefined,
): (call: { tool?: string; argv?: readonly string[] }) => boolean {
  const want = atCall === undefined ? undefined : parseAtCall(atCall);
  let seen = 0;
  return (call) => {
    if (want && !callText(call).startsWith(want.prefix)) return false;
    seen++;
    return seen === (want?.nth ?? 1);
  };
}
