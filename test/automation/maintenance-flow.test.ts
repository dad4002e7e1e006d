/**
 * runMaintenance in-process with a fake engine, fake terminal and fake signals: the order keys ->
 * preview -> approval -> up, what never runs when a step before it says no, the exit codes, the
 * safe cancel and its record line, the report.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  runMaintenance,
  type MaintenanceOptions,
  type MaintenanceIO,
  type MaintenanceResult,
  type SignalSource,
} from "../../automation/maintenance";
import {
  StackLockedError,
  type EnginePreview,
  type MaintenanceEngine,
  type StepEvent,
  type UpOptions,
  type UpResult,
} from "../../automation/engine";
import type { PreviewSummary, StepOp } from "../../automation/preview-summary";
import { EXIT } from "../../runtime/exit-codes";
import { appendRecord, readRecord, type RecordEntry } from "../../runtime/record";
import type { Plan, PlanStep } from "../../plan/model";
import { vaultKeysCheck, verdictOf, type CheckResult } from "../../preflight/checks";
import { keysOf } from "../../preflight/run";

const WINDOW = "2026-12-05-roosevelt";
const KEYS_ENV = {
  COLDSTART_UNSEAL_KEY_1: "a2V5LW9uZS4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
  COLDSTART_UNSEAL_KEY_2: "a2V5LXR3by4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
  COLDSTART_UNSEAL_KEY_3: "a2V5LXRocmVlLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
};

function step(name: string, stage: string, extra: Partial<PlanStep> = {}): PlanStep {
  return {
    name,
    stage,
    verb: "check",
    command: `check ${name}`,
    create: `coldstart check ${name}`,
    summary: name,
    expected: "it passes",
    manual: { section: "Stage 7 -- end-to-end behavioral gate", blocks: [] },
    destructive: false,
    timeout: "5m",
    timeoutMs: 300_000,
    worstCaseMs: 234_000,
    budget: ["gate timeout (3m)"],
    update: `coldstart kept ${name}`,
    dependsOn: [],
    parallelWith: [],
    depth: 0,
    triggers: [WINDOW],
    hasDelete: false,
    ...extra,
  };
}

const PLAN: Plan = {
  project: "coldstart",
  stack: "roosevelt",
  mode: "planned",
  window: WINDOW,
  stages: [],
  steps: [
    step("baseline-capture", "pre-shutdown", { verb: "act" }),
    step("mysql-check", "stage-2-mysql"),
    step("mysql-reboot-cluster", "stage-2-mysql", { verb: "act", destructive: true, guard: "complete outage" }),
    step("mysql-cluster-online", "stage-2-mysql", { verb: "gate" }),
  ],
};

/** The engine's preview of PLAN: one op per step, in plan order. */
function previewOf(ops: StepOp[], from = "the stack's coldstart:mode"): PreviewSummary {
  return {
    mode: { mode: "planned", from },
    steps: PLAN.steps.map((s, i) => ({ step: s.name, op: ops[i] })),
  };
}

const NEW_WINDOW = previewOf(["create", "create", "create", "create"]);

const at = (kind: StepEvent["kind"], name: string, status?: StepEvent["status"]): StepEvent => ({
  kind,
  step: name,
  atMs: 0,
  ...(status ? { status } : {}),
});

interface Script {
  /** What the engine's preview says (default: a new window, every step a create). */
  preview?: PreviewSummary;
  events?: StepEvent[];
  /** Records to append during up, as the steps themselves do. */
  records?: string[];
  /** Block in up() until release() is called (after the events are out). */
  block?: boolean;
  result?: UpResult;
  throws?: Error;
}

class FakeEngine implements MaintenanceEngine {
  readonly name = "fake engine";
  readonly previews: string[] = [];
  readonly ups: {
    window: string;
    env: Record<string, string>;
    signal: AbortSignal;
    terminate?: AbortSignal;
    /** What the vault-unseal step would read from COLDSTART_UNSEAL_KEYS_FILE during up(), and what that file was. */
    keys?: KeysServed;
  }[] = [];
  private releaseUp: (result: UpResult) => void = () => undefined;
  /** Resolves when up() has emitted its events and is blocked. */
  readonly blocked: Promise<void>;
  private onBlocked: () => void = () => undefined;

  constructor(
    private readonly dir: string,
    private readonly script: Script = {},
  ) {
    this.blocked = new Promise((resolve) => (this.onBlocked = resolve));
  }

  recordDir(): string {
    return path.join(this.dir, "records");
  }

  preview(window: string): Promise<EnginePreview> {
    this.previews.push(window);
    return Promise.resolve({ plan: PLAN, preview: this.script.preview ?? NEW_WINDOW });
  }

