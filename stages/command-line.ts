/** Build the readable `coldstart <verb> <name> --flag value` line a step's create runs. */

export type Verb = "check" | "act" | "gate";
export type FlagValue = string | number | boolean | readonly string[] | undefined;

const SAFE = /^[A-Za-z0-9_@%+=:,./~-]+$/;

/** POSIX-shell single-quote a word unless it is plainly safe (keeps the preview readable). */
export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word; // SAFE needs one character at least: "" is quoted ('')
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(cli: string, verb: Verb, name: string, flags: Record<string, FlagValue>): string {
  const words = [cli, verb, name];
  for (const [flag, value] of Object.entries(flags)) {
    if (value === undefined || value === false) continue;
    if (value === true) {
      words.push(`--${flag}`);
    } else if (Array.isArray(value)) {
      for (const item of value) words.push(`--${flag}`, shellQuote(String(item)));
    } else {
      words.push(`--${flag}`, shellQuote(String(value)));
    }
  }
  // the CLI word itself may be a path; quote it too
  words[0] = shellQuote(cli);
  return `${words.join(" ")}${KEEP_CHILD}`;
}

/**
 * Appended to every create line so that /bin/sh forks coldstart instead of exec-ing it (bash
 * execs a lone simple command given with -c; dash does too since 0.5.11). The engine's cancel
 * and its customTimeouts kill only the direct child -- `exec.CommandContext` in
 * pulumi/pulumi-command provider/pkg/provider/local/commandOutputs.go, whose contexts
 * pulumi/pulumi-go-provider middleware/cancel/cancel.go cancels on Cancel or at the timeout --
 * so the shell dies and coldstart, its child, is never killed mid-action: an action finishes,
 * a gate sees its shell gone and stops between polls (runtime/cancel.ts). That Wait returns
 * only when coldstart closes the output pipes (no WaitDelay is set there), so the engine
 * reports the step after it really ended.
 */
export const KEEP_CHILD = "; exit $?";

/**
 * The `update` of every step: pulumi-command runs `update` (or, when it is unset, `create`
 * again) whenever any input other than `triggers` changed (commandController.go, Update). A
 * step that passed in this window must never run again because config or coldstart changed,
 * so its update only records that it was kept.
 */
export function keptLine(cli: string, step: string): string {
  return `${shellQuote(cli)} kept ${shellQuote(step)}`;
}
