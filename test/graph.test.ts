/**
 * The restart graph itself, read from the program run under mocks: what the engine would receive
 * (dependencies from the recording monitor, inputs, timeouts). Removing any dependency edge in
 * stages/*.ts breaks "the exact dependency chain" below.
 */
import { KEEP_CHILD } from "../stages/command-line";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makePlan, runPlanProgram } from "../plan/plan";
import type { Plan, PlanStep } from "../plan/model";
import { splitArgs } from "../cli/args";
import { findStep } from "../stages/step-table";
import { parseFlags } from "../cli/args";

const HOSTS = ["openstack0", "openstack1", "openstack2", "openstack3"];
const each = (prefix: string) => HOSTS.map((h) => `${prefix}-${h}`);

/** The runbook, step by step: name -> exactly the steps it depends on (planned mode). */
const PLANNED_EDGES: Record<string, string[]> = {
  "baseline-capture": [],
  "hold-guests": ["baseline-capture"],
  ...Object.fromEntries(HOSTS.map((h) => [`power-off-${h}`, ["hold-guests"]])),
  ...Object.fromEntries(HOSTS.map((h) => [`powered-off-${h}`, [`power-off-${h}`]])),
  ...Object.fromEntries(HOSTS.map((h) => [`power-on-${h}`, each("powered-off")])),
  ...Object.fromEntries(HOSTS.map((h) => [`powered-on-${h}`, [`power-on-${h}`]])),
  "machines-started": each("powered-on"),
  "mysql-check": ["machines-started"],
  "mysql-reboot-cluster": ["mysql-check"],
  "mysql-cluster-online": ["mysql-reboot-cluster"],
  "vault-unseal": ["mysql-cluster-online"],
  "vault-unsealed": ["vault-unseal"],
  "ovn-chassis-check": ["vault-unsealed"],
  "ovn-tls-sweep": ["ovn-chassis-check"],
  "ovn-chassis-connected": ["ovn-tls-sweep"],
  "nova-resume-flag": ["ovn-chassis-connected"],
  "start-shutoff-guests": ["nova-resume-flag"],
  "guests-active": ["start-shutoff-guests"],
  "octavia-grace": ["guests-active"],
  "lb-failover": ["octavia-grace"],
  "lbs-active": ["lb-failover"],
  "cloud-assert": ["lbs-active"],
};

/** Each stage's gate(s), in runbook order; the next stage's first steps must depend on them. */
const STAGE_GATES: [stage: string, gates: string[]][] = [
  ["pre-shutdown", ["hold-guests"]],
  ["shutdown", each("powered-off")],
  ["power-on", each("powered-on")],
  ["stage-1-foundation", ["machines-started"]],
  ["stage-2-mysql", ["mysql-cluster-online"]],
  ["stage-3-vault", ["vault-unsealed"]],
  ["stage-4-ovn", ["ovn-chassis-connected"]],
  ["stage-5-guests", ["guests-active"]],
  ["stage-6-octavia", ["lbs-active"]],
  ["stage-7-cloud-assert", ["cloud-assert"]],
];

