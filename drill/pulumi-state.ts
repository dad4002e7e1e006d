/**
 * What `pulumi up` remembers between runs, reduced to what decides whether a step runs again:
 * a step whose create succeeded is in state with its inputs; a failed create is not written
 * (pulumi/pulumi step.go). Next run: same inputs -> nothing runs; any input changed (a new
 * window changes `triggers` -> replace) -> create runs again; not in state -> create runs.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface StoredStep {
  inputsHash: string;
  stdout: string;
  stderr: string;
}

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

export function hashInputs(inputs: Record<string, unknown>): string {
  return crypto.createHash("sha256").update(canonical(inputs)).digest("hex");
}

export function loadState(dir: string): DrillPulumiState {
  const file = path.join(dir, FILE);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as DrillPulumiState) : { steps: {} };
}

export function saveState(dir: string, state: DrillPulumiState): void {
  fs.writeFileSync(path.join(dir, FILE), JSON.stringify(state, null, 2));
}
