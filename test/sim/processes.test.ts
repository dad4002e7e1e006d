/**
 * The fake tools as coldstart meets them: separate processes behind the sim/bin shims (needs the
 * compiled dist/, i.e. `npx tsc -p .` / `npm test`). Concurrent calls lose no update, a hang is
 * killed by the caller's timeout, cloud-assert.sh runs under bash, stdin never reaches the log.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import execa from "execa";
import { readCallLog } from "../../sim/call-log";
import { projectRoot } from "../../sim/root";
import { loadState, SimStoreError, updateState, withLock } from "../../sim/store";
import { parseVaultStatus } from "../../gates/vault";
import { cloudAssertVerdict } from "../../gates/cloud-assert";
import { mustParse } from "../fixtures";
import { bootAll, cleanupAll, harness, MODEL, type Harness } from "./sim-harness";
import { UNSEAL_COMMAND } from "../../steps/vault";

afterAll(cleanupAll);

const ENTRY = path.join(projectRoot(), "dist", "sim", "tools", "entry.js");

beforeAll(() => {
  const newest = (dir: string, ext: string): number =>
    fs
      .readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(ext))
      .reduce((m, f) => Math.max(m, fs.statSync(path.join(dir, f)).mtimeMs), 0);
  if (!fs.existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: build first (npx tsc -p . or npm test)`);
  const src = newest(path.join(projectRoot(), "sim"), ".ts");
  const built = newest(path.join(projectRoot(), "dist", "sim"), ".js");
  if (src > built + 1000) throw new Error("dist/sim is older than sim/: rebuild (npx tsc -p .) before these tests");
});

function spawn(h: Harness, file: string, args: string[], opts: { input?: string; timeout?: number } = {}) {
  return execa(file, args, {
    env: { ...h.cloud.env, ...h.cloud.osEnv },
    input: opts.input ?? "",
    timeout: opts.timeout,
    killSignal: "SIGKILL",
    reject: false,
    stripFinalNewline: false,
  });
}

describe("through the shims", () => {
  it("PATH finds the fake juju, openstack and virsh; outputs and exit codes come through", async () => {
    const h = harness("healthy-planned");
    const which = await execa("sh", ["-c", "command -v juju; command -v openstack; command -v virsh"], {
      env: h.cloud.env,
    });
    expect(which.stdout.split("\n")).toEqual(["juju", "openstack", "virsh"].map((t) => path.join(h.cloud.binDir, t)));
    const dom = await spawn(h, "virsh", ["-c", "test:///coldstart-sim", "domstate", "openstack2"]);
    expect([dom.stdout, dom.exitCode]).toEqual(["running\n\n", 0]);
    const bad = await spawn(h, "juju", ["status", "-m", "maas-controller:nope", "--format=json"]);
    expect([bad.stderr, bad.exitCode]).toEqual(['ERROR model "maas-controller:nope" not found\n', 1]);
    const servers = await spawn(h, "openstack", ["server", "list", "--all-projects", "-f", "json"]);
    expect(JSON.parse(servers.stdout)).toHaveLength(5);
  });

  it("one shim serves every tool: juju, openstack and virsh are links to sim-tool, which called by its own name takes the tool from its first argument", async () => {
    const h = harness("healthy-planned");
    for (const tool of ["juju", "openstack", "virsh"])
      expect(fs.readlinkSync(path.join(h.cloud.binDir, tool))).toBe("sim-tool");
    const shim = path.join(h.cloud.binDir, "sim-tool");
    const direct = await spawn(h, shim, ["virsh", "-c", "test:///coldstart-sim", "domstate", "openstack2"]);
    expect([direct.stdout, direct.exitCode]).toEqual(["running\n\n", 0]);
    expect(readCallLog(h.cloud.dir).map((c) => `${c.tool} ${c.argv.join(" ")}`)).toEqual([
      "virsh -c test:///coldstart-sim domstate openstack2",
    ]);
    const unknown = await spawn(h, shim, ["maas", "machines", "read"]);
    expect([unknown.stderr, unknown.exitCode]).toEqual([
      'coldstart sim: unknown tool "maas" (one of juju, openstack, virsh, cloud-assert)\n',
      64,
    ]);
    const none = await spawn(h, shim, []);
    expect([none.stderr.split("\n")[0], none.exitCode]).toEqual([expect.stringContaining('unknown tool ""'), 64]);
  });

  it("20 concurrent state-changing calls lose no update", async () => {
    // real time (timeScale 1): no stop completes during the test, so every one must still be pending
    const h = harness("healthy-planned", { scale: { guests: 20 }, timeScale: 1 });
    const ids = h
      .state()
      .guests.filter((g) => g.name.startsWith("bench-"))
      .map((g) => g.id);
    expect(ids).toHaveLength(20);
    const results = await Promise.all(ids.map((id) => spawn(h, "openstack", ["server", "stop", id])));
    expect(results.map((r) => r.exitCode)).toEqual(ids.map(() => 0));
    const s = loadState(h.cloud.dir);
    expect(s.guests.filter((g) => ids.includes(g.id) && g.task === "powering-off")).toHaveLength(20);
    expect(s.timers.filter((t) => t.kind === "guest")).toHaveLength(20);
    expect(s.events.filter((e) => e.what.startsWith("server stop bench-"))).toHaveLength(20);
    expect(readCallLog(h.cloud.dir).filter((c) => c.argv[1] === "stop")).toHaveLength(20);
  });

  it("a hanging call is logged as it starts hanging and killed by the caller's timeout", async () => {
    const h = harness("juju-hangs");
    const started = Date.now();
    const res = await spawn(h, "juju", ["status", "-m", MODEL, "mysql-innodb-cluster", "--format=json"], {
      timeout: 500,
    });
    expect(res.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(readCallLog(h.cloud.dir)).toEqual([expect.objectContaining({ tool: "juju", exitCode: null })]);
    const other = await spawn(h, "juju", ["status", "-m", MODEL, "vault", "--format=json"], { timeout: 5000 });
    expect(other.exitCode).toBe(0);
  });

  it("scripts/cloud-assert.sh runs under bash from the ops repo and passes on a healthy cloud", async () => {
    const h = harness("healthy-planned");
    const env = { ...h.cloud.osEnv, PATH: process.env.PATH ?? "" }; // nothing of the sim's env: the script knows its sim
    const res = await execa("bash", [h.cloud.cloudAssertScript], {
      cwd: path.dirname(path.dirname(h.cloud.cloudAssertScript)),
      env,
      extendEnv: false,
      reject: false,
    });
    expect(cloudAssertVerdict(res.exitCode, res.stdout)).toMatchObject({ ok: true, state: "pass" });
    expect(res.stdout.split("\n").filter((l) => l.startsWith("A"))).toHaveLength(6);
    const noCreds = await execa("bash", [h.cloud.cloudAssertScript], {
      env: { PATH: process.env.PATH ?? "" },
      extendEnv: false,
      reject: false,
    });
    expect(cloudAssertVerdict(noCreds.exitCode, noCreds.stdout)).toMatchObject({ ok: false, state: "fail" });
  });

  it("unseal keys on stdin reach Vault but never the call log, the state file or any output", async () => {
    const h = harness("mysql-complete-outage");
    await bootAll(h);
    await h.call("juju", [
      "run",
      "-m",
      MODEL,
      "mysql-innodb-cluster/1",
      "reboot-cluster-from-complete-outage",
      "--format=json",
    ]);
    // the harness clock ran ahead of real time: move the sim's start back so the real clock agrees
    const ahead = h.clock.ms - Date.now();
    updateState(h.cloud.dir, (s) => void (s.startedAtMs -= ahead + 50));
    const unseal = ["ssh", "-m", MODEL, "vault/0", "--", ...UNSEAL_COMMAND];
    let last = "";
    for (const key of h.cloud.unsealKeys) {
      const input = JSON.stringify({ key });
      const res = await spawn(h, "juju", unseal, { input });
      expect(res.exitCode).toBe(0);
      expect(res.stdout + res.stderr).not.toContain(key);
      last = res.stdout;
    }
    expect(mustParse(parseVaultStatus(last)).sealed).toBe(false);
    const log = fs.readFileSync(path.join(h.cloud.dir, "calls.jsonl"), "utf8");
    const state = fs.readFileSync(path.join(h.cloud.dir, "state.json"), "utf8").replace(/"keys":\[[^\]]*\]/, "");
    for (const key of h.cloud.unsealKeys) {
      expect(log).not.toContain(key);
      expect(state).not.toContain(key);
    }
    const sshCalls = readCallLog(h.cloud.dir).filter((c) => c.argv[0] === "ssh");
    expect(sshCalls.map((c) => c.stdinBytes)).toEqual(h.cloud.unsealKeys.map((k) => JSON.stringify({ key: k }).length));
  });
});

describe("the lock", () => {
  it("breaks a stale lock left by a dead process", () => {
    const h = harness("healthy-planned");
    const lock = path.join(h.cloud.dir, "state.lock");
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, "owner"), "2147483646 0 dead");
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    const started = Date.now();
    expect(updateState(h.cloud.dir, (s) => s.hosts.length)).toBe(4);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it("waits for a live holder and gives up with a clear error after the timeout", () => {
    const h = harness("healthy-planned");
    const lock = path.join(h.cloud.dir, "state.lock");
    fs.mkdirSync(lock);
    fs.writeFileSync(path.join(lock, "owner"), `${process.pid} ${Date.now()} live`);
    expect(() => withLock(h.cloud.dir, () => 1, { timeoutMs: 100 })).toThrow(SimStoreError);
    expect(() => withLock(h.cloud.dir, () => 1, { timeoutMs: 100 })).toThrow(/could not take the lock/);
    fs.rmSync(lock, { recursive: true });
    expect(withLock(h.cloud.dir, () => 2)).toBe(2);
  });
});

describe("scale", () => {
  // Per-call cost at this size is a figure `npm run bench` prints, not an assertion here.
  it("200 hosts, 5000 guests, 500 LBs: the fake tools answer the whole cloud, in-process and as a process", async () => {
    const h = harness("healthy-planned", { scale: { hosts: 200, guests: 5000, lbs: 500 } });
    const s = h.state();
    expect([s.hosts.length, s.guests.length, s.lbs.length]).toEqual([200, 5005, 502]);
    const list = await h.call("openstack", ["server", "list", "--all-projects", "-f", "json"]);
    expect(JSON.parse(list.stdout)).toHaveLength(5005);
    const status = await h.call("juju", ["status", "-m", MODEL, "nova-compute", "--format=json"]);
    expect(Object.keys(JSON.parse(status.stdout).applications["nova-compute"].units)).toHaveLength(200);
    const proc = await spawn(h, "openstack", ["loadbalancer", "list", "-f", "json"]);
    expect(JSON.parse(proc.stdout)).toHaveLength(502);
  });
});
