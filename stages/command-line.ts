/** Build the readable `coldstart <verb> <name> --flag value` line a step's create runs. */

export type Verb = "check" | "act" | "gate";
export type FlagValue = string | number | boolean | readonly string[] | undefined;

const SAFE = /^[A-Za-z0-9_@%+=:,./~-]+$/;

/** POSIX-shell single-quote a word unless it is plainly safe (keeps the preview readable). */
export function shellQuote(word: string): string {
  if (word !== "" && SAFE.test(word)) return word;
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
  return words.join(" ");
}