  async up(window: string, opts: UpOptions): Promise<UpResult> {
    this.ups.push({
      window,
      env: { ...opts.env },
      signal: opts.signal,
      terminate: opts.terminate,
      keys: await readKeysAsUnsealStep(opts.env),
    });
    for (const e of this.script.events ?? []) opts.onEvent(e);
    for (const name of this.script.records ?? []) appendRecord(this.recordFile(window), passed(window, name));
    if (this.script.throws) throw this.script.throws;
    if (this.script.block) {
      const released = new Promise<UpResult>((resolve) => (this.releaseUp = resolve));
      this.onBlocked();
      return released;
    }
    return this.script.result ?? { result: "succeeded", unchanged: [] };
  }

  release(result: UpResult): void {
    this.releaseUp(result);
  }

  recordFile(window = WINDOW): string {
    return path.join(this.recordDir(), `${window}.jsonl`);
  }
}

/**
 * Read COLDSTART_UNSEAL_KEYS_FILE as the unseal step does, one key a line. Asynchronously: the
 * FIFO's server is a timer of this very process, which a blocking open here would never let run.
 */
interface KeysServed {
  read: string[];
  file: string;
  fifo: boolean;
  mode: number;
  dirMode: number;
}

async function readKeysAsUnsealStep(env: Record<string, string>): Promise<KeysServed | undefined> {
  const file = env.COLDSTART_UNSEAL_KEYS_FILE;
  if (!file) return undefined;
  const st = fs.statSync(file);
  const text = await fs.promises.readFile(file, "utf8");
  return {
    read: text.split("\n").filter((l) => l !== ""),
    file,
    fifo: st.isFIFO(),
    mode: st.mode & 0o777,
    dirMode: fs.statSync(path.dirname(file)).mode & 0o777,
  };
}

function passed(window: string, name: string): RecordEntry {
  return {
    window,
    stack: "roosevelt",
    stage: "stage",
    step: name,
    command: `check ${name}`,
    start: "2026-12-05T06:00:00.000Z",
    end: "2026-12-05T06:01:00.000Z",
    exitCode: 0,
    outcome: "pass",
    summary: `${name} passed`,
    details: [],
  };
}

class FakeIO implements MaintenanceIO {
  readonly outLines: string[] = [];
  readonly errLines: string[] = [];
  readonly questions: string[] = [];
  readonly secretLabels: string[] = [];
  constructor(
    readonly interactive: boolean,
    private readonly answer = false,
    private readonly typed: string[] = [],
  ) {}
  out(line: string): void {
    this.outLines.push(line);
  }
  err(line: string): void {
    this.errLines.push(line);
  }
  confirm(question: string): Promise<boolean> {
    this.questions.push(question);
    return Promise.resolve(this.answer);
  }
  promptSecret(label: string): Promise<string> {
    this.secretLabels.push(label);
    return Promise.resolve(this.typed[this.secretLabels.length - 1] ?? "");
  }
  get all(): string[] {
    return [...this.outLines, ...this.errLines];
  }
}

class FakeSignals {
  private handler: ((count: number) => void) | undefined;
  private count = 0;
  readonly source: SignalSource = (handler) => {
    this.handler = handler;
    return () => (this.handler = undefined);
  };
  get listening(): boolean {
    return this.handler !== undefined;
  }
  /** Ctrl-C: the n-th signal since the driver started listening. */
  send(): void {
    this.handler?.(++this.count);
  }
}

/**
 * A preflight that reads nothing but answers in the real report's shape: the keys check is the
 * real pure decision (preflight/checks.ts vaultKeysCheck) against `t`, the keys counted from the
 * env maintenance hands it; `failing` adds broken checks. `calls` gets the key count of each run.
 */
function fakePreflight(
  t: number,
  failing: { id: string; status: "fail" | "blocker" }[],
  calls: number[],
): MaintenanceOptions["preflight"] {
  return async (env, onLine) => {
    const keys = keysOf(env);
    calls.push(keys.ok ? keys.count : -1);
    const vault = { type: "shamir", initialized: true, sealed: false, t, n: 7, progress: 0 };
    const checks: CheckResult[] = [
      {
        id: "juju-model",
        title: "the model answers",
        status: "pass",
        summary: "model answers",
        details: [],
        durationMs: 5,
      },
      {
        id: "vault-keys",
        title: "keys",
        ...vaultKeysCheck({ ok: true, value: [{ unit: "vault/0", status: { ok: true, value: vault } }] }, keys),
        durationMs: 5,
      },
      ...failing.map((f) => ({
        id: f.id,
        title: f.id,
        status: f.status,
        summary: `${f.id} is broken`,
        fix: `repair ${f.id}`,
        details: [],
        durationMs: 5,
      })),
    ];
    for (const c of checks) onLine(`${c.status} ${c.id}`);
    const { verdict, exitCode } = verdictOf(checks);
    return {
      schemaVersion: 1,
      stack: "roosevelt",
      target: { kind: "stack" },
      verdict,
      exitCode,
      durationMs: 5,
      vault: { threshold: t, shares: 7, keysAvailable: keys.ok ? keys.count : 0, keysSource: "test" },
      checks,
    };
  };
}

interface Setup {
  /** Key counts each preflight run saw. */
  preflights: number[];
  engine: FakeEngine;
  io: FakeIO;
  signals: FakeSignals;
  hardStops: number;
  reportDir: string;
  run(): Promise<MaintenanceResult>;
}

