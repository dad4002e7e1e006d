/**
 * .github/workflows/maintenance.yml, read as data: manual dispatch for a stack that exists, a
 * protected environment per stack, only known actions, only coldstart commands the CLI accepts,
 * no input spliced into a script, keys from the secret store, the report always uploaded.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { EXIT } from "../../cli/exit-codes";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "maintenance.yml");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  "runs-on": string | string[];
  environment?: string | { name: string; url?: string };
  env?: Record<string, string>;
  steps: Step[];
}
interface Input {
  description?: string;
  required?: boolean;
  type?: string;
  options?: string[];
}
interface Workflow {
  on: { workflow_dispatch?: { inputs?: Record<string, Input> } } & Record<string, unknown>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(fs.readFileSync(WORKFLOW, "utf8")) as Workflow;
const jobs = Object.entries(workflow.jobs);
const steps = jobs.flatMap(([, job]) => job.steps);
const runSteps = steps.filter((s): s is Step & { run: string } => typeof s.run === "string");
/** Every command line of every run: script (comments and blank lines dropped). */
const runLines = runSteps.flatMap((s) =>
  s.run
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#")),
);
const stacks = fs
  .readdirSync(path.join(ROOT, "stacks"))
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined);

const ALLOWED_ACTIONS = ["actions/checkout@v4", "actions/setup-node@v4", "actions/upload-artifact@v4"];
const help = spawnSync(path.join(ROOT, "bin", "coldstart"), ["help"], { encoding: "utf8" });
/** Commands the CLI's own usage lists (`  plan   --stack ...`). */
const cliCommands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);

describe("the maintenance workflow's trigger", () => {
  it("is only a manual dispatch", () => {
    expect(Object.keys(workflow.on)).toEqual(["workflow_dispatch"]);
  });

  it("asks for a stack, as a choice of exactly the stacks in stacks/, and a required window id", () => {
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    expect(Object.keys(inputs).sort()).toEqual(["stack", "window"]);
    expect(stacks.length).toBeGreaterThan(0);
    expect(inputs.stack).toMatchObject({ type: "choice", required: true });
    expect([...(inputs.stack.options ?? [])].sort()).toEqual([...stacks].sort());
    expect(inputs.window).toMatchObject({ type: "string", required: true });
  });
});

