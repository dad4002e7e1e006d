/**
 * The hand-back every stop ends with (issue #24 item 3), as pure data and lines: which steps are
 * left (the record's last word on each), in runbook order; a BLOCKER's escalation first; the text
 * of a blocker made safe to show; how to resume instead, per kind of run.
 */
import { makePlan } from "../../plan/plan";
import type { Plan } from "../../plan/model";
import type { RecordEntry } from "../../runtime/record";
import { handbackOf, renderHandback, resumeAdvice, type ResumeContext } from "../../runbook/handback";
import { runbookOrder } from "../../runbook/render-runbook";

let plan: Plan;
let order: string[];
beforeAll(async () => {
  plan = await makePlan({ stack: "roosevelt", mode: "unplanned", window: "w1" });
  order = runbookOrder(plan).map((s) => s.name);
});

function entry(step: string, outcome: RecordEntry["outcome"], extra: Partial<RecordEntry> = {}): RecordEntry {
  return {
    window: "w1",
    stack: "roosevelt",
    stage: plan.steps.find((s) => s.name === step)?.stage ?? "x",
    step,
    command: step,
    start: "2026-12-05T06:00:00.000Z",
    end: "2026-12-05T06:01:00.000Z",
    exitCode: outcome === "pass" ? 0 : 1,
    outcome,
    summary: `${step} ${outcome}`,
    details: [],
    ...extra,
  };
}
const passedUpTo = (step: string) => order.slice(0, order.indexOf(step)).map((s) => entry(s, "pass"));

describe("handbackOf", () => {
  it("every step whose last line is not pass / skipped-by-guard / kept is left, in runbook order, from the first of them", () => {
    const entries = [
      ...passedUpTo("mysql-check"),
      entry("mysql-check", "pass"),
      entry("mysql-reboot-cluster", "skipped-by-guard"),
      entry("mysql-cluster-online", "fail"),
    ];
    const h = handbackOf(plan, entries)!;
    expect(h.from).toBe("mysql-cluster-online");
    expect(h.steps.map((s) => s.step)).toEqual(order.slice(order.indexOf("mysql-cluster-online")));
    expect(h.steps[0].left).toBe("fail");
    expect(h.steps[1].left).toBe("not run");
    expect(h.blocker).toBeUndefined();
  });

  it("the LAST line of a step counts: a pass after a failure is finished, a failure after a pass is not; kept is finished", () => {
    const entries = [
      ...passedUpTo("vault-unseal"),
      entry("machines-started", "fail"),
      entry("machines-started", "pass"),
      entry("vault-unseal", "pass"),
      entry("vault-unseal", "cancelled", { state: "not-started" }),
      entry("power-on-openstack0", "kept"),
    ];
    const h = handbackOf(plan, entries)!;
    expect(h.from).toBe("vault-unseal");
    expect(h.steps.map((s) => s.step)).not.toContain("machines-started");
    expect(h.steps.map((s) => s.step)).not.toContain("power-on-openstack0");
    expect(h.steps[0].left).toBe("cancelled");
  });

  it("a step in the middle left undone (a parallel peer that failed) is listed where the runbook has it", () => {
    const entries = order.filter((s) => s !== "powered-on-openstack2").map((s) => entry(s, "pass"));
    const h = handbackOf(plan, entries)!;
    expect(h.steps.map((s) => s.step)).toEqual(["powered-on-openstack2"]);
  });

  it("nothing left: undefined", () => {
    expect(
      handbackOf(
        plan,
        order.map((s) => entry(s, "pass")),
      ),
    ).toBeUndefined();
  });

  it("a BLOCKER among the steps left is named with its summary and fix", () => {
    const entries = [
      ...passedUpTo("vault-unseal"),
      entry("vault-unseal", "blocker", {
        summary: "only 2 of 3 keys",
        fix: "fix: escalate to the key custodians (D-069)",
      }),
    ];
    const h = handbackOf(plan, entries)!;
    expect(h.blocker).toEqual({
      step: "vault-unseal",
      summary: "only 2 of 3 keys",
      fix: "fix: escalate to the key custodians (D-069)",
    });
  });

  it("each step left carries the plan's own procedure, guard and marks", () => {
    const h = handbackOf(plan, passedUpTo("mysql-reboot-cluster"))!;
    const reboot = h.steps.find((s) => s.step === "mysql-reboot-cluster")!;
    const planned = plan.steps.find((s) => s.name === "mysql-reboot-cluster")!;
    expect(reboot.manual).toBe(planned.manual);
    expect(reboot.destructive).toBe(true);
    expect(reboot.guard).toBe(planned.guard);
  });
});