function setup(opts: {
  script?: Script;
  io?: FakeIO;
  yes?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Vault's threshold the fake preflight reports (default 3, the runbook's 3-of-5). */
  threshold?: number;
  /** The preflight's other checks' verdicts (default: all pass). */
  failing?: { id: string; status: "fail" | "blocker" }[];
  skipPreflight?: string;
}): Setup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-flow-"));
  const s: Setup = {
    preflights: [],
    engine: new FakeEngine(dir, opts.script),
    io: opts.io ?? new FakeIO(false),
    signals: new FakeSignals(),
    hardStops: 0,
    reportDir: path.join(dir, "reports"),
    run: () =>
      runMaintenance({
        stack: "roosevelt",
        window: WINDOW,
        yes: opts.yes ?? true,
        engine: s.engine,
        reportDir: s.reportDir,
        io: s.io,
        env: opts.env ?? { ...KEYS_ENV },
        preflight: opts.skipPreflight
          ? { skip: opts.skipPreflight }
          : fakePreflight(opts.threshold ?? 3, opts.failing ?? [], s.preflights),
        signals: s.signals.source,
        hardStop: () => s.hardStops++,
        now: () => new Date("2026-12-05T07:00:00.000Z"),
      }),
  };
  return s;
}

/** What `up` gets besides the keys: this run's id and kind (runtime/run-lock.ts), never a key of its own. */
const withRun = (keys: Record<string, string>) => ({
  ...keys,
  COLDSTART_RUN_ID: expect.stringMatching(/^[0-9a-f-]{36}$/),
  COLDSTART_RUN_KIND: "maintenance",
});

/** up() got only the path of a FIFO (0600, in a 0700 folder) that served `keys`, and the folder is gone after the run. */
function servedThroughFifo(up: FakeEngine["ups"][0], keys: string[]): void {
  expect(up.env).toEqual(withRun({ COLDSTART_UNSEAL_KEYS_FILE: expect.any(String) as string }));
  expect(up.keys).toMatchObject({ read: keys, fifo: true, mode: 0o600, dirMode: 0o700 });
  expect(fs.existsSync(path.dirname(up.keys!.file))).toBe(false);
}

describe("approval", () => {
  it("a No at the interactive prompt exits 6 (declined) and never calls up", async () => {
    const s = setup({ yes: false, io: new FakeIO(true, false) });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.declined);
    expect(r.exitCode).toBe(6);
    expect(s.io.questions).toHaveLength(1);
    expect(s.io.questions[0]).toContain("[y/N]");
    expect(s.engine.previews).toEqual([WINDOW]); // the operator saw the plan before answering
    expect(s.engine.ups).toEqual([]);
    expect(s.io.outLines).toContain("declined: nothing was run");
    expect(fs.existsSync(s.reportDir)).toBe(false);
  });

  it("a Yes at the interactive prompt runs the window", async () => {
    const s = setup({ yes: false, io: new FakeIO(true, true) });
    expect((await s.run()).exitCode).toBe(EXIT.ok);
    expect(s.engine.ups).toHaveLength(1);
  });

  it("without --yes and without a terminal it exits 2, asks nobody and never calls up", async () => {
    const s = setup({ yes: false, io: new FakeIO(false, true) });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.usage);
    expect(s.io.questions).toEqual([]);
    expect(s.engine.ups).toEqual([]);
    expect(s.io.errLines.join("\n")).toContain("--yes");
  });

  it("the preview lists every step in order and marks the destructive one", async () => {
    const s = setup({});
    await s.run();
    const lines = s.io.outLines.filter((l) => /^\s*\d+\. /.test(l));
    expect(lines.map((l) => l.replace(/\s+\[.*$/, "").trim())).toEqual([
      "1. pre-shutdown / baseline-capture",
      "2. stage-2-mysql / mysql-check",
      "3. stage-2-mysql / mysql-reboot-cluster",
      "4. stage-2-mysql / mysql-cluster-online",
    ]);
    expect(lines[2]).toContain("DESTRUCTIVE if matched");
  });
});