describe("the maintenance job", () => {
  it("runs on the self-hosted jumphost behind the stack's protected environment", () => {
    expect(jobs).toHaveLength(1);
    const [, job] = jobs[0];
    expect(([] as string[]).concat(job["runs-on"])).toContain("self-hosted");
    const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
    expect(environment).toMatch(/\$\{\{\s*inputs\.stack\s*\}\}/);
  });

  it("uses only allowlisted actions at their current major versions", () => {
    const uses = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(ALLOWED_ACTIONS).toContain(action);
  });

  it("runs only `npm ci` or `bin/coldstart <command>` with a command the CLI accepts", () => {
    expect(help.status).toBe(0);
    expect(cliCommands).toEqual(expect.arrayContaining(["plan", "drill", "maintenance"]));
    expect(fs.existsSync(path.join(ROOT, "bin", "coldstart"))).toBe(true);
    expect(runLines.length).toBeGreaterThan(0);
    for (const line of runLines) {
      if (line === "npm ci") continue;
      const m = /^bin\/coldstart ([a-z]+)(?: |$)/.exec(line);
      expect({ line, coldstart: m !== null }).toEqual({ line, coldstart: true });
      expect({ line, command: cliCommands.includes(m![1]) }).toEqual({ line, command: true });
      expect(line).not.toMatch(/[;&|`]|\$\(/); // one command per line, nothing chained
    }
  });

  it("passes flags the CLI accepts (each coldstart line, run with sample inputs and no keys, gets past flag parsing)", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-workflow-"));
    fs.symlinkSync(path.join(ROOT, "bin"), path.join(cwd, "bin"));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
    Object.assign(env, { STACK: "prior-build", WINDOW: "2026-12-05-prior-build" });
    for (const line of runLines.filter((l) => l.startsWith("bin/coldstart "))) {
      // without keys `maintenance` stops (exit 3) before preview, so nothing touches a cloud
      const r = spawnSync("/bin/sh", ["-c", line], { cwd, env, encoding: "utf8", timeout: 20_000 });
      expect({ line, status: r.status, usage: /^coldstart: /m.test(r.stderr) }).toEqual({
        line,
        status: line.includes(" maintenance ") ? EXIT.blocker : EXIT.ok,
        usage: false,
      });
    }
  }, 30_000);

  it("approves with --yes only in the maintenance step and never uses the drill engine", () => {
    const maintenance = runLines.filter((l) => /^bin\/coldstart maintenance /.test(l));
    expect(maintenance).toHaveLength(1);
    expect(maintenance[0]).toMatch(/ --yes( |$)/);
    expect(maintenance[0]).not.toContain("drill");
    expect(runLines.filter((l) => / --yes( |$)/.test(l))).toEqual(maintenance);
  });

  it("never splices an expression (inputs or otherwise) into a run script", () => {
    for (const step of runSteps) expect(step.run).not.toMatch(/\$\{\{/);
  });

  it("takes the inputs into the shell only as environment variables", () => {
    const env = { ...workflow.env, ...jobs[0][1].env };
    const fromInputs = Object.entries(env).filter(([, v]) => /inputs\./.test(v));
    expect(fromInputs.length).toBeGreaterThan(0);
    for (const [name] of fromInputs) expect(runLines.some((l) => l.includes(`"$${name}"`))).toBe(true);
  });

  it("maps unseal keys from the secret store into COLDSTART_UNSEAL_KEY_1..3, and secrets nowhere else but env", () => {
    const envs = [workflow.env ?? {}, jobs[0][1].env ?? {}, ...steps.map((s) => s.env ?? {})];
    const keyVars = envs.flatMap((e) => Object.entries(e).filter(([k]) => /UNSEAL/.test(k)));
    expect(keyVars.map(([k]) => k).sort()).toEqual([
      "COLDSTART_UNSEAL_KEY_1",
      "COLDSTART_UNSEAL_KEY_2",
      "COLDSTART_UNSEAL_KEY_3",
    ]);
    for (const [, value] of keyVars) expect(value).toMatch(/^\$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}$/);
    // a secret never reaches a `with:` (action input) or a script
    for (const step of steps) {
      expect(JSON.stringify(step.with ?? {})).not.toMatch(/secrets\./);
      expect(step.run ?? "").not.toMatch(/secrets\./);
    }
  });

  it("gives the unseal keys only to the step that runs maintenance", () => {
    const withKeys = (env: Record<string, string> | undefined) => Object.keys(env ?? {}).some((k) => /UNSEAL/.test(k));
    expect(withKeys(workflow.env)).toBe(false);
    expect(withKeys(jobs[0][1].env)).toBe(false);
    const stepsWithKeys = steps.filter((s) => withKeys(s.env));
    expect(stepsWithKeys).toHaveLength(1);
    expect(stepsWithKeys[0].run ?? "").toMatch(/^bin\/coldstart maintenance /);
  });

  it("always uploads the folder the maintenance step writes its report to", () => {
    const maintenance = runLines.find((l) => /^bin\/coldstart maintenance /.test(l))!;
    const reportDir = /--report-dir (\S+)/.exec(maintenance)?.[1];
    expect(reportDir).toBeDefined();
    const upload = steps.filter((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload).toHaveLength(1);
    expect(upload[0].if?.replace(/\s/g, "")).toMatch(/^(\$\{\{)?always\(\)(\}\})?$/);
    const uploaded = String(upload[0].with?.path ?? "").replace(/\/+$/, "");
    expect(uploaded).toBe(reportDir!.replace(/\/+$/, ""));
    expect(steps.indexOf(upload[0])).toBeGreaterThan(steps.findIndex((s) => s.run === maintenance));
  });
});
