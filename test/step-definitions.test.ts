/**
 * One definition per runbook step (stages/step-def.ts): the CLI's step table, the handlers, the
 * plan's step metadata and the power flags all come from the definitions in the stage files, and
 * there is no module-level catalog (the program can be built twice in one process).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { makePlan, runPlanProgram } from "../plan/plan";
import { parseFlags } from "../cli/args";
import { flagsOf } from "../cli/help";
import { STEP_DEFS, findStep } from "../stages/step-table";
import { STEP_KEYS, commandsOf, loadStep } from "../stages/step-index";
import { POWER_OFF } from "../stages/shutdown";
import { POWER_STATE } from "../stages/power-on";
import { powerFlags, powerSpecFromFlags } from "../stages/power-flags";
import { hostSchema } from "../config/schema";
import { UsageError } from "../config/errors";
import { KEEP_CHILD } from "../stages/command-line";

const ROOT = path.resolve(__dirname, "..");
const NODE = path.join(ROOT, "node_modules", ".bin", "node");
const COLDSTART = path.join(ROOT, "bin", "coldstart");

/** The create line's words after `coldstart <verb> <command>`, unquoted. */
function flagWords(create: string): string[] {
  return create
    .slice(0, -KEEP_CHILD.length)
    .split(" ")
    .slice(3)
    .map((w) => w.replace(/^'(.*)'$/, "$1"));
}

describe("no global catalog: the program built twice in one process", () => {
  it("gives two independent, correct plans (roosevelt planned, prior-build unplanned, roosevelt again)", async () => {
    const a = await makePlan({ stack: "roosevelt", mode: "planned", window: "w1" });
    const b = await makePlan({ stack: "prior-build", mode: "unplanned", window: "w2" });
    const again = await makePlan({ stack: "roosevelt", mode: "planned", window: "w1" });

    expect(a.stages.map((s) => s.name)).toEqual([
      "pre-shutdown",
      "shutdown",
      "power-on",
      "stage-1-foundation",
      "stage-2-mysql",
      "stage-3-vault",
      "stage-4-ovn",
      "stage-5-guests",
      "stage-6-octavia",
      "stage-7-cloud-assert",
    ]);
    expect(b.stages.map((s) => s.name)).toEqual(a.stages.map((s) => s.name).slice(2));
    // nothing of the first build leaks into the second: no planned-only step, each step once
    expect(b.steps.map((s) => s.name)).not.toContain("baseline-capture");
    expect(b.steps.filter((s) => s.name.startsWith("power-off-"))).toEqual([]);
    expect(new Set(b.steps.map((s) => s.name)).size).toBe(b.steps.length);
    expect(b.steps).toHaveLength(a.steps.length - 2 - 8);
    // each build's own stack: roosevelt powers through MAAS, prior-build through virsh
    expect(a.steps.find((s) => s.name === "power-on-openstack0")!.create).toContain("--driver maas");
    expect(b.steps.find((s) => s.name === "power-on-openstack0")!.create).toContain("--driver virsh");
    expect(b.steps.find((s) => s.name === "guests-active")!.create).toContain("--mode unplanned");
    expect(b.window).toBe("w2");
    // the third build is the first one again, not the first plus the second
    expect(again).toEqual(a);
  });

  it("every registered step carries its definition's metadata (stage, verb, command, summary)", async () => {
    const { plan } = await runPlanProgram({ stack: "roosevelt", mode: "planned", window: "w1" });
    for (const step of plan.steps) {
      const def = findStep(step.verb, step.command);
      expect(def).toBeDefined();
      expect(step.summary).toBe(def!.summary(parseFree(step.create)));
      expect(step.destructive).toBe(def!.destructive);
      expect(step.revalidate).toBe(def!.revalidate);
      expect(step.stage).toBe(plan.stages.find((s) => s.steps.includes(step.name))!.name);
    }
  });
});