describe("what the approval shows: the engine's own preview", () => {
  /** The out lines between the step list and the question (or, with --yes, the first progress line). */
  // what follows the preview's first line (the preflight's table comes before it)
  const summaryBlock = (io: FakeIO) =>
    io.outLines
      .slice(io.outLines.findIndex((l) => /^maintenance window /.test(l)) + 1)
      .filter((l) => !/^\s*\d+\. /.test(l));

  it("a new window: the mode in force, every step will run, the counts, before the question", async () => {
    const s = setup({ yes: false, io: new FakeIO(true, false) });
    await s.run();
    expect(summaryBlock(s.io).slice(0, 3)).toEqual([
      "mode: planned (the stack's coldstart:mode)",
      "new window: every step will run",
      "create 4",
    ]);
    expect(s.io.questions[0]).toContain("planned; new window: every step will run");
  });

  it("a resumed window names the first step not done, counts what is done, and names every update", async () => {
    const preview = previewOf(["same", "same", "update", "create"]);
    const s = setup({ yes: false, io: new FakeIO(true, false), script: { preview } });
    await s.run();
    expect(summaryBlock(s.io).slice(0, 3)).toEqual([
      "mode: planned (the stack's coldstart:mode)",
      "this window resumes from mysql-reboot-cluster: 2 steps already done",
      "create 1, update 1 (mysql-reboot-cluster), same 2",
    ]);
    expect(s.io.questions[0]).toContain("resumes from mysql-reboot-cluster");
    expect(s.engine.ups).toEqual([]);
  });

  it("each step line carries its op next to its marks", async () => {
    const preview = previewOf(["same", "replace", "update", "create"]);
    const s = setup({ script: { preview } });
    await s.run();
    const lines = s.io.outLines.filter((l) => /^\s*\d+\. /.test(l));
    expect(lines.map((l) => /\[(.*)\]$/.exec(l)?.[1])).toEqual([
      "same: done in this window",
      "replace",
      "update, DESTRUCTIVE if matched",
      "create",
    ]);
  });

  it("a COLDSTART_MODE override is shown as such, with --yes too, before anything runs", async () => {
    const preview: PreviewSummary = {
      ...previewOf(["replace", "replace", "replace", "replace"]),
      mode: { mode: "unplanned", from: "COLDSTART_MODE=unplanned (overrides the stack's coldstart:mode planned)" },
    };
    const s = setup({ script: { preview, events: [at("start", "baseline-capture")] } });
    await s.run();
    const mode = s.io.outLines.indexOf(
      "mode: unplanned (COLDSTART_MODE=unplanned (overrides the stack's coldstart:mode planned))",
    );
    const firstProgress = s.io.outLines.findIndex((l) => /^\[\+/.test(l));
    expect(mode).toBeGreaterThan(-1);
    expect(firstProgress).toBeGreaterThan(mode);
    expect(s.io.outLines).toContain("new window: every step will run");
    expect(s.io.outLines).toContain(
      "replace 4 (baseline-capture, mysql-check, mysql-reboot-cluster, mysql-cluster-online)",
    );
  });

  it("a window already complete says nothing will run", async () => {
    const s = setup({ script: { preview: previewOf(["same", "same", "same", "same"]) } });
    await s.run();
    expect(s.io.outLines).toContain("this window is complete: all 4 steps already done, nothing will run");
    expect(s.io.outLines).toContain("same 4");
  });
});

describe("unseal keys", () => {
  it("at a terminal with no keys in the environment it asks for Vault's threshold of keys hidden and serves them to up through a FIFO only", async () => {
    const typed = [
      "dHlwZWQtb25lLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      "dHlwZWQtdHdvLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      "dHlwZWQtdGhyZWUuLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
    ];
    const io = new FakeIO(true, true, typed);
    const s = setup({ io, yes: false, env: { HOME: os.tmpdir() } });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.ok);
    expect(io.secretLabels).toHaveLength(3);
    servedThroughFifo(s.engine.ups[0], typed);
    const reports = r.reportFiles.map((f) => fs.readFileSync(f, "utf8")).join("\n");
    for (const key of typed) {
      expect(io.all.filter((l) => l.includes(key))).toEqual([]);
      expect(io.secretLabels.join("")).not.toContain(key);
      expect(reports).not.toContain(key);
    }
  });

  it("keys already in the environment are not asked for again", async () => {
    const io = new FakeIO(true, true);
    const s = setup({ io, yes: false });
    await s.run();
    expect(io.secretLabels).toEqual([]);
    servedThroughFifo(s.engine.ups[0], Object.values(KEYS_ENV));
  });

  it("keys from the file named in COLDSTART_UNSEAL_KEYS_FILE reach up through maintenance's FIFO, not that file", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-keys-")), "keys");
    fs.writeFileSync(
      file,
      "Zmlyc3QuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\nc2Vjb25kLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\n\ndGhpcmQuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\n",
      { mode: 0o600 },
    );
    const s = setup({ env: { COLDSTART_UNSEAL_KEYS_FILE: file } });
    expect((await s.run()).exitCode).toBe(EXIT.ok);
    servedThroughFifo(s.engine.ups[0], [
      "Zmlyc3QuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      "c2Vjb25kLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      "dGhpcmQuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
    ]);
    expect(s.engine.ups[0].keys!.file).not.toBe(file);
  });

  it("a keys file its group or others may read is refused in one line (exit 3) before preview and up, its content never shown", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-keys-")), "keys");
    fs.writeFileSync(
      file,
      "Zmlyc3QuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\nc2Vjb25kLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\ndGhpcmQuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\n",
      { mode: 0o640 },
    );
    fs.chmodSync(file, 0o640); // whatever the umask
    const s = setup({ env: { COLDSTART_UNSEAL_KEYS_FILE: file } });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.blocker);
    expect(s.engine.previews).toEqual([]);
    expect(s.engine.ups).toEqual([]);
    expect(s.io.errLines.join("\n")).toContain(
      `the unseal keys file ${file} has mode 0640: group or others may access it; refused (run: chmod 600 ${file})`,
    );
    expect(s.io.all.join("\n")).not.toMatch(/Zmlyc3Q=|c2Vjb25kLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u|dGhpcmQ=/);
  });

  it("the operator's own FIFO in COLDSTART_UNSEAL_KEYS_FILE is read once, by maintenance (the preflight counts what was read)", async () => {
    const fifo = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-keys-")), "fifo");
    execFileSync("/usr/bin/mkfifo", ["-m", "600", fifo]);
    // the operator's writer: one serving, as `printf ... > fifo` gives
    const writer = spawn("/bin/sh", [
      "-c",
      'printf "b25lLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\\ndHdvLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\\ndGhyZWUuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u\\n" > "$1"',
      "sh",
      fifo,
    ]);
    const s = setup({ env: { COLDSTART_UNSEAL_KEYS_FILE: fifo } });
    expect((await s.run()).exitCode).toBe(EXIT.ok);
    expect(s.preflights).toEqual([3]);
    servedThroughFifo(s.engine.ups[0], [
      "b25lLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      "dHdvLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      "dGhyZWUuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
    ]);
    await new Promise((resolve) => (writer.exitCode !== null ? resolve(null) : writer.on("exit", resolve)));
  });

  it("fewer keys typed than Vault's threshold exits 3 (escalate) before preview and up", async () => {
    const io = new FakeIO(true, true, ["b25seS1vbmUuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u", ""]);
    const s = setup({ io, yes: false, env: {} });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.blocker);
    expect(io.secretLabels).toHaveLength(2);
    expect(s.engine.previews).toEqual([]);
    expect(s.engine.ups).toEqual([]);
    expect(io.questions).toEqual([]);
    expect(io.errLines.join("\n")).toContain("escalate, never improvise");
    expect(io.all.join("\n")).not.toContain("b25seS1vbmUuLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u");
  });

  it("in CI (no terminal) two keys of three exit 3 without asking and without a preview", async () => {
    const s = setup({
      env: {
        COLDSTART_UNSEAL_KEY_1: "YS4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
        COLDSTART_UNSEAL_KEY_2: "Yi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u",
      },
    });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.blocker);
    expect(s.io.secretLabels).toEqual([]);
    expect(s.engine.previews).toEqual([]);
    expect(s.engine.ups).toEqual([]);
  });
});