const step = (plan: Plan, name: string): PlanStep => {
  const found = plan.steps.find((s) => s.name === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};

const sorted = (xs: string[]) => [...xs].sort();

describe.each(["roosevelt", "prior-build"])("the %s stack in planned mode", (stack) => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await makePlan({ stack, mode: "planned", window: "2026-12-05-maint" });
  });

  it("has every runbook step, and nothing else", () => {
    expect(sorted(plan.steps.map((s) => s.name))).toEqual(sorted(Object.keys(PLANNED_EDGES)));
  });

  it("gives every step exactly the dependencies of the runbook chain", () => {
    for (const [name, deps] of Object.entries(PLANNED_EDGES)) {
      expect({ name, deps: sorted(step(plan, name).dependsOn) }).toEqual({ name, deps: sorted(deps) });
    }
  });

  it("starts each stage only after the previous stage's gate", () => {
    for (let i = 1; i < STAGE_GATES.length; i++) {
      const [stageName] = STAGE_GATES[i];
      const previousGates = STAGE_GATES[i - 1][1];
      const stage = plan.stages.find((s) => s.name === stageName)!;
      const firsts = stage.steps.filter((n) => !step(plan, n).dependsOn.some((d) => stage.steps.includes(d)));
      expect(firsts.length).toBeGreaterThan(0);
      for (const first of firsts) expect(sorted(step(plan, first).dependsOn)).toEqual(sorted(previousGates));
      // the stage component itself also waits for them (its children wait for its URN)
      expect(sorted(stage.dependsOn)).toEqual(sorted(previousGates));
    }
  });

  it("lists the stages in runbook order", () => {
    expect(plan.stages.map((s) => s.name)).toEqual(STAGE_GATES.map(([s]) => s));
  });

  it("runs the four hosts' shutdown and power-on as parallel peers", () => {
    for (const prefix of ["power-off", "power-on"]) {
      const peers = each(prefix).map((n) => step(plan, n));
      const deps = peers.map((p) => JSON.stringify(sorted(p.dependsOn)));
      expect(new Set(deps).size).toBe(1);
      for (const p of peers) {
        expect(p.dependsOn.some((d) => d.startsWith(prefix))).toBe(false);
        expect(sorted(p.parallelWith.filter((n) => n.startsWith(prefix)))).toEqual(
          sorted(each(prefix).filter((n) => n !== p.name)),
        );
      }
    }
  });

  it("gives every step the window id as its only trigger", () => {
    for (const s of plan.steps)
      expect({ name: s.name, triggers: s.triggers }).toEqual({ name: s.name, triggers: ["2026-12-05-maint"] });
  });

  it("has no delete command anywhere, so pulumi destroy never touches the cloud", () => {
    for (const s of plan.steps)
      expect({ name: s.name, hasDelete: s.hasDelete }).toEqual({ name: s.name, hasDelete: false });
  });

  it("gives every step an engine timeout longer than coldstart's own", () => {
    for (const s of plan.steps) {
      expect(s.timeout).toMatch(/^\d+(ms|s|m|h)$/);
      const own = /--timeout (\d+)(s|m|h)/.exec(s.create);
      if (own) {
        const unit = { s: 1, m: 60, h: 3600 }[own[2] as "s" | "m" | "h"];
        const engine = /^(\d+)(s|m|h)$/.exec(s.timeout)!;
        expect(Number(engine[1]) * { s: 1, m: 60, h: 3600 }[engine[2] as "s" | "m" | "h"]).toBeGreaterThan(
          Number(own[1]) * unit,
        );
      }
    }
  });

  it("marks only the MySQL reboot as destructive, and guards it", () => {
    const destructive = plan.steps.filter((s) => s.destructive);
    expect(destructive.map((s) => s.name)).toEqual(["mysql-reboot-cluster"]);
    expect(destructive[0].guard).toMatch(/complete-outage signature/);
  });

  it("carries the runbook's [REVALIDATE] markers on the steps they concern", () => {
    expect(step(plan, "ovn-tls-sweep").revalidate).toMatch(/sweep unit list/);
    expect(step(plan, "octavia-grace").revalidate).toMatch(/timing budget/);
  });

  it("writes every create line so that the CLI accepts its flags, and keeps coldstart a child of the shell", () => {
    for (const s of plan.steps) {
      expect(s.create.endsWith(KEEP_CHILD)).toBe(true);
      const words = s.create
        .slice(0, -KEEP_CHILD.length)
        .split(" ")
        .map((w) => w.replace(/^'(.*)'$/, "$1"));
      expect(words[0]).toBe("coldstart");
      const def = findStep(words[1], words[2]);
      expect(def?.key).toBe(`${words[1]} ${words[2]}`);
      expect(() => parseFlags(def!.key, words.slice(3), def!.flags)).not.toThrow();
      expect(splitArgs(words.slice(3)).positionals).toEqual([]);
    }
  });

  it("passes the juju model with every juju-facing step (never relies on juju switch)", () => {
    const model = stack === "roosevelt" ? "roosevelt-maas:openstack" : "prior-maas:openstack";
    for (const s of plan.steps.filter((x) => /mysql|vault|ovn|nova|machines|baseline/.test(x.name))) {
      expect(s.create).toContain(`--model ${model}`);
    }
  });
});

describe("unplanned mode (recovery after a power/network loss)", () => {
  it("starts at power-on: no baseline, no hold, no shutdown", async () => {
    const plan = await makePlan({ stack: "roosevelt", mode: "unplanned", window: "outage-1" });
    expect(plan.stages[0].name).toBe("power-on");
    expect(plan.steps.some((s) => /baseline|hold-guests|power-off|powered-off/.test(s.name))).toBe(false);
    for (const name of each("power-on")) expect(step(plan, name).dependsOn).toEqual([]);
    const planned = Object.keys(PLANNED_EDGES).filter((n) => !/baseline|hold-guests|power-off|powered-off/.test(n));
    expect(sorted(plan.steps.map((s) => s.name))).toEqual(sorted(planned));
    expect(sorted(step(plan, "machines-started").dependsOn)).toEqual(sorted(each("powered-on")));
  });
});

