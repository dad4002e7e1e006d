/**
 * The generated runbook against the seed runbook (issue #24 item 5), for both stacks and both
 * modes through the built CLI: every command the seed gives appears, with this stack's model, apps
 * and values where coldstart's are right and the seed's were not (Juju 3 `juju run`, `-m <model>`);
 * every command of every procedure parses (`bash -n`); every variable a command reads is a declared
 * placeholder or set by the procedure itself; no generic `<placeholder>` of the seed is left; and no
 * secret value can appear, even with every secret variable set in the environment.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { makePlan } from "../../plan/plan";
import type { PlanStep } from "../../plan/model";
import { readStackConfig } from "../../config/stack-files";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "coldstart");
const CASES = [
  ["roosevelt", "planned"],
  ["roosevelt", "unplanned"],
  ["prior-build", "planned"],
  ["prior-build", "unplanned"],
] as const;

const valueOf = (stack: string, key: string): string => {
  const v = readStackConfig(ROOT, stack).values[`coldstart:${key}`];
  if (v === undefined) throw new Error(`${stack}: coldstart:${key} is not set`);
  return v;
};
const appOf = (stack: string, app: string): string => {
  const apps = readStackConfig(ROOT, stack).values["coldstart:apps"];
  return (apps ? (JSON.parse(apps) as Record<string, string>)[app] : undefined) ?? app;
};
const commandsOf = (s: PlanStep): string[] => s.manual.blocks.flatMap((b) => b.commands);

describe.each(CASES)("the generated runbook of %s (%s)", (stack, mode) => {
  let text: string;
  let steps: PlanStep[];
  const model = valueOf(stack, "jujuModel");
  beforeAll(async () => {
    const r = spawnSync(BIN, ["runbook", "--stack", stack, "--mode", mode], { encoding: "utf8" });
    expect(r.status).toBe(0);
    text = r.stdout;
    steps = (await makePlan({ stack, mode })).steps;
  });

  it("has every command the seed runbook gives, with this stack's model and apps", () => {
    const mysql = appOf(stack, "mysql");
    const wanted = [
      // Stage 1 GATE
      `juju machines -m ${model} --format=json | jq -r `,
      // Stage 2 CHECK and the action, Juju 3's `juju run` (not run-action) with the model
      `juju status -m ${model} ${mysql} --format=json | jq -r '.applications."${mysql}".units | to_entries[]`,
      `juju run -m ${model} ${mysql}/leader reboot-cluster-from-complete-outage`,
      // Stage 3: hidden prompts
      "read -r -s -p ",
      // Stage 5
      "openstack server list --all-projects -c Name -c Status </dev/null",
      `juju config -m ${model} nova-compute resume-guests-state-on-host-boot`,
      "openstack server start ",
      // Stage 6
      'openstack loadbalancer failover "$LB_ID"',
      // Stage 7
      `bash ${valueOf(stack, "cloudAssertScript")}`,
      `source ${valueOf(stack, "openrc")}`,
    ];
    if (mode === "planned") {
      wanted.push(
        `juju export-bundle -m ${model} --filename`,
        "openstack loadbalancer amphora list",
        "openstack server list --all-projects",
      );
    }
    for (const w of wanted) expect({ w, found: text.includes(w) }).toEqual({ w, found: true });
    // the seed's forms that are wrong for this cloud never appear
    expect(text).not.toMatch(/juju run-action|juju switch \S|VAULT_ADDR=http:\/\/127\.0\.0\.1:8200/);
    for (const line of text
      .split("\n")
      .filter((l) => /^\s+juju (status|run|exec|ssh|machines|config|operations|show-task|export-bundle)\b/.test(l)))
      expect({ line, model: line.includes(` -m ${model} `) }).toEqual({ line, model: true });
  });

  it("every command parses, reads only declared or self-set variables, and leaves no generic placeholder", () => {
    for (const s of steps) {
      const cmds = commandsOf(s);
      // only a step with nothing to do in this stack (no guest to hold) has no command
      const nothingToDo = /\(none configured\)/.test(s.summary);
      expect({ step: s.name, commands: cmds.length > 0 }).toEqual({ step: s.name, commands: !nothingToDo });
      const all = cmds.join("\n");
      for (const c of cmds) {
        const r = spawnSync("bash", ["-n", "-c", c], { encoding: "utf8" });
        expect({ step: s.name, c, status: r.status }).toEqual({ step: s.name, c, status: 0 });
        expect(c).not.toMatch(/ipmitool\b.*\s-P(\s|$)/);
        // the seed's placeholders (`<name>`, `<unit>`) are filled or named variables, never left
        expect({ step: s.name, c, generic: /(^|\s)<[a-z][a-z_-]*>(\s|$)/i.test(c) }).toMatchObject({ generic: false });
      }
      const declared = new Set((s.manual.placeholders ?? []).map((p) => p.name));
      const setHere = new Set([
        ...[...all.matchAll(/(?:^|[\s;(])([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1]),
        ...[...all.matchAll(/\bfor ([A-Za-z_][A-Za-z0-9_]*) in\b/g)].map((m) => m[1]),
        ...[...all.matchAll(/\bfor \(\( *([A-Za-z_][A-Za-z0-9_]*) *=/g)].map((m) => m[1]),
        ...[...all.matchAll(/\bread (?:-[a-z]+ (?:'[^']*' |"[^"]*" )?)*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]),
      ]);
      // a `$x` inside single quotes is jq's or awk's, not the shell's
      const shellText = all.replace(/'[^']*'/g, "''");
      for (const m of shellText.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = m[1];
        expect({ step: s.name, name, known: declared.has(name) || setHere.has(name) }).toEqual({
          step: s.name,
          name,
          known: true,
        });
      }
      for (const p of declared)
        expect({ step: s.name, p, used: all.includes(`$${p}`) }).toEqual({ step: s.name, p, used: true });
    }
  });
});

describe("no secret value can appear in the generated runbook", () => {
  it("with the unseal keys, MAAS key and BMC password variables all set, none of their values is printed", () => {
    const secrets: Record<string, string> = {
      COLDSTART_UNSEAL_KEY_1: "sentinel-unseal-one-7f3a",
      COLDSTART_UNSEAL_KEY_2: "sentinel-unseal-two-7f3a",
      COLDSTART_UNSEAL_KEY_3: "sentinel-unseal-three-7f3a",
      MAAS_API_KEY: "sentinel-maas-key-7f3a",
      IPMI_PASSWORD: "sentinel-ipmi-7f3a",
      IPMITOOL_PASSWORD: "sentinel-ipmitool-7f3a",
    };
    for (const [stack, mode] of CASES) {
      const r = spawnSync(BIN, ["runbook", "--stack", stack, "--mode", mode, "--format", "md"], {
        encoding: "utf8",
        env: { ...process.env, ...secrets },
      });
      expect(r.status).toBe(0);
      for (const v of Object.values(secrets)) expect(r.stdout + r.stderr).not.toContain(v);
      expect(r.stdout).not.toMatch(/sentinel/);
    }
    expect(fs.existsSync(BIN)).toBe(true);
  });
});
