/**
 * Issue #24: the manual procedures of the power steps (act power-on, act power-off, gate
 * power-state) per driver -- maas (roosevelt), virsh (prior-build), ipmi (roosevelt with its hosts
 * overridden) -- and of Stage 1's machines-started gate. The values come from the stack files.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makePlan } from "../../plan/plan";
import type { PlanStep } from "../../plan/model";
import { findProjectDir, readStackConfig } from "../../config/stack-files";
import { formatDuration, parseDurationMs } from "../../config/duration";

jest.setTimeout(60_000);

interface StackHost {
  name: string;
  power: Record<string, string | number | boolean>;
}

function stackValues(stack: string): Record<string, string> {
  return readStackConfig(findProjectDir(), stack).values;
}
const hostsOf = (stack: string): StackHost[] => JSON.parse(stackValues(stack)["coldstart:hosts"]) as StackHost[];
const powerTiming = (stack: string): { timeout: string; interval: string } =>
  (JSON.parse(stackValues(stack)["coldstart:gates"]) as Record<string, { timeout: string; interval: string }>)
    .powerState;

const commandsOf = (s: PlanStep): string[] => s.manual.blocks.flatMap((b) => b.commands);
const stepNamed = (steps: PlanStep[], name: string): PlanStep => {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step ${name}`);
  return s;
};

/** `"$X"` references a procedure makes. */
function refs(cmds: string[]): Set<string> {
  const out = new Set<string>();
  for (const c of cmds) for (const m of c.matchAll(/"\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) out.add(m[1]);
  return out;
}

/**
 * The rules every procedure here keeps: each command parses; each `"$X"` is a declared
 * placeholder or the stack's named secret variable (`allowed`); every placeholder is used;
 * no ipmitool -P; no secret value.
 */
function checkRules(s: PlanStep, allowed: string[], secrets: string[] = []): void {
  const cmds = commandsOf(s);
  expect(cmds.length).toBeGreaterThan(0);
  for (const c of cmds) {
    const r = spawnSync("bash", ["-n", "-c", c], { encoding: "utf8" });
    expect({ c, status: r.status, err: r.stderr }).toEqual({ c, status: 0, err: "" });
    expect(c).not.toMatch(/ipmitool\b.*\s-P(\s|$)/);
    for (const secret of secrets) expect(c).not.toContain(secret);
  }
  const declared = (s.manual.placeholders ?? []).map((p) => p.name);
  for (const name of refs(cmds)) expect([...declared, ...allowed]).toContain(name);
  for (const name of declared) expect(refs(cmds)).toContain(name);
  for (const b of s.manual.blocks) if (b.label === "GATE") expect(b.repeat).toMatch(/^every \S+, up to \S+/);
}

const POWER_STEPS = (host: string, planned: boolean) => [
  ...(planned ? [`power-off-${host}`, `powered-off-${host}`] : []),
  `power-on-${host}`,
  `powered-on-${host}`,
];

describe("maas (roosevelt)", () => {
  const hosts = hostsOf("roosevelt");
  const timing = powerTiming("roosevelt");
  const graceful = formatDuration(parseDurationMs(timing.timeout)! / 2);
  let planned: PlanStep[];
  let unplanned: PlanStep[];
  beforeAll(async () => {
    planned = (await makePlan({ stack: "roosevelt", mode: "planned" })).steps;
    unplanned = (await makePlan({ stack: "roosevelt", mode: "unplanned" })).steps;
  });

  it("the stack is maas on every host (this describe's premise)", () => {
    expect(hosts.map((h) => h.power.driver)).toEqual(hosts.map(() => "maas"));
  });

  it("power-off: login (key file on stdin), state, soft off, wait the graceful timeout, then hard off only if still on", () => {
    for (const h of hosts) {
      const p = h.power;
      const s = stepNamed(planned, `power-off-${h.name}`);
      const login = `maas login coldstart ${String(p.url)}/api/2.0/ - < ${String(p.apiKeyFile)}`;
      const state = `maas coldstart machine query-power-state ${String(p.systemId)} | jq -r .state`;
      expect(s.manual.blocks.map((b) => [b.label, b.commands])).toEqual([
        ["RUN", [login]],
        ["CHECK", [state]],
        ["RUN", [`maas coldstart machine power-off ${String(p.systemId)} stop_mode=soft`]],
        ["GATE", [`${state} | grep -x off`]],
        ["RUN", [state, `maas coldstart machine power-off ${String(p.systemId)} stop_mode=hard`]],
      ]);
      expect(s.manual.blocks[3].repeat).toBe(`every ${timing.interval}, up to ${graceful} after the soft-off`);
      expect(s.manual.blocks[4].says).toMatch(
        new RegExp(`^ONLY if the soft-off was refused.*still reads on.*${graceful}`),
      );
      expect(s.manual.blocks[2].says).toMatch(/only for power type ipmi/);
      expect(s.manual.section).toMatch(/Shutdown sequence step 2/);
      checkRules(s, []);
    }
  });

  it("power-on and the power-state gates (on and off) read query-power-state with the stack's timing", () => {
    for (const [steps, isPlanned] of [
      [planned, true],
      [unplanned, false],
    ] as const) {
      for (const h of hosts) {
        const sid = String(h.power.systemId);
        const on = stepNamed(steps, `power-on-${h.name}`);
        expect(commandsOf(on)).toEqual([
          `maas login coldstart ${String(h.power.url)}/api/2.0/ - < ${String(h.power.apiKeyFile)}`,
          `maas coldstart machine query-power-state ${sid} | jq -r .state`,
          `maas coldstart machine power-on ${sid}`,
        ]);
        expect(on.manual.section).toMatch(/Power-on \/ recovery/);
        for (const name of POWER_STEPS(h.name, isPlanned)) checkRules(stepNamed(steps, name), []);
        const expects = isPlanned ? (["off", "on"] as const) : (["on"] as const);
        for (const expect_ of expects) {
          const gate = stepNamed(steps, `powered-${expect_}-${h.name}`);
          const last = gate.manual.blocks[gate.manual.blocks.length - 1];
          expect(last.label).toBe("GATE");
          expect(last.commands).toEqual([
            `maas coldstart machine query-power-state ${sid} | jq -r .state | grep -x ${expect_}`,
          ]);
          expect(last.repeat).toBe(`every ${timing.interval}, up to ${timing.timeout}`);
        }
      }
    }
  });

  it("an api-key-env is piped in by printf (a builtin: not in argv), a caFile goes to --cacerts; the key's value never appears", async () => {
    const key = "ck:tk:ts-never-printed";
    process.env.COLDSTART_TEST_MAAS_KEY = key;
    try {
      const hosts2 = hosts.map((h) => ({
        name: h.name,
        power: {
          driver: "maas",
          url: "https://maas.example:5443/MAAS",
          systemId: h.power.systemId,
          apiKeyEnv: "COLDSTART_TEST_MAAS_KEY",
          caFile: "~/.config/coldstart/maas-ca.pem",
        },
      }));
      const steps = (
        await makePlan({
          stack: "roosevelt",
          mode: "planned",
          overrides: { "coldstart:hosts": JSON.stringify(hosts2) },
        })
      ).steps;
      const s = stepNamed(steps, "power-off-openstack0");
      expect(s.manual.blocks[0].commands).toEqual([
        `printf '%s\\n' "$COLDSTART_TEST_MAAS_KEY" | maas login --cacerts ~/.config/coldstart/maas-ca.pem coldstart https://maas.example:5443/MAAS/api/2.0/ -`,
      ]);
      for (const h of hosts2)
        for (const name of POWER_STEPS(h.name, true))
          checkRules(stepNamed(steps, name), ["COLDSTART_TEST_MAAS_KEY"], [key, "ts-never-printed"]);
    } finally {
      delete process.env.COLDSTART_TEST_MAAS_KEY;
    }
  });
});

describe("virsh (prior-build)", () => {
  const hosts = hostsOf("prior-build");
  const timing = powerTiming("prior-build");
  const graceful = formatDuration(parseDurationMs(timing.timeout)! / 2);
  let planned: PlanStep[];
  let unplanned: PlanStep[];
  beforeAll(async () => {
    planned = (await makePlan({ stack: "prior-build", mode: "planned" })).steps;
    unplanned = (await makePlan({ stack: "prior-build", mode: "unplanned" })).steps;
  });

  it("the stack is virsh on every host (this describe's premise)", () => {
    expect(hosts.map((h) => h.power.driver)).toEqual(hosts.map(() => "virsh"));
  });

  it("power-off: domstate, shutdown, wait, destroy only if still running; no login block", () => {
    for (const h of hosts) {
      const v = `virsh -c ${String(h.power.uri)}`;
      const dom = String(h.power.domain);
      const s = stepNamed(planned, `power-off-${h.name}`);
      expect(s.manual.blocks.map((b) => [b.label, b.commands])).toEqual([
        ["CHECK", [`${v} domstate --reason ${dom}`]],
        ["RUN", [`${v} shutdown ${dom}`]],
        ["GATE", [`${v} domstate --reason ${dom} | grep -Ei '^(shut off|shutoff|crashed|pmsuspended)( \\(|$)'`]],
        ["RUN", [`${v} domstate --reason ${dom}`, `${v} destroy ${dom}`]],
      ]);
      expect(s.manual.blocks[2].repeat).toBe(`every ${timing.interval}, up to ${graceful} after the soft-off`);
      checkRules(s, []);
    }
  });

  it("power-on starts the domain; the gates read domstate with the stack's timing", () => {
    for (const [steps, isPlanned] of [
      [planned, true],
      [unplanned, false],
    ] as const) {
      for (const h of hosts) {
        const v = `virsh -c ${String(h.power.uri)}`;
        const dom = String(h.power.domain);
        expect(commandsOf(stepNamed(steps, `power-on-${h.name}`))).toEqual([
          `${v} domstate --reason ${dom}`,
          `${v} start ${dom}`,
        ]);
        const on = stepNamed(steps, `powered-on-${h.name}`).manual.blocks;
        expect(on.map((b) => [b.label, b.commands, b.repeat])).toEqual([
          [
            "GATE",
            [`${v} domstate --reason ${dom} | grep -Ei '^(running|idle|blocked|paused|in shutdown)( \\(|$)'`],
            `every ${timing.interval}, up to ${timing.timeout}`,
          ],
        ]);
        for (const name of POWER_STEPS(h.name, isPlanned)) checkRules(stepNamed(steps, name), []);
      }
    }
  });

  it("the gate's grep takes what virsh prints for on and off (power/virsh.ts states) and nothing else", () => {
    const gate = (e: "on" | "off") =>
      stepNamed(planned, `powered-${e}-openstack0`).manual.blocks[0].commands[0].replace(/^.*\| grep/, "grep");
    const matches = (cmd: string, line: string) =>
      spawnSync("bash", ["-c", cmd], { input: `${line}\n`, encoding: "utf8" }).status === 0;
    expect(matches(gate("on"), "running (booted)")).toBe(true);
    expect(matches(gate("on"), "in shutdown (user)")).toBe(true);
    expect(matches(gate("on"), "shut off (shutdown)")).toBe(false);
    expect(matches(gate("off"), "shut off (shutdown)")).toBe(true);
    expect(matches(gate("off"), "crashed (panicked)")).toBe(true);
    expect(matches(gate("off"), "running (booted)")).toBe(false);
  });
});

describe("ipmi (roosevelt's hosts overridden)", () => {
  let dir: string;
  let steps: PlanStep[];
  const password = "bmc-pw-not-shown";
  interface IpmiHost {
    name: string;
    power: {
      driver: "ipmi";
      bmc: string;
      user: string;
      port?: number;
      cipherSuite?: number;
      passwordFile?: string;
      passwordEnv?: string;
    };
  }
  const hosts = hostsOf("roosevelt").map<IpmiHost>((h, i) => ({
    name: h.name,
    power:
      i % 2 === 0
        ? { driver: "ipmi", bmc: `10.20.0.1${i}`, user: "admin", passwordFile: "", cipherSuite: 17 }
        : { driver: "ipmi", bmc: `bmc-${h.name}.example`, port: 6230, user: "ops", passwordEnv: "BMC_PW_" + i },
  }));
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "power-manual-"));
    const file = path.join(dir, "bmc-password");
    fs.writeFileSync(file, password);
    for (const h of hosts) {
      if (h.power.passwordEnv === undefined) h.power.passwordFile = file;
      else process.env[h.power.passwordEnv] = password;
    }
    steps = (
      await makePlan({ stack: "roosevelt", mode: "planned", overrides: { "coldstart:hosts": JSON.stringify(hosts) } })
    ).steps;
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const h of hosts) if (h.power.passwordEnv !== undefined) delete process.env[h.power.passwordEnv];
  });

  const base = (h: IpmiHost) =>
    h.power.passwordEnv === undefined
      ? `ipmitool -I lanplus -H ${h.power.bmc} -p 623 -U ${h.power.user} -C ${h.power.cipherSuite} -f ${h.power.passwordFile}`
      : `env -u IPMITOOL_PASSWORD IPMI_PASSWORD="$${h.power.passwordEnv}" ipmitool -I lanplus -H ${h.power.bmc} -p ${h.power.port} -U ${h.power.user} -C 3 -E`;

  it("power-off: chassis power status, soft, wait, off only if still on; password by -f or -E, never -P", () => {
    for (const h of hosts) {
      const b = base(h);
      const s = stepNamed(steps, `power-off-${h.name}`);
      expect(s.manual.blocks.map((x) => [x.label, x.commands])).toEqual([
        ["CHECK", [`${b} chassis power status`]],
        ["RUN", [`${b} chassis power soft`]],
        ["GATE", [`${b} chassis power status | grep -x 'Chassis Power is off'`]],
        ["RUN", [`${b} chassis power status`, `${b} chassis power off`]],
      ]);
      const env = h.power.passwordEnv === undefined ? [] : [h.power.passwordEnv];
      for (const name of POWER_STEPS(h.name, true)) checkRules(stepNamed(steps, name), env, [password]);
    }
  });

  it("power-on: chassis power on; the gate waits for 'Chassis Power is on'", () => {
    for (const h of hosts) {
      const b = base(h);
      expect(commandsOf(stepNamed(steps, `power-on-${h.name}`))).toEqual([
        `${b} chassis power status`,
        `${b} chassis power on`,
      ]);
      expect(commandsOf(stepNamed(steps, `powered-on-${h.name}`))).toEqual([
        `${b} chassis power status | grep -x 'Chassis Power is on'`,
      ]);
    }
  });

  it("-E is given only IPMI_PASSWORD: IPMITOOL_PASSWORD, which ipmitool -E prefers, is unset for the command", () => {
    const s = stepNamed(steps, "power-off-openstack1");
    for (const c of commandsOf(s)) expect(c).toMatch(/^env -u IPMITOOL_PASSWORD IPMI_PASSWORD="\$BMC_PW_1" ipmitool /);
    // and the command, run with a stub ipmitool, sees the stack's variable as IPMI_PASSWORD only
    const stub = path.join(dir, "ipmitool");
    fs.writeFileSync(stub, '#!/bin/sh\necho "E=${IPMI_PASSWORD} T=${IPMITOOL_PASSWORD:-unset} $*"\n', { mode: 0o755 });
    const r = spawnSync("bash", ["-c", commandsOf(s)[0]], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, BMC_PW_1: "x1", IPMITOOL_PASSWORD: "inherited" },
    });
    expect(r.stdout.trim()).toBe(
      "E=x1 T=unset -I lanplus -H bmc-openstack1.example -p 6230 -U ops -C 3 -E chassis power status",
    );
  });
});

