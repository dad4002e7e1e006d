/** `coldstart plan` as an operator runs it: the built CLI in a child process. */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { checkMermaidFlowchart } from "./support/mermaid-grammar";
import type { Plan, PlanStep } from "../plan/model";
import { mermaidId, renderMermaid } from "../plan/render-mermaid";
import { renderText } from "../plan/render-text";

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
    // every step appears (a per-host step as its `<host>` form in its host group), after
    // everything it depends on
    const heading = (name: string) => {
      const escaped = name.replace(/[<>.-]/g, "\\$&");
      return (
        new RegExp(`^\\s*(\\d+\\. )?\\s*(check|act|gate)\\s+${escaped}(  \\[.*\\])?$`, "m").exec(text.stdout)?.index ??
        -1
      );
    };
    const position = (name: string) => {
      const step = plan.steps.find((s) => s.name === name)!;
      const host = /--host (\S+)/.exec(step.create)?.[1];
      return heading(name) >= 0 || !host ? heading(name) : heading(name.replace(host, "<host>"));
    };
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

  it("--json is --format json: one versioned document, durations as numbers in ms", () => {
    const json = coldstart("plan", "--stack", "roosevelt", "--json");
    expect(json.status).toBe(0);
    expect(json.stdout).toBe(coldstart("plan", "--stack", "roosevelt", "--format", "json").stdout);
    const doc = JSON.parse(json.stdout) as Plan & {
      schemaVersion: number;
      steps: (PlanStep & { onFailure: string })[];
    };
    expect(Object.keys(doc)[0]).toBe("schemaVersion");
    expect(doc.schemaVersion).toBe(1);
    for (const step of doc.steps) {
      // the engine's own "938s" stays; the same in ms is the number to compute with
      expect(step.timeoutMs).toBe(Number(/^(\d+)s$/.exec(step.timeout)![1]) * 1000);
      expect(typeof step.worstCaseMs).toBe("number");
      expect(step.worstCaseMs).toBeGreaterThan(0);
      expect(step.worstCaseMs).toBeLessThan(step.timeoutMs);
      expect(step.onFailure).toMatch(/stops the run/);
    }
    const both = coldstart("plan", "--json", "--format", "mermaid");
    expect(both.status).toBe(2);
    expect(both.stdout).toBe("");
    expect(both.stderr).toBe("coldstart: plan: --json and --format mermaid ask for two formats; give one of them\n");
  });

  it("Mermaid: ids read as the step names, destructive steps and [REVALIDATE] markers are marked", () => {
    const mermaid = coldstart("plan", "--stack", "roosevelt", "--format", "mermaid").stdout;
    const plan = JSON.parse(coldstart("plan", "--stack", "roosevelt", "--json").stdout) as Plan;
    const classOf = (name: string) => new RegExp(`^  class (\\S+) ${name}$`, "m").exec(mermaid)?.[1].split(",") ?? [];
    const destructive = plan.steps.filter((s) => s.destructive);
    const revalidate = plan.steps.filter((s) => s.revalidate);
    expect(destructive.map((s) => s.name)).toEqual(["mysql-reboot-cluster"]);
    expect(revalidate.length).toBeGreaterThanOrEqual(2);
    for (const step of plan.steps) {
      const id = step.name.replace(/-/g, "_");
      const node = new RegExp(`^    ${id}(\\[|\\{\\{)"([^"]*)"`, "m").exec(mermaid);
      expect(node).not.toBeNull();
      const label = node![2];
      expect(label).toContain(`${step.verb}: ${step.name}`);
      expect(label.includes("DESTRUCTIVE")).toBe(step.destructive);
      expect(classOf("destructive").includes(id)).toBe(step.destructive);
      if (step.revalidate) expect(label).toContain(`[REVALIDATE: ${step.revalidate}]`);
      else expect(label).not.toContain("REVALIDATE");
      expect(classOf("revalidate").includes(id)).toBe(Boolean(step.revalidate));
    }
    expect(mermaid).toMatch(/^ {2}classDef destructive fill:#fdd,stroke:#c00/m);
    expect(mermaid).toContain('subgraph stage_2_mysql["Stage 2 -- MySQL InnoDB cluster"]');
  });

  it("Mermaid ids stay valid and distinct for awkward names", () => {
    expect(mermaidId("power-off-openstack0")).toBe("power_off_openstack0");
    // Mermaid's lexer reads these prefixes as keywords, and an id must start with a letter here
    for (const name of ["end", "style-check", "classify", "click-it", "1st-step"])
      expect(mermaidId(name)).toMatch(/^n_/);
    const steps = ["a-b", "a_b", "end", "classify", "1st-step"].map((name, i) => fakeStep(name, { depth: i }));
    steps.forEach((s, i) => (s.dependsOn = i ? [steps[i - 1].name] : []));
    const out = renderMermaid(fakePlan(steps));
    expect(checkMermaidFlowchart(out)).toEqual([]);
    const ids = [...out.matchAll(/^ {4}(\w+)\[/gm)].map((m) => m[1]);
    expect(ids).toEqual(["a_b", "a_b_2", "n_end", "n_classify", "n_1st_step"]);
  });

  it("the power stages read in a few lines: one line of hosts, each kind of step once, nothing lost", () => {
    for (const stack of ["roosevelt", "prior-build"]) {
      const text = coldstart("plan", "--stack", stack).stdout;
      const plan = JSON.parse(coldstart("plan", "--stack", stack, "--json").stdout) as Plan;
      for (const [stage, first, second] of [
        ["Shutdown sequence", "power-off", "powered-off"],
        ["Power-on / recovery", "power-on", "powered-on"],
      ]) {
        const section = text.split("\n\n").find((b) => b.startsWith(`== ${stage}`))!;
        const lines = section.split("\n");
        expect(lines.length).toBeLessThanOrEqual(14);
        expect(lines[1]).toMatch(
          new RegExp(
            `^ *\\d+-\\d+\\. ${first}: openstack0, openstack1, openstack2, openstack3  \\(in parallel, each: act ${first}-<host> -> gate ${second}-<host>\\)$`,
          ),
        );
        // the one templated command line of each kind gives back every host's exact create line
        const perHost = new Map(
          (/^ {7}per host: (.*)$/m.exec(section)?.[1].split("; ") ?? []).map((entry) => {
            const [host, ...vars] = entry.split(" ");
            return [host, vars.map((v) => v.split("=") as [string, string])];
          }),
        );
        const templates = [...section.matchAll(/^ {7}\$ (.*)$/gm)].map((m) => m[1]);
        expect(templates).toHaveLength(2);
        for (const step of plan.steps.filter((s) => s.stage === plan.stages.find((st) => st.title === stage)!.name)) {
          const host = /--host (\S+)/.exec(step.create)![1];
          const template = templates[step.verb === "act" ? 0 : 1];
          let line = template.replace(/<host>/g, host);
          for (const [flag, value] of perHost.get(host) ?? []) line = line.replace(`<${flag}>`, value);
          expect(line).toBe(step.create);
        }
      }
    }
  });

  it("every step says what happens when it fails", () => {
    const text = coldstart("plan", "--stack", "roosevelt").stdout;
    const blocks = text.match(/^ *(\d+\.|\d+-\d+\.)? *(check|act|gate) +\S+.*$/gm)!;
    const onFailure = text.match(/^ {7}on failure: .+$/gm)!;
    // one per step block: 18 single steps + 2 kinds in each of the two host groups
    expect(blocks).toHaveLength(22);
    expect(onFailure).toHaveLength(22);
    const after = (name: string) =>
      text
        .slice(text.search(new RegExp(`(check|act|gate) +${name}`)))
        .split("on failure: ")[1]
        .split("\n")[0];
    // the step definition's own line, with what its guard and destructive mark add
    expect(after("mysql-cluster-online")).toMatch(/^stops the run.*quick reference/);
    expect(after("mysql-check")).toMatch(/^stops the run before anything is changed/);
    expect(after("cloud-assert")).toMatch(/^stops the run; each FAIL line routes to appendix-A/);
    expect(after("mysql-reboot-cluster")).toMatch(
      /^guard does not hold: nothing runs; the action fails: stops the run.*; never run blind twice in one window/,
    );
    expect(after("lb-failover")).toMatch(/^guard does not hold: nothing runs; the action fails: stops the run/);
    expect(after("lb-failover")).not.toContain("never run blind");
    expect(after("baseline-capture")).toMatch(/^stops the run.*\(nothing is shut down without a baseline\)$/);
  });

  it("a host whose steps read differently is not folded into a group", () => {
    const steps = ["a", "b"].flatMap((host) => [
      fakeStep(`off-${host}`, { create: `coldstart act power-off --host ${host}; exit $?` }),
    ]);
    // host b's step has its own timeout: one template cannot describe both
    steps[1].timeout = "99s";
    const text = renderText(fakePlan(steps));
    expect(text).toContain("  1. act   off-a");
    expect(text).toContain("  2. act   off-b");
    expect(text).not.toContain("<host>");
    steps[1].timeout = steps[0].timeout;
    expect(renderText(fakePlan(steps))).toContain("1-2. off: a, b  (in parallel, each: act off-<host>)");
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

function fakeStep(name: string, over: Partial<PlanStep> = {}): PlanStep {
  return {
    name,
    stage: "s",
    verb: "act",
    command: "x",
    create: `coldstart act x; exit $?`,
    summary: `does ${name}`,
    expected: "it passes",
    manual: { section: "Stage 7 -- end-to-end behavioral gate", blocks: [] },
    destructive: false,
    timeout: "70s",
    timeoutMs: 70_000,
    worstCaseMs: 10_000,
    budget: ["start-up (2s)"],
    update: `coldstart kept ${name}`,
    dependsOn: [],
    parallelWith: [],
    depth: 0,
    triggers: [],
    hasDelete: false,
    ...over,
  };
}

function fakePlan(steps: PlanStep[]): Plan {
  return {
    project: "p",
    stack: "t",
    mode: "planned",
    window: "w",
    stages: [{ name: "s", title: "S", runbook: "r#s", dependsOn: [], steps: steps.map((s) => s.name) }],
    steps,
  };
}
