/**
 * PulumiEngine through the real Automation API against a stand-in `pulumi` on PATH (the CLI is
 * not installed here). The stand-in answers `pulumi version` as 3.200.0, so the SDK tails an
 * event-log file (node_modules/@pulumi/pulumi/automation/stack.js setupEventLog: a file up to
 * 3.205.0, gRPC after), writes the events a test gives it there, and logs its argv. What it pins:
 * preview saves an update plan and its events become the approval's summary; up runs with that
 * very plan; the engine's refusal of the plan is one line; COLDSTART_MODE decides the mode.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation";
import { PulumiEngine } from "../../automation/pulumi-engine";
import { PLAN_REFUSED } from "../../automation/pulumi-events";
import { makePlan } from "../../plan/plan";
import type { StepEvent } from "../../automation/engine";

const ROOT = path.resolve(__dirname, "../..");
const STACK = "prior-build";
const STEP_TYPE = "command:local:Command";
const stepUrn = (step: string) => `urn:pulumi:${STACK}::coldstart::coldstart:runbook:Stage$${STEP_TYPE}::${step}`;

/** The stand-in CLI: node, reading what to do from $FAKE_PULUMI_DIR. */
const FAKE_PULUMI = `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const dir = process.env.FAKE_PULUMI_DIR;
const args = process.argv.slice(2);
if (args[0] === "version") { process.stdout.write("v3.200.0\\n"); process.exit(0); }
const env = { mode: process.env.COLDSTART_MODE, window: process.env.COLDSTART_WINDOW };
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify({ args, ...env }) + "\\n");
const flag = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const command = args[0];
// after an up the SDK reads the outputs and the last history entry (stack.js up())
if (command === "stack" && args[1] === "output") { process.stdout.write("{}\\n"); process.exit(0); }
if (command === "stack" && args[1] === "history") { process.stdout.write("[]\\n"); process.exit(0); }
if (command !== "preview" && command !== "up") process.exit(0);
if (command === "preview") fs.writeFileSync(flag("--save-plan"), "{\\"resourcePlans\\":{}}\\n");
if (command === "up" && !fs.existsSync(flag("--plan"))) { process.stderr.write("error: no plan file\\n"); process.exit(255); }
const events = path.join(dir, command + "-events.jsonl");
if (fs.existsSync(events)) fs.appendFileSync(flag("--event-log"), fs.readFileSync(events));
const stderr = path.join(dir, command + "-stderr.txt");
if (fs.existsSync(stderr)) { process.stderr.write(fs.readFileSync(stderr)); process.exit(255); }
`;

let sequence = 0;
const pre = (op: OpType, step: string, planning: boolean): EngineEvent => ({
  sequence: ++sequence,
  timestamp: Math.floor(Date.now() / 1000),
  resourcePreEvent: {
    metadata: { op, urn: stepUrn(step), type: STEP_TYPE, provider: "" },
    ...(planning ? { planning } : {}),
  },
});

/** One CLI call: its argv and the COLDSTART_MODE / COLDSTART_WINDOW it ran with. */
interface Call {
  args: string[];
  mode?: string;
  window?: string;
}

interface Fake {
  dir: string;
  calls(): Call[];
  script(file: string, content: EngineEvent[] | string): void;
}

function fakePulumi(): Fake {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-fake-pulumi-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  return {
    dir,
    calls: () =>
      fs.existsSync(path.join(dir, "calls.jsonl"))
        ? fs
            .readFileSync(path.join(dir, "calls.jsonl"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Call)
        : [],
    script: (file, content) =>
      fs.writeFileSync(
        path.join(dir, file),
        typeof content === "string" ? content : content.map((e) => JSON.stringify(e)).join("\n") + "\n",
      ),
  };
}

/**
 * The project (Pulumi.yaml and the stack files) in a folder of its own: the engine puts the
 * project's bin/ first on the CLI's PATH, and the stand-in must be the `pulumi` it finds.
 */
function projectCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-fake-project-"));
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.cpSync(path.join(ROOT, "stacks"), path.join(dir, "stacks"), { recursive: true });
  return dir;
}

const flagOf = (argv: string[], name: string) => argv[argv.indexOf(name) + 1];

/** A preview's events end with its summary (the SDK warns without one). */
const previewEvents = (events: EngineEvent[]): EngineEvent[] => [
  ...events,
  {
    sequence: ++sequence,
    timestamp: Math.floor(Date.now() / 1000),
    summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: {}, policyPacks: {} },
  },
];

