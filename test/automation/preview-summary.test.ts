/**
 * The approval's summary of the engine's own preview, on hand-built `pulumi preview` events typed
 * with the SDK's EngineEvent: one op per step, plan order, resume or new window, the counts line
 * that names every step that runs a command, and the mode the program will read.
 */
import * as path from "node:path";
import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";
import {
  countsLine,
  modeInForce,
  opsAgainstState,
  resumeLine,
  resumeOf,
  stepOpOf,
  summariseEvents,
  summaryLines,
  type ModeInForce,
  type PreviewSummary,
} from "../../automation/preview-summary";
import { readStackConfig } from "../../config/stack-files";
import { UsageError } from "../../config/errors";
import { diffStep, hashStep } from "../../drill/pulumi-state";

const PREFIX = "urn:pulumi:roosevelt::coldstart::";
const STACK_URN = `${PREFIX}pulumi:pulumi:Stack::coldstart-roosevelt`;
const PROVIDER_URN = `${PREFIX}pulumi:providers:command::default_1_2_1`;
const STAGE_TYPE = "coldstart:runbook:Stage";
const STEP_TYPE = "command:local:Command";
const stageUrn = (stage: string) => `${PREFIX}${STAGE_TYPE}::${stage}`;
const stepUrn = (step: string) => `${PREFIX}${STAGE_TYPE}$${STEP_TYPE}::${step}`;

const PLANNED: ModeInForce = { mode: "planned", from: "the stack's coldstart:mode" };

