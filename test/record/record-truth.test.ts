/**
 * Issue #23, the record's truth at every stop: one clock per record (a drill's is the cloud's, its
 * own cancel line included), a resume that followed the earlier MySQL attempt says so and never
 * reads as a second run, every state-changing request is a RAN: line on the console and an entry
 * of the record (a flaky BMC's retries, the sweep's restarts), and every step's whole output is
 * kept in the drill's folder, private.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SIM_EPOCH_MS } from "../../runtime/clock-file";
import { readRecord, type RecordEntry } from "../../runtime/record";
import type { DrillReport } from "../../drill/drill";
import { drillDir } from "../support/drill-run";

const BIN = path.resolve(__dirname, "../..", "bin", "coldstart");
const HOUR = 3_600_000;

/**
 * A drill as the operator runs it (no --json: the console as they see it), with what it left: the
 * record, the sim's call log, the report.
 */
interface Run {
  status: number | null;
  /** The console: every line it printed, stdout and stderr. */
  text: string;
  record: RecordEntry[];
  calls: { tool: string; argv: string[] }[];
  report: DrillReport;
}
function drill(args: string[], dir: string): Run {
  const r = spawnSync(BIN, ["drill", "--dir", dir, ...args], { encoding: "utf8", timeout: 120_000 });
  const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as DrillReport;
  const lines = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter(Boolean) : []);
  return {
    status: r.status,
    text: `${r.stdout}\n${r.stderr}`,
    record: [...readRecord(report.recordFile)],
    calls: lines(report.callLog).map((l) => JSON.parse(l) as { tool: string; argv: string[] }),
    report,
  };
}
const entriesOf = (d: Run, step: string): RecordEntry[] => d.record.filter((e) => e.step === step);
const callsMatching = (d: Run, re: RegExp) => d.calls.filter((c) => re.test(`${c.tool} ${c.argv.join(" ")}`));

function recordJson(dir: string, stack: string, window: string) {
  const r = spawnSync(
    BIN,
    ["record", "--stack", stack, "--window", window, "--record-dir", path.join(dir, "records"), "--json"],
    { encoding: "utf8" },
  );
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as {
    durationMs: number;
    start: string;
    end: string;
    verdict: string;
    runs: {
      stages: { stage: string }[];
      verdict: string;
      requests: { step: string; line: string }[];
      output?: string;
    }[];
  };
}