describe("preflight first", () => {
  it("a failing check refuses the window with exit 1 before preview and up, naming the check and its fix", async () => {
    const s = setup({ failing: [{ id: "power-openstack2", status: "fail" }] });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.gateFailed);
    expect(s.preflights).toEqual([3]);
    expect(s.engine.previews).toEqual([]);
    expect(s.engine.ups).toEqual([]);
    expect(s.io.errLines.join("\n")).toContain("power-openstack2");
    expect(s.io.errLines.join("\n")).toContain("fix: repair power-openstack2");
    expect(s.io.errLines.join("\n")).toContain("preflight NOT READY");
    expect(s.io.outLines.join("\n")).toContain("NOT READY (exit 1)");
  });

  it("a blocker refuses with exit 3", async () => {
    const s = setup({ failing: [{ id: "vault-status", status: "blocker" }] });
    expect((await s.run()).exitCode).toBe(EXIT.blocker);
    expect(s.engine.previews).toEqual([]);
  });

  it("judges the keys against Vault's threshold: 3 keys for a 4-of-7 Vault in CI exit 3, nothing previewed", async () => {
    const s = setup({ threshold: 4 });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.blocker);
    expect(s.io.errLines.join("\n")).toContain("3 unseal key(s) available, Vault needs 4 (threshold 4 of 7)");
    expect(s.io.errLines.join("\n")).toContain("escalate, never improvise");
    expect(s.engine.previews).toEqual([]);
    expect(s.engine.ups).toEqual([]);
  });

  it("at a terminal with 3 keys for a 4-of-7 Vault it asks for the 4th only, then runs with all 4", async () => {
    const io = new FakeIO(true, true, ["Zm91cnRoLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u"]);
    const s = setup({ threshold: 4, io, yes: false });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.ok);
    expect(io.secretLabels).toEqual(["Unseal key 4 of 4: "]);
    servedThroughFifo(s.engine.ups[0], [...Object.values(KEYS_ENV), "Zm91cnRoLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u"]);
    expect(io.all.filter((l) => l.includes("Zm91cnRoLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4u"))).toEqual([]);
  });

  it("a ready preflight prints its table before the preview, and a warning does not stop the window", async () => {
    const s = setup({});
    expect((await s.run()).exitCode).toBe(EXIT.ok);
    const out = s.io.outLines.join("\n");
    expect(out.indexOf("READY (exit 0)")).toBeGreaterThan(-1);
    expect(out.indexOf("READY (exit 0)")).toBeLessThan(out.indexOf("maintenance window"));
  });

  it("a resumed window says the preflight was not run, and goes on", async () => {
    const s = setup({ skipPreflight: "resuming window x: its cloud is mid-window" });
    expect((await s.run()).exitCode).toBe(EXIT.ok);
    expect(s.preflights).toEqual([]);
    expect(s.io.outLines).toContain("preflight: not run (resuming window x: its cloud is mid-window)");
  });
});

