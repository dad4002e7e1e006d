/**
 * Drills of the roosevelt stack (hosts powered through the MAAS 2.0 API) exercise the real maas
 * driver: the drill serves the sim's MAAS (sim/maas-api.ts) and the power steps talk HTTP to it
 * with OAuth PLAINTEXT. The fake API key reaches the steps through their environment only: a
 * watcher reads it from a running step's /proc/<pid>/environ, and the test proves it is in no
 * call-log line, output, report, record or file the drill wrote.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readCallLog } from "../../sim/call-log";
import { simSystemIds } from "../../sim/maas-api";
import { SIM_MAAS_KEY_VAR } from "../../sim/setup";
import { updateState } from "../../sim/store";
import { drillDir, everythingWritten, runDrillProcess, type Call, type DrillResult } from "../support/drill-run";

const HOSTS = ["openstack0", "openstack1", "openstack2", "openstack3"];
const IDS = simSystemIds(HOSTS);
const machine = (id: string) => `/MAAS/api/2.0/machines/${id}/`;
/** The shape of a MAAS API key (consumer_key:token_key:token_secret, 18/18/32). */
const KEY_SHAPE = /[A-Za-z0-9]{18}:[A-Za-z0-9]{18}:[A-Za-z0-9]{32}/;

const WATCHER = `
const fs = require("fs");
const [out, simDir, keyVar] = process.argv.slice(1);
const tick = () => {
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\\d+$/.test(pid)) continue;
    let vars;
    try { vars = fs.readFileSync("/proc/" + pid + "/environ", "latin1").split("\\0"); } catch { continue; }
    if (!vars.includes("COLDSTART_SIM_DIR=" + simDir)) continue;
    const key = vars.find((v) => v.startsWith(keyVar + "="));
    if (key) { fs.writeFileSync(out, key.slice(keyVar.length + 1)); process.exit(0); }
  }
  setTimeout(tick, 5);
};
tick();
`;

/**
 * Run the drill (in its own process, as an operator would) while a watcher process captures the
 * API key from the environment of one of its steps. The key file lives outside the drill's dir.
 */
function drillWithKey(args: string[], dir: string): { d: DrillResult; key: string | undefined } {
  const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-test-maas-key-")), "key");
  const watcher: ChildProcess = spawn(
    process.execPath,
    ["-e", WATCHER, keyFile, path.join(dir, "cloud"), SIM_MAAS_KEY_VAR],
    {
      stdio: "ignore",
    },
  );
  try {
    const d = runDrillProcess(args, dir);
    const key = fs.existsSync(keyFile) ? fs.readFileSync(keyFile, "utf8") : undefined;
    return { d, key };
  } finally {
    watcher.kill();
    fs.rmSync(path.dirname(keyFile), { recursive: true, force: true });
  }
}

const maasCalls = (calls: Call[]) => calls.filter((c) => c.tool === "maas");
const posts = (calls: Call[], op: string) =>
  maasCalls(calls).filter((c) => c.argv[0] === "POST" && c.argv[1]?.endsWith(`?op=${op}`));

function expectKeyNowhere(d: DrillResult, key: string | undefined): void {
  const written = everythingWritten(d.dir);
  const seen = [JSON.stringify(d.calls), d.stdout, d.stderr, JSON.stringify(d.report), JSON.stringify(d.record)];
  for (const text of [...seen, written]) {
    expect(text).not.toMatch(KEY_SHAPE);
    expect(text).not.toContain("oauth_");
  }
  if (process.platform !== "linux") return;
  expect(key).toMatch(new RegExp(`^${KEY_SHAPE.source}$`));
  for (const piece of [key!, ...key!.split(":")])
    for (const text of [...seen, written]) expect(text).not.toContain(piece);
}