/** The create line's flags as the stage passed them (text; lists for repeated flags). */
function parseFree(create: string): Record<string, unknown> {
  const words = flagWords(create);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < words.length; i += 2) {
    const name = words[i].slice(2);
    out[name] = name in out ? [...[out[name]].flat(), words[i + 1]] : words[i + 1];
  }
  // the numbers the stage wrote (a summary may print them)
  for (const [k, v] of Object.entries(out)) if (typeof v === "string" && /^\d+$/.test(v)) out[k] = Number(v);
  for (const k of ["hold", "guest", "start"]) if (typeof out[k] === "string") out[k] = [out[k]];
  return out;
}

describe("what a step must see to pass is said once", () => {
  it("no handler in steps/ repeats a definition's expected text: it reads the definition's own", () => {
    const handlers = fs
      .readdirSync(path.join(__dirname, "..", "steps"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => ({ f, src: fs.readFileSync(path.join(__dirname, "..", "steps", f), "utf8") }));
    const repeated = STEP_DEFS.flatMap((def) =>
      handlers.filter((h) => h.src.includes(JSON.stringify(def.expected))).map((h) => `${def.key} in steps/${h.f}`),
    );
    expect(repeated).toEqual([]);
  });
});

describe("the step table", () => {
  it("has one definition per `<verb> <command>`, each flag described, each with a lazy handler", async () => {
    const keys = STEP_DEFS.map((d) => d.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const def of STEP_DEFS) {
      expect(def.key).toBe(`${def.verb} ${def.command}`);
      expect(def.expected.length).toBeGreaterThan(10);
      expect(def.onFailure).toMatch(/stops the run/);
      for (const flag of flagsOf(def.flags))
        expect([def.key, flag.name, flag.description]).toEqual([def.key, flag.name, expect.any(String)]);
      expect(typeof (await def.handler())).toBe("function");
    }
  });

  it("covers every step of both stacks in both modes", async () => {
    for (const stack of ["roosevelt", "prior-build"])
      for (const mode of ["planned", "unplanned"] as const) {
        const plan = await makePlan({ stack, mode, window: "w1" });
        for (const step of plan.steps)
          expect(findStep(step.verb, step.command)?.key).toBe(`${step.verb} ${step.command}`);
      }
  });

  it("the step index (what a step process loads) names every definition once, in runbook order, each loading that very definition", async () => {
    expect(STEP_KEYS).toEqual(STEP_DEFS.map((d) => d.key));
    for (const def of STEP_DEFS) expect(await loadStep(def.verb, def.command)).toBe(def);
    expect(await loadStep("gate", "no-such-step")).toBeUndefined();
    expect(await loadStep("gate", "toString")).toBeUndefined();
    expect(commandsOf("check")).toEqual(STEP_DEFS.filter((d) => d.verb === "check").map((d) => d.command));
  });

  it("a step's process loads only its own stage file (the index), not the step table", () => {
    const probe = `
      (async () => {
        const { loadStep } = require("./dist/stages/step-index");
        await loadStep("gate", "machines-started");
        console.log(JSON.stringify(Object.keys(require.cache)));
      })();`;
    const r = spawnSync(NODE, ["-e", probe], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    const stages = (JSON.parse(r.stdout) as string[])
      .filter((f) => f.includes(`${path.sep}dist${path.sep}stages${path.sep}`))
      .map((f) => path.basename(f))
      .sort();
    expect(stages).toEqual([
      "budget.js",
      "flags.js",
      "foundation.js",
      "step-def.js",
      "step-index.js",
      "timing-flags.js",
    ]);
  });

  it("loads no handler and no @pulumi/pulumi with the table; a step loads only its own handler module", () => {
    const probe = `
      (async () => {
        const { findStep } = require("./dist/stages/step-table");
        const before = Object.keys(require.cache);
        await findStep("gate", "machines-started").handler();
        const after = Object.keys(require.cache);
        console.log(JSON.stringify({ before, after }));
      })();`;
    const r = spawnSync(NODE, ["-e", probe], { cwd: ROOT, encoding: "utf8" });
    expect(r.stderr).toBe("");
    const { before, after } = JSON.parse(r.stdout) as { before: string[]; after: string[] };
    const ours = (files: string[], dir: string) =>
      files.filter((f) => f.includes(`${path.sep}dist${path.sep}${dir}${path.sep}`)).map((f) => path.basename(f));
    expect(before.filter((f) => f.includes("@pulumi"))).toEqual([]);
    expect(ours(before, "steps")).toEqual([]);
    expect(ours(before, "power")).toEqual([]);
    expect(ours(after, "steps").sort()).toEqual(["foundation.js", "outcome.js", "poll-line.js", "unwrap.js"]);
    expect(after.filter((f) => f.includes("@pulumi"))).toEqual([]);
  });
});

describe("power steps: the config's powerSchema is the one set of rules", () => {
  const ipmi = hostSchema.parse({
    name: "openstack3",
    power: { driver: "ipmi", bmc: "10.20.0.13", user: "admin", passwordEnv: "IPMI_PASSWORD_OPENSTACK3" },
  });

  it("flattens a host's settings into readable flags, in the create line's order, and back", () => {
    expect(powerFlags(ipmi)).toEqual({
      host: "openstack3",
      driver: "ipmi",
      bmc: "10.20.0.13",
      port: 623,
      user: "admin",
      "cipher-suite": 3,
      "password-env": "IPMI_PASSWORD_OPENSTACK3",
    });
    expect(Object.keys(powerFlags(ipmi))).toEqual([
      "host",
      "driver",
      "bmc",
      "port",
      "user",
      "cipher-suite",
      "password-env",
    ]);
    const parsed = POWER_OFF.flags.parse({ ...powerFlags(ipmi), "graceful-timeout": "5m", interval: "10s" });
    expect(powerSpecFromFlags(parsed)).toEqual(ipmi.power);
  });

  it("refuses through powerSchema what the config refuses, naming the flag", () => {
    const gate = (extra: Record<string, unknown>) =>
      POWER_STATE.flags.parse({ host: "openstack0", expect: "on", timeout: "10m", interval: "10s", ...extra });
    const spec = (extra: Record<string, unknown>) => () => powerSpecFromFlags(gate(extra));
    // the config's regex for a MAAS URL, and its one-of rule for the key
    expect(
      spec({ driver: "maas", "maas-url": "http://maas:5240/", "system-id": "e8xa8m", "api-key-env": "K" }),
    ).toThrow(/^--maas-url: expected the MAAS URL ending in \/MAAS.*found "http:\/\/maas:5240\/" \(host openstack0\)$/);
    expect(spec({ driver: "maas", "maas-url": "http://maas:5240/MAAS", "system-id": "e8xa8m" })).toThrow(
      new UsageError("--api-key-file or --api-key-env: one is required with --driver maas (host openstack0)"),
    );
    // an environment variable name the config would refuse (the secret itself pasted in by mistake)
    expect(spec({ driver: "virsh", uri: "qemu:///system", domain: "d", "password-env": "x" })).toThrow(
      /^--password-env: not a flag of --driver virsh/,
    );
    expect(spec({ driver: "ipmi", bmc: "b", user: "u", "password-env": "not a name" })).toThrow(
      /^--password-env: expected an environment variable name/,
    );
    expect(spec({ driver: "virsh", uri: "qemu:///system" })).toThrow(
      new UsageError("--domain: required with --driver virsh (host openstack0)"),
    );
  });

  it("parses every power create line of a stack with ipmi, MAAS and virsh hosts through powerSchema", async () => {
    const hosts = [
      {
        name: "openstack0",
        power: {
          driver: "maas",
          url: "http://10.20.0.2:5240/MAAS",
          systemId: "abc120",
          apiKeyEnv: "MAAS_KEY",
          allowPlainHttp: true,
        },
      },
      { name: "openstack1", power: { driver: "virsh", uri: "qemu+ssh://kvm1/system", domain: "openstack1" } },
      { name: "openstack3", power: { driver: "ipmi", bmc: "10.20.0.13", user: "admin", passwordFile: "~/bmc-pw" } },
    ];
    const plan = await makePlan({
      stack: "roosevelt",
      window: "w1",
      overrides: { "coldstart:hosts": JSON.stringify(hosts) },
    });
    const power = plan.steps.filter((s) => /^power-|^powered-/.test(s.name));
    expect(power).toHaveLength(12);
    for (const step of power) {
      const def = findStep(step.verb, step.command)!;
      const host = hosts.find((h) => step.name.endsWith(h.name))!;
      const spec = powerSpecFromFlags(parseFlags(def.key, flagWords(step.create), def.flags) as never);
      expect(spec).toEqual(hostSchema.parse(host).power);
    }
    expect(plan.steps.find((s) => s.name === "power-on-openstack3")!.create).toBe(
      "coldstart act power-on --host openstack3 --driver ipmi --bmc 10.20.0.13 --port 623 --user admin --cipher-suite 3 --password-file ~/bmc-pw" +
        KEEP_CHILD,
    );
  });
});

describe("the CLI, from the definitions (built bin/coldstart)", () => {
  const run = (...args: string[]) =>
    spawnSync(COLDSTART, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: "/usr/bin:/bin" } });

  it("--help and -h on a step: each flag with its meaning, what passes, what a failure does; exit 0", () => {
    for (const flag of ["--help", "-h"]) {
      const r = run("gate", "machines-started", flag);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^usage: coldstart gate machines-started --model <model> --timeout <duration>/);
      expect(r.stdout).toContain("passes when: every juju machine agent");
      expect(r.stdout).toContain("on failure: stops the run");
      for (const f of ["--model", "--timeout", "--interval", "--json"]) expect(r.stdout).toContain(`  ${f} `);
    }
    // a step's guard written from its flags shows them as placeholders
    const reboot = run("act", "mysql-reboot-cluster-from-complete-outage", "--model", "a:b", "--help");
    expect(reboot.status).toBe(0);
    expect(reboot.stdout).toContain("guard: every one of the <units> units");
    expect(reboot.stdout).toContain("DESTRUCTIVE");
  });

  it("every step's --help names every flag of its schema, with its default when it has one", () => {
    for (const def of STEP_DEFS) {
      const r = run(def.verb, def.command, "--help");
      expect([def.key, r.status]).toEqual([def.key, 0]);
      for (const flag of Object.keys(def.flags.shape)) expect(r.stdout).toContain(`--${flag}`);
    }
    expect(run("act", "power-on", "--help").stdout).toMatch(
      /--port <n>\s+the BMC's RMCP\+ port \(--driver ipmi; default 623/,
    );
  });

  it("`<verb> --help` lists that verb's steps; an unknown step is one line, exit 2", () => {
    const r = run("check", "--help");
    expect(r.status).toBe(0);
    expect(
      r.stdout
        .split("\n")
        .filter((l) => /^ {2}\S/.test(l))
        .map((l) => l.trim().split(" ")[0]),
    ).toEqual(STEP_DEFS.filter((d) => d.verb === "check").map((d) => d.command));
    const bad = run("gate", "no-such-gate");
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toEqual([
      `coldstart: gate: unknown step "no-such-gate" (known: ${STEP_DEFS.filter((d) => d.verb === "gate")
        .map((d) => d.command)
        .join(", ")})`,
    ]);
  });

  it("--json lines carry schemaVersion 1", () => {
    const r = run("check", "nova-resume-flag", "--model", "a:b", "--app", "nova-compute", "--json");
    expect(r.status).toBe(1); // juju is not on this PATH: the step fails, named
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.schemaVersion).toBe(1);
    expect(lines.at(-1)).toMatchObject({ message: "result", outcome: "fail", state: "tool-missing" });
  });

  it("a power flag the config would refuse is one line naming it, exit 2, before any call", () => {
    const r = run("act", "power-on", "--host", "openstack1", "--driver", "virsh", "--uri", "no uri", "--domain", "d");
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toEqual([
      'coldstart: --uri: expected a libvirt URI like qemu+ssh://kvm1/system, found "no uri" (host openstack1)',
    ]);
  });
});
