/**
 * Issue #22: `npm run mutation:survivors` (scripts/mutation-survivors.ts) reads Stryker's JSON
 * report. An equivalent mutant listed in test/mutation/equivalent/*.json is matched by file, mutator
 * and text, not by line, and the score is printed raw and without the listed equivalents.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  analyse,
  belowMinimum,
  mergeReports,
  originalText,
  readEquivalents,
  render,
  type Equivalent,
  type Report,
} from "../../scripts/mutation-survivors";

const SOURCE = ["export function f(a: number) {", "  if (a > 1) return 'x';", "  return 'y';", "}"].join("\n");
const at = (line: number, column: number, endColumn: number, endLine = line) => ({
  start: { line, column },
  end: { line: endLine, column: endColumn },
});
const report = (moved = 0): Report => ({
  files: {
    "stages/f.ts": {
      source: "\n".repeat(moved) + SOURCE,
      mutants: [
        {
          id: "1",
          mutatorName: "EqualityOperator",
          replacement: "a >= 1",
          status: "Survived",
          location: at(2 + moved, 7, 12),
        },
        { id: "2", mutatorName: "StringLiteral", replacement: '""', status: "Killed", location: at(2 + moved, 21, 24) },
        {
          id: "3",
          mutatorName: "StringLiteral",
          replacement: '""',
          status: "NoCoverage",
          location: at(3 + moved, 10, 13),
        },
        { id: "4", mutatorName: "BlockStatement", replacement: "{}", status: "Timeout", location: at(1, 30, 2, 4) },
        {
          id: "5",
          mutatorName: "ConditionalExpression",
          replacement: "true",
          status: "CompileError",
          location: at(2, 7, 12),
        },
      ],
    },
  },
});
const EQ: Equivalent = {
  file: "stages/f.ts",
  mutator: "EqualityOperator",
  original: "a > 1",
  replacement: "a >= 1",
  why: "a is never 1 here",
};

describe("mutation survivors", () => {
  it("takes a mutant's original text from the report's 1-based columns, over lines too", () => {
    const r = report();
    const [m1, , , m4] = r.files["stages/f.ts"].mutants;
    expect(originalText(SOURCE, m1)).toBe("a > 1");
    expect(originalText(SOURCE, m4)).toBe(SOURCE.slice(SOURCE.indexOf("{")));
  });

  it("scores detected (killed, timeout) over detected + undetected (survived, no coverage), raw and without equivalents", () => {
    const { scores, undetected } = analyse(report(), [EQ]);
    expect(scores).toEqual([
      {
        file: "stages/f.ts",
        detected: 2,
        survived: 1,
        noCoverage: 1,
        equivalent: 1,
        raw: 50,
        excludingEquivalents: (100 * 2) / 3,
      },
    ]);
    expect(undetected.map((u) => [u.line, u.status, u.equivalent?.why])).toEqual([
      [2, "Survived", "a is never 1 here"],
      [3, "NoCoverage", undefined],
    ]);
  });

  it("still knows the equivalent when lines move above it", () => {
    const { undetected } = analyse(report(5), [EQ]);
    expect(undetected[0]).toMatchObject({ line: 7, equivalent: EQ });
  });

  it("names an entry that matches nothing, and prints file:line:column, mutator, original → replacement", () => {
    const stale = { ...EQ, original: "a > 2" };
    const out = render(analyse(report(), [stale]));
    expect(out).toContain("stages/f.ts:2:7  EqualityOperator  a > 1 → a >= 1");
    expect(out).toContain("stages/f.ts:3:10  StringLiteral  'y' → \"\" [no coverage]");
    expect(out).toMatch(/match no undetected mutant[^\n]*\n {2}stages\/f\.ts {2}EqualityOperator {2}a > 2 → a >= 1/);
  });

  it("merges reports oldest first: a re-run's kill adds to the whole run; a changed source takes the newer report", () => {
    const whole = report();
    const rerun = report();
    const f = rerun.files["stages/f.ts"];
    f.mutants = [{ ...f.mutants[0], status: "Killed" }];
    const other: Report = { files: { "gates/g.ts": { source: "x", mutants: [] } } };
    const merged = mergeReports([whole, rerun, other]);
    expect(Object.keys(merged.files).sort()).toEqual(["gates/g.ts", "stages/f.ts"]);
    const statuses = merged.files["stages/f.ts"].mutants.map((m) => [m.id, m.status]);
    expect(statuses).toEqual([
      ["1", "Killed"],
      ["2", "Killed"],
      ["3", "NoCoverage"],
      ["4", "Timeout"],
      ["5", "CompileError"],
    ]);
    // a later run that did not detect it does not undo an earlier kill
    expect(mergeReports([rerun, whole]).files["stages/f.ts"].mutants[0].status).toBe("Killed");
    // the source changed (lines moved): the newer report alone
    const moved = report(2);
    expect(mergeReports([rerun, moved]).files["stages/f.ts"]).toEqual(moved.files["stages/f.ts"]);
  });

  it("--min names the files below it, equivalents excluded; a file with no valid mutant is not below", () => {
    const { scores } = analyse(report(), [EQ]);
    expect(belowMinimum(scores, 66).map((s) => s.file)).toEqual([]);
    expect(belowMinimum(scores, 67).map((s) => s.file)).toEqual(["stages/f.ts"]);
    expect(belowMinimum([{ ...scores[0], raw: null, excludingEquivalents: null }], 90)).toEqual([]);
  });

  it("every entry of test/mutation/equivalent/*.json says which mutant and why", () => {
    const list = readEquivalents(path.join(__dirname, "equivalent"));
    expect(fs.readdirSync(path.join(__dirname, "equivalent")).sort()).toEqual([
      "gates.json",
      "power.json",
      "runtime.json",
      "stages.json",
      "steps.json",
    ]);
    for (const e of list) {
      expect(Object.keys(e).sort()).toEqual(["file", "mutator", "original", "replacement", "why"]);
      expect(fs.existsSync(path.join(__dirname, "..", "..", e.file))).toBe(true);
      expect(e.why.length).toBeGreaterThan(10);
    }
  });
});
