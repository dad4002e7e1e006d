/**
 * The as-executed record read back and rendered: truncated lines reported and skipped, old lines
 * still readable, runs of a resumed window apart, the steps of the plan that did not run and why,
 * and [REVALIDATE] markers offered for clearing only on the evidence the steps record.
 * Lines are written with the real appendRecord; drills (test/record/drill-record.test.ts) write
 * them through the real steps.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  appendRecord,
  lastRecordEntry,
  readRecord,
  recordFile,
  type Evidence,
  type RecordEntry,
} from "../runtime/record";
import { renderRecord } from "../record/render";
import { summarizeRecord, type PlanLike } from "../record/summary";
import { renderRevalidate, revalidateItems } from "../record/revalidate";
import { recordCommand } from "../cli/record-command";

const entry = (step: string, outcome: RecordEntry["outcome"], extra: Partial<RecordEntry> = {}): RecordEntry => ({
  window: "w1",
  stack: "roosevelt",
  stage: "stage-4-ovn",
  step,
  command: `gate ${step}`,
  start: "2026-12-05T06:00:00.000Z",
  end: "2026-12-05T06:01:00.000Z",
  exitCode: outcome === "pass" || outcome === "kept" || outcome === "skipped-by-guard" ? 0 : 1,
  outcome,
  summary: `${step} saw something`,
  details: [],
  ...extra,
});

const PLAN: PlanLike = {
  stages: [{ name: "stage-4-ovn", title: "Stage 4 -- OVN chassis" }],
  steps: [
    { name: "ovn-chassis-check", stage: "stage-4-ovn", dependsOn: [] },
    {
      name: "ovn-tls-sweep",
      stage: "stage-4-ovn",
      dependsOn: ["ovn-chassis-check"],
      revalidate: "sweep unit list against current topology",
    },
    { name: "ovn-chassis-connected", stage: "stage-4-ovn", dependsOn: ["ovn-tls-sweep"] },
    {
      name: "octavia-grace",
      stage: "stage-6-octavia",
      dependsOn: ["ovn-chassis-connected"],
      revalidate: "timing budget on current build",
    },
  ],
};

function tmpFile(): string {
  return recordFile(fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-record-")), "w1");
}

describe("reading the record back", () => {
  it("skips a truncated last line and says which line, keeping every whole entry", () => {
    const file = tmpFile();
    appendRecord(file, entry("ovn-chassis-check", "pass"));
    appendRecord(file, entry("ovn-tls-sweep", "pass"));
    fs.appendFileSync(file, JSON.stringify(entry("ovn-chassis-connected", "pass")).slice(0, 57)); // power lost
    const read = readRecord(file);
    expect(read.map((e) => e.step)).toEqual(["ovn-chassis-check", "ovn-tls-sweep"]);
    expect(read.file).toBe(file);
    expect(read.skipped).toEqual([
      { line: 3, torn: true, reason: expect.stringMatching(/^torn line \(57 bytes of an entry, not whole JSON\)/) },
    ]);
  });

  it("reads a line written before the run fields existed, and drops only evidence of an unknown shape", () => {
    const file = tmpFile();
    const old = { ...entry("ovn-tls-sweep", "pass") };
    fs.writeFileSync(
      file,
      JSON.stringify(old) + "\n" + JSON.stringify({ ...old, evidence: { kind: "from-the-future", x: 1 } }) + "\n",
    );
    const read = readRecord(file);
    expect(read).toHaveLength(2);
    expect(read.skipped).toEqual([]);
    expect(read[1]!.evidence).toBeUndefined();
    expect(read[0]!.windowKind).toBeUndefined();
  });

  it("the last entry of one step (lastRecordEntry): read from the end, passing over lines that are not entries", () => {
    const file = tmpFile();
    appendRecord(file, entry("ovn-tls-sweep", "pass", { end: "2026-12-05T06:01:00.000Z" }));
    appendRecord(file, entry("ovn-tls-sweep", "kept", { end: "2026-12-05T06:05:00.000Z" }));
    appendRecord(file, entry("ovn-tls-sweep", "fail", { end: "2026-12-05T06:09:00.000Z" }));
    appendRecord(file, entry("ovn-chassis-check", "pass"));
    fs.appendFileSync(file, JSON.stringify({ step: "ovn-tls-sweep", outcome: "pass" }) + "\n"); // not an entry
    fs.appendFileSync(file, JSON.stringify(entry("ovn-tls-sweep", "pass")).slice(0, 40)); // cut short
    const done = new Set(["pass", "kept"]);
    expect(lastRecordEntry(file, { step: "ovn-tls-sweep", outcomes: done })?.end).toBe("2026-12-05T06:05:00.000Z");
    expect(lastRecordEntry(file, { step: "ovn-tls-sweep" })?.outcome).toBe("fail");
    expect(lastRecordEntry(file, { step: "no-such-step" })).toBeUndefined();
    expect(lastRecordEntry(path.join(path.dirname(file), "none.jsonl"), { step: "ovn-tls-sweep" })).toBeUndefined();
  });

  it("reports a JSON line that is not an entry instead of taking it", () => {
    const file = tmpFile();
    fs.writeFileSync(file, JSON.stringify({ hello: "world" }) + "\n");
    expect(readRecord(file).skipped[0]).toMatchObject({
      line: 1,
      reason: expect.stringContaining("not a record entry"),
    });
  });
});

describe("coldstart record", () => {
  it("names the file it read and prints a one-line notice for a truncated line, never a crash", async () => {
    const file = tmpFile();
    appendRecord(file, entry("ovn-chassis-check", "pass", { stack: "prior-build" }));
    fs.appendFileSync(file, '{"window":"w1","st');
    const out: string[] = [];
    const err: string[] = [];
    const code = await recordCommand(
      ["--window", "w1", "--record-dir", path.dirname(file)],
      (t) => out.push(t),
      (t) => err.push(t),
    );
    expect(code).toBe(0);
    expect(err[0]).toBe(`record: ${file} (1 entry)\n`);
    expect(err).toContain(
      `notice: ${file} line 2 skipped: torn line (18 bytes of an entry, not whole JSON): an append cut short ` +
        `(its step killed mid-write, a full disk, a power loss; or being written right now); ` +
        `that run's outcome is not in the record, so a resume runs its step again unless a later line of it counts\n`,
    );
    const md = out.join("");
    expect(md).toContain(`Read from \`${file}\`.`);
    expect(md).toContain("line 2 of the file was skipped");
    // the plan of the stack the record names (prior-build), every one of its steps accounted for
    expect(md).toMatch(/- ovn-tls-sweep \(stage-4-ovn\): not reached: /);
  });

  it("prints the same record as data with --format json", async () => {
    const file = tmpFile();
    appendRecord(file, entry("ovn-chassis-check", "blocker"));
    const out: string[] = [];
    await recordCommand(
      ["--window", "w1", "--record-dir", path.dirname(file), "--format", "json"],
      (t) => out.push(t),
      () => undefined,
    );
    const doc = JSON.parse(out.join(""));
    expect(doc.file).toBe(file);
    expect(doc.verdict).toMatch(/^BLOCKER at ovn-chassis-check/);
    expect(doc.runs).toHaveLength(1);
    expect(doc.notRun.find((n: { step: string }) => n.step === "ovn-tls-sweep").why).toBe(
      "not reached: it waits for ovn-chassis-check, which hit a BLOCKER (run 1, 2026-12-05T06:01:00.000Z)",
    );
  });
});

describe("runs, stages, verdict, what did not run", () => {
  const at = (min: number) => `2026-12-05T06:${String(min).padStart(2, "0")}:00.000Z`;
  const resumed = [
    entry("ovn-chassis-check", "pass", {
      runId: "r1",
      runKind: "maintenance",
      start: at(0),
      end: at(1),
      by: "ops@jump1",
    }),
    entry("ovn-tls-sweep", "fail", { runId: "r1", runKind: "maintenance", start: at(1), end: at(3), by: "ops@jump1" }),
    entry("ovn-tls-sweep", "pass", {
      runId: "r2",
      runKind: "maintenance",
      start: at(30),
      end: at(31),
      by: "ops@jump2",
    }),
    entry("ovn-chassis-connected", "pass", { runId: "r2", runKind: "maintenance", start: at(31), end: at(35) }),
  ];

  it("shows each run of a resumed window apart, in order, with who ran it and how long it took", () => {
    const s = summarizeRecord({ window: "w1", entries: resumed, plan: PLAN });
    expect(s.runs.map((r) => [r.index, r.runId, r.kind, r.by, r.durationMs, r.verdict])).toEqual([
      [1, "r1", "maintenance", ["ops@jump1"], 3 * 60_000, "FAILED at ovn-tls-sweep"],
      [2, "r2", "maintenance", ["ops@jump2"], 5 * 60_000, "passed"],
    ]);
    expect(s.runs[1]!.stages).toEqual([
      expect.objectContaining({
        stage: "stage-4-ovn",
        title: "Stage 4 -- OVN chassis",
        start: at(30),
        end: at(35),
        durationMs: 5 * 60_000,
      }),
    ]);
    expect(s.runs[0]!.entries[1]!.durationMs).toBe(2 * 60_000);
  });

  it("says which steps of the plan did not run in the last run, and why", () => {
    const s = summarizeRecord({ window: "w1", entries: resumed, plan: PLAN });
    expect(s.notRun).toEqual([
      { step: "ovn-chassis-check", stage: "stage-4-ovn", why: `kept from run 1: passed at ${at(1)}` },
      {
        step: "octavia-grace",
        stage: "stage-6-octavia",
        why: "not run: the run ended before it (stopped, or still going)",
      },
    ]);
    expect(s.verdict).toBe("INCOMPLETE: 1 of 4 step(s) of the plan did not run");
  });

  it("a step cancelled before it started is named so, and the window's verdict is CANCELLED", () => {
    const s = summarizeRecord({
      window: "w1",
      plan: PLAN,
      entries: [
        entry("ovn-chassis-check", "pass"),
        entry("ovn-tls-sweep", "cancelled", {
          state: "not-started",
          summary: "cancelled at a safe point: not started, nothing was done: stop requested by ops",
        }),
      ],
    });
    expect(s.notRun.find((n) => n.step === "ovn-tls-sweep")!.why).toBe(
      "cancelled before it started (not started, nothing was done: stop requested by ops)",
    );
    expect(s.verdict).toMatch(/^CANCELLED at ovn-tls-sweep/);
  });

  it("PASSED only when every step of the plan passed or was kept", () => {
    const all = PLAN.steps.map((p) => entry(p.name, "pass"));
    expect(summarizeRecord({ window: "w1", entries: all, plan: PLAN }).verdict).toBe(
      "PASSED: every step of the plan (4) passed",
    );
    expect(summarizeRecord({ window: "w1", entries: all.slice(1), plan: PLAN }).verdict).toMatch(/^INCOMPLETE/);
  });

  it("renders drill or real, stack, mode, version, who and the verdict at the top", () => {
    const md = renderRecord(
      "w1",
      [
        entry("ovn-chassis-check", "pass", {
          windowKind: "drill",
          mode: "planned",
          version: "0.1.0",
          by: "ops@jump1",
          runId: "r9",
          runKind: "drill",
        }),
      ],
      { plan: PLAN },
    );
    expect(md).toContain("| window | w1 (DRILL: simulated cloud) |");
    expect(md).toContain("| mode | planned |");
    expect(md).toContain("| coldstart version | 0.1.0 |");
    expect(md).toContain("| run by | ops@jump1 |");
    expect(md).toContain("| verdict | **INCOMPLETE: 3 of 4 step(s) of the plan did not run** |");
    expect(md).toContain("## Run 1: drill r9");
    expect(md).toMatch(/\| 1 \| stage-4-ovn \| ovn-chassis-check \| .* \| 1m 00s \| PASS \|/);
  });

  it("escapes table cells so a message cannot break the table", () => {
    const md = renderRecord("w1", [entry("x", "pass", { summary: "a | b\nc" })]);
    expect(md).toContain("a \\| b c");
  });

  it("says so when nothing ran yet", () => {
    expect(renderRecord("w9", [])).toContain("No step has run in this window yet.");
  });
});

describe("[REVALIDATE] markers: cleared only on what the window exercised", () => {
  const sweep = (restarted: { unit: string; restartOk: boolean; reconnected: boolean }[]): Evidence => ({
    kind: "ovn-tls-sweep",
    chassis: 4,
    restarted,
  });
  const grace = (
    lbs: { id: string; name?: string; firstErrorAtMs: number; recoveredAtMs?: number; statusAtEnd: string }[],
  ): Evidence => ({
    kind: "octavia-grace",
    graceMs: 300_000,
    intervalMs: 15_000,
    lbs,
  });
  const item = (entries: RecordEntry[], step: string) =>
    revalidateItems(entries, PLAN.steps).find((i) => i.step === step)!;

  it("the sweep that restarted nothing leaves its marker open, saying so", () => {
    const i = item([entry("ovn-tls-sweep", "skipped-by-guard", { evidence: sweep([]) })], "ovn-tls-sweep");
    expect(i).toMatchObject({ clear: false, why: "the sweep restarted nothing: every chassis (4) was connected" });
  });

  it("a restarted chassis that reconnected only by the gate after the sweep clears it; one that never did keeps it", () => {
    const swept = entry("ovn-tls-sweep", "pass", {
      evidence: sweep([{ unit: "ovn-chassis/2", restartOk: true, reconnected: false }]),
    });
    const gatePassed = entry("ovn-chassis-connected", "pass", {
      end: "2026-12-05T06:04:00.000Z",
      evidence: { kind: "ovn-chassis", connected: ["ovn-chassis/0", "ovn-chassis/2"], notConnected: [] },
    });
    expect(item([swept, gatePassed], "ovn-tls-sweep")).toMatchObject({
      clear: true,
      why: expect.stringContaining("the chassis gate saw them connected at 2026-12-05T06:04:00.000Z"),
    });
    const gateFailed = { ...gatePassed, outcome: "fail" as const };
    expect(item([swept, gateFailed], "ovn-tls-sweep")).toMatchObject({
      clear: false,
      why: "the sweep restarted ovn-chassis/2, which did not reconnect (no passing chassis gate after it)",
    });
  });

  it("the grace clears only when every LB in ERROR recovered within it, with the time it took", () => {
    const ok = entry("octavia-grace", "pass", {
      evidence: grace([
        { id: "l1", name: "k8s-api-lb", firstErrorAtMs: 0, recoveredAtMs: 75_000, statusAtEnd: "ACTIVE" },
      ]),
    });
    expect(item([ok], "octavia-grace")).toMatchObject({
      clear: true,
      why: expect.stringContaining("k8s-api-lb in ERROR, ACTIVE again 1m 15s into the grace, within the 5m grace"),
    });
    const none = entry("octavia-grace", "pass", { evidence: grace([]) });
    expect(item([none], "octavia-grace")).toMatchObject({
      clear: false,
      why: "no LB was in ERROR during the 5m grace",
    });
    const stuck = entry("octavia-grace", "pass", {
      evidence: grace([{ id: "l2", name: "web-lb", firstErrorAtMs: 0, statusAtEnd: "ERROR" }]),
    });
    expect(item([stuck], "octavia-grace").clear).toBe(false);
    expect(item([stuck], "octavia-grace").why).toContain("web-lb stayed out of ACTIVE through the 5m grace");
  });

  it("a record without evidence (an older coldstart) never clears a marker", () => {
    const md = renderRevalidate([entry("ovn-tls-sweep", "pass"), entry("octavia-grace", "pass")], PLAN.steps);
    expect(md).not.toContain("CAN BE CLEARED");
    expect(md).toContain("has no evidence of what it restarted");
  });
});
