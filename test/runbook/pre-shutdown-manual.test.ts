/**
 * Issue #24: the manual procedures of "Pre-shutdown (planned only)": baseline-capture (the seed's
 * capture with this stack's model, openrc and baseline dir) and hold-guests (`openstack server
 * stop` of the stack's held guests). The values come from the stack files.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makePlan } from "../../plan/plan";
import type { PlanStep } from "../../plan/model";
import { findProjectDir, readStackConfig } from "../../config/stack-files";

jest.setTimeout(60_000);

const STACKS = ["roosevelt", "prior-build"] as const;
const values = (stack: string) => readStackConfig(findProjectDir(), stack).values;
const commandsOf = (s: PlanStep): string[] => s.manual.blocks.flatMap((b) => b.commands);
const stepNamed = (steps: PlanStep[], name: string): PlanStep => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
};
const hasJq = spawnSync("jq", ["--version"]).error === undefined;

/** Each command parses; each `"$X"` is a placeholder or a variable the procedure sets itself; every placeholder is used. */
function checkRules(s: PlanStep): void {
  const cmds = commandsOf(s);
  const own = new Set<string>();
  for (const c of cmds) {
    const r = spawnSync("bash", ["-n", "-c", c], { encoding: "utf8" });
    expect({ c, status: r.status, err: r.stderr }).toEqual({ c, status: 0, err: "" });
    for (const m of c.matchAll(/(?:^|;\s*|\bfor\s+)([A-Za-z_][A-Za-z0-9_]*)(?:=|\s+in\b)/g)) own.add(m[1]);
  }
  const declared = (s.manual.placeholders ?? []).map((p) => p.name);
  const used = new Set(cmds.flatMap((c) => [...c.matchAll(/"\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1])));
  for (const name of used) expect([...declared, ...own]).toContain(name);
  for (const name of declared) expect(used).toContain(name);
  for (const b of s.manual.blocks) if (b.label === "GATE") expect(b.repeat).toMatch(/^every \S+, up to \S+$/);
}

describe.each(STACKS)("pre-shutdown manual procedures (%s)", (stack) => {
  const v = values(stack);
  const model = v["coldstart:jujuModel"];
  const openrc = v["coldstart:openrc"];
  const dir = v["coldstart:baselineDir"];
  const held = JSON.parse(v["coldstart:holdGuests"]) as string[];
  const guestsTiming = (JSON.parse(v["coldstart:gates"]) as Record<string, { timeout: string; interval: string }>)
    .guestsActive;
  let steps: PlanStep[];
  beforeAll(async () => {
    steps = (await makePlan({ stack, mode: "planned" })).steps;
  });

  it("unplanned has neither step (the stage is planned only)", async () => {
    const names = (await makePlan({ stack, mode: "unplanned" })).steps.map((s) => s.name);
    expect(names).not.toContain("baseline-capture");
    expect(names).not.toContain("hold-guests");
  });

  it("baseline-capture: the seed's capture with -m <model>, the stack's openrc and baseline dir", () => {
    const s = stepNamed(steps, "baseline-capture");
    expect(s.manual.section).toMatch(/Pre-shutdown \(planned only\).*baseline capture/);
    expect(s.manual.blocks.map((b) => [b.label, b.commands])).toEqual([
      ["CHECK", [`juju show-model ${model} --format=json >/dev/null && echo "model ${model}: ok"`]],
      [
        "RUN",
        [
          `BAK=${dir}/$(date -u +%Y%m%d-%H%M%S)-pre-maintenance`,
          'mkdir -p -m 700 "$BAK"',
          `juju export-bundle -m ${model} --filename "$BAK/bundle.yaml"`,
          `juju status -m ${model} --format=yaml > "$BAK/juju-status.yaml"`,
        ],
      ],
      ["RUN", ['for v in ${!OS_@}; do unset "$v"; done', `source ${openrc}`]],
      [
        "RUN",
        [
          'openstack server list --all-projects </dev/null > "$BAK/servers.txt"',
          'openstack server list --all-projects -f json </dev/null > "$BAK/servers.json"',
          'openstack loadbalancer list </dev/null > "$BAK/loadbalancers.txt"',
          'openstack loadbalancer amphora list </dev/null > "$BAK/amphorae.txt"',
          'echo "Pre-maintenance snapshot at $BAK"',
        ],
      ],
    ]);
    checkRules(s);
    // juju switch is never relied on: every juju call names the model
    for (const c of commandsOf(s).filter((x) => x.startsWith("juju "))) expect(c).toContain(model);
  });

  it("baseline-capture, run as printed (juju and openstack stubbed): the folder holds the seed's files and servers.json", () => {
    const s = stepNamed(steps, "baseline-capture");
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "baseline-manual-"));
    try {
      const bin = path.join(home, "bin");
      fs.mkdirSync(bin);
      // the stubs write what they were asked (export-bundle writes its --filename) and the OS_ vars they saw
      fs.writeFileSync(
        path.join(bin, "juju"),
        '#!/bin/bash\nif [ "$1" = export-bundle ]; then echo bundle > "$5"; else echo "juju $*"; fi\n',
        { mode: 0o755 },
      );
      fs.writeFileSync(
        path.join(bin, "openstack"),
        '#!/bin/bash\necho "openstack $* as $OS_USERNAME ${OS_STALE:-}"\n',
        {
          mode: 0o755,
        },
      );
      fs.writeFileSync(path.join(home, "admin-openrc"), "export OS_USERNAME=admin OS_AUTH_URL=http://keystone\n");
      const openrcFile = openrc.replace(/^~\//, `${home}/`);
      if (openrcFile !== path.join(home, "admin-openrc")) fs.copyFileSync(path.join(home, "admin-openrc"), openrcFile);
      const r = spawnSync("bash", ["-e", "-c", commandsOf(s).join("\n")], {
        encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: home, OS_STALE: "left-over" },
      });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const base = path.join(home, dir.replace(/^~\//, ""));
      const [folder] = fs.readdirSync(base);
      expect(folder).toMatch(/^\d{8}-\d{6}-pre-maintenance$/);
      const out = path.join(base, folder);
      expect(r.stdout).toBe(`model ${model}: ok\nPre-maintenance snapshot at ${out}\n`);
      expect(fs.readdirSync(out).sort()).toEqual([
        "amphorae.txt",
        "bundle.yaml",
        "juju-status.yaml",
        "loadbalancers.txt",
        "servers.json",
        "servers.txt",
      ]);
      expect(fs.readFileSync(path.join(out, "juju-status.yaml"), "utf8")).toBe(
        `juju status -m ${model} --format=yaml\n`,
      );
      // the inherited OS_* variable was scrubbed before the openrc was sourced
      expect(fs.readFileSync(path.join(out, "servers.json"), "utf8")).toBe(
        "openstack server list --all-projects -f json as admin \n",
      );
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("hold-guests: the stack's held guests stopped by ID, then waited for SHUTOFF with the guests gate's timing", () => {
    const s = stepNamed(steps, "hold-guests");
    expect(s.manual.section).toMatch(/Pre-shutdown \(planned only\).*Shutdown sequence step 1/);
    if (held.length === 0) {
      expect(s.manual.blocks).toEqual([]);
      expect(s.summary).toMatch(/none configured/);
      return;
    }
    const labels = s.manual.blocks.map((b) => b.label);
    expect(labels).toEqual(["RUN", "CHECK", "RUN", "GATE"]);
    expect(s.manual.blocks[0].commands).toEqual(['for v in ${!OS_@}; do unset "$v"; done', `source ${openrc}`]);
    const [stop] = s.manual.blocks[2].commands;
    expect(stop).toMatch(
      /^openstack server list --all-projects -f json <\/dev\/null \| jq -r '.*' \| xargs -r -n1 openstack server stop$/,
    );
    for (const g of held) {
      expect(stop).toContain(`.Name == "${g}" or .ID == "${g}"`);
      expect(s.manual.blocks[1].says).toContain(g);
    }
    expect(s.manual.blocks[3].repeat).toBe(`every ${guestsTiming.interval}, up to ${guestsTiming.timeout}`);
    checkRules(s);
  });
});

describe("hold-guests: the jq picks what steps/guests.ts holdTargets picks", () => {
  // two held guests, one by name with shell and JSON metacharacters, one by ID
  const odd = `it's "odd" $(x)`;
  const hold = [odd, "5e0c-id"];
  const servers = [
    { ID: "a1", Name: odd, Status: "ACTIVE" },
    { ID: "5e0c-id", Name: "db", Status: "SHUTOFF" },
    { ID: "c3", Name: "web", Status: "ACTIVE" },
    { ID: "d4", Name: "5e0c-id-not", Status: "ACTIVE" },
  ];
  let s: PlanStep;
  beforeAll(async () => {
    const steps = (
      await makePlan({
        stack: "roosevelt",
        mode: "planned",
        overrides: { "coldstart:holdGuests": JSON.stringify(hold) },
      })
    ).steps;
    s = stepNamed(steps, "hold-guests");
  });
  const run = (cmd: string) =>
    spawnSync("bash", ["-c", cmd.replace(/^openstack server list --all-projects -f json <\/dev\/null/, "cat")], {
      input: JSON.stringify(servers),
      encoding: "utf8",
    });

  it("parses, quotes the names, and names each held guest", () => {
    checkRules(s);
    expect(s.summary).toContain(odd);
  });

  (hasJq ? it : it.skip)("stops only held guests not SHUTOFF, by ID; the check and gate list every held guest", () => {
    const stop = s.manual.blocks[2].commands[0].replace(
      /xargs -r -n1 openstack server stop$/,
      "xargs -r -n1 echo STOP",
    );
    expect(run(stop).stdout).toBe("STOP a1\n");
    const listed = `a1  ${odd}  ACTIVE\n5e0c-id  db  SHUTOFF\n`;
    expect(run(s.manual.blocks[1].commands[0]).stdout).toBe(listed);
    expect(run(s.manual.blocks[3].commands[0]).stdout).toBe(listed);
  });
});
