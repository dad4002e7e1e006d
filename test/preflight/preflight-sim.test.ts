/**
 * `coldstart preflight --scenario` against the simulated cloud, as an operator runs it (its own
 * process): for each failing check's scenario, the right check fails with the right exit code and
 * fix, the others pass, and the sim's call log holds only reads (no power action, no juju run, no
 * unseal, no server start). Build first (npx tsc -p .): the fake tools run from dist/.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { PreflightReport } from "../../preflight/checks";

const ROOT = path.resolve(__dirname, "../..");
const COLDSTART = path.join(ROOT, "bin", "coldstart");

interface Call {
  tool: string;
  argv: string[];
  stdinBytes: number;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  report: PreflightReport;
  calls: Call[];
  wallMs: number;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
  return env;
}

function preflight(stack: string, scenario: string, extra: string[] = []): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `coldstart-pf-test-${scenario}-`));
  const began = Date.now();
  const r = spawnSync(
    COLDSTART,
    ["preflight", "--stack", stack, "--scenario", scenario, "--dir", dir, "--json", ...extra],
    {
      encoding: "utf8",
      env: cleanEnv(),
      timeout: 60_000,
    },
  );
  const wallMs = Date.now() - began;
  const log = path.join(dir, "cloud", "calls.jsonl");
  const calls = fs.existsSync(log)
    ? fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Call)
    : [];
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    report: JSON.parse(r.stdout) as PreflightReport,
    calls,
    wallMs,
  };
}

/** Anything that changes the cloud: a power action, an action, an unseal, a guest or LB change. */
function mutating(calls: Call[]): Call[] {
  return calls.filter((c) => {
    if (c.tool === "maas") return c.argv[0] !== "GET" || !/op=query_power_state/.test(c.argv[1] ?? "");
    if (c.tool === "virsh")
      return !["domstate", "list"].includes(c.argv.find((a) => !a.startsWith("-") && !a.includes(":")) ?? "");
    if (c.tool === "juju") {
      if (["run", "ssh", "export-bundle"].includes(c.argv[0])) return true;
      if (c.argv[0] === "exec") return !c.argv.join(" ").includes("vault status -format=json");
      if (c.argv[0] === "config") return c.argv.slice(1).some((a) => !a.startsWith("-") && a.includes("="));
      return false;
    }
    if (c.tool === "openstack") return /\b(start|stop|failover|create|delete|set)\b/.test(c.argv.join(" "));
    return c.stdinBytes > 0;
  });
}

const status = (run: Run, id: string) => run.report.checks.find((c) => c.id === id)?.status;
const others = (run: Run, ids: string[]) =>
  run.report.checks.filter((c) => !ids.includes(c.id) && c.status !== "pass" && c.status !== "skipped");

describe("preflight of a healthy 4-host cloud (roosevelt, MAAS)", () => {
  let run: Run;
  beforeAll(() => {
    run = preflight("roosevelt", "preflight-healthy");
  }, 60_000);

  it("is READY (exit 0): every check passes, the Pulumi backend is said to be not checked", () => {
    expect(run.status).toBe(0);
    expect(run.report).toMatchObject({ schemaVersion: 1, stack: "roosevelt", verdict: "ready", exitCode: 0 });
    expect(others(run, [])).toEqual([]);
    expect(status(run, "pulumi-stack")).toBe("skipped");
    expect(run.report.checks.find((c) => c.id === "pulumi-stack")?.summary).toMatch(/^not checked: /);
    const ids = run.report.checks.map((c) => c.id);
    for (const id of [
      "juju-model",
      "juju-apps",
      "juju-machines",
      "openstack-token",
      "openstack-compute",
      "openstack-loadbalancer",
      "vault-status",
      "vault-keys",
      "nova-resume-flag",
      "cloud-assert-script",
      "baseline-dir",
      "record-dir",
      "stack-keys",
    ])
      expect(ids).toContain(id);
    expect(ids.filter((id) => id.startsWith("power-"))).toEqual([
      "power-openstack0",
      "power-openstack1",
      "power-openstack2",
      "power-openstack3",
    ]);
    expect(run.report.vault).toMatchObject({ threshold: 3, shares: 5, keysAvailable: 3 });
    for (const c of run.report.checks) expect(typeof c.durationMs).toBe("number");
  });

  it("asked every host's power state and Vault's status, and changed nothing", () => {
    expect(run.calls.filter((c) => c.tool === "maas")).toHaveLength(4);
    expect(run.calls.filter((c) => c.tool === "juju" && c.argv[0] === "exec")).toHaveLength(3);
    expect(run.calls.some((c) => c.tool === "openstack" && c.argv.join(" ") === "token issue -f json -c expires")).toBe(
      true,
    );
    expect(mutating(run.calls)).toEqual([]);
  });

  it("prints a line per check on stderr as it finishes, and finishes well under a minute", () => {
    const lines = run.stderr.split("\n").filter((l) => /^(PASS|FAIL|WARN|SKIP|BLOCKER)\s/.test(l));
    expect(lines).toHaveLength(run.report.checks.length);
    // parallel: the whole preflight takes about as long as its slowest check, not their sum
    const sum = run.report.checks.reduce((a, c) => a + c.durationMs, 0);
    const slowest = Math.max(...run.report.checks.map((c) => c.durationMs));
    expect(run.report.durationMs).toBeLessThan(Math.max(sum / 2, slowest + 2_000));
    expect(run.wallMs).toBeLessThan(60_000);
  });
});

