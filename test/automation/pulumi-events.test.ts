/**
 * The Automation API adapter: `pulumi up` engine events (typed with the SDK's own EngineEvent, so
 * the compiler checks every shape here) -> coldstart step events; and the engine's answer on a
 * machine without the pulumi CLI.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import { eventMapper, exitCodeOf, planRefusal, stepName } from "../../automation/pulumi-events";
import { PulumiEngine } from "../../automation/pulumi-engine";
import { UsageError } from "../../config/errors";
import type { StepEvent } from "../../automation/engine";

const PREFIX = "urn:pulumi:roosevelt::coldstart::";
const STACK_URN = `${PREFIX}pulumi:pulumi:Stack::coldstart-roosevelt`;
const PROVIDER = `${PREFIX}pulumi:providers:command::default_1_2_1::4c0b1f3e-0a63-4a5f-9a43-2b8f5f3c1d10`;
const STAGE_TYPE = "coldstart:runbook:Stage";
const STEP_TYPE = "command:local:Command";
const stageUrn = (stage: string) => `${PREFIX}${STAGE_TYPE}::${stage}`;
const stepUrn = (step: string) => `${PREFIX}${STAGE_TYPE}$${STEP_TYPE}::${step}`;

const T0 = 1_796_450_400; // 2026-12-05T06:00:00Z, in seconds like EngineEvent.timestamp
const START_MS = T0 * 1000;

const CREATE = "coldstart check mysql-cluster --model maas-controller:openstack --app mysql-innodb-cluster --units 3";

let sequence = 0;
function event(at: number, body: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent {
  return { sequence: ++sequence, timestamp: T0 + at, ...body };
}

function stepMeta(op: OpType, step: string, window = "2026-12-05-roosevelt"): StepEventMetadata {
  const state = (id: string, outputs: Record<string, unknown>) => ({
    type: STEP_TYPE,
    urn: stepUrn(step),
    custom: true,
    id,
    parent: stageUrn("stage-2-mysql"),
    inputs: { create: CREATE, triggers: [window] },
    outputs,
    provider: PROVIDER,
  });
  const meta: StepEventMetadata = { op, urn: stepUrn(step), type: STEP_TYPE, provider: PROVIDER };
  if (op === "create" || op === "create-replacement") meta.new = state("", {});
  if (op === "same") {
    meta.old = state(`${step}-id`, { stdout: "ok" });
    meta.new = state(`${step}-id`, { stdout: "ok" });
  }
  if (op === "create-replacement" || op === "replace") {
    meta.old = state(`${step}-old`, { stdout: "ok" });
    meta.keys = ["triggers"];
    meta.diffs = ["triggers"];
  }
  if (op === "replace") meta.logical = true;
  if (op === "delete-replaced") meta.old = state(`${step}-old`, { stdout: "ok" });
  return meta;
}

function componentMeta(op: OpType, urn: string, type: string): StepEventMetadata {
  return { op, urn, type, provider: "" };
}

const pre = (at: number, metadata: StepEventMetadata, planning = false) =>
  event(at, { resourcePreEvent: { metadata, ...(planning ? { planning } : {}) } });
const outputs = (at: number, metadata: StepEventMetadata, planning = false) =>
  event(at, { resOutputsEvent: { metadata, ...(planning ? { planning } : {}) } });

const mapAll = (events: EngineEvent[]) => {
  const mapper = eventMapper(START_MS);
  const out = events.map((e) => mapper.map(e)).filter((s): s is StepEvent => s !== undefined);
  return { mapper, out };
};

describe("eventMapper on `pulumi up` of a Command step", () => {
  it("starts a created step at its resourcePreEvent and passes it at its resOutputsEvent", () => {
    const { out } = mapAll([
      pre(12, stepMeta("create", "mysql-check")),
      outputs(14.5, stepMeta("create", "mysql-check")),
    ]);
    expect(out).toEqual([
      { kind: "start", step: "mysql-check", atMs: 12_000 },
      { kind: "finish", step: "mysql-check", status: "passed", atMs: 14_500 },
    ]);
  });

  it("a new window's create-replacement runs the step; the logical replace and the delete-replaced are not runs", () => {
    const { out } = mapAll([
      pre(1, stepMeta("create-replacement", "mysql-check")),
      outputs(2, stepMeta("create-replacement", "mysql-check")),
      pre(2, stepMeta("replace", "mysql-check")),
      outputs(2, stepMeta("replace", "mysql-check")),
      pre(30, stepMeta("delete-replaced", "mysql-check")),
      outputs(30, stepMeta("delete-replaced", "mysql-check")),
    ]);
    expect(out.map((e) => [e.kind, e.step, e.status])).toEqual([
      ["start", "mysql-check", undefined],
      ["finish", "mysql-check", "passed"],
    ]);
  });

  it("ignores the preview's planning events", () => {
    const { out } = mapAll([
      pre(0, stepMeta("create", "mysql-check"), true),
      outputs(0, stepMeta("create", "mysql-check"), true),
      pre(0, stepMeta("create-replacement", "vault-unseal"), true),
      outputs(0, stepMeta("create-replacement", "vault-unseal"), true),
    ]);
    expect(out).toEqual([]);
  });

  it("ignores a step that is unchanged in this window (op same)", () => {
    const { out } = mapAll([
      pre(1, stepMeta("same", "baseline-capture")),
      outputs(1, stepMeta("same", "baseline-capture")),
    ]);
    expect(out).toEqual([]);
  });

  it("ignores the Stage components and the Stack", () => {
    const { out } = mapAll([
      pre(0, componentMeta("create", STACK_URN, "pulumi:pulumi:Stack")),
      pre(0, componentMeta("create", stageUrn("stage-2-mysql"), STAGE_TYPE)),
      outputs(0, componentMeta("create", stageUrn("stage-2-mysql"), STAGE_TYPE)),
      pre(0, componentMeta("create-replacement", stageUrn("stage-3-vault"), STAGE_TYPE)),
      outputs(40, componentMeta("create", STACK_URN, "pulumi:pulumi:Stack")),
    ]);
    expect(out).toEqual([]);
  });

  it("fails a step with the error diagnostic sent for its URN, from which exitCodeOf reads the exit status", () => {
    const blocker = [
      `exit status 3: running "${CREATE}":`,
      "BLOCKER mysql-check",
      "  expected: a state the runbook knows how to continue from: healthy, converging, or a complete outage on every unit",
      "  saw:      partial outage: mysql-innodb-cluster/2 blocked",
      "  escalate, never improvise: the run stops here.",
    ].join("\n");
    const { mapper, out } = mapAll([
      pre(0, componentMeta("create", STACK_URN, "pulumi:pulumi:Stack")),
      pre(3, stepMeta("create", "mysql-check")),
      event(4, {
        diagnosticEvent: {
          urn: stepUrn("mysql-check"),
          prefix: "",
          message: "checking mysql\n",
          color: "never",
          severity: "info",
        },
      }),
      event(5, {
        diagnosticEvent: { urn: stepUrn("mysql-check"), message: blocker, color: "never", severity: "error" },
      }),
      event(5, { resOpFailedEvent: { metadata: stepMeta("create", "mysql-check"), status: 1, steps: 1 } }),
      event(5, { diagnosticEvent: { message: "update failed", color: "never", severity: "error" } }),
      event(6, {
        summaryEvent: { maybeCorrupt: false, durationSeconds: 6, resourceChanges: { create: 1 }, policyPacks: {} },
      }),
    ]);
    expect(out).toEqual([
      { kind: "start", step: "mysql-check", atMs: 3_000 },
      { kind: "finish", step: "mysql-check", status: "failed", atMs: 5_000, message: blocker },
    ]);
    expect(mapper.errorOf("mysql-check")).toBe(blocker);
    expect(mapper.errorOf("mysql-check")).not.toContain("checking mysql");
    expect(exitCodeOf(mapper.errorOf("mysql-check"))).toBe(3);
  });

  it("runs a whole window: steps in the engine's order, the failed one last, nothing for components", () => {
    const events = [
      pre(0, componentMeta("create", STACK_URN, "pulumi:pulumi:Stack")),
      pre(0, componentMeta("create", stageUrn("pre-shutdown"), STAGE_TYPE)),
      pre(1, stepMeta("create-replacement", "baseline-capture")),
      outputs(2, stepMeta("create-replacement", "baseline-capture")),
      pre(2, stepMeta("replace", "baseline-capture")),
      outputs(2, stepMeta("replace", "baseline-capture")),
      pre(2, stepMeta("same", "hold-guests")),
      outputs(2, stepMeta("same", "hold-guests")),
      pre(3, stepMeta("create", "mysql-check")),
      event(4, {
        diagnosticEvent: {
          urn: stepUrn("mysql-check"),
          message: "exit status 1: running",
          color: "never",
          severity: "error",
        },
      }),
      event(4, { resOpFailedEvent: { metadata: stepMeta("create", "mysql-check"), status: 1, steps: 1 } }),
    ];
    const { out } = mapAll(events);
    expect(out.map((e) => `${e.kind} ${e.step} ${e.status ?? ""}`.trim())).toEqual([
      "start baseline-capture",
      "finish baseline-capture passed",
      "start mysql-check",
      "finish mysql-check failed",
    ]);
  });

  it("never reports a negative time for an event stamped before the mapper's start", () => {
    const mapper = eventMapper(START_MS + 2_000);
    expect(mapper.map(pre(1, stepMeta("create", "mysql-check")))).toMatchObject({ atMs: 0 });
  });
});

describe("exitCodeOf and stepName", () => {
  it.each<[string | undefined, number | undefined]>([
    ['exit status 3: running "coldstart check mysql-cluster":\nBLOCKER mysql-check', 3],
    ['exit status 1: running "coldstart gate ovn-chassis-connected"', 1],
    ["exit status 130: running", 130],
    ["signal: killed", undefined],
    [undefined, undefined],
  ])("reads the exit status of %j as %j", (message, code) => {
    expect(exitCodeOf(message)).toBe(code);
  });

  it("takes the step name from the last URN segment (the parent type chain is ignored)", () => {
    expect(stepName(stepUrn("mysql-reboot-cluster"))).toBe("mysql-reboot-cluster");
  });
});

describe("planRefusal: `pulumi up --plan` refusing to leave the approved preview", () => {
  it("reads a step that registered with what the plan did not contain (step_generator.go) and names it", () => {
    const text = ` code: 255\n stdout: ...\n error: resource ${stepUrn("power-off-openstack0")} violates plan: properties changed: ~~create[{coldstart act power-off --timeout 9m}!={coldstart act power-off --timeout 5m}]\n`;
    expect(planRefusal(text)).toEqual({ reason: "violates", step: "power-off-openstack0" });
  });

  it("reads a planned step the update never reached (deployment_executor.go) and names it", () => {
    expect(planRefusal(`expected resource operations for ${stepUrn("vault-unseal")} but none were seen`)).toEqual({
      reason: "unseen",
      step: "vault-unseal",
    });
  });

  it("names no step when the engine named the Stack or a Stage", () => {
    expect(planRefusal(`resource ${STACK_URN} violates plan: properties changed`)).toEqual({ reason: "violates" });
    expect(planRefusal(`resource ${stageUrn("stage-3-vault")} violates plan: dependencies changed`)).toEqual({
      reason: "violates",
    });
  });

  it("is not fooled by a step's own output that mentions a plan", () => {
    expect(
      planRefusal('exit status 1: running "coldstart gate ovn-chassis-connected":\nFAILED: planned window, plan B'),
    ).toBe(undefined);
  });

  it("collects every error diagnostic, with or without a URN, for the refusal to be found", () => {
    const mapper = eventMapper(START_MS);
    const urn = stepUrn("power-off-openstack0");
    mapper.map(
      event(1, {
        diagnosticEvent: { urn, message: `resource ${urn} violates plan: x`, color: "never", severity: "error" },
      }),
    );
    mapper.map(event(1, { diagnosticEvent: { message: "update failed", color: "never", severity: "error" } }));
    mapper.map(event(1, { diagnosticEvent: { message: "just info", color: "never", severity: "info" } }));
    expect(mapper.errorText()).toBe(`resource ${urn} violates plan: x\nupdate failed`);
    expect(planRefusal(mapper.errorText())?.step).toBe("power-off-openstack0");
  });
});

describe("PulumiEngine on a machine without the pulumi CLI", () => {
  const savedPath = process.env.PATH;
  const emptyBin = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-no-pulumi-"));
  beforeEach(() => {
    process.env.PATH = emptyBin;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });
  const engine = () => new PulumiEngine({ stack: "prior-build", projectDir: path.resolve(__dirname, "../..") });
  const notInstalled = (err: unknown) => {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/pulumi CLI is not installed/);
    expect((err as Error).message).toContain("--engine drill");
  };

  it("preview rejects with a usage error that suggests --engine drill", async () => {
    await engine()
      .preview("w-1")
      .then(
        () => {
          throw new Error("preview resolved");
        },
        (err: unknown) => notInstalled(err),
      );
  }, 20_000);

  it("up without an approved preview of that window refuses before reaching the CLI, and calls back with no step", async () => {
    const seen: StepEvent[] = [];
    const e = engine();
    await e.preview("w-1").catch(() => undefined); // no CLI: no plan was saved for w-1
    await e.up("w-1", { env: {}, signal: new AbortController().signal, onEvent: (ev) => seen.push(ev) }).then(
      () => {
        throw new Error("up resolved");
      },
      (err: unknown) => {
        expect(err).not.toBeInstanceOf(UsageError);
        expect((err as Error).message).toContain("without an approved preview of that window");
      },
    );
    expect(seen).toEqual([]);
  }, 20_000);
});
