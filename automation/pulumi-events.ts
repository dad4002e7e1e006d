/**
 * Engine events of `pulumi up` (Automation API, onEvent) -> coldstart step events. Pure, so it is
 * tested on the SDK's own event types. A step starts with its resourcePreEvent (op create, or
 * create-replacement when a new window replaced it), finishes with resOutputsEvent, fails with
 * resOpFailedEvent; the failure text is the error diagnostic the engine sends for that URN. The
 * engine's refusal to leave an approved update plan is read from its error text (planRefusal).
 *
 * A step's output reaches the event stream line by line while it runs: pulumi-command v1.2.1
 * (provider/pkg/provider/local/commandOutputs.go run) tees the command's stdout and stderr into a
 * pipe that util.LogOutput (provider/pkg/provider/util/util.go) scans line by line, sending each
 * line as `InfoStatus` (diag.Info) for the step's URN (pulumi-go-provider v1.3.0 logging.go ->
 * host.LogStatus). The engine's status sink marks those diagnostics ephemeral (pulumi/pulumi
 * pkg/engine/eventsink.go, statusSink) and appends a newline; they arrive as diagnosticEvent
 * {urn, severity "info", ephemeral true, message}. A notable line (notableOutput) becomes an
 * output event.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { notableOutput, type StepEvent } from "./engine";

/** ANSI colour codes (color "always"); built from a string, the linter refuses a control character in a literal. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** The resource type of a coldstart step (the Stage components and the Stack are not steps). */
export const STEP_TYPE = "command:local:Command";
/** Operations that run a step's create (update also runs create when no update command is set). */
const RUNS_CREATE = new Set(["create", "create-replacement", "update"]);

export interface EventMapper {
  map(event: EngineEvent): StepEvent | undefined;
  /** The last error diagnostic seen for a step (the command's output and exit status). */
  errorOf(step: string): string | undefined;
  /** Every error diagnostic seen, with or without a URN (the engine's own refusals included). */
  errorText(): string;
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
  const all: string[] = [];
  const at = (e: EngineEvent) => Math.max(0, e.timestamp * 1000 - startMs);
  return {
    errorOf: (step) => errors.get(step),
    errorText: () => all.join("\n"),
    map(e) {
      if (e.diagnosticEvent?.severity === "error") all.push(e.diagnosticEvent.message);
      if (e.diagnosticEvent?.urn && e.diagnosticEvent.severity === "error") {
        const step = stepName(e.diagnosticEvent.urn);
        errors.set(step, `${errors.get(step) ?? ""}${e.diagnosticEvent.message}`);
        return undefined;
      }
      const d = e.diagnosticEvent;
      if (d?.urn && d.urn.includes(`${STEP_TYPE}::`) && (d.severity === "info" || d.severity === "info#err")) {
        // one line per event (LogOutput scans lines); colour tags stripped, whatever `color` was
        const line = d.message
          .replace(/<\{%[^%]*%\}>/g, "")
          .replace(ANSI, "")
          .replace(/\r?\n$/, "");
        return notableOutput(line) ? { kind: "output", step: stepName(d.urn), line, atMs: at(e) } : undefined;
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

/** What the operator reads when `pulumi up --plan` refuses: one line, and what to do. */
export const PLAN_REFUSED =
  "the preview changed since it was approved; nothing more was run: run maintenance again to review the new preview";

export interface PlanRefusal {
  /**
   * violates: a step registered with something the approved plan did not contain;
   * unseen: the update ended without a step the plan expected.
   */
  reason: "violates" | "unseen";
  /** The step the engine named, when it named a step. */
  step?: string;
}

/**
 * The engine's refusal to leave the approved update plan, found in its error text:
 * "resource <urn> violates plan: ..." (pulumi/pulumi pkg/resource/deploy/step_generator.go) or
 * "expected resource operations for <urn> but none were seen" (pkg/resource/deploy/
 * deployment_executor.go). Only these phrases, not any "plan": a step's own output may say
 * "planned". The second is also what an update cancelled part-way reports for every step it did
 * not reach (the executor checks the plan when no step failed), so the caller tells a cancel apart.
 */
export function planRefusal(text: string): PlanRefusal | undefined {
  const violates = /(?:resource )?(urn:pulumi:\S+)? ?violates plan/.exec(text);
  if (violates) return { reason: "violates", ...stepOf(violates[1]) };
  const unseen = /expected resource operations for (urn:pulumi:\S+) but none were seen/.exec(text);
  if (unseen) return { reason: "unseen", ...stepOf(unseen[1]) };
  return undefined;
}

function stepOf(urn: string | undefined): { step?: string } {
  return urn?.includes(`${STEP_TYPE}::`) ? { step: stepName(urn) } : {};
}