let sequence = 0;
function event(body: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent {
  return { sequence: ++sequence, timestamp: 1_796_450_400, ...body };
}

/** A preview's resourcePreEvent (planning: true) for a step, or for another resource type. */
function planned(op: OpType, step: string, type = STEP_TYPE, urn = stepUrn(step)): EngineEvent {
  const metadata: StepEventMetadata = { op, urn, type, provider: "" };
  return event({ resourcePreEvent: { metadata, planning: true } });
}

/** The three events `pulumi preview` sends for one replaced step. */
const replaced = (step: string) => [
  planned("create-replacement", step),
  planned("replace", step),
  planned("delete-replaced", step),
];

const summary = (events: EngineEvent[], order: string[]) => summariseEvents(events, order, PLANNED);
const opsOf = (s: PreviewSummary) => s.steps.map((p) => `${p.step}:${p.op}`);

describe("the per-step operation from `pulumi preview` events", () => {
  it("maps create, update and same as they are, and the three events of a replacement to one replace", () => {
    const s = summary(
      [
        planned("create", "baseline-capture"),
        planned("update", "power-off-openstack0"),
        planned("same", "mysql-check"),
        ...replaced("vault-unseal"),
      ],
      ["baseline-capture", "power-off-openstack0", "mysql-check", "vault-unseal"],
    );
    expect(opsOf(s)).toEqual([
      "baseline-capture:create",
      "power-off-openstack0:update",
      "mysql-check:same",
      "vault-unseal:replace",
    ]);
  });

  it.each<[OpType, string | undefined]>([
    ["create", "create"],
    ["update", "update"],
    ["replace", "replace"],
    ["create-replacement", "replace"],
    ["delete-replaced", "replace"],
    ["same", "same"],
    ["delete", "delete"],
    ["read", undefined],
    ["refresh", undefined],
    ["discard", undefined],
  ])("Pulumi's op %s is %s", (op, ours) => {
    expect(stepOpOf(op)).toBe(ours);
  });

  it("ignores an update's events (no planning flag), the Stack, the Stage components and the provider", () => {
    const metadata: StepEventMetadata = { op: "create", urn: stepUrn("mysql-check"), type: STEP_TYPE, provider: "" };
    const s = summary(
      [
        planned("create", "coldstart-roosevelt", "pulumi:pulumi:Stack", STACK_URN),
        planned("create", "stage-2-mysql", STAGE_TYPE, stageUrn("stage-2-mysql")),
        planned("create", "default_1_2_1", "pulumi:providers:command", PROVIDER_URN),
        event({ resourcePreEvent: { metadata } }),
        event({ resOutputsEvent: { metadata, planning: true } }),
        planned("same", "baseline-capture"),
      ],
      ["baseline-capture", "mysql-check"],
    );
    expect(opsOf(s)).toEqual(["baseline-capture:same"]);
  });

  it("orders steps by the plan, not by the order the engine reported them; a step the plan lacks comes last", () => {
    const s = summary(
      [
        planned("create", "mysql-cluster-online"),
        planned("delete", "old-step"),
        planned("same", "baseline-capture"),
        planned("create", "mysql-check"),
      ],
      ["baseline-capture", "mysql-check", "mysql-cluster-online"],
    );
    expect(opsOf(s)).toEqual([
      "baseline-capture:same",
      "mysql-check:create",
      "mysql-cluster-online:create",
      "old-step:delete",
    ]);
  });
});

describe("new window or resume", () => {
  const order = ["baseline-capture", "hold-guests", "mysql-check", "mysql-cluster-online"];

  it("no state at all: a new window, every step will run", () => {
    const s = summary(
      order.map((step) => planned("create", step)),
      order,
    );
    expect(resumeOf(s)).toEqual({ kind: "new", total: 4 });
    expect(resumeLine(s)).toBe("new window: every step will run");
    expect(countsLine(s)).toBe("create 4");
  });

  it("another window's state: every step is replaced, still a new window, and every replaced step is named", () => {
    const s = summary(order.flatMap(replaced), order);
    expect(resumeLine(s)).toBe("new window: every step will run");
    expect(countsLine(s)).toBe(`replace 4 (${order.join(", ")})`);
  });

  it("some steps same: resumes from the first step in plan order that is not same, counting the done ones", () => {
    // the engine reports mysql-check before hold-guests (parallel branches); the plan decides
    const s = summary(
      [
        planned("same", "baseline-capture"),
        planned("create", "mysql-cluster-online"),
        planned("same", "mysql-check"),
        planned("create", "hold-guests"),
      ],
      order,
    );
    expect(resumeOf(s)).toEqual({ kind: "resumes", from: "hold-guests", done: 2, total: 4 });
    expect(resumeLine(s)).toBe("this window resumes from hold-guests: 2 steps already done");
  });

  it("an update counts as not done: the window resumes from it", () => {
    const s = summary(
      [
        planned("same", "baseline-capture"),
        planned("update", "hold-guests"),
        planned("same", "mysql-check"),
        planned("same", "mysql-cluster-online"),
      ],
      order,
    );
    expect(resumeLine(s)).toBe("this window resumes from hold-guests: 3 steps already done");
  });

  it("every step same: the window is complete and nothing will run", () => {
    const s = summary(
      order.map((step) => planned("same", step)),
      order,
    );
    expect(resumeOf(s)).toEqual({ kind: "complete", total: 4 });
    expect(resumeLine(s)).toBe("this window is complete: all 4 steps already done, nothing will run");
  });

  it("a deleted step is neither done nor to run", () => {
    const s = summary([planned("same", "baseline-capture"), planned("delete", "old-step")], ["baseline-capture"]);
    expect(resumeOf(s)).toEqual({ kind: "complete", total: 1 });
  });
});

describe("the counts line", () => {
  it("groups compactly and names every update and replace, since those run a command", () => {
    const creates = Array.from({ length: 30 }, (_, i) => `step-${i + 1}`);
    const order = [
      "baseline-capture",
      "hold-guests",
      "power-off-openstack0",
      "powered-off-openstack0",
      "mysql-check",
      "vault-unseal",
      ...creates,
    ];
    const s = summary(
      [
        planned("same", "baseline-capture"),
        planned("same", "hold-guests"),
        planned("update", "power-off-openstack0"),
        planned("update", "powered-off-openstack0"),
        planned("same", "mysql-check"),
        planned("same", "vault-unseal"),
        ...creates.map((step) => planned("create", step)),
      ],
      order,
    );
    expect(countsLine(s)).toBe("create 30, update 2 (power-off-openstack0, powered-off-openstack0), same 4");
  });

  it("summaryLines: the mode, the resume line, the counts, and what a delete means", () => {
    const s = summariseEvents(
      [planned("same", "baseline-capture"), ...replaced("mysql-check"), planned("delete", "old-step")],
      ["baseline-capture", "mysql-check"],
      { mode: "unplanned", from: "COLDSTART_MODE=unplanned (overrides the stack's coldstart:mode planned)" },
    );
    expect(summaryLines(s)).toEqual([
      "mode: unplanned (COLDSTART_MODE=unplanned (overrides the stack's coldstart:mode planned))",
      "this window resumes from mysql-check: 1 step already done",
      "replace 1 (mysql-check), delete 1 (old-step), same 1",
      "delete: steps no longer declared; coldstart sets no delete command, so only the state changes",
    ]);
  });
});

describe("the mode in force, as the program's own config loader decides it", () => {
  const values = readStackConfig(path.resolve(__dirname, "../.."), "prior-build").values;
  const env = { COLDSTART_WINDOW: "2026-12-05-roosevelt" };

  it("is the stack's coldstart:mode when nothing overrides it", () => {
    expect(values["coldstart:mode"]).toBe("planned");
    expect(modeInForce(values, env)).toEqual({ mode: "planned", from: "the stack's coldstart:mode" });
  });

  it("is COLDSTART_MODE when set, and says what it overrides", () => {
    const m = modeInForce(values, { ...env, COLDSTART_MODE: "unplanned" });
    expect(m.mode).toBe("unplanned");
    expect(m.from).toBe("COLDSTART_MODE=unplanned (overrides the stack's coldstart:mode planned)");
  });

  it("is the schema's default when neither sets it", () => {
    const { "coldstart:mode": _mode, ...rest } = values;
    expect(modeInForce(rest, env)).toEqual({
      mode: "planned",
      from: "the default: the stack sets no coldstart:mode",
    });
  });

  it("an empty COLDSTART_MODE does not override (the loader takes a non-empty variable only)", () => {
    expect(modeInForce(values, { ...env, COLDSTART_MODE: "" }).from).toBe("the stack's coldstart:mode");
  });

  it("a COLDSTART_MODE the schema rejects is the loader's usage error, not a guess", () => {
    expect(() => modeInForce(values, { ...env, COLDSTART_MODE: "sideways" })).toThrow(UsageError);
  });
});

describe("the drill's preview: the program's step inputs against the drill's state, by the drill engine's own diff", () => {
  const inputs = (window: string, create: string) => ({
    create,
    update: "coldstart kept",
    triggers: [window],
    environment: { COLDSTART_WINDOW: window },
  });
  const stored = (window: string, create: string) => ({ ...hashStep(inputs(window, create)), stdout: "", stderr: "" });
  const now = (name: string, window: string, create: string) => ({ name, ...hashStep(inputs(window, create)) });

  it("not in state: create; same inputs: same; another input changed: update; triggers (the window) changed: replace", () => {
    const state = {
      "mysql-check": stored("w-1", "coldstart check mysql"),
      "power-off-openstack0": stored("w-1", "coldstart act power-off --timeout 5m"),
      "vault-unseal": stored("w-0", "coldstart act vault-unseal"),
    };
    const ops = opsAgainstState(
      [
        now("baseline-capture", "w-1", "coldstart act baseline"),
        now("mysql-check", "w-1", "coldstart check mysql"),
        now("power-off-openstack0", "w-1", "coldstart act power-off --timeout 9m"),
        now("vault-unseal", "w-1", "coldstart act vault-unseal"),
      ],
      state,
      diffStep,
    );
    expect([...ops]).toEqual([
      ["baseline-capture", "create"],
      ["mysql-check", "same"],
      ["power-off-openstack0", "update"],
      ["vault-unseal", "replace"],
    ]);
  });

  it("a step named like an Object.prototype member is not found in an empty state", () => {
    expect([...opsAgainstState([now("constructor", "w-1", "x")], {}, diffStep)]).toEqual([["constructor", "create"]]);
  });
});
