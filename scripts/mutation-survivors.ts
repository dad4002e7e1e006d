/**
 * `npm run mutation:survivors [--min 90] [report.json ...]`: what lived in the last mutation run (issue #22,
 * README "Mutation testing"). Reads Stryker's JSON report (default reports/mutation/mutation.json,
 * stryker.config.js jsonReporter) and prints, per file, the score raw and excluding the mutants
 * listed as equivalent in test/mutation/equivalent/*.json, then every mutant that was not detected
 * (survived, or covered by no test) as `file:line:column  mutator  original → replacement`.
 *
 * An equivalent mutant is matched by file + mutator + original text + replacement text (spaces
 * folded), never by line: the entry stays right when lines move. An entry that matches no mutant
 * of the report is named at the end (the code changed under it, or the file was not in this run).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** One mutant as Stryker's JSON report (mutation-testing-report-schema) holds it; the fields used. */
export interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

export interface Report {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
}

/** One entry of a test/mutation/equivalent/*.json list. */
export interface Equivalent {
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  why: string;
}

/** Detected: a test failed (Killed) or the run hung (Timeout). Undetected: the rest that ran or could. */
const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

export interface FileScore {
  file: string;
  detected: number;
  survived: number;
  noCoverage: number;
  equivalent: number;
  /** Stryker's score: detected / (detected + undetected), in %; null with no valid mutant. */
  raw: number | null;
  /** The same without the undetected mutants listed as equivalent. */
  excludingEquivalents: number | null;
}

export interface Undetected {
  file: string;
  line: number;
  column: number;
  mutator: string;
  original: string;
  replacement: string;
  status: string;
  equivalent?: Equivalent;
}

const fold = (text: string) => text.replace(/\s+/g, " ").trim();

/** The source text a mutant replaced (the report's columns are 1-based, as its lines are). */
export function originalText(source: string, m: ReportMutant): string {
  const lines = source.split("\n");
  const { start, end } = m.location;
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  const parts = [lines[start.line - 1].slice(start.column - 1)];
  for (let l = start.line; l < end.line - 1; l++) parts.push(lines[l]);
  parts.push(lines[end.line - 1].slice(0, end.column - 1));
  return parts.join("\n");
}

export function matchEquivalent(
  equivalents: Equivalent[],
  file: string,
  mutator: string,
  original: string,
  replacement: string,
): Equivalent | undefined {
  return equivalents.find(
    (e) =>
      e.file === file &&
      e.mutator === mutator &&
      fold(e.original) === fold(original) &&
      fold(e.replacement) === fold(replacement),
  );
}

const percent = (detected: number, undetected: number) =>
  detected + undetected === 0 ? null : (100 * detected) / (detected + undetected);