describe("cancel", () => {
  const running = {
    events: [at("start", "baseline-capture"), at("finish", "baseline-capture", "passed"), at("start", "mysql-check")],
    records: ["baseline-capture"],
    block: true,
  };

  it("a first signal writes the window's stop request and never cancels the engine; the refused next step makes it cancelled (130)", async () => {
    const s = setup({ script: running });
    const done = s.run();
    await s.engine.blocked;
    expect(s.signals.listening).toBe(true);
    s.signals.send();
    // not the engine's cancel: that would kill the running step's shell
    expect(s.engine.ups[0].signal.aborted).toBe(false);
    expect(s.hardStops).toBe(0);
    const stop = path.join(s.engine.recordDir(), `${WINDOW}.stop`);
    expect(JSON.parse(fs.readFileSync(stop, "utf8"))).toMatchObject({ why: "Ctrl-C / SIGTERM" });
    expect(s.io.errLines.join("\n")).toContain("cancel requested: mysql-check finishes, no new step starts");
    // mysql-check finishes and passes; the next step refuses to start (exit 130) and up fails there
    appendRecord(s.engine.recordFile(), passed(WINDOW, "mysql-check"));
    s.engine.release({ result: "failed", failedStep: "mysql-reboot-cluster", failedExitCode: 130, unchanged: [] });
    const r = await done;
    expect(r.exitCode).toBe(EXIT.cancelled);
    expect(r.result).toBe("cancelled");
    expect(s.signals.listening).toBe(false);
    const last = readRecord(s.engine.recordFile()).pop()!;
    expect(last).toMatchObject({ window: WINDOW, outcome: "cancelled", exitCode: 130 });
    expect(last.summary).toMatch(/in flight then: mysql-check: completed \(pass\) at /);
  });

  it("after a stop request, a step that really failed is still reported as failed", async () => {
    const s = setup({ script: running });
    const done = s.run();
    await s.engine.blocked;
    s.signals.send();
    s.engine.release({ result: "failed", failedStep: "mysql-check", failedExitCode: 3, unchanged: [] });
    const r = await done;
    expect(r.exitCode).toBe(EXIT.blocker);
  });

  it("a stop request left by an earlier cancelled run is cleared, and said, before this run starts", async () => {
    const s = setup({});
    fs.mkdirSync(s.engine.recordDir(), { recursive: true });
    fs.writeFileSync(
      path.join(s.engine.recordDir(), `${WINDOW}.stop`),
      JSON.stringify({ by: "op@jump", at: "T0", why: "x" }),
    );
    await s.run();
    expect(fs.existsSync(path.join(s.engine.recordDir(), `${WINDOW}.stop`))).toBe(false);
    expect(s.io.outLines.join("\n")).toContain(
      "was cancelled (op@jump at T0); its stop request is cleared for this run",
    );
  });

  it("a second signal is the engine's cancel only: no hardStop, the keys still served, the run ends cancelled (130) with both in the report", async () => {
    const s = setup({ script: running });
    const done = s.run();
    await s.engine.blocked;
    s.signals.send();
    expect(s.engine.ups[0].signal.aborted).toBe(false);
    s.signals.send();
    expect(s.engine.ups[0].signal.aborted).toBe(true); // the second signal is the engine's cancel
    expect(s.engine.ups[0].terminate?.aborted).toBe(false); // ... not its terminate
    expect(s.hardStops).toBe(0);
    expect(fs.existsSync(s.engine.ups[0].keys!.file)).toBe(true); // a cancelled engine may still finish an unseal
    expect(s.io.errLines.join("\n")).toContain("engine cancel sent to fake engine");
    // the engine cancels: the running step's shell killed (no exit code), nothing more started
    s.engine.release({ result: "failed", failedStep: "mysql-check", unchanged: [] });
    const r = await done;
    expect(r.exitCode).toBe(EXIT.cancelled);
    const last = readRecord(s.engine.recordFile()).pop()!;
    expect(last.summary).toMatch(/^cancelled by the operator \(engine cancel at 2026-12-05T07:00:00.000Z\)/);
    const report = JSON.parse(fs.readFileSync(r.reportFiles[0], "utf8")) as {
      summary: { result: string; interrupts: { signal: number; what: string }[] };
    };
    expect(report.summary.result).toBe("cancelled");
    expect(report.summary.interrupts.map((i) => `${i.signal} ${i.what}`)).toEqual([
      "1 stop-request",
      "2 engine-cancel",
    ]);
  });

  it("a third signal to an engine in this process (no grace) stops at once: record line, report, keys' FIFO gone, then hardStop", async () => {
    const s = setup({ script: running });
    const done = s.run();
    await s.engine.blocked;
    s.signals.send();
    expect(fs.existsSync(s.engine.ups[0].keys!.file)).toBe(true); // still served after a graceful cancel
    s.signals.send();
    expect(s.hardStops).toBe(0);
    s.signals.send();
    expect(s.hardStops).toBe(1);
    expect(s.engine.ups[0].terminate?.aborted).toBe(true);
    // hardStop exits at once (no finally runs): the keys' FIFO and its folder are gone before it
    expect(fs.existsSync(path.dirname(s.engine.ups[0].keys!.file))).toBe(false);
    const record = readRecord(s.engine.recordFile());
    const last = record[record.length - 1];
    expect(last.outcome).toBe("cancelled");
    expect(last.summary).toContain("terminated by a third signal");
    expect(last.summary).toContain("running then: mysql-check");
    expect(last.summary).toContain("last step finished: baseline-capture");
    expect(record.filter((e) => e.step === "maintenance")).toHaveLength(1);
    const report = JSON.parse(fs.readFileSync(path.join(s.reportDir, `maintenance-${WINDOW}.json`), "utf8")) as {
      summary: { result: string; exitCode: number; interrupts: { what: string }[] };
    };
    expect(report.summary).toMatchObject({ result: "cancelled", exitCode: 130 });
    expect(report.summary.interrupts.map((i) => i.what)).toEqual(["stop-request", "engine-cancel", "terminate"]);
    expect(s.io.errLines.join("\n")).toContain(s.engine.recordFile());
    s.engine.release({ result: "cancelled", unchanged: [] }); // hardStop would have exited; let the run end
    await done;
  });

  it("a third signal to an engine with a grace (pulumi) is its terminate: maintenance waits for it to end, then reports cancelled (130)", async () => {
    const s = setup({ script: running });
    Object.assign(s.engine, { terminateGraceMs: 60_000 });
    const done = s.run();
    await s.engine.blocked;
    s.signals.send();
    s.signals.send();
    s.signals.send();
    expect(s.engine.ups[0].terminate?.aborted).toBe(true);
    expect(s.hardStops).toBe(0); // pulumi ends its plugins and exits by itself
    expect(s.io.errLines.join("\n")).toContain("terminate sent to fake engine");
    s.engine.release({ result: "failed", message: "error: update failed", unchanged: [] });
    const r = await done;
    expect(r.exitCode).toBe(EXIT.cancelled);
    expect(s.hardStops).toBe(0);
    const notes = readRecord(s.engine.recordFile()).filter((e) => e.step === "maintenance");
    expect(notes).toHaveLength(1); // the terminate's line; no second "graceful" one
    expect(notes[0].summary).toContain("terminated by a third signal");
  });

  it("a fourth signal exits at once even while the engine is terminating", async () => {
    const s = setup({ script: running });
    Object.assign(s.engine, { terminateGraceMs: 60_000 });
    const done = s.run();
    await s.engine.blocked;
    for (let i = 0; i < 3; i++) s.signals.send();
    expect(s.hardStops).toBe(0);
    s.signals.send();
    expect(s.hardStops).toBe(1);
    expect(fs.existsSync(path.join(s.reportDir, `maintenance-${WINDOW}.json`))).toBe(true);
    s.engine.release({ result: "cancelled", unchanged: [] });
    await done;
  });

  it("a declined run never listens for signals, and a finished run stops listening", async () => {
    const s = setup({ yes: false, io: new FakeIO(true, false) });
    await s.run();
    expect(s.signals.listening).toBe(false);
    const ok = setup({});
    await ok.run();
    expect(ok.signals.listening).toBe(false);
  });
});

