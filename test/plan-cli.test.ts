/** `coldstart plan` as an operator runs it: the built CLI in a child process. */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { checkMermaidFlowchart } from "./support/mermaid-grammar";
import type { Plan } from "../plan/model";

const ROOT = path.resolve(__dirname, "..");
const coldstart = (...args: string[]) =>
  spawnSync(path.join(ROOT, "bin", "coldstart"), args, {
    encoding: "utf8",
    env: { ...process.env, COLDSTART_WINDOW: "" },
  });

describe("coldstart plan", () => {
  it.each([
    ["roosevelt", "planned", 34],
    ["roosevelt", "unplanned", 24],
    ["prior-build", "planned", 34],
    ["prior-build", "unplanned", 24],
  ])("prints the whole chain for %s in %s mode, in dependency order", (stack, mode, count) => {
    const json = coldstart("plan", "--stack", stack, "--mode", mode, "--format", "json");
    expect(json.status).toBe(0);
    const plan = JSON.parse(json.stdout) as Plan;
    expect(plan.steps).toHaveLength(count);
    const text = coldstart("plan", "--stack", stack, "--mode", mode);
    expect(text.status).toBe(0);
    // every step appears, and after everything it depends on
    const position = (name: string) => text.stdout.indexOf(` ${name}`);
    for (const step of plan.steps) {
      expect(position(step.name)).toBeGreaterThan(0);
      for (const dep of step.dependsOn) expect(position(dep)).toBeLessThan(position(step.name));
    }
    expect(text.stdout).toContain("cloud-assert");
    expect(text.stdout).toContain("DESTRUCTIVE");
  });

  it("emits valid Mermaid with one node per step and one edge per dependency", () => {
    const mermaid = coldstart("plan", "--stack", "roosevelt", "--format", "mermaid");
    expect(mermaid.status).toBe(0);
    expect(checkMermaidFlowchart(mermaid.stdout)).toEqual([]);
    const plan = JSON.parse(coldstart("plan", "--stack", "roosevelt", "--format", "json").stdout) as Plan;
    const edges = mermaid.stdout.split("\n").filter((l) => l.includes(" --> "));
    expect(edges).toHaveLength(plan.steps.reduce((n, s) => n + s.dependsOn.length, 0));
  });

  it("the grammar check itself rejects broken Mermaid", () => {
    expect(checkMermaidFlowchart('flowchart TD\n  a["x"]\n  a --> b\n')).toEqual(["edge to undeclared node b"]);
    expect(checkMermaidFlowchart('flowchart TD\n  subgraph s["x"]\n  a["say "hi""]\n')).not.toEqual([]);
  });

  it.each([
    [["plan", "--stack", "nope"], /^coldstart: --stack: no stack named "nope" \(known: prior-build, roosevelt\)\n$/],
    [
      ["plan", "--mode", "sometimes"],
      /^coldstart: plan: --mode: expected one of "planned"\|"unplanned", found "sometimes"\n$/,
    ],
    [
      ["plan", "--format", "svg"],
      /^coldstart: plan: --format: expected one of "text"\|"mermaid"\|"json", found "svg"\n$/,
    ],
    [["plan", "--stack"], /^coldstart: --stack: expected a value after the flag, found nothing\n$/],
    [["plan", "--window", ""], /^coldstart: plan: --window: expected a window id of letters, digits.*, found ""\n$/],
    [["frobnicate"], /^coldstart: unknown command "frobnicate" \(try: coldstart help\)\n$/],
  ])("rejects bad input %j with exit 2 and one clear line", (args, message) => {
    const r = coldstart(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
  });
});
