/**
 * The manual procedures of Stages 2, 4, 5, 6 and 7 (issue #24): the seed runbook's commands with
 * each stack's model, apps and values, each command parsing on its own, placeholders declared and
 * used, and -- run against recorded juju output through a stub `juju` / `openstack` on PATH -- the
 * same decisions as coldstart's own gates (the complete-outage guard, the cluster gate, which
 * chassis are probed and how a probe is read, which guests are started, the LB gate).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makePlan } from "../../plan/plan";
import type { Plan, PlanStep } from "../../plan/model";
import { findProjectDir, readStackConfig } from "../../config/stack-files";
import type { ManualProcedure } from "../../stages/manual";
import { classifyMysql, mysqlUnits } from "../../gates/mysql";
import { parseAppStatus } from "../../gates/juju-status";
import { allChassisUnits, chassisApplications } from "../../gates/ovn";
import { guestPlan, powerMove, type Server } from "../../gates/guests";
import { unwrap } from "../../steps/unwrap";
import * as mysqlManual from "../../stages/manual/mysql";
import * as ovnManual from "../../stages/manual/ovn";
import * as guestsManual from "../../stages/manual/guests";

const STACKS = ["roosevelt", "prior-build"] as const;
const MODES = ["planned", "unplanned"] as const;
const STEPS = [
  "mysql-check",
  "mysql-reboot-cluster",
  "mysql-cluster-online",
  "ovn-chassis-check",
  "ovn-tls-sweep",
  "ovn-chassis-connected",
  "nova-resume-flag",
  "start-shutoff-guests",
  "guests-active",
  "octavia-grace",
  "lb-failover",
  "lbs-active",
  "cloud-assert",
];
const RECORDED = path.join(__dirname, "..", "recorded", "juju");

/** A stack's values as its file gives them (coldstart:<key>). */
function stackValues(stack: string) {
  const v = readStackConfig(findProjectDir(), stack).values;
  const apps = JSON.parse(v["coldstart:apps"]) as Record<string, string>;
  return {
    model: v["coldstart:jujuModel"],
    openrc: v["coldstart:openrc"],
    script: v["coldstart:cloudAssertScript"],
    baselineDir: v["coldstart:baselineDir"],
    hold: JSON.parse(v["coldstart:holdGuests"] ?? "[]") as string[],
    units: Number(v["coldstart:mysqlUnits"]),
    gates: JSON.parse(v["coldstart:gates"]) as Record<string, { timeout: string; interval: string }>,
    grace: v["coldstart:octaviaErrorGrace"],
    apps,
  };
}

const plans = new Map<string, Plan>();
beforeAll(async () => {
  for (const stack of STACKS) for (const mode of MODES) plans.set(`${stack}/${mode}`, await makePlan({ stack, mode }));
}, 120_000);