describe("exit codes and report", () => {
  it("a StackLockedError from up exits 5 (locked) and writes no report", async () => {
    const s = setup({ script: { throws: new StackLockedError("stack roosevelt is locked by another update") } });
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.locked);
    expect(r.exitCode).toBe(5);
    expect(r.reportFiles).toEqual([]);
    expect(s.io.errLines.join("\n")).toContain("locked by another update");
    expect(s.signals.listening).toBe(false);
  });

  it("a stack already locked when the preview runs also exits 5, not as a crash", async () => {
    const s = setup({});
    s.engine.preview = () => Promise.reject(new StackLockedError("stack roosevelt is locked by another update"));
    const r = await s.run();
    expect(r.exitCode).toBe(EXIT.locked);
  });

  it.each<[string, UpResult, number, string]>([
    [
      "a failed step with exit code 3 (BLOCKER) exits 3",
      { result: "failed", failedStep: "mysql-check", failedExitCode: 3, message: "BLOCKER mysql-check", unchanged: [] },
      3,
      "maintenance STOPPED at mysql-check (exit 3: BLOCKER, escalate)",
    ],
    [
      "a failed gate with exit code 1 exits 1",
      { result: "failed", failedStep: "mysql-cluster-online", failedExitCode: 1, message: "FAILED", unchanged: [] },
      1,
      "maintenance STOPPED at mysql-cluster-online (exit 1)",
    ],
    ["a cancelled run exits 130", { result: "cancelled", unchanged: [] }, 130, "maintenance CANCELLED by the operator"],
    ["a succeeded run exits 0", { result: "succeeded", unchanged: [] }, 0, "maintenance PASSED (exit 0)"],
  ])("%s and says so in the report", async (_name, result, code, line) => {
    const s = setup({ script: { result, records: ["baseline-capture", "mysql-check"] } });
    const r = await s.run();
    expect(r.exitCode).toBe(code);
    expect(s.io.outLines.join("\n")).toContain(line);
    if (result.message) expect(s.io.errLines).toContain(result.message);
    expect(r.reportFiles).toEqual([
      path.join(s.reportDir, `maintenance-${WINDOW}.json`),
      path.join(s.reportDir, `maintenance-${WINDOW}.md`),
    ]);
    const json = JSON.parse(fs.readFileSync(r.reportFiles[0], "utf8")) as {
      summary: Record<string, unknown>;
      record: RecordEntry[];
    };
    expect(json.summary).toMatchObject({
      stack: "roosevelt",
      window: WINDOW,
      engine: "fake engine",
      result: result.result,
      exitCode: code,
    });
    if (result.failedStep) expect(json.summary.failedStep).toBe(result.failedStep);
    expect(json.record.map((e) => e.step).slice(0, 2)).toEqual(["baseline-capture", "mysql-check"]);
    const md = fs.readFileSync(r.reportFiles[1], "utf8");
    expect(md).toContain(line);
    expect(md).toContain("mysql-check");
  });

  it("prints a progress line for every start and finish the engine reports", async () => {
    const s = setup({
      script: {
        events: [
          at("start", "mysql-check"),
          at("finish", "mysql-check", "passed"),
          at("start", "mysql-cluster-online"),
        ],
        result: { result: "succeeded", unchanged: [] },
      },
    });
    await s.run();
    const progress = s.io.outLines.filter((l) => /^\[\+/.test(l));
    expect(progress.map((l) => l.replace(/^\[\+[\d.]+s\] /, ""))).toEqual([
      "start  mysql-check",
      "done   mysql-check",
      "start  mysql-cluster-online",
    ]);
  });
});