/** Per-file scores and the undetected mutants, in file then position order. */
export function analyse(
  report: Report,
  equivalents: Equivalent[],
): { scores: FileScore[]; undetected: Undetected[]; unusedEquivalents: Equivalent[] } {
  const scores: FileScore[] = [];
  const undetected: Undetected[] = [];
  const used = new Set<Equivalent>();
  for (const file of Object.keys(report.files).sort()) {
    const { source, mutants } = report.files[file];
    let detected = 0;
    let survived = 0;
    let noCoverage = 0;
    let equivalent = 0;
    const sorted = [...mutants].sort(
      (a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column,
    );
    for (const m of sorted) {
      if (DETECTED.has(m.status)) detected++;
      if (!UNDETECTED.has(m.status)) continue;
      if (m.status === "Survived") survived++;
      else noCoverage++;
      const original = originalText(source, m);
      const replacement = m.replacement ?? "";
      const eq = matchEquivalent(equivalents, file, m.mutatorName, original, replacement);
      if (eq) {
        equivalent++;
        used.add(eq);
      }
      undetected.push({
        file,
        line: m.location.start.line,
        column: m.location.start.column,
        mutator: m.mutatorName,
        original,
        replacement,
        status: m.status,
        equivalent: eq,
      });
    }
    scores.push({
      file,
      detected,
      survived,
      noCoverage,
      equivalent,
      raw: percent(detected, survived + noCoverage),
      excludingEquivalents: percent(detected, survived + noCoverage - equivalent),
    });
  }
  const inReport = new Set(Object.keys(report.files));
  const unusedEquivalents = equivalents.filter((e) => inReport.has(e.file) && !used.has(e));
  return { scores, undetected, unusedEquivalents };
}

const short = (text: string, max = 70) => {
  const one = fold(text);
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};
const pct = (n: number | null) => (n === null ? "n/a" : `${n.toFixed(2)}`);

export function render(result: ReturnType<typeof analyse>): string {
  const out: string[] = [];
  const width = Math.max(4, ...result.scores.map((s) => s.file.length));
  out.push(
    `${"file".padEnd(width)}  ${"raw %".padStart(7)}  ${"excl. eq. %".padStart(11)}  detected  survived  no-cov  equivalent`,
  );
  for (const s of result.scores) {
    out.push(
      `${s.file.padEnd(width)}  ${pct(s.raw).padStart(7)}  ${pct(s.excludingEquivalents).padStart(11)}  ` +
        `${String(s.detected).padStart(8)}  ${String(s.survived).padStart(8)}  ${String(s.noCoverage).padStart(6)}  ` +
        `${String(s.equivalent).padStart(10)}`,
    );
  }
  let current = "";
  for (const u of result.undetected) {
    if (u.file !== current) {
      current = u.file;
      out.push("", `== ${current}`);
    }
    const tag = u.status === "NoCoverage" ? " [no coverage]" : "";
    const eq = u.equivalent ? `   (equivalent: ${u.equivalent.why})` : "";
    out.push(
      `${u.file}:${u.line}:${u.column}  ${u.mutator}  ${short(u.original)} → ${short(u.replacement)}${tag}${eq}`,
    );
  }
  if (result.unusedEquivalents.length > 0) {
    out.push("", "equivalent/*.json entries that match no undetected mutant of this report (stale? killed now?):");
    for (const e of result.unusedEquivalents)
      out.push(`  ${e.file}  ${e.mutator}  ${short(e.original)} → ${short(e.replacement)}`);
  }
  return out.join("\n");
}

/** Every list in test/mutation/equivalent/ (one per area of the safety core: gates.json, power.json,
 * steps.json, runtime.json, stages.json), as one. */
export function readEquivalents(dir: string): Equivalent[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .flatMap((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Equivalent[]);
}

/** Several reports as one, given oldest first (a whole part, then re-runs of some lines). For a
 * file whose source is the same in both, a mutant (same place, mutator and replacement) counts as
 * detected if any run detected it: a re-run of a few lines adds to the whole run. A file whose
 * source changed since takes the newer report alone (its lines moved: the older one no longer says
 * anything about it). */
export function mergeReports(reports: Report[]): Report {
  const files: Report["files"] = {};
  const key = (m: ReportMutant) =>
    `${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.mutatorName} ${m.replacement ?? ""}`;
  for (const r of reports)
    for (const [file, entry] of Object.entries(r.files)) {
      const earlier = files[file];
      if (!earlier || earlier.source !== entry.source) {
        files[file] = { source: entry.source, mutants: [...entry.mutants] };
        continue;
      }
      const byKey = new Map(earlier.mutants.map((m) => [key(m), m]));
      for (const m of entry.mutants) {
        const had = byKey.get(key(m));
        if (!had || (DETECTED.has(m.status) && !DETECTED.has(had.status))) byKey.set(key(m), m);
      }
      files[file] = { source: entry.source, mutants: [...byKey.values()] };
    }
  return { files };
}

/** Files whose score, equivalents excluded, is below `min` %. */
export function belowMinimum(scores: FileScore[], min: number): FileScore[] {
  return scores.filter((s) => s.excludingEquivalents !== null && s.excludingEquivalents < min);
}

const USAGE = "usage: npm run mutation:survivors -- [--min <percent>] [report.json ...]";

function main(argv: string[]): number {
  const root = path.resolve(__dirname, "..", "..");
  const files: string[] = [];
  let min: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--min") {
      const n = Number(argv[++i]);
      if (!Number.isFinite(n) || n < 0 || n > 100) {
        process.stderr.write(`mutation-survivors: --min needs a percent from 0 to 100, e.g. --min 90\n${USAGE}\n`);
        return 2;
      }
      min = n;
    } else if (argv[i].startsWith("-")) {
      process.stderr.write(`mutation-survivors: unknown flag ${argv[i]}\n${USAGE}\n`);
      return 2;
    } else files.push(path.resolve(argv[i]));
  }
  if (files.length === 0) files.push(path.join(root, "reports", "mutation", "mutation.json"));
  const reports: Report[] = [];
  for (const reportFile of files) {
    if (!fs.existsSync(reportFile)) {
      process.stderr.write(`mutation-survivors: no report at ${reportFile}; run \`npm run mutation\` first\n`);
      return 2;
    }
    reports.push(JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report);
  }
  const equivalents = readEquivalents(path.join(root, "test", "mutation", "equivalent"));
  const result = analyse(mergeReports(reports), equivalents);
  process.stdout.write(`${render(result)}\n`);
  if (min === undefined) return 0;
  const below = belowMinimum(result.scores, min);
  if (below.length === 0) {
    process.stdout.write(`\nevery file at or above ${min} % (equivalents excluded)\n`);
    return 0;
  }
  process.stdout.write(`\nbelow ${min} % (equivalents excluded): ${below.map((s) => s.file).join(", ")}\n`);
  return 1;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