function step(stack: string, mode: string, name: string): PlanStep {
  const s = plans.get(`${stack}/${mode}`)!.steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name} in ${stack}/${mode}`);
  return s;
}
const commands = (m: ManualProcedure): string[] => m.blocks.flatMap((b) => b.commands);
const allCommands = (stack: string, mode: string, name: string): string[] => commands(step(stack, mode, name).manual);

describe.each(STACKS.flatMap((s) => MODES.map((m) => [s, m] as const)))("%s, %s", (stack, mode) => {
  const v = stackValues(stack);

  test.each(STEPS)("%s: a written procedure, every command parses, placeholders declared and used", (name) => {
    const m = step(stack, mode, name).manual;
    expect(m.section).toMatch(/^ops-restart-procedure\.md, Stage [24567] -- /);
    expect(m.blocks.length).toBeGreaterThan(0);
    for (const b of m.blocks) {
      expect(b.where).toBe("jumphost");
      expect(b.says.length).toBeGreaterThan(0);
      expect(b.commands.length).toBeGreaterThan(0);
    }
    const declared = (m.placeholders ?? []).map((p) => p.name);
    const used = new Set<string>();
    for (const cmd of commands(m)) {
      const r = spawnSync("bash", ["-n", "-c", cmd], { encoding: "utf8" });
      expect({ cmd, status: r.status, stderr: r.stderr }).toEqual({ cmd, status: 0, stderr: "" });
      for (const x of cmd.matchAll(/"\$([A-Z][A-Z0-9_]*)"/g)) used.add(x[1]);
      // every juju call names the model: juju switch is never relied on
      for (const j of cmd.matchAll(/\bjuju (status|run|exec|config|operations|ssh)\b[^|;]*/g))
        expect(j[0]).toContain(` -m ${v.model} `);
      expect(cmd).not.toMatch(/juju (run-action|switch)/);
      // no secret value: credentials come from the openrc, sourced; never a password in argv
      expect(cmd).not.toMatch(/OS_PASSWORD|--os-password|\s-P\s/);
    }
    expect([...used].sort()).toEqual([...declared].sort());
    for (const p of m.placeholders ?? []) {
      expect(spawnSync("bash", ["-n", "-c", p.findWith]).status).toBe(0);
      // a placeholder is what only the cloud knows: never a value the stack gives
      expect([v.model, v.openrc, v.script, ...Object.values(v.apps)]).not.toContain(p.name);
    }
  });

  test("the gates repeat at the stack's interval, up to its timeout", () => {
    const gates: Record<string, { timeout: string; interval: string }> = {
      "mysql-cluster-online": v.gates.mysqlCluster,
      "ovn-chassis-connected": v.gates.ovnChassis,
      "guests-active": v.gates.guestsActive,
      "lbs-active": v.gates.lbsActive,
      "cloud-assert": v.gates.cloudAssert,
    };
    for (const [name, t] of Object.entries(gates)) {
      const gate = step(stack, mode, name).manual.blocks.filter((b) => b.label === "GATE");
      expect(gate.map((b) => b.repeat)).toEqual([`every ${t.interval}, up to ${t.timeout}`]);
    }
    const grace = step(stack, mode, "octavia-grace").manual.blocks[0];
    expect(grace.repeat).toBe(`every ${v.gates.lbsActive.interval}, up to ${v.grace}`);
  });

  test("every command the seed runbook gives for Stages 2 and 4-7 is there, with this stack's model, apps and values", () => {
    const mysql = v.apps.mysql;
    const seedCheck = `juju status -m ${v.model} ${mysql} --format=json | jq -r '.applications."${mysql}".units | to_entries[] | "\\(.key)  \\(.value."workload-status".message // "")"'`;
    // Stage 2: CHECK, the action (Juju 3 juju run, on the leader), GATE
    expect(allCommands(stack, mode, "mysql-check")).toContain(seedCheck);
    expect(allCommands(stack, mode, "mysql-reboot-cluster")).toContain(seedCheck);
    expect(allCommands(stack, mode, "mysql-reboot-cluster")).toContain(
      `juju run -m ${v.model} ${mysql}/leader reboot-cluster-from-complete-outage`,
    );
    expect(allCommands(stack, mode, "mysql-cluster-online")).toContain(seedCheck);
    // Stage 4: connection-status on every chassis; the sweep restarts ovn-controller / ovs-vswitchd / neutron-server
    for (const name of ["ovn-chassis-check", "ovn-tls-sweep", "ovn-chassis-connected"])
      expect(allCommands(stack, mode, name).join("\n")).toContain(
        `juju exec -m ${v.model} --unit "$u" -- ovn-appctl -t ovn-controller connection-status`,
      );
    const sweep = allCommands(stack, mode, "ovn-tls-sweep");
    expect(sweep).toContain(
      `juju exec -m ${v.model} --unit "$CHASSIS_UNIT" -- systemctl restart ovs-vswitchd ovn-controller`,
    );
    expect(sweep.join("\n")).toContain(
      `juju status -m ${v.model} ${v.apps.neutronApi} --format=json | jq -r '.applications."${v.apps.neutronApi}".units // {} | keys[]'); do juju exec -m ${v.model} --unit "$u" -- systemctl restart neutron-server; done`,
    );
    // Stage 5
    expect(allCommands(stack, mode, "nova-resume-flag")).toEqual([
      `juju config -m ${v.model} ${v.apps.novaCompute} resume-guests-state-on-host-boot`,
    ]);
    expect(allCommands(stack, mode, "guests-active")).toContain(
      "openstack server list --all-projects -c Name -c Status </dev/null",
    );
    expect(allCommands(stack, mode, "start-shutoff-guests")).toContain('openstack server start "$GUEST_ID"');
    // Stage 6
    expect(allCommands(stack, mode, "lb-failover")).toContain('openstack loadbalancer failover "$LB_ID"');
    // Stage 7: source the openrc, run the script from the repository root
    expect(allCommands(stack, mode, "cloud-assert").slice(1)).toEqual([
      `source ${v.openrc}`,
      `cd ${path.posix.dirname(path.posix.dirname(v.script))}`,
      `bash ${v.script}`,
    ]);
  });

  test("every openstack procedure scrubs OS_* and sources the stack's openrc, on lines of their own, before any openstack call", () => {
    for (const name of STEPS) {
      const cmds = allCommands(stack, mode, name);
      const first = cmds.findIndex((c) => /^openstack /.test(c) || c.includes("| openstack "));
      const all = cmds.join("\n");
      if (!/\bopenstack (server|loadbalancer)/.test(all) && name !== "cloud-assert") continue;
      const src = cmds.indexOf(`source ${v.openrc}`);
      expect({ name, src }).toEqual({ name, src: expect.any(Number) });
      expect(src).toBeGreaterThan(0);
      expect(cmds[src - 1]).toBe(`for v in $(env | awk -F= '/^OS_/{print $1}'); do unset "$v"; done`);
      if (first >= 0) expect(src).toBeLessThan(first);
    }
  });

  test("the destructive action states its guard first, with the exact signature texts coldstart checks", () => {
    const s = step(stack, mode, "mysql-reboot-cluster");
    expect(s.destructive).toBe(true);
    const blocks = s.manual.blocks;
    const run = blocks.findIndex((b) => b.label === "RUN");
    expect(run).toBeGreaterThan(0);
    const before = blocks.slice(0, run);
    expect(before.some((b) => b.says.includes("only if every unit shows the complete-outage signature"))).toBe(true);
    for (const text of [
      "Cluster is inaccessible from this instance. Please check logs for details.",
      "MySQL InnoDB Cluster not healthy: None",
    ]) {
      expect(before.map((b) => b.says).join("\n")).toContain(text);
      expect(commands({ ...s.manual, blocks: before }).join("\n")).toContain(text);
    }
    // the guard is re-read just before each attempt, and the once-per-window check precedes the first
    for (const b of blocks.filter((x) => x.label === "RUN")) expect(b.says).toMatch(/^only if /);
    expect(blocks[run - 1].commands).toEqual([
      `juju operations -m ${v.model} --apps ${v.apps.mysql} --actions reboot-cluster-from-complete-outage`,
    ]);
    const second = blocks[run + 1];
    expect(second.commands[0]).toBe(mysqlManual.completeOutage({ model: v.model, app: v.apps.mysql, units: v.units }));
    expect(second.commands[1]).toBe(`juju run -m ${v.model} "$MOST_UPDATED_UNIT" reboot-cluster-from-complete-outage`);
    expect(blocks.length).toBe(run + 2); // never a third attempt
  });

  test("guests: the stack's held guests are excluded from what is started and what the gate counts", () => {
    for (const name of ["start-shutoff-guests", "guests-active"]) {
      const m = step(stack, mode, name).manual;
      const jq = commands(m).filter((c) => c.includes("--argjson hold"));
      expect(jq.length).toBe(1);
      expect(jq[0]).toContain(`--argjson hold '${JSON.stringify(v.hold)}'`);
      expect(m.placeholders?.find((p) => p.name === "BASELINE")?.findWith).toContain(
        `${v.baselineDir}/*-pre-maintenance`,
      );
    }
  });
});

// --- the commands run against recorded output, through stubs on PATH ---

let stubDir: string;
beforeAll(() => {
  stubDir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-manual-"));
  // juju: `status` prints $STATUS; `exec ... --unit U -- ...` prints $EXEC_DIR/<U with / as _>
  fs.writeFileSync(
    path.join(stubDir, "juju"),
    `#!/bin/bash
case "$1" in
  status) cat "$STATUS" ;;
  exec) while [ "$1" != "--unit" ]; do shift; done; cat "$EXEC_DIR/\${2//\\//_}" ;;
  *) echo "stub juju: $*" >&2; exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
  // openstack: `server list` prints $SERVERS, `loadbalancer list` prints $LBS
  fs.writeFileSync(
    path.join(stubDir, "openstack"),
    `#!/bin/bash
case "$1 $2" in
  "server list") cat "$SERVERS" ;;
  "loadbalancer list") cat "$LBS" ;;
  *) echo "stub openstack: $*" >&2; exit 2 ;;
esac
`,
    { mode: 0o755 },
  );
});
afterAll(() => fs.rmSync(stubDir, { recursive: true, force: true }));

function run(cmd: string, env: Record<string, string>): { status: number | null; stdout: string } {
  const r = spawnSync("bash", ["-c", cmd], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${stubDir}:${process.env.PATH}`, ...env },
  });
  return { status: r.status, stdout: r.stdout };
}

const APP = "mysql-innodb-cluster";
const MYSQL_FIXTURES = fs.readdirSync(RECORDED).filter((f) => f.startsWith(`${APP}.`) && f.endsWith(".status.json"));

describe("Stage 2 by hand decides as coldstart does (recorded juju status)", () => {
  test.each(MYSQL_FIXTURES)("%s", (file) => {
    const text = fs.readFileSync(path.join(RECORDED, file), "utf8");
    const units = mysqlUnits(unwrap(parseAppStatus(text, APP)), APP);
    const t = { model: "c:m", app: APP, units: units.length };
    const state = classifyMysql(units, units.length).state;
    const env = { STATUS: path.join(RECORDED, file) };
    expect(run(mysqlManual.completeOutage(t), env).status).toBe(state === "complete-outage" ? 0 : 1);
    expect(run(mysqlManual.clusterOnline(t), env).status).toBe(state === "healthy" ? 0 : 1);
    // one more unit expected than there are: never an outage, never online
    const more = { ...t, units: units.length + 1 };
    expect(run(mysqlManual.completeOutage(more), env).status).toBe(1);
    expect(run(mysqlManual.clusterOnline(more), env).status).toBe(1);
    // the seed's CHECK prints one line per unit
    expect(run(mysqlManual.seedCheck(t), env).stdout.trim().split("\n")).toHaveLength(units.length);
  });

  type Units = Record<
    string,
    { "workload-status": { current: string; message: string }; "juju-status": { current: string } }
  >;
  /** A recorded status with its units edited: what the recordings do not hold (two R/W, a lost agent under the signature). */
  function edited(file: string, edit: (units: Units) => void): string {
    const doc = JSON.parse(fs.readFileSync(path.join(RECORDED, file), "utf8"));
    edit(doc.applications[APP].units);
    const out = path.join(stubDir, `edited-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(out, JSON.stringify(doc));
    return out;
  }
  const edits: [string, string, string, (units: Units) => void][] = [
    [
      "two units say Mode: R/W",
      "healthy",
      "unknown",
      (u) => {
        for (const x of Object.values(u))
          x["workload-status"].message = x["workload-status"].message.replace("R/O", "R/W");
      },
    ],
    [
      "one unit's agent lost under the signature",
      "complete-outage",
      "not-ready",
      (u) => {
        Object.values(u)[0]["juju-status"].current = "lost";
      },
    ],
    [
      "one unit waiting with the signature message",
      "complete-outage",
      "unknown",
      (u) => {
        Object.values(u)[1]["workload-status"].current = "waiting";
      },
    ],
    [
      "the pre-21.04 signature on one unit",
      "complete-outage",
      "complete-outage",
      (u) => {
        Object.values(u)[2]["workload-status"].message = "MySQL InnoDB Cluster not healthy: None";
      },
    ],
    [
      "one member not active",
      "healthy",
      "converging",
      (u) => {
        const x = Object.values(u)[0]["workload-status"];
        x.message = `${x.message} 1 member is not active.`;
      },
    ],
  ];
  test.each(edits)("edited: %s", (_what, base, want, edit) => {
    const file = edited(`${APP}.${base}.juju3.status.json`, edit);
    const units = mysqlUnits(unwrap(parseAppStatus(fs.readFileSync(file, "utf8"), APP)), APP);
    const t = { model: "c:m", app: APP, units: units.length };
    const state = classifyMysql(units, units.length).state;
    expect(state).toBe(want);
    expect(run(mysqlManual.completeOutage(t), { STATUS: file }).status).toBe(state === "complete-outage" ? 0 : 1);
    expect(run(mysqlManual.clusterOnline(t), { STATUS: file }).status).toBe(state === "healthy" ? 0 : 1);
  });

  test("the fixtures cover both verdicts", () => {
    const states = MYSQL_FIXTURES.map((f) => {
      const units = mysqlUnits(unwrap(parseAppStatus(fs.readFileSync(path.join(RECORDED, f), "utf8"), APP)), APP);
      return classifyMysql(units, units.length).state;
    });
    expect(states).toEqual(expect.arrayContaining(["complete-outage", "healthy", "converging", "partial-outage"]));
  });

  test("MOST_UPDATED_UNIT: every unit with its public address and its container's addresses", () => {
    const file = path.join(RECORDED, `${APP}.complete-outage.juju3.status.json`);
    const units = mysqlUnits(unwrap(parseAppStatus(fs.readFileSync(file, "utf8"), APP)), APP);
    const out = run(mysqlManual.unitAddresses({ model: "c:m", app: APP, units: 3 }), { STATUS: file }).stdout;
    for (const u of units) {
      const line = out.split("\n").find((l) => l.startsWith(`${u.unit} `));
      for (const a of u.addresses) expect(line).toContain(a);
    }
  });
});

describe("Stage 4 by hand probes what coldstart probes, read by whole line", () => {
  const file = path.join(RECORDED, "model.octavia-ovn-chassis.juju3.status.json");
  const status = unwrap(parseAppStatus(fs.readFileSync(file, "utf8")));
  const expected = allChassisUnits(status, chassisApplications(status, "ovn-chassis")).map((c) => c.chassis);
  const t = { model: "c:m", "chassis-app": "ovn-chassis" };

  test("the chassis units: every unit of every ovn-chassis / ovn-dedicated-chassis app (octavia-ovn-chassis too)", () => {
    const listed = run(ovnManual.chassisUnits(t), { STATUS: file }).stdout.trim().split("\n");
    expect([...listed].sort()).toEqual([...expected].sort());
    expect(listed.some((u) => u.startsWith("octavia-ovn-chassis/"))).toBe(true);
  });

  test("found by charm: an ovn-dedicated-chassis principal, a local charm without charm-name; never another charm", () => {
    const doc = JSON.parse(fs.readFileSync(file, "utf8"));
    const unit = { ...doc.applications["nova-compute"].units["nova-compute/0"], subordinates: undefined };
    const app = (charm: string, name: string) => ({
      ...doc.applications["nova-compute"],
      charm,
      "charm-name": undefined,
      units: { [`${name}/0`]: unit, [`${name}/1`]: unit },
    });
    doc.applications["gw"] = app("ch:amd64/jammy/ovn-dedicated-chassis-42", "gw");
    doc.applications["edge"] = app("local:ovn-chassis-3", "edge");
    doc.applications["other"] = app("ch:amd64/jammy/ovn-central-7", "other");
    const edited = path.join(stubDir, "model-edited.json");
    fs.writeFileSync(edited, JSON.stringify(doc));
    const st = unwrap(parseAppStatus(fs.readFileSync(edited, "utf8")));
    const want = allChassisUnits(st, chassisApplications(st, "ovn-chassis")).map((c) => c.chassis);
    expect(want).toEqual(expect.arrayContaining(["gw/0", "gw/1", "edge/0"]));
    const listed = run(ovnManual.chassisUnits(t), { STATUS: edited }).stdout.trim().split("\n");
    expect([...listed].sort()).toEqual([...want].sort());
  });

  test("one chassis not connected: the check names it, the sweep's finder lists only it, the gate is not met", () => {
    const exec = fs.mkdtempSync(path.join(stubDir, "exec-"));
    const down = expected[expected.length - 1];
    for (const u of expected)
      fs.writeFileSync(path.join(exec, u.replace("/", "_")), u === down ? "not connected\n" : "connected\n");
    const env = { STATUS: file, EXEC_DIR: exec };
    const lines = run(ovnManual.probeEvery(t), env).stdout.trim().split("\n");
    expect(lines).toEqual(expected.map((u) => `${u}: ${u === down ? "not connected" : "connected"}`));
    expect(run(ovnManual.notConnected(t), env).stdout).toBe(`${down}: not connected\n`);
    expect(run(ovnManual.allConnected(t), env).status).toBe(1);
    // every chassis connected (with the whitespace ovn-appctl may leave): the gate holds
    for (const u of expected) fs.writeFileSync(path.join(exec, u.replace("/", "_")), "  connected \n");
    expect(run(ovnManual.allConnected(t), env).status).toBe(0);
    expect(run(ovnManual.notConnected(t), env).stdout).toBe("");
    // an answer that is not a whole line of either is never read as connected
    fs.writeFileSync(path.join(exec, down.replace("/", "_")), "status: connected-ish\n");
    expect(run(ovnManual.allConnected(t), env).status).toBe(1);
    expect(run(ovnManual.notConnected(t), env).stdout).toContain(`${down}: UNRECOGNISED`);
  });
});

describe("Stage 5 by hand starts and counts the guests coldstart does", () => {
  const srv = (Name: string, ID: string, Status: string, task: string | null = null): Server => ({
    ID,
    Name,
    Status,
    "Task State": task,
  });
  const before = [
    srv("web-1", "id-web-1", "ACTIVE"),
    srv("web-2", "id-web-2", "ACTIVE"),
    srv("busy-1", "id-busy-1", "ACTIVE"),
    srv("forensics-db-01", "id-forensics", "ACTIVE"),
    srv("idle-1", "id-idle-1", "SHUTOFF"),
    srv("web-1", "id-web-1b", "ACTIVE"), // a second guest of the same name
  ];
  const now = [
    srv("web-1", "id-web-1", "SHUTOFF"),
    srv("web-2", "id-web-2", "ACTIVE"),
    srv("busy-1", "id-busy-1", "SHUTOFF", "powering-on"),
    srv("forensics-db-01", "id-forensics", "SHUTOFF"),
    srv("idle-1", "id-idle-1", "SHUTOFF"),
    srv("web-1", "id-web-1b", "ERROR"),
    srv("new-1", "id-new-1", "SHUTOFF"),
    srv("named-1", "id-named-1", "SHUTOFF"),
  ];
  const hold = ["forensics-db-01"];
  const start = ["named-1"];

  test("to start: SHUTOFF, ACTIVE before or named, not held, no task under way; the gate counts the same guests", () => {
    const dir = fs.mkdtempSync(path.join(stubDir, "baseline-"));
    fs.writeFileSync(path.join(dir, "servers.json"), JSON.stringify(before));
    const servers = path.join(dir, "now.json");
    fs.writeFileSync(servers, JSON.stringify(now));
    const f = {
      openrc: "~/admin-openrc",
      hold,
      mode: "planned",
      "baseline-dir": "~/b",
      start,
      "start-named": "yes" as const,
    };
    const plan = guestPlan(now, { baseline: before, hold, named: start });
    const want = plan.toStart.filter((s) => powerMove(s, "start").move === "send").map((s) => `${s.ID}  ${s.Name}`);
    const got = run(guestsManual.toStart(f), { SERVERS: servers, BASELINE: dir }).stdout.trim().split("\n");
    expect(got).toEqual(want);
    expect(got).toEqual(["id-web-1  web-1", "id-named-1  named-1"]);
    const counted = plan.guests
      .filter((g) => g.fate === "expected" && g.server.Status !== "ACTIVE")
      .map((g) => g.server.ID);
    const waiting = run(guestsManual.notActive(f), { SERVERS: servers, BASELINE: dir }).stdout.trim().split("\n");
    expect(waiting.map((l) => l.split("  ")[0])).toEqual(counted);
  });
});

describe("Stage 6 by hand: the LB gate", () => {
  test("true only when every LB is provisioning_status ACTIVE", () => {
    const dir = fs.mkdtempSync(path.join(stubDir, "lbs-"));
    const lbs = path.join(dir, "lbs.json");
    const gate = (
      plans.get("roosevelt/planned")!.steps.find((s) => s.name === "lbs-active")!.manual.blocks[0].commands as string[]
    ).at(-1)!;
    const lb = (provisioning_status: string) => ({
      id: "x",
      name: "lb",
      provisioning_status,
      operating_status: "ONLINE",
    });
    fs.writeFileSync(lbs, JSON.stringify([lb("ACTIVE"), lb("ACTIVE")]));
    expect(run(gate, { LBS: lbs }).status).toBe(0);
    fs.writeFileSync(lbs, JSON.stringify([lb("ACTIVE"), lb("PENDING_UPDATE")]));
    expect(run(gate, { LBS: lbs }).status).toBe(1);
    fs.writeFileSync(lbs, JSON.stringify([lb("ERROR")]));
    expect(run(gate, { LBS: lbs }).status).toBe(1);
  });
});
