/**
 * Engine events of `pulumi up` (Automation API, onEvent) -> coldstart step events. Pure, so it is
 * tested on the SDK's own event types. A step starts with its resourcePreEvent (op create, or
 * create-replacement when a new window replaced it), finishes with resOutputsEvent, fails with
 * resOpFailedEvent; the failure text is the error diagnostic the engine sends for that URN.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { StepEvent } from "./engine";

const STEP_TYPE = "command:local:Command";
/** Operations that run a step's create (update also runs create when no update command is set). */
const RUNS_CREATE = new Set(["create", "create-replacement", "update"]);

export interface EventMapper {
  map(event: EngineEvent): StepEvent | undefined;
  /** The last error diagnostic seen for a step (the command's output and exit status). */
  errorOf(step: string): string | undefined;
}

export function stepName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** "exit status 3: running ..." (Go's exec error) -> 3 */
export function exitCodeOf(message: string | undefined): number | undefined {
  const m = /exit status (\d+)/.exec(message ?? "");
  return m ? Number(m[1]) : undefined;
}

export function eventMapper(startMs: number): EventMapper {
  const errors = new Map<string, string>();
  const at = (e: EngineEvent) => Math.max(0, e.timestamp * 1000 - startMs);
  return {
    errorOf: (step) => errors.get(step),
    map(e) {
      if (e.diagnosticEvent?.urn && e.diagnosticEvent.severity === "error") {
        const step = stepName(e.diagnosticEvent.urn);
        errors.set(step, `${errors.get(step) ?? ""}${e.diagnosticEvent.message}`);
        return undefined;
      }
      const pre = e.resourcePreEvent;
      if (pre && !pre.planning && pre.metadata.type === STEP_TYPE && RUNS_CREATE.has(pre.metadata.op)) {
        return { kind: "start", step: stepName(pre.metadata.urn), atMs: at(e) };
      }
      const done = e.resOutputsEvent;
      if (done && !done.planning && done.metadata.type === STEP_TYPE && RUNS_CREATE.has(done.metadata.op)) {
        return { kind: "finish", step: stepName(done.metadata.urn), status: "passed", atMs: at(e) };
      }
      const failed = e.resOpFailedEvent;
      if (failed && failed.metadata.type === STEP_TYPE) {
        const step = stepName(failed.metadata.urn);
        return { kind: "finish", step, status: "failed", atMs: at(e), message: errors.get(step) };
      }
      return undefined;
    },
  };
}