describe("PulumiEngine: what preview shows is what up runs (update plans), against a stand-in CLI", () => {
  const savedPath = process.env.PATH;
  let fake: Fake;
  let steps: string[];
  beforeAll(async () => {
    steps = (await makePlan({ stack: STACK, window: "w-1", mode: "planned" })).steps.map((s) => s.name);
  }, 30_000);
  beforeEach(() => {
    fake = fakePulumi();
    process.env.PATH = `${path.join(fake.dir, "bin")}${path.delimiter}${savedPath}`;
    process.env.FAKE_PULUMI_DIR = fake.dir;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    delete process.env.FAKE_PULUMI_DIR;
  });
  const project = projectCopy();
  const engine = (env: NodeJS.ProcessEnv = {}) => new PulumiEngine({ stack: STACK, projectDir: project, env });
  const noCancel = () => new AbortController().signal;

  it("preview saves an update plan and its planning events are the summary; up runs with that same plan, then drops it", async () => {
    // a resumed window: the first three steps done, the fourth's inputs changed, the rest to create
    fake.script(
      "preview-events.jsonl",
      previewEvents([
        ...steps.slice(0, 3).map((s) => pre("same", s, true)),
        pre("update", steps[3], true),
        ...steps.slice(4).map((s) => pre("create", s, true)),
      ]),
    );
    fake.script("up-events.jsonl", [pre("update", steps[3], false)]);
    const e = engine();
    const { plan, preview } = await e.preview("w-1");

    expect(plan.mode).toBe("planned");
    expect(preview.mode).toEqual({ mode: "planned", from: "the stack's coldstart:mode" });
    expect(preview.steps.map((s) => s.step)).toEqual(steps);
    expect(preview.steps.map((s) => s.op)).toEqual([
      "same",
      "same",
      "same",
      "update",
      ...steps.slice(4).map(() => "create"),
    ]);

    const previewCall = fake.calls().find((c) => c.args[0] === "preview")!;
    const planFile = flagOf(previewCall.args, "--save-plan");
    expect(fs.existsSync(planFile)).toBe(true);

    const seen: StepEvent[] = [];
    const up = await e.up("w-1", { env: {}, signal: noCancel(), onEvent: (ev) => seen.push(ev) });
    expect(up).toEqual({ result: "succeeded", unchanged: [] });
    expect(seen.map((s) => `${s.kind} ${s.step}`)).toEqual([`start ${steps[3]}`]);
    const upCall = fake.calls().find((c) => c.args[0] === "up")!;
    expect(flagOf(upCall.args, "--plan")).toBe(planFile);
    expect(upCall).toMatchObject({ mode: "planned", window: "w-1" });
    expect(fs.existsSync(planFile)).toBe(false); // one plan, one run
    // a second up of the same window without a new preview is refused before the CLI
    await expect(e.up("w-1", { env: {}, signal: noCancel(), onEvent: () => undefined })).rejects.toThrow(
      /without an approved preview/,
    );
    expect(fake.calls().filter((c) => c.args[0] === "up")).toHaveLength(1);
  }, 30_000);

  it("the engine refusing the plan is the one-line refusal, naming the step where it stopped", async () => {
    fake.script("preview-events.jsonl", previewEvents(steps.map((s) => pre("create", s, true))));
    fake.script(
      "up-stderr.txt",
      `error: resource ${stepUrn(steps[5])} violates plan: properties changed: ~~create[{a}!={b}]\n`,
    );
    const e = engine();
    await e.preview("w-1");
    const up = await e.up("w-1", { env: {}, signal: noCancel(), onEvent: () => undefined });
    expect(up).toEqual({ result: "failed", failedStep: steps[5], message: PLAN_REFUSED, unchanged: [] });
    expect(PLAN_REFUSED).toBe(
      "the preview changed since it was approved; nothing more was run: run maintenance again to review the new preview",
    );
  }, 30_000);

  it("a cancelled up is a cancel, although the engine then names every step it did not reach", async () => {
    fake.script("preview-events.jsonl", previewEvents(steps.map((s) => pre("create", s, true))));
    fake.script("up-stderr.txt", `error: expected resource operations for ${stepUrn(steps[9])} but none were seen\n`);
    const e = engine();
    await e.preview("w-1");
    const cancel = new AbortController();
    cancel.abort();
    const up = await e.up("w-1", { env: {}, signal: cancel.signal, onEvent: () => undefined });
    expect(up.result).toBe("cancelled");
  }, 30_000);

  it("COLDSTART_MODE in the environment the CLI inherits is the mode in force, and the plan is made in it", async () => {
    fake.script("preview-events.jsonl", previewEvents([]));
    const e = engine({ COLDSTART_MODE: "unplanned" });
    const { plan, preview } = await e.preview("w-1");
    expect(preview.mode.mode).toBe("unplanned");
    expect(preview.mode.from).toBe("COLDSTART_MODE=unplanned (overrides the stack's coldstart:mode planned)");
    expect(plan.mode).toBe("unplanned");
    expect(plan.steps.length).toBeLessThan(steps.length); // no pre-shutdown and shutdown stages
    // the program under the CLI gets the mode the approval shows, whatever this process has
    expect(fake.calls().find((c) => c.args[0] === "preview")).toMatchObject({ mode: "unplanned", window: "w-1" });
  }, 30_000);
});
