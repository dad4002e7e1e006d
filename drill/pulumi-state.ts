/**
 * What `pulumi up` remembers between runs, reduced to what decides whether and what a step runs:
 * - not in state -> create (a failed create is never written: pulumi/pulumi
 *   pkg/resource/deploy/step.go CreateStep.Apply);
 * - `triggers` changed -> replace: create runs for the new resource (the SDK marks triggers
 *   replaceOnChanges; pulumi-command v1.2.1 provider/pkg/provider/local/base.go), the old one's
 *   `delete` (coldstart sets none) would run;
 * - any other input changed -> update: the provider runs `update`, or `create` again when
 *   `update` is unset (commandController.go Update: "Use Create command if Update is
 *   unspecified"), with the previous stdout/stderr in PULUMI_COMMAND_STDOUT/STDERR
 *   (commandOutputs.go, addPreviousOutputInEnv defaults to true);
 * - nothing changed -> same: nothing runs.
 * A failed update or replace keeps the old state, so the next run tries again.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface StoredStep {
  /** Hash of `triggers` (absent in states written before the replace/update model). */
  triggersHash?: string;
  /** Hash of every other input. */
  inputsHash: string;
  stdout: string;
  stderr: string;
}

export type StepOp = "create" | "replace" | "update" | "same";

export interface DrillPulumiState {
  steps: Record<string, StoredStep>;
}

const FILE = "pulumi-state.json";

/** JSON with object keys sorted at every level, so equal inputs hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function hash(value: unknown): string {
  return crypto.createHash("sha256").update(canonical(value)).digest("hex");
}

/** The two hashes the engine's diff decides on: triggers (replace) and the rest (update). */
export function hashStep(inputs: Record<string, unknown>): Pick<StoredStep, "triggersHash" | "inputsHash"> {
  const { triggers, ...rest } = inputs;
  return { triggersHash: hash(triggers ?? []), inputsHash: hash(rest) };
}

export function diffStep(stored: StoredStep | undefined, now: Pick<StoredStep, "triggersHash" | "inputsHash">): StepOp {
  if (!stored) return "create";
  if (stored.triggersHash !== undefined && stored.triggersHash !== now.triggersHash) return "replace";
  if (stored.inputsHash !== now.inputsHash) return stored.triggersHash === undefined ? "replace" : "update";
  return "same";
}

export function loadState(dir: string): DrillPulumiState {
  const file = path.join(dir, FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as DrillPulumiState) : { steps: {} };
}

export function saveState(dir: string, state: DrillPulumiState): void {
  fs.writeFileSync(path.join(dir, FILE), JSON.stringify(state, null, 2));
}