describe("roosevelt, unplanned: power-on through the sim's MAAS", () => {
  const dir = drillDir("maas-unplanned");
  const { d, key } = drillWithKey(["--stack", "roosevelt", "--scenario", "healthy-unplanned"], dir);

  it("passes", () => {
    expect({ status: d.status, failed: d.report.failed }).toEqual({ status: 0, failed: undefined });
    expect(d.report.steps.every((s) => s.status === "passed")).toBe(true);
  });

  it("powers each of the 4 hosts on with POST ?op=power_on, once, by its system id", () => {
    expect(
      posts(d.calls, "power_on")
        .map((c) => c.argv[1])
        .sort(),
    ).toEqual(HOSTS.map((h) => `${machine(IDS[h]!)}?op=power_on`).sort());
    const answers = readCallLog(path.join(dir, "cloud")).filter((c) => c.tool === "maas");
    expect(answers.every((c) => c.exitCode === 0)).toBe(true);
  });

  it("polls GET ?op=query_power_state for every host, before and after its power_on", () => {
    const urls = maasCalls(d.calls).map((c) => `${c.argv[0]} ${c.argv[1]}`);
    for (const h of HOSTS) {
      const polls = urls.flatMap((u, i) => (u === `GET ${machine(IDS[h]!)}?op=query_power_state` ? [i] : []));
      const on = urls.indexOf(`POST ${machine(IDS[h]!)}?op=power_on`);
      expect(polls.some((i) => i < on)).toBe(true);
      expect(polls.some((i) => i > on)).toBe(true);
    }
  });

  it("never calls virsh", () => {
    expect(d.calls.filter((c) => c.tool === "virsh")).toEqual([]);
  });

  it("keeps the API key out of the call log, the output, the report, the record and every file it wrote", () => {
    expectKeyNowhere(d, key);
    // drill.json holds data only: no environment at all, so no API key in it (issue #21)
    const saved = JSON.parse(fs.readFileSync(path.join(dir, "drill.json"), "utf8")) as { sim: { env?: object } };
    expect(saved.sim.env).toBeUndefined();
  });
});

describe("roosevelt, planned: graceful shutdown, then power-on, through the sim's MAAS", () => {
  const dir = drillDir("maas-planned");
  const { d, key } = drillWithKey(["--stack", "roosevelt", "--scenario", "healthy-planned"], dir);

  it("passes", () => {
    expect({ status: d.status, failed: d.report.failed }).toEqual({ status: 0, failed: undefined });
  });

  it("sends each host a soft power_off (stop_mode=soft) before its power_on, and no hard power_off", () => {
    const maas = maasCalls(d.calls);
    for (const h of HOSTS) {
      const url = machine(IDS[h]!);
      const off = maas.findIndex((c) => c.argv.join(" ") === `POST ${url}?op=power_off stop_mode=soft`);
      const on = maas.findIndex((c) => c.argv.join(" ") === `POST ${url}?op=power_on`);
      expect({ h, off: off >= 0, on: on >= 0 }).toEqual({ h, off: true, on: true });
      expect(off).toBeLessThan(on);
    }
    expect(posts(d.calls, "power_off")).toHaveLength(4);
    expect(d.calls.filter((c) => c.tool === "virsh")).toEqual([]);
  });

  it("keeps the API key out of everything it wrote", () => {
    expectKeyNowhere(d, key);
  });
});

describe("roosevelt, resume after a failure", () => {
  it("serves MAAS on the same URL with a new key: the power steps are unchanged and never called again", () => {
    const dir = drillDir("maas-resume");
    const first = drillWithKey(["--stack", "roosevelt", "--scenario", "chassis-stays-disconnected"], dir);
    expect(first.d.status).toBe(1);
    expect(first.d.report.failed?.step).toBe("ovn-chassis-connected");
    const callsBefore = first.d.calls.length;

    updateState(path.join(dir, "cloud"), (s) => s.ovn.chassis.forEach((c) => (c.connected = true)));
    const second = drillWithKey(["--stack", "roosevelt", "--scenario", "chassis-stays-disconnected", "--resume"], dir);
    expect(second.d.status).toBe(0);
    for (const h of HOSTS) expect(second.d.stepStatus(`power-on-${h}`)).toBe("unchanged");
    expect(maasCalls(second.d.calls.slice(callsBefore))).toEqual([]);
    // the first run's key is not the second's, and neither was written anywhere
    if (first.key !== undefined && second.key !== undefined) expect(second.key).not.toBe(first.key);
    expectKeyNowhere(second.d, second.key);
    if (first.key) expect(everythingWritten(dir)).not.toContain(first.key);
  });
});