describe("renderHandback", () => {
  it("without a blocker: `continue by hand from <step>:` first, then each step left in order", () => {
    const lines = renderHandback(handbackOf(plan, passedUpTo("ovn-chassis-check"))!);
    expect(lines[0]).toBe("continue by hand from ovn-chassis-check:");
    const shown = lines.filter((l) => l.startsWith("[")).map((l) => l.slice(1, l.indexOf("]")));
    expect(shown).toEqual(order.slice(order.indexOf("ovn-chassis-check")));
    expect(lines.join("\n")).not.toContain("ESCALATE");
  });

  it("after a BLOCKER the escalation comes first, then the rest marked 'once the blocker is resolved'", () => {
    const entries = [...passedUpTo("mysql-check"), entry("mysql-check", "blocker", { fix: "fix: appendix-A (D-062)" })];
    const lines = renderHandback(handbackOf(plan, entries)!);
    expect(lines[0]).toBe("ESCALATE FIRST: BLOCKER at mysql-check: mysql-check blocker");
    expect(lines[1]).toBe("  fix: appendix-A (D-062)");
    const cont = lines.findIndex((l) => l === "Once the blocker is resolved, continue by hand from mysql-check:");
    expect(cont).toBeGreaterThan(1);
    expect(lines.findIndex((l) => l.startsWith("["))).toBeGreaterThan(cont);
    expect(lines).toContain("  (left by the window as: blocker)");
  });

  it("a blocker's text from the record cannot drive the terminal or the Markdown report", () => {
    const entries = [
      ...passedUpTo("mysql-check"),
      entry("mysql-check", "blocker", { summary: "unit says \u001b[2J\u001b]0;pwned\u0007 <b>*x*</b>" }),
    ];
    const h = handbackOf(plan, entries)!;
    const text = renderHandback(h).join("\n");
    expect(text.includes("\u001b") || text.includes("\u0007")).toBe(false);
    const md = renderHandback(h, "md").join("\n");
    expect(md).toContain("&lt;b&gt;\\*x\\*&lt;/b&gt;");
  });
});

describe("resumeAdvice", () => {
  const ctx = (over: Partial<ResumeContext>): ResumeContext => ({
    stack: "roosevelt",
    window: "w1",
    recordDir: "~/coldstart-records",
    finished: 12,
    ...over,
  });
  const h = () => handbackOf(plan, passedUpTo("vault-unseal"))!;

  it.each([
    [{ runKind: "drill", drillDir: "/tmp/d" }, "coldstart drill --dir /tmp/d --resume"],
    [{ runKind: "maintenance" }, "coldstart maintenance --stack roosevelt --window w1 ("],
    [
      { runKind: "maintenance", drillDir: "/tmp/m" },
      "coldstart maintenance --stack roosevelt --window w1 --engine drill --dir /tmp/m --resume",
    ],
    [{}, "pulumi up --stack roosevelt with coldstart:window w1"],
  ])("%j: %s", (over, command) => {
    const lines = resumeAdvice(h(), ctx(over));
    expect(lines[0]).toContain(`Or resume with coldstart instead: ${command}`);
    expect(lines.join("\n")).toContain("the record shows 12 step(s) finished");
    expect(lines.join("\n")).toContain("~/coldstart-records/w1.mysql-reboot.json");
  });

  it("after a BLOCKER it says a resume stops at the same blocker until it is resolved", () => {
    const blocked = handbackOf(plan, [...passedUpTo("vault-unseal"), entry("vault-unseal", "blocker")])!;
    expect(resumeAdvice(blocked, ctx({})).join("\n")).toContain(
      "Not before the blocker is resolved: a resume runs vault-unseal again",
    );
    expect(resumeAdvice(h(), ctx({})).join("\n")).not.toContain("Not before the blocker");
  });
});
