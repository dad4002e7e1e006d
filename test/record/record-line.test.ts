/**
 * Issue #21: one record line survives the odd case.
 * - A torn last line (a step killed mid-append) no longer swallows the next entry: the next append
 *   starts on a line of its own, so that entry (a PASS) reads back whole and the step is not run
 *   again; the torn fragment is reported as torn, naming its step.
 * - A line is bounded whatever a tool printed (runtime/record-bound.ts): a 20 MB message becomes a
 *   short line with a visible marker, keeping the head and the tail of the text.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { appendRecord, lastRecordEntry, readRecord, recordFile, type RecordEntry } from "../../runtime/record";
import { fitString, RECORD_BOUNDS } from "../../runtime/record-bound";
import { recordCommand } from "../../cli/record-command";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-recline-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const entry = (step: string, outcome: RecordEntry["outcome"], extra: Partial<RecordEntry> = {}): RecordEntry => ({
  window: "w1",
  stack: "roosevelt",
  stage: "stage-2-mysql",
  step,
  command: `gate ${step}`,
  start: "2026-12-05T06:00:00.000Z",
  end: "2026-12-05T06:01:00.000Z",
  exitCode: 0,
  outcome,
  summary: `${step} saw something`,
  details: [],
  ...extra,
});

describe("a torn last line", () => {
  it("does not swallow the next entry: that entry reads back whole, the fragment is reported as torn", async () => {
    const file = recordFile(dir, "w1");
    appendRecord(file, entry("mysql-check", "pass"));
    // mysql-reboot-cluster killed mid-append: its line stops part-way, with no newline
    fs.appendFileSync(file, JSON.stringify(entry("mysql-reboot-cluster", "pass")).slice(0, 120));
    const next = entry("mysql-cluster-online", "pass", { summary: "all 3 units ONLINE" });
    expect(appendRecord(file, next)).toBeUndefined();

    const read = readRecord(file);
    expect(read.map((e) => e.step)).toEqual(["mysql-check", "mysql-cluster-online"]);
    expect(read[1]).toEqual(next);
    expect(lastRecordEntry(file, { step: "mysql-cluster-online", outcomes: new Set(["pass"]) })).toEqual(next);
    expect(read.skipped).toEqual([
      {
        line: 2,
        torn: true,
        step: "mysql-reboot-cluster",
        reason: expect.stringMatching(
          /^torn line \(120 bytes of an entry of step mysql-reboot-cluster, not whole JSON\)/,
        ),
      },
    ]);
    // a torn line that is not the last one was not being written when read
    expect(read.skipped[0].reason).not.toContain("being written right now");

    const err: string[] = [];
    const out: string[] = [];
    await recordCommand(
      ["--window", "w1", "--record-dir", dir],
      (t) => out.push(t),
      (t) => err.push(t),
    );
    expect(err.join("")).toContain(
      `notice: ${file} line 2 skipped: torn line (120 bytes of an entry of step mysql-reboot-cluster`,
    );
    expect(err.join("")).toContain("a resume runs step mysql-reboot-cluster again unless a later line of it counts");
    expect(out.join("")).toContain("> line 2 of the file was skipped: torn line");
  });

  it("a file that ends with a newline gets no empty line", () => {
    const file = recordFile(dir, "w1");
    appendRecord(file, entry("a", "pass"));
    appendRecord(file, entry("b", "pass"));
    expect(fs.readFileSync(file, "utf8").split("\n")).toHaveLength(3); // two lines and the final ""
  });
});

describe("a record line is bounded", () => {
  const MB20 = 20 * 1024 * 1024;

  it("a 20 MB message becomes a short line with a visible marker, head and tail kept", () => {
    const file = recordFile(dir, "w1");
    const stderr = "juju status -m c:openstack mysql-innodb-cluster: exit 1: " + "x".repeat(MB20) + " ERROR the end";
    const huge = entry("mysql-check", "fail", {
      summary: stderr,
      details: [stderr, ...Array.from({ length: 5000 }, (_, i) => `unit ${i}: ${"y".repeat(100)}`)],
      fix: stderr,
      state: stderr,
      evidence: {
        kind: "guests",
        baseline: stderr,
        guests: [{ name: stderr, after: "ACTIVE", fate: "kept" }],
      },
    });
    expect(appendRecord(file, huge)).toBeUndefined();
    const text = fs.readFileSync(file, "utf8");
    // the text fields are held under 64 KiB; the evidence's one string adds its own 1 KiB
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024 + RECORD_BOUNDS.field * 2);
    const [back] = readRecord(file);
    const marker = `…[cut by the record: ${Buffer.byteLength(stderr)} bytes in all]…`;
    for (const s of [back.summary, back.details[0], back.fix!, back.state!]) {
      expect(s).toContain(marker);
      expect(s.startsWith("juju status -m c:openstack mysql-innodb-cluster: exit 1: xxx")).toBe(true);
      expect(s.endsWith(" ERROR the end")).toBe(true);
    }
    expect(Buffer.byteLength(back.summary)).toBeLessThanOrEqual(RECORD_BOUNDS.summary);
    expect(back.details.at(-1)).toMatch(/^…\[cut by the record: \d+ more detail lines, \d+ bytes\]$/);
    expect(back.evidence?.kind === "guests" && back.evidence.guests[0].name).toContain(marker);
  });

  it("an entry within the bounds is written as it is", () => {
    const file = recordFile(dir, "w1");
    const e = entry("s", "pass", { details: ["a", "b"], summary: "é ∑ 😀 \u0001" });
    appendRecord(file, e);
    expect(fs.readFileSync(file, "utf8")).toBe(JSON.stringify(e) + "\n");
  });

  it.each([
    ["ASCII", "a"],
    ["control characters (6 bytes each as JSON)", "\u0001"],
    ["4-byte characters (never split in two)", "😀"],
  ])("cuts by the bytes the string takes in the line: %s", (_what, unit) => {
    // several bounds: where a cut falls (between the two halves of a character or not) depends on it
    for (let max = 4090; max < 4100; max++) {
      const cut = fitString(unit.repeat(100_000), max);
      expect(Buffer.byteLength(JSON.stringify(cut)) - 2).toBeLessThanOrEqual(max);
      expect(Buffer.byteLength(JSON.stringify(cut)) - 2).toBeGreaterThan(3000);
      expect(cut).toContain("…[cut by the record:");
      expect(Buffer.from(cut).toString()).toBe(cut); // no half character (a lone surrogate)
    }
  });
});