describe("secrets never become resource inputs", () => {
  const planted = "PLANTED-unseal-key-4b1d9f0c";
  const plantedBmc = "PLANTED-bmc-password-77aa";
  const plantedMaas = "PLANTEDconsumer:PLANTEDtoken:PLANTEDsecret0000000000000000000";
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-secret-"));
    fs.writeFileSync(path.join(dir, "maas-key"), plantedMaas);
    process.env.COLDSTART_UNSEAL_KEY_1 = planted;
    process.env.COLDSTART_UNSEAL_KEY_2 = planted + "2";
    process.env.IPMI_PASSWORD_OPENSTACK3 = plantedBmc;
  });
  afterAll(() => {
    delete process.env.COLDSTART_UNSEAL_KEY_1;
    delete process.env.COLDSTART_UNSEAL_KEY_2;
    delete process.env.IPMI_PASSWORD_OPENSTACK3;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps unseal keys, BMC passwords and MAAS keys out of every input of every resource", async () => {
    const hosts = [0, 1, 2].map((i) => ({
      name: `openstack${i}`,
      power: {
        driver: "maas",
        url: "http://10.20.0.2:5240/MAAS",
        systemId: `abc12${i}`,
        apiKeyFile: path.join(dir, "maas-key"),
        allowPlainHttp: true,
      },
    }));
    hosts.push({
      name: "openstack3",
      power: { driver: "ipmi", bmc: "10.20.0.13", user: "admin", passwordEnv: "IPMI_PASSWORD_OPENSTACK3" } as never,
    });
    const { resources } = await runPlanProgram({
      stack: "roosevelt",
      window: "w1",
      overrides: { "coldstart:hosts": JSON.stringify(hosts) },
    });
    expect(resources.length).toBeGreaterThan(30);
    const everything = JSON.stringify(resources);
    expect(everything).toContain("IPMI_PASSWORD_OPENSTACK3"); // the variable's name is fine...
    for (const secret of [planted, plantedBmc, plantedMaas, "PLANTEDsecret"]) expect(everything).not.toContain(secret); // ...its value never
  });
});

describe("config errors name the key, what was expected and what was found", () => {
  const attempt = (overrides: Record<string, string>) => makePlan({ stack: "roosevelt", window: "w1", overrides });

  it("rejects an unknown mode", async () => {
    await expect(attempt({ "coldstart:mode": "sometimes" })).rejects.toThrow(/coldstart:mode: .*"sometimes"/);
  });

  it("rejects a host without its BMC address, naming the host's index and field", async () => {
    const hosts = HOSTS.map((name) => ({
      name,
      power: { driver: "ipmi", bmc: "", user: "admin", passwordEnv: "IPMI_PW" },
    }));
    await expect(attempt({ "coldstart:hosts": JSON.stringify(hosts) })).rejects.toThrow(
      /coldstart:hosts\[0\]\.power\.bmc: expected a non-empty string, found ""/,
    );
  });

  it("rejects a BMC password written into config", async () => {
    const hosts = HOSTS.map((name) => ({
      name,
      power: { driver: "ipmi", bmc: "10.0.0.1", user: "admin", password: "hunter2" },
    }));
    await expect(attempt({ "coldstart:hosts": JSON.stringify(hosts) })).rejects.toThrow(
      /coldstart:hosts\[0\]\.power.*password/,
    );
  });

  it("rejects an empty host list", async () => {
    await expect(attempt({ "coldstart:hosts": "[]" })).rejects.toThrow(/coldstart:hosts: expected at least one host/);
  });

  it("rejects a host listed twice", async () => {
    const hosts = ["openstack0", "openstack0"].map((name) => ({
      name,
      power: { driver: "virsh", uri: "qemu:///system", domain: name },
    }));
    await expect(attempt({ "coldstart:hosts": JSON.stringify(hosts) })).rejects.toThrow(
      /coldstart:hosts\[1\]\.name: host openstack0 is listed twice \(also hosts\[0\]\)/,
    );
  });

  it("rejects a gate timeout that is not a duration", async () => {
    await expect(
      attempt({ "coldstart:gates": JSON.stringify({ mysqlCluster: { timeout: "soon", interval: "20s" } }) }),
    ).rejects.toThrow(
      /coldstart:gates\.mysqlCluster\.timeout: expected a duration like "90s", "10m" or "1h", found "soon"/,
    );
  });

  it("says when the juju model is missing", async () => {
    await expect(attempt({ "coldstart:jujuModel": "" })).rejects.toThrow(
      /coldstart:jujuModel: expected controller:model/,
    );
  });

  it("says when a structured value is not JSON", async () => {
    await expect(attempt({ "coldstart:hosts": "openstack0,openstack1" })).rejects.toThrow(
      /coldstart:hosts: expected JSON/,
    );
  });
});
