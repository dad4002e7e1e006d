/**
 * `coldstart runbook` (issue #24 item 2), through the built CLI as an operator runs it: every step
 * of the plan in runbook order, `--from` starting at a step and naming what already holds, the
 * Markdown form, its help, and one-line errors with exit 2.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { makePlan } from "../../plan/plan";
import { runbookOrder } from "../../runbook/render-runbook";

const BIN = path.resolve(__dirname, "../../bin/coldstart");
const coldstart = (...args: string[]) =>
  spawnSync(BIN, args, { encoding: "utf8", env: { ...process.env, COLDSTART_WINDOW: "", COLDSTART_MODE: "" } });
/** The step names a text runbook shows, in the order it shows them (each step's heading is `[name] summary`). */
const stepsShown = (text: string) => [...text.matchAll(/^\[([a-z0-9-]+)\] /gm)].map((m) => m[1]);

describe.each([
  ["roosevelt", "planned"],
  ["roosevelt", "unplanned"],
  ["prior-build", "planned"],
  ["prior-build", "unplanned"],
] as const)("coldstart runbook --stack %s --mode %s", (stack, mode) => {
  it("exits 0 and shows every step of the plan once, stage by stage in the plan's order", async () => {
    const r = coldstart("runbook", "--stack", stack, "--mode", mode);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    const plan = await makePlan({ stack, mode });
    expect(stepsShown(r.stdout)).toEqual(runbookOrder(plan).map((s) => s.name));
    expect(new Set(stepsShown(r.stdout))).toEqual(new Set(plan.steps.map((s) => s.name)));
    // each stage's heading before its first step, in the plan's stage order
    const headings = plan.stages.map((st) => r.stdout.indexOf(`== ${st.title}  (${st.runbook})`));
    expect(headings.every((i) => i >= 0)).toBe(true);
    expect([...headings].sort((a, b) => a - b)).toEqual(headings);
    expect(r.stdout).toContain(`Manual runbook -- stack ${stack}, mode ${mode}`);
  });

  it("a destructive step's guard is said before its commands", () => {
    const r = coldstart("runbook", "--stack", stack, "--mode", mode);
    const at = r.stdout.indexOf("[mysql-reboot-cluster]");
    const block = r.stdout.slice(at, r.stdout.indexOf("\n[", at + 1));
    expect(block).toMatch(
      /^ {2}DESTRUCTIVE: run only when every one of the 3 units shows the complete-outage signature/m,
    );
    const guard = block.indexOf("DESTRUCTIVE:");
    const firstCommand = block.search(/^ {6}\S/m);
    expect(firstCommand).toBeGreaterThan(-1);
    expect(guard).toBeLessThan(firstCommand);
  });
});

describe("coldstart runbook --from", () => {
  it("starts at vault-unseal and names what already holds: the gates and checks before it", async () => {
    const r = coldstart("runbook", "--stack", "roosevelt", "--mode", "unplanned", "--from", "vault-unseal");
    expect(r.status).toBe(0);
    const plan = await makePlan({ stack: "roosevelt", mode: "unplanned" });
    const order = runbookOrder(plan).map((s) => s.name);
    expect(stepsShown(r.stdout)).toEqual(order.slice(order.indexOf("vault-unseal")));
    const holds = r.stdout.slice(r.stdout.indexOf("Already holds"), r.stdout.indexOf("== Stage 3"));
    const before = runbookOrder(plan)
      .slice(0, order.indexOf("vault-unseal"))
      .filter((s) => s.verb === "gate" || s.verb === "check");
    expect(before.map((s) => s.name)).toContain("mysql-cluster-online");
    for (const s of before) expect(holds).toContain(`- ${s.name}: ${s.expected}`);
    expect(holds).not.toContain("power-on-openstack0:"); // an action is not something that holds
  });

  it("from the first step: nothing holds yet", () => {
    const r = coldstart("runbook", "--stack", "prior-build", "--mode", "planned", "--from", "baseline-capture");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("- (nothing: it is the first step)");
  });

  it.each([
    [
      ["--from", "vault-unsel"],
      /^coldstart: runbook: --from: no step "vault-unsel" in the roosevelt planned plan \(did you mean vault-unseal\?\); see `coldstart plan --stack roosevelt --mode planned` for its steps\n$/,
    ],
    [
      ["--from", "hold-guests", "--mode", "unplanned"],
      /^coldstart: runbook: --from: no step "hold-guests" in the roosevelt unplanned plan; see/,
    ],
    [["--from", ""], /^coldstart: runbook: --from: expected a step name of the plan, found ""\n$/],
    [["--format", "html"], /^coldstart: runbook: --format: /],
    [["--stack", "nosuch"], /^coldstart: .*nosuch/],
  ])("bad input %j: one line, exit 2, nothing on stdout", (args, message) => {
    const r = coldstart("runbook", ...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});

describe("coldstart runbook --format md and --help", () => {
  it("renders as Markdown: one title, a heading per stage and step, every code fence closed", async () => {
    const r = coldstart("runbook", "--stack", "prior-build", "--mode", "planned", "--format", "md");
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines.filter((l) => l.startsWith("# "))).toHaveLength(1);
    const plan = await makePlan({ stack: "prior-build", mode: "planned" });
    expect(lines.filter((l) => l.startsWith("## "))).toEqual(plan.stages.map((s) => `## ${s.title}`));
    expect(lines.filter((l) => l.startsWith("### ")).map((l) => l.slice(4, l.indexOf(":")))).toEqual(
      runbookOrder(plan).map((s) => s.name),
    );
    const fences = lines.filter((l) => l.startsWith("```"));
    expect(fences.length % 2).toBe(0);
    fences.forEach((f, i) => expect(f).toBe(i % 2 === 0 ? "```bash" : "```"));
  });

  it("--help documents every flag; `coldstart help` lists the command", () => {
    const r = coldstart("runbook", "--help");
    expect(r.status).toBe(0);
    for (const flag of ["--stack <name>", "--mode planned|unplanned", "--from <step>", "--format text|md"])
      expect(r.stdout).toContain(flag);
    expect(coldstart("help").stdout).toMatch(/^ {2}runbook +\[--stack <name>\][^]*?print the stack's manual runbook/m);
  });
});
