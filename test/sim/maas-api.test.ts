/**
 * The sim's MAAS API (sim/maas-api.ts startSimMaas): machines are the sim's hosts, power is the
 * sim state (the same transitions as the fake virsh), OAuth checked as MAAS checks it, every
 * request in the call log without its Authorization header.
 */
import { readCallLog } from "../../sim/call-log";
import { maasReplies, simSystemIds, startSimMaas, type SimMaas } from "../../sim/maas-api";
import { createSimCloud, SIM_MAAS_KEY_VAR, withMaasUrl, type SimCloud } from "../../sim/setup";
import { loadState, readState } from "../../sim/store";
import { scaledTime, type SimTime } from "../../sim/time";
import { authorizationHeader, parseApiKey } from "../../power/maas-oauth";
import { MaasDriver } from "../../power/maas";
import { realClock } from "../../runtime/clock";
import type { StepContext } from "../../runtime/step-context";
import { captureReporter } from "../support/fake-exec";
import { cleanupAll, tempDir } from "./sim-harness";

afterAll(cleanupAll);

const MAAS_ID = /^[4678abcdefghkmnpqrstwxy][34678abcdefghkmnpqrstwxy]{5}$/;

interface Fixture {
  cloud: SimCloud<"maas">;
  maas: SimMaas;
  key: string;
  clock: { ms: number };
  /** The sim's scaled clock on that fake real clock (what the sim MAAS runs on). */
  time: SimTime;
  /** A signed request to the sim MAAS (key: the sim's unless given). */
  request(method: "GET" | "POST", id: string, op: string, opts?: { key?: string; form?: string }): Promise<Response>;
  power(host: string): string;
  close(): Promise<void>;
}

async function fixture(scenario = "healthy-planned"): Promise<Fixture> {
  const cloud = createSimCloud({ dir: tempDir(), scenario, power: "maas" });
  const key = cloud.env[SIM_MAAS_KEY_VAR]!;
  const clock = { ms: loadState(cloud.dir).startedAtMs };
  const time = scaledTime(loadState(cloud.dir), { now: () => clock.ms });
  const maas = await startSimMaas(cloud.dir, { apiKey: key, time });
  return {
    cloud,
    maas,
    key,
    clock,
    time,
    request: (method, id, op, opts = {}) =>
      fetch(`${maas.url}/api/2.0/machines/${id}/?op=${op}`, {
        method,
        headers: {
          Authorization: authorizationHeader(parseApiKey(opts.key ?? key)),
          ...(opts.form === undefined ? {} : { "Content-Type": "application/x-www-form-urlencoded" }),
        },
        body: opts.form,
      }),
    power: (host) => readState(cloud.dir, time).hosts.find((h) => h.name === host)!.power,
    close: () => maas.close(),
  };
}

describe("createSimCloud({power: 'maas'})", () => {
  it("powers the hosts through MAAS with a fresh fake key in the env (18:18:32); virsh stays the default", () => {
    const cloud = createSimCloud({ dir: tempDir(), scenario: "healthy-unplanned", power: "maas" });
    const key = cloud.env[SIM_MAAS_KEY_VAR]!;
    expect(key).toMatch(/^[A-Za-z0-9]{18}:[A-Za-z0-9]{18}:[A-Za-z0-9]{32}$/);
    const ids = simSystemIds(["openstack0", "openstack1", "openstack2", "openstack3"]);
    expect(cloud.power).toBe("maas");
    expect(cloud.hostsConfig).toEqual(
      ["openstack0", "openstack1", "openstack2", "openstack3"].map((name) => ({
        name,
        power: { driver: "maas", url: "", systemId: ids[name], apiKeyEnv: SIM_MAAS_KEY_VAR },
      })),
    );
    expect(withMaasUrl(cloud.hostsConfig, "http://127.0.0.1:1/MAAS")[2]!.power.url).toBe("http://127.0.0.1:1/MAAS");
    // a second sim gets another key
    const other = createSimCloud({ dir: tempDir(), scenario: "healthy-unplanned", power: "maas" });
    expect(other.env[SIM_MAAS_KEY_VAR]).not.toBe(key);

    const virsh = createSimCloud({ dir: tempDir(), scenario: "healthy-unplanned" });
    expect(virsh.power).toBe("virsh");
    expect(virsh.env[SIM_MAAS_KEY_VAR]).toBeUndefined();
    expect(virsh.hostsConfig[0]).toEqual({
      name: "openstack0",
      power: { driver: "virsh", uri: "test:///coldstart-sim", domain: "openstack0" },
    });
  });

  it("system ids: MAAS's 6-character z-number shape, stable per host name, distinct even for 200 hosts", () => {
    const hosts = Array.from({ length: 200 }, (_, i) => `openstack${i}`);
    const ids = simSystemIds(hosts);
    expect(Object.values(ids).every((id) => MAAS_ID.test(id))).toBe(true);
    expect(new Set(Object.values(ids)).size).toBe(200);
    expect(simSystemIds(["openstack1"])).toEqual({ openstack1: ids.openstack1 });
  });
});