describe("one clock per record: a cancelled drill", () => {
  const dir = drillDir("one-clock");
  let d: Run;
  beforeAll(() => {
    d = drill(["--stack", "prior-build", "--scenario", "healthy-planned", "--cancel-at", "power-off-openstack0"], dir);
  });

  it("every line of the record, the drill's own cancel line too, is on the cloud's clock", () => {
    expect(d.status).toBe(130);
    const note = d.record.find((e) => e.step === "drill");
    expect(note).toMatchObject({ outcome: "cancelled" });
    for (const e of d.record) {
      for (const t of [e.start, e.end]) {
        const ms = Date.parse(t);
        // the cloud began at SIM_EPOCH_MS; this drill ran well under an hour of cloud time
        expect(ms).toBeGreaterThanOrEqual(SIM_EPOCH_MS);
        expect(ms).toBeLessThan(SIM_EPOCH_MS + HOUR);
      }
    }
  });

  it("`record` gives the window the drill's cloud duration, no `drill` pseudo-stage, no `at drill`", () => {
    const s = recordJson(dir, "prior-build", "drill-healthy-planned");
    // the cloud time the drill itself reports (report.recovery: per stage and in total)
    const cloudMs = Math.round((d.report.recovery?.cloudS ?? NaN) * 1000);
    expect(s.durationMs).toBe(cloudMs);
    expect(s.durationMs).toBeLessThan(HOUR);
    expect(s.runs[0]!.stages.map((st) => st.stage)).not.toContain("drill");
    expect(s.verdict).toMatch(/^CANCELLED/);
    expect(s.verdict).not.toMatch(/at drill/);
    expect(s.runs[0]!.verdict).not.toMatch(/at drill/);
  });

  it("each step's whole output is kept in the drill's folder, private, and the console says where", () => {
    const runId = d.record[0]!.runId!;
    const out = path.join(dir, "output", runId);
    expect(d.text).toContain(`step output: ${out}/<step>.log`);
    expect(fs.statSync(path.join(dir, "output")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(out).mode & 0o777).toBe(0o700);
    const log = path.join(out, "hold-guests.log");
    expect(fs.statSync(log).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(log, "utf8");
    // more than the console: the gate's poll lines and the verdict
    expect(text).toMatch(/poll 1: /);
    expect(text).toMatch(/^PASS hold-guests: held down: db-replica$/m);
    expect(text).toMatch(/^RAN: openstack server stop db-replica /m);
    // the record names the folder for the run
    expect(recordJson(dir, "prior-build", "drill-healthy-planned").runs[0]!.output).toBe(out);
  });
});

describe("a resume after a kill during the MySQL action follows the earlier attempt; never 'ran it again'", () => {
  const dir = drillDir("mysql-followed");
  const ARGS = ["--stack", "prior-build", "--scenario", "mysql-slow-action"];
  let killed: Run;
  let resumed: Run;
  beforeAll(() => {
    killed = drill([...ARGS, "--kill-at", "mysql-reboot-cluster", "--at-call", "juju run"], dir);
    resumed = drill([...ARGS, "--resume"], dir);
  });

  it("the action is run once in the window, and the resume passes", () => {
    expect(killed.status).not.toBe(0);
    expect(resumed.status).toBe(0);
    // the call log of the folder: both runs' calls
    const runs = resumed.calls.filter(
      (c) => c.tool === "juju" && c.argv[0] === "run" && c.argv.includes("reboot-cluster-from-complete-outage"),
    );
    expect(runs).toHaveLength(1);
  });

  it("console and record say it followed the earlier attempt and its task, not run again", () => {
    const text = resumed.text;
    expect(text).not.toMatch(/ran it again/);
    expect(text).toMatch(
      /mysql-reboot-cluster: FOLLOWED: reboot-cluster-from-complete-outage on mysql-innodb-cluster\/1: the earlier attempt.*not run again/,
    );
    const last = entriesOf(resumed, "mysql-reboot-cluster").at(-1)!;
    expect(last.outcome).toBe("pass");
    expect(last.summary).toMatch(/^followed the earlier attempt, task \d+; not run again: /);
    expect(last.details.join("\n")).not.toMatch(/ran it again/);
    expect(last.requests?.map((r) => r.line)).toEqual([expect.stringMatching(/^FOLLOWED: /)]);
    // the claim's start quoted in the record is on the cloud's clock, as the rest of the line
    const quoted = /started (\S+)\)/.exec(last.details[0] ?? "")?.[1];
    expect(Date.parse(quoted ?? "")).toBeLessThan(SIM_EPOCH_MS + HOUR);
  });
});

describe("every state-changing request is a RAN: line on the console and in the record", () => {
  it("a flaky BMC (roosevelt, MAAS): each soft-off try with the BMC's answer, then the one taken", () => {
    const d = drill(["--stack", "roosevelt", "--scenario", "power-transient-bmc"], drillDir("ran-bmc"));
    expect(d.status).toBe(0);
    const text = d.text;
    // openstack1: MAAS answers 503 to its first 3 soft power-offs (the scenario), the 4th is taken
    for (const t of ["", " (try 2)", " (try 3)"])
      expect(text).toMatch(
        new RegExp(
          `power-off-openstack1: RAN: openstack1 via maas .*: graceful shutdown${t.replace(/[()]/g, "\\$&")}: transient error \\(.*No rack controllers can access the BMC.*\\); graceful path retried in `,
        ),
      );
    expect(text).toMatch(/power-off-openstack1: RAN: openstack1 via maas .*: graceful shutdown \(try 4\): /);
    // openstack2: its power-state reads failed twice (no soft-off out yet): warnings on the console
    expect(text.match(/power-off-openstack2: WARNING: openstack2 via maas .*: power state not read: /g)).toHaveLength(
      2,
    );
    const sent = entriesOf(d, "power-off-openstack1")
      .at(-1)!
      .requests!.map((r) => r.line);
    expect(sent).toHaveLength(4);
    expect(sent.every((l) => l.startsWith("RAN: openstack1 via maas"))).toBe(true);
    // and each request's line is on the console, word for word
    for (const l of sent) expect(text).toContain(`power-off-openstack1: ${l}`);
    // power-on, the unseal's progress (never a key), the guest stop: each a RAN: line and a request entry
    expect(
      entriesOf(d, "power-on-openstack0")
        .at(-1)!
        .requests!.map((r) => r.line),
    ).toEqual([expect.stringMatching(/^RAN: openstack0 via maas .*: power on: accepted$/)]);
    expect(
      entriesOf(d, "vault-unseal")
        .at(-1)!
        .requests!.map((r) => r.line),
    ).toEqual([
      "RAN: vault/0: unseal key 1 of 3: accepted (sealed=true, progress 1/3)",
      "RAN: vault/0: unseal key 2 of 3: accepted (sealed=true, progress 2/3)",
      "RAN: vault/0: unseal key 3 of 3: accepted (sealed=false, progress 0/3)",
    ]);
    expect(entriesOf(d, "hold-guests").at(-1)!.requests).toHaveLength(1);
  });

  it("the TLS sweep's restarts, a failover and a guest start", () => {
    const sweep = drill(["--stack", "prior-build", "--scenario", "chassis-not-connected"], drillDir("ran-sweep"));
    expect(sweep.status).toBe(0);
    const lines = entriesOf(sweep, "ovn-tls-sweep")
      .at(-1)!
      .requests!.map((r) => r.line);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^RAN: systemctl restart ovs-vswitchd ovn-controller on ovn-chassis\/\d+ \(.*\): done$/),
        expect.stringMatching(/^RAN: systemctl restart neutron-server on neutron-api\/\d+: done$/),
      ]),
    );
    for (const l of lines) expect(sweep.text).toContain(`ovn-tls-sweep: ${l}`);
    // as many restart lines as restart calls the sim saw from the sweep
    expect(lines).toHaveLength(callsMatching(sweep, /^juju exec .*systemctl restart/).length);

    const lb = drill(["--stack", "prior-build", "--scenario", "lb-error"], drillDir("ran-lb"));
    expect(lb.status).toBe(0);
    const failovers = entriesOf(lb, "lb-failover")
      .at(-1)!
      .requests!.map((r) => r.line);
    expect(failovers).toHaveLength(callsMatching(lb, /^openstack loadbalancer failover /).length);
    expect(failovers[0]).toMatch(/^RAN: openstack loadbalancer failover \S+ \(.*\): accepted$/);
    expect(lb.text).toContain(`lb-failover: ${failovers[0]}`);
  });
});
