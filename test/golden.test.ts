/**
 * Golden plans: `coldstart plan` (the built CLI, the operator's own code path) for both committed
 * stacks in both modes, text and JSON, against test/golden/<stack>.<mode>.{txt,json}; and the
 * manual runbook generated from the same definitions, test/golden/runbook.<stack>.<mode>.md. Any
 * difference fails with a line diff: every runbook change is a readable diff in review.
 * After reviewing a change on purpose: `UPDATE_GOLDEN=1 npx jest test/golden.test.ts` (needs a
 * fresh build: `npx tsc -p .`), then commit the golden files with the change.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const GOLDEN_DIR = path.join(__dirname, "golden");
/** A fixed window id: the plan carries it in every step's triggers. */
const WINDOW = "golden-window";
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const HOW_TO_ACCEPT =
  "If this change is intended, review it, then run `UPDATE_GOLDEN=1 npx jest test/golden.test.ts` and commit test/golden/.";

function plan(...args: string[]): string {
  return coldstart("plan", ...args);
}

/** `coldstart <command> --window golden-window ...`: the plan, or the manual runbook generated from it (issue #24). */
function coldstart(command: "plan" | "runbook", ...args: string[]): string {
  const r = spawnSync(path.join(ROOT, "bin", "coldstart"), [command, "--window", WINDOW, ...args], {
    encoding: "utf8",
    // the plan reads config only from the stack files; nothing of this shell may leak in
    env: { ...process.env, COLDSTART_WINDOW: "", COLDSTART_MODE: "" },
  });
  if (r.status !== 0) throw new Error(`coldstart ${command} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A unified line diff (longest common subsequence, 2 lines of context): "-" what the golden file
 * says, "+" what the plan prints now. Empty when both are the same.
 */
function lineDiff(expected: string, actual: string, context = 2): string {
  const a = expected.split("\n");
  const b = actual.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: { kind: " " | "-" | "+"; text: string; line: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ kind: " ", text: a[i++], line: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1][j] >= lcs[i][j + 1]))
      ops.push({ kind: "-", text: a[i++], line: j });
    else ops.push({ kind: "+", text: b[j], line: j++ });
  }
  const show = ops.map(
    (op, k) => op.kind !== " " || ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.kind !== " "),
  );
  const out: string[] = [];
  ops.forEach((op, k) => {
    if (!show[k]) return;
    if (k > 0 && !show[k - 1]) out.push(`@@ near line ${op.line + 1} of the new output @@`);
    else if (k === 0) out.push(`@@ near line 1 of the new output @@`);
    out.push(`${op.kind} ${op.text}`);
  });
  return ops.some((op) => op.kind !== " ") ? out.join("\n") : "";
}

/** undefined when `actual` matches the golden file; else a message with the diff and how to accept it. */
function compareGolden(file: string, expected: string | undefined, actual: string): string | undefined {
  if (expected === undefined) return `${file} does not exist yet.\n${HOW_TO_ACCEPT}`;
  const diff = lineDiff(expected, actual);
  if (!diff) return undefined;
  return `${file} differs from what \`coldstart plan\` prints now (- golden, + now):\n${diff}\n\n${HOW_TO_ACCEPT}`;
}

describe("golden plans", () => {
  it.each([
    ["roosevelt", "planned"],
    ["roosevelt", "unplanned"],
    ["prior-build", "planned"],
    ["prior-build", "unplanned"],
  ])("%s %s: text and JSON, and the manual runbook (Markdown), match test/golden", (stack, mode) => {
    const outputs: [string, string][] = [
      [`${stack}.${mode}.txt`, plan("--stack", stack, "--mode", mode)],
      [`${stack}.${mode}.json`, plan("--stack", stack, "--mode", mode, "--json")],
      [`runbook.${stack}.${mode}.md`, coldstart("runbook", "--stack", stack, "--mode", mode, "--format", "md")],
    ];
    const problems: string[] = [];
    for (const [name, actual] of outputs) {
      // deterministic content only: no temp dirs or paths of this machine, no times
      expect(actual).not.toContain(ROOT);
      expect(actual).not.toMatch(/\/tmp\/|\d{4}-\d\d-\d\dT\d\d:/);
      const file = path.join(GOLDEN_DIR, name);
      if (UPDATE) {
        fs.mkdirSync(GOLDEN_DIR, { recursive: true });
        fs.writeFileSync(file, actual);
        continue;
      }
      const expected = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
      const problem = compareGolden(path.relative(ROOT, file), expected, actual);
      if (problem) problems.push(problem);
    }
    if (problems.length) throw new Error(problems.join("\n\n"));
  });

  it("the same plan twice is byte for byte the same", () => {
    expect(plan("--stack", "roosevelt", "--json")).toBe(plan("--stack", "roosevelt", "--json"));
  });

  it("a changed step fails the comparison with a readable diff and says how to accept it", () => {
    const golden = fs.readFileSync(path.join(GOLDEN_DIR, "roosevelt.planned.txt"), "utf8");
    const changed = golden.replace("--timeout 30m --interval 20s", "--timeout 45m --interval 20s");
    expect(changed).not.toBe(golden);
    const problem = compareGolden("test/golden/roosevelt.planned.txt", golden, changed)!;
    expect(problem).toContain("test/golden/roosevelt.planned.txt differs");
    const minus = problem.split("\n").filter((l) => l.startsWith("- "));
    const plus = problem.split("\n").filter((l) => l.startsWith("+ "));
    expect(minus).toHaveLength(1);
    expect(plus).toHaveLength(1);
    expect(minus[0]).toContain("gate mysql-cluster-online");
    expect(minus[0]).toContain("--timeout 30m");
    expect(plus[0]).toContain("--timeout 45m");
    // context lines around the change, not the whole file
    expect(problem.split("\n").length).toBeLessThan(15);
    expect(problem).toContain("UPDATE_GOLDEN=1 npx jest test/golden.test.ts");
    // a removed step and a missing file fail too
    const removed = golden
      .split("\n")
      .filter((l) => !l.includes("cloud-assert"))
      .join("\n");
    expect(compareGolden("x", golden, removed)).toMatch(/^- .*cloud-assert/m);
    expect(compareGolden("x", undefined, golden)).toContain("does not exist yet");
    expect(compareGolden("x", golden, golden)).toBeUndefined();
  });
});
