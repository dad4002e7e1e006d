/**
 * A step's manual procedure (issue #24): what an operator types to do the step by hand, with this
 * stack's values filled in, in the seed runbook's own labels (RUN / CHECK / GATE, runbooks/README.md
 * conventions). Plain data, written by each step's definition (stages/step-def.ts `manual`) from the
 * flags its stage passes; `coldstart runbook` and every stop's hand-back (runbook/) render it.
 *
 * Rules a test holds every procedure to (test/runbook/manual-procedures.test.ts):
 * - each command is one bash line that `bash -n` accepts, runnable as printed;
 * - what only the cloud knows at run time is a shell variable (`"$LB_ID"`) declared as a
 *   placeholder with the read-only command that finds it; a value the stack knows is never left
 *   as a placeholder;
 * - no secret value: keys and passwords are read at a hidden prompt (`read -s`) or come from the
 *   file/variable the stack names, and never enter argv.
 */

/** The seed runbook's labels: RUN changes something, CHECK reads, GATE must hold before going on. */
export type ManualLabel = "RUN" | "CHECK" | "GATE";

export interface ManualBlock {
  label: ManualLabel;
  /** What this block does, or for a GATE what must hold, in runbook words (one line). */
  says: string;
  /** Where it runs, as the seed says it ("jumphost"). */
  where: string;
  /** Shell lines, in order; each parses on its own (`bash -n`). */
  commands: string[];
  /** For a GATE: how often to repeat the check and for how long, from the stack's timing ("every 15s, up to 15m"). */
  repeat?: string;
}

/** A value only the running cloud knows: a shell variable the commands use, and how to find it. */
export interface ManualPlaceholder {
  /** The variable's name as the commands use it (`LB_ID` for `"$LB_ID"`). */
  name: string;
  /** What it is. */
  means: string;
  /** The read-only command that finds it. */
  findWith: string;
}

export interface ManualProcedure {
  /** The seed runbook section it comes from (ops-restart-procedure.md, and appendix-A where it routes there). */
  section: string;
  blocks: ManualBlock[];
  placeholders?: ManualPlaceholder[];
}

/** `"$NAME"` for a placeholder: the form every command uses, so it parses and is quoted. */
export const ref = (name: string): string => `"$${name}"`;

/** A shell word for a value the stack gives (a model, a host, a path): quoted only when it must be. */
export function shellWord(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  if (/^~\/[A-Za-z0-9_./@%+=,-]*$/.test(value)) return value; // ~/x: the shell expands it, unquoted
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