describe("one run at a time (the window's lock)", () => {
  it("a second maintenance of the window while the first runs is refused with exit 5 naming the holder; nothing of it runs", async () => {
    const first = setup({ script: { block: true } });
    const running = first.run();
    await first.engine.blocked;
    // the second run shares the first one's record dir (same stack, same window)
    const second = setup({});
    (second.engine as unknown as { dir: string }).dir = (first.engine as unknown as { dir: string }).dir;
    const r = await second.run();
    expect(r).toMatchObject({ exitCode: EXIT.locked, result: "locked" });
    expect(second.preflights).toEqual([]);
    expect(second.engine.previews).toEqual([]);
    expect(second.engine.ups).toEqual([]);
    const said = second.io.errLines.join("\n");
    expect(said).toMatch(/maintenance/);
    expect(said).toContain(`pid ${process.pid}`);
    expect(said).toContain(path.join(first.engine.recordDir(), `${WINDOW}.lock`));
    // the holder's own steps carry its run id, which is the lock's
    const lock = JSON.parse(fs.readFileSync(path.join(first.engine.recordDir(), `${WINDOW}.lock`), "utf8")) as {
      runId: string;
    };
    expect(first.engine.ups[0].env.COLDSTART_RUN_ID).toBe(lock.runId);
    first.engine.release({ result: "succeeded", unchanged: [] });
    expect((await running).exitCode).toBe(EXIT.ok);
    // released at the end: the next run of the window may start
    expect(fs.existsSync(path.join(first.engine.recordDir(), `${WINDOW}.lock`))).toBe(false);
  });
});

describe("the report's [REVALIDATE] section", () => {
  it("says a marker stays open, and why, when the window never exercised it", async () => {
    const marked = {
      ...PLAN,
      steps: [
        ...PLAN.steps,
        step("ovn-tls-sweep", "stage-4-ovn", { verb: "act", revalidate: "sweep unit list against current topology" }),
      ],
    };
    const s = setup({ script: { records: ["baseline-capture", "mysql-check", "ovn-tls-sweep"] } });
    s.engine.preview = () => Promise.resolve({ plan: marked, preview: NEW_WINDOW });
    const r = await s.run();
    const md = fs.readFileSync(r.reportFiles[1], "utf8");
    expect(md).toContain("## [REVALIDATE] markers");
    expect(md).toMatch(/ovn-tls-sweep -- "sweep unit list against current topology": STAYS OPEN: /);
    expect(md).not.toMatch(/CAN BE CLEARED/);
    const json = JSON.parse(fs.readFileSync(r.reportFiles[0], "utf8")) as {
      revalidate: { step: string; clear: boolean }[];
    };
    expect(json.revalidate).toEqual([expect.objectContaining({ step: "ovn-tls-sweep", clear: false })]);
  });
});