describe("startSimMaas", () => {
  let f: Fixture;
  afterEach(async () => f?.close());

  it("lists the sim's hosts under the same system ids as hostsConfig", async () => {
    f = await fixture();
    expect(f.maas.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/MAAS$/);
    expect(f.cloud.hostsConfig.map((h) => [h.name, h.power.systemId])).toEqual(Object.entries(f.maas.systemIds));
  });

  it("401 for a wrong key or no OAuth at all; nothing changes and the key is never logged", async () => {
    f = await fixture();
    const id = f.maas.systemIds.openstack0!;
    const [consumer, token, secret] = f.key.split(":") as [string, string, string];
    const wrongConsumer = await f.request("POST", id, "power_off", {
      key: `Zz${consumer.slice(2)}:${token}:${secret}`,
    });
    expect(wrongConsumer.status).toBe(401);
    expect(await wrongConsumer.text()).toBe("Authorization Error: Invalid API key.");
    expect(wrongConsumer.headers.get("www-authenticate")).toBe('OAuth realm="MAAS API"');
    const wrongSecret = await f.request("POST", id, "power_off", { key: `${consumer}:${token}:${"x".repeat(32)}` });
    expect(wrongSecret.status).toBe(401);
    expect(await wrongSecret.text()).toMatch(/^Authorization Error: 'Invalid signature/);
    const none = await fetch(`${f.maas.url}/api/2.0/machines/${id}/?op=power_off`, { method: "POST" });
    expect(none.status).toBe(401);
    expect(await none.text()).toBe("Authorization Required");
    expect(f.power("openstack0")).toBe("on");

    const calls = readCallLog(f.cloud.dir);
    expect(calls.map((c) => [c.tool, ...c.argv, c.exitCode])).toEqual([
      ["maas", "POST", `/MAAS/api/2.0/machines/${id}/?op=power_off`, 401],
      ["maas", "POST", `/MAAS/api/2.0/machines/${id}/?op=power_off`, 401],
      ["maas", "POST", `/MAAS/api/2.0/machines/${id}/?op=power_off`, 401],
    ]);
    const logged = JSON.stringify(calls);
    for (const piece of [f.key, consumer, token, secret, "oauth_"]) expect(logged).not.toContain(piece);
  });

  it("404 for an unknown system id (MAAS's text) and for a path that is not the machines API", async () => {
    f = await fixture();
    const unknown = await f.request("GET", "zzzzzz", "query_power_state");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe("No Machine matches the given query.");
    const elsewhere = await fetch(`${f.maas.url.replace(/MAAS$/, "maas")}/api/2.0/machines/x/?op=power_on`);
    expect(elsewhere.status).toBe(404);
    expect(readCallLog(f.cloud.dir).map((c) => c.exitCode)).toEqual([404, 404]);
  });

  it("400 for an op MAAS has no handler for", async () => {
    f = await fixture();
    const res = await f.request("GET", f.maas.systemIds.openstack1!, "power_on");
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("Unrecognised signature: method=GET op=power_on");
  });

  it("query_power_state answers from the sim state", async () => {
    f = await fixture("healthy-unplanned"); // every host lost power at t=0
    const id = f.maas.systemIds.openstack2!;
    const res = await f.request("GET", id, "query_power_state");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ state: "off" });
  });

  it("power_off stop_mode=soft is a graceful shutdown: off after the scenario's shutdownSeconds", async () => {
    f = await fixture();
    const id = f.maas.systemIds.openstack1!;
    const off = await f.request("POST", id, "power_off", { form: "stop_mode=soft" });
    expect(off.status).toBe(200);
    // like MAAS, the node JSON still shows the power state from before the action
    expect(await off.json()).toMatchObject({ system_id: id, hostname: "openstack1", power_state: "on" });
    const s = readState(f.cloud.dir, f.time);
    expect(s.hosts[1]!.shuttingDown).toBe(true);
    expect(await (await f.request("GET", id, "query_power_state")).json()).toEqual({ state: "on" });
    f.clock.ms += f.cloud.realMs(s.shutdownSeconds + 1);
    expect(await (await f.request("GET", id, "query_power_state")).json()).toEqual({ state: "off" });
    expect(f.power("openstack1")).toBe("off");
    expect(readState(f.cloud.dir, f.time).events.map((e) => e.what)).toEqual(
      expect.arrayContaining([
        "openstack1: graceful shutdown requested",
        "openstack1 powered off (graceful shutdown completed)",
      ]),
    );
  });

  it("power_off stop_mode=hard (and no stop_mode: MAAS's default) cuts power at once; power_on starts the host", async () => {
    f = await fixture();
    const [a, b] = [f.maas.systemIds.openstack0!, f.maas.systemIds.openstack3!];
    expect((await f.request("POST", a, "power_off", { form: "stop_mode=hard" })).status).toBe(200);
    expect((await f.request("POST", b, "power_off")).status).toBe(200);
    expect([f.power("openstack0"), f.power("openstack3")]).toEqual(["off", "off"]);
    const on = await f.request("POST", a, "power_on");
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ system_id: a, power_state: "off" });
    expect(f.power("openstack0")).toBe("on");
    expect(readState(f.cloud.dir, f.time).events.map((e) => e.what)).toEqual(
      expect.arrayContaining([
        "openstack0 powered off (maas power_off stop_mode=hard)",
        "openstack0 powered on (maas power_on)",
      ]),
    );
    expect(readCallLog(f.cloud.dir).map((c) => [c.tool, ...c.argv, c.exitCode])).toEqual([
      ["maas", "POST", `/MAAS/api/2.0/machines/${a}/?op=power_off`, "stop_mode=hard", 0],
      ["maas", "POST", `/MAAS/api/2.0/machines/${b}/?op=power_off`, 0],
      ["maas", "POST", `/MAAS/api/2.0/machines/${a}/?op=power_on`, 0],
    ]);
  });

  it("scenario transientPowerErrors: 503 'No rack controllers can access the BMC of node <host>' that many times, then MAAS works", async () => {
    f = await fixture("power-transient-bmc"); // openstack1: 3 soft-offs; openstack2: 2 state queries
    const [one, two] = [f.maas.systemIds.openstack1!, f.maas.systemIds.openstack2!];
    for (let i = 0; i < 3; i++) {
      const res = await f.request("POST", one, "power_off", { form: "stop_mode=soft" });
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
      expect(await res.text()).toBe("No rack controllers can access the BMC of node openstack1");
      expect(readState(f.cloud.dir, f.time).hosts[1]!.shuttingDown).toBe(false);
    }
    expect((await f.request("POST", one, "power_off", { form: "stop_mode=soft" })).status).toBe(200);
    expect(readState(f.cloud.dir, f.time).hosts[1]!.shuttingDown).toBe(true);
    // a fault is per call kind: openstack1's state queries and hard offs were never faulty
    expect((await f.request("GET", one, "query_power_state")).status).toBe(200);
    expect((await f.request("GET", two, "query_power_state")).status).toBe(503);
    expect((await f.request("GET", two, "query_power_state")).status).toBe(503);
    expect(await (await f.request("GET", two, "query_power_state")).json()).toEqual({ state: "on" });
    expect(readCallLog(f.cloud.dir).map((c) => c.exitCode)).toEqual([503, 503, 503, 0, 0, 503, 503, 0]);
  });

  it("maasReplies.noBmc is MAAS's text for a machine without a BMC (503, text/plain)", () => {
    expect(maasReplies.noBmc()).toEqual({
      status: 503,
      body: "No BMC is defined.  Cannot power control node.",
      contentType: "text/plain; charset=utf-8",
    });
  });

  it("the maas power driver works against it unchanged", async () => {
    f = await fixture("healthy-unplanned");
    const host = withMaasUrl(f.cloud.hostsConfig, f.maas.url)[0]!;
    const ctx: StepContext = {
      exec: async () => {
        throw new Error("no child process");
      },
      clock: realClock,
      env: { [SIM_MAAS_KEY_VAR]: f.key },
      out: captureReporter(),
      callTimeoutMs: 5_000,
    };
    const driver = new MaasDriver({ host: host.name, ...host.power }, ctx);
    await expect(driver.state()).resolves.toBe("off");
    await driver.on();
    await expect(driver.state()).resolves.toBe("on");
    expect(f.power("openstack0")).toBe("on");
  });

  it("close() frees the port; a new server can listen on it again (a resumed drill keeps its URL)", async () => {
    f = await fixture();
    const { port, url } = f.maas;
    await f.maas.close();
    f = { ...f, maas: await startSimMaas(f.cloud.dir, { apiKey: f.key, port }) };
    f.close = () => f.maas.close();
    expect(f.maas.url).toBe(url);
  });
});