describe.each([
  {
    scenario: "preflight-maas-key-revoked",
    failing: ["power-openstack0", "power-openstack1", "power-openstack2", "power-openstack3"],
    exit: 1,
    said: /MAAS refused the API key .*unknown or revoked token/,
    fix: /MAAS API key .*revoked key needs a new one/,
  },
  {
    scenario: "preflight-bmc-unreachable",
    failing: ["power-openstack2"],
    exit: 1,
    said: /openstack2 .*Power state could not be queried: connection timeout/,
    fix: /MAAS cannot reach this machine's BMC/,
  },
  {
    scenario: "preflight-vault-unit-down",
    failing: ["vault-status"],
    exit: 1,
    said: /1 of 3 vault unit\(s\) do not answer vault status: vault\/1 \(.*connection refused/,
    fix: /systemctl status vault/,
  },
  {
    scenario: "preflight-too-few-keys",
    failing: ["vault-keys"],
    exit: 3,
    said: /3 unseal key\(s\) available, Vault needs 4 \(threshold 4 of 7\)/,
    fix: /escalate, never improvise/,
  },
  {
    scenario: "preflight-no-cloud-assert",
    failing: ["cloud-assert-script"],
    exit: 1,
    said: /cloud-assert script .*cloud-assert\.sh does not exist/,
    fix: /operations repo/,
  },
])("$scenario", ({ scenario, failing, exit, said, fix }) => {
  let run: Run;
  beforeAll(() => {
    run = preflight("roosevelt", scenario);
  }, 60_000);

  it(`fails exactly ${failing.join(", ")} with exit ${exit} and the fix`, () => {
    expect(run.status).toBe(exit);
    expect(run.report.exitCode).toBe(exit);
    expect(run.report.verdict).toBe(exit === 3 ? "blocker" : "not-ready");
    for (const id of failing) {
      const c = run.report.checks.find((x) => x.id === id)!;
      expect(c.status).toBe(exit === 3 ? "blocker" : "fail");
      expect(c.summary).toMatch(said);
      expect(c.fix).toMatch(fix);
    }
    expect(others(run, failing)).toEqual([]);
    // and the same on the console: the line as it finished, the fix under it
    expect(run.stderr).toMatch(new RegExp(`^(FAIL|BLOCKER) +${failing[0]} `, "m"));
    expect(run.stderr).toMatch(/^ {8}fix: /m);
  });

  it("made no mutating call to the simulated cloud", () => {
    expect(run.calls.length).toBeGreaterThan(0);
    expect(mutating(run.calls)).toEqual([]);
  });
});

describe("the virsh stack (prior-build)", () => {
  it("an unreachable hypervisor fails that host's power check with virsh's own error, exit 1", () => {
    const run = preflight("prior-build", "preflight-bmc-unreachable");
    expect(run.status).toBe(1);
    const c = run.report.checks.find((x) => x.id === "power-openstack2")!;
    expect(c.status).toBe("fail");
    expect(c.summary).toContain("failed to connect to the hypervisor");
    expect(c.fix).toMatch(/virsh -c <uri> domstate/);
    expect(others(run, ["power-openstack2"])).toEqual([]);
    expect(mutating(run.calls)).toEqual([]);
  }, 60_000);
});

describe("input errors", () => {
  it("an unknown scenario is one line naming it and the fix, exit 2", () => {
    const r = spawnSync(COLDSTART, ["preflight", "--stack", "roosevelt", "--scenario", "no-such-one"], {
      encoding: "utf8",
      env: cleanEnv(),
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/scenario no-such-one: no file .*; use one of: /);
  });

  it("--dir without --scenario is refused, exit 2", () => {
    const r = spawnSync(COLDSTART, ["preflight", "--stack", "roosevelt", "--dir", "/tmp/x"], {
      encoding: "utf8",
      env: cleanEnv(),
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--dir and --time-scale go with --scenario");
  });
});