describe("Stage 1 -- foundation: machines-started", () => {
  it("the seed's jq with -m <model>, walking LXD containers, on the stack's timing (both stacks, both modes)", async () => {
    for (const stack of ["roosevelt", "prior-build"]) {
      const v = stackValues(stack);
      const model = v["coldstart:jujuModel"];
      const t = (JSON.parse(v["coldstart:gates"]) as Record<string, { timeout: string; interval: string }>)
        .machinesStarted;
      for (const mode of ["planned", "unplanned"] as const) {
        const s = stepNamed((await makePlan({ stack, mode })).steps, "machines-started");
        expect(s.manual.section).toBe("ops-restart-procedure.md, Stage 1 -- foundation");
        expect(s.manual.blocks).toHaveLength(1);
        const [gate] = s.manual.blocks;
        expect(gate.label).toBe("GATE");
        expect(gate.repeat).toBe(`every ${t.interval}, up to ${t.timeout}`);
        expect(gate.commands[0]).toMatch(
          new RegExp(
            `^juju machines -m ${model} --format=json \\| jq -r '.*' \\| grep -v 'agent=started' \\|\\| echo "all machines started"$`,
          ),
        );
        expect(gate.commands[1]).toMatch(new RegExp(`^juju machines -m ${model} --format=json \\| jq '.*length'$`));
        checkRules(s, []);
      }
    }
  });

  it("the jq lists every host and (nested) container, and counts them, as gates/machines.ts does", async () => {
    const s = stepNamed((await makePlan({ stack: "roosevelt", mode: "unplanned" })).steps, "machines-started");
    const doc = {
      machines: {
        "0": {
          "juju-status": { current: "started" },
          containers: {
            "0/lxd/0": { "juju-status": { current: "down" } },
            "0/lxd/1": { "juju-status": { current: "started" } },
          },
        },
        "1": { "juju-status": { current: "pending" } },
        "2": { "juju-status": { current: "started" } },
      },
    };
    // the commands with juju replaced by the document above
    const run = (cmd: string) =>
      spawnSync("bash", ["-c", cmd.replace(/^juju machines -m \S+ --format=json/, "cat")], {
        input: JSON.stringify(doc),
        encoding: "utf8",
      });
    if (spawnSync("jq", ["--version"]).error) return; // no jq here: the exact-text test above still holds
    const [list, count] = s.manual.blocks[0].commands.map(run);
    expect(list.stdout).toBe("0/lxd/0  agent=down\n1  agent=pending\n");
    expect(count.stdout.trim()).toBe("5"); // three hosts, two containers
    const allUp = JSON.stringify({ machines: { "0": { "juju-status": { current: "started" } } } });
    const ok = spawnSync(
      "bash",
      ["-c", s.manual.blocks[0].commands[0].replace(/^juju machines -m \S+ --format=json/, "cat")],
      {
        input: allUp,
        encoding: "utf8",
      },
    );
    expect(ok.stdout).toBe("all machines started\n");
  });
});
