/**
 * Issue #23 item 5: on an update pulumi-command v1.2.1 puts the step's whole previous stdout and
 * stderr into the environment as PULUMI_COMMAND_STDOUT/STDERR unless the Command's
 * `addPreviousOutputInEnv` is false (provider/pkg/provider/local/commandOutputs.go `run`). One
 * environment string past Linux's MAX_ARG_STRLEN (128 KiB) makes execve fail with E2BIG, so a
 * step that printed more than that could never run its own `kept` (its update). Nothing in
 * coldstart reads those variables: every Command is registered with the option false.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { runPlanProgram } from "../../plan/plan";
import { drillDir, runDrillProcess } from "../support/drill-run";

const COMMAND = "command:local:Command";

describe.each([
  ["roosevelt", "planned"],
  ["roosevelt", "unplanned"],
  ["prior-build", "planned"],
  ["prior-build", "unplanned"],
] as const)("%s, %s: the Commands as registered", (stack, mode) => {
  it("every step's Command has addPreviousOutputInEnv false", async () => {
    const run = await runPlanProgram({ stack, mode, window: "2026-12-05-maint" });
    const commands = run.resources.filter((r) => r.type === COMMAND);
    expect(commands.length).toBe(run.plan.steps.length);
    for (const c of commands)
      expect({ step: c.name, add: c.inputs.addPreviousOutputInEnv }).toEqual({ step: c.name, add: false });
  });
});

describe("a step whose previous output passed 128 KiB", () => {
  const BIG = "x".repeat(200 * 1024);
  const ROOT = path.resolve(__dirname, "../..");

  it("is a real limit: with it in the environment `coldstart kept` cannot even start (E2BIG)", () => {
    const r = spawnSync(path.join(ROOT, "bin", "coldstart"), ["kept", "baseline-capture"], {
      env: { ...process.env, PULUMI_COMMAND_STDOUT: BIG },
      encoding: "utf8",
    });
    expect((r.error as NodeJS.ErrnoException | undefined)?.code).toBe("E2BIG");
  });

  it("a resumed drill whose every passed step left 200 KiB of stdout keeps each of them (update = kept), exit 0", () => {
    const dir = drillDir("big-previous-output");
    const args = ["--stack", "prior-build", "--scenario", "healthy-planned", "--mode", "planned"];
    const first = runDrillProcess(args, dir);
    expect(first.status).toBe(0);
    // what the engine's state holds for each step: its last stdout, now 200 KiB
    const file = path.join(dir, "pulumi-state.json");
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as { steps: Record<string, { stdout: string }> };
    for (const s of Object.values(state.steps)) s.stdout = BIG;
    fs.writeFileSync(file, JSON.stringify(state));
    // a changed input: every passed step becomes an update, whose command is `coldstart kept <step>`
    const second = runDrillProcess([...args, "--resume", "--set", "gates.commandTimeout=3m"], dir);
    expect(second.stderr).not.toMatch(/argument list too long/);
    expect(second.status).toBe(0);
    expect(second.report.steps.length).toBe(34);
    for (const s of second.report.steps)
      expect({ step: s.name, op: s.op, status: s.status }).toEqual({ step: s.name, op: "update", status: "passed" });
    expect(second.record.filter((e) => e.outcome === "kept").length).toBe(34);
  });
});
