/**
 * The MAAS driver against a local stand-in of the MAAS 2.0 API (test/support/maas-server.ts):
 * requests, OAuth PLAINTEXT header, MAAS's answers and errors, the key's sources, and the leak
 * test (no child process at all; the token secret only ever in the Authorization header).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../config/errors";
import { PowerError } from "../../power/driver";
import { MaasDriver, machineOpUrl, type MaasTarget } from "../../power/maas";
import { authorizationHeader, oauthEncode, parseApiKey } from "../../power/maas-oauth";
import { driverFromFlags } from "../../power/from-flags";
import type { Exec } from "../../runtime/exec";
import type { StepContext } from "../../runtime/step-context";
import { fakeClock, realClock } from "../../runtime/clock";
import { powerOff } from "../../steps/power";
import { readFixture } from "../fixtures";
import { captureReporter, type CapturingReporter } from "../support/fake-exec";
import { FIXTURE_API_KEY, FIXTURE_KEY, startMaasServer, type MaasServer } from "../support/maas-server";
import { maasReplies, serveMaasApi } from "../../sim/maas-api";
import { failure } from "../support/failure";

let maas: MaasServer;
let tmp: string;

const KEY_VAR = "COLDSTART_TEST_MAAS_KEY";

beforeAll(async () => {
  maas = await startMaasServer();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-maas-test-"));
});

afterAll(async () => {
  await maas?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

beforeEach(() => {
  maas.machines.clear();
  maas.requests.length = 0;
  maas.addMachine({ systemId: "e8xa8m", hostname: "openstack0" });
});

/** Any child process is a test failure: the MAAS driver talks HTTP only. */
const noChildren: Exec = async (req) => {
  throw new Error(`the maas driver started a program: ${req.file}`);
};

function context(env: NodeJS.ProcessEnv = { [KEY_VAR]: FIXTURE_API_KEY }, callTimeoutMs = 5_000) {
  const ctx: StepContext & { out: CapturingReporter } = {
    exec: noChildren,
    clock: realClock,
    env,
    out: captureReporter(),
    callTimeoutMs,
  };
  return ctx;
}

function target(over: Partial<MaasTarget> = {}): MaasTarget {
  return { host: "openstack0", url: maas.url, systemId: "e8xa8m", apiKeyEnv: KEY_VAR, ...over };
}

function driver(over: Partial<MaasTarget> = {}, env?: NodeJS.ProcessEnv, callTimeoutMs?: number) {
  const ctx = context(env, callTimeoutMs);
  return { ctx, driver: new MaasDriver(target(over), ctx) };
}

const machine = (id = "e8xa8m") => maas.machines.get(id)!;

describe("maas driver: power through the MAAS 2.0 API", () => {
  it("state: GET .../machines/<id>/?op=query_power_state", async () => {
    const { driver: d } = driver();
    await expect(d.state()).resolves.toBe("on");
    machine().power = "off";
    await expect(d.state()).resolves.toBe("off");
    expect(maas.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      "GET /MAAS/api/2.0/machines/e8xa8m/?op=query_power_state",
      "GET /MAAS/api/2.0/machines/e8xa8m/?op=query_power_state",
    ]);
  });

  it("on: POST ?op=power_on", async () => {
    machine().power = "off";
    const { driver: d } = driver();
    await d.on();
    expect(machine().power).toBe("on");
    expect(maas.requests[0]).toMatchObject({ method: "POST", url: "/MAAS/api/2.0/machines/e8xa8m/?op=power_on" });
  });

  it("off: POST ?op=power_off with stop_mode=soft (graceful) or stop_mode=hard", async () => {
    const { driver: d } = driver();
    // the fixture node is power type virsh: MAAS powers it off hard whatever stop_mode says
    await expect(d.off(true)).resolves.toBe(
      "MAAS power type virsh has no soft power-off: MAAS powers it off hard whatever stop_mode says (only ipmi gets a soft off)",
    );
    await expect(d.off(false)).resolves.toBeUndefined();
    expect(maas.requests.map((r) => [r.method, r.url, r.contentType, r.body])).toEqual([
      ["POST", "/MAAS/api/2.0/machines/e8xa8m/?op=power_off", "application/x-www-form-urlencoded", "stop_mode=soft"],
      ["POST", "/MAAS/api/2.0/machines/e8xa8m/?op=power_off", "application/x-www-form-urlencoded", "stop_mode=hard"],
    ]);
  });

  it("never trusts power_off's answer (it still says power_state on): only query_power_state counts", async () => {
    maas.addMachine({ systemId: "k3pwqa", hostname: "openstack1", offAfterPolls: 2 });
    const { driver: d } = driver({ systemId: "k3pwqa", host: "openstack1" });
    await d.off(true);
    expect(JSON.parse(readFixture("maas/power-off-response.json")).power_state).toBe("on");
    const polls = [await d.state(), await d.state(), await d.state()];
    expect(polls).toEqual(["on", "on", "off"]);
  });

  it("a trailing slash on the URL is fine", async () => {
    const { driver: d } = driver({ url: `${maas.url}/` });
    await expect(d.state()).resolves.toBe("on");
    expect(machineOpUrl("http://maas:5240/MAAS/", "e8xa8m", "power_on")).toBe(
      "http://maas:5240/MAAS/api/2.0/machines/e8xa8m/?op=power_on",
    );
  });

  it("is built from a power step's flags", async () => {
    const ctx = context();
    const d = driverFromFlags(
      { host: "openstack0", driver: "maas", "maas-url": maas.url, "system-id": "e8xa8m", "api-key-env": KEY_VAR },
      ctx,
    );
    expect(d.label).toBe(`openstack0 via maas (${maas.url}, system_id e8xa8m)`);
    await expect(d.state()).resolves.toBe("on");
  });

  it("from flags: missing flags, both or neither key flag, a bad URL are usage errors naming the flag", () => {
    const ctx = context();
    const base = { host: "openstack3" as const, driver: "maas" as const };
    expect(() => driverFromFlags({ ...base, "system-id": "yq4fbe", "api-key-env": KEY_VAR }, ctx)).toThrow(
      new UsageError("--maas-url: required with --driver maas (host openstack3)"),
    );
    expect(() => driverFromFlags({ ...base, "maas-url": maas.url, "api-key-env": KEY_VAR }, ctx)).toThrow(
      new UsageError("--system-id: required with --driver maas (host openstack3)"),
    );
    expect(() => driverFromFlags({ ...base, "maas-url": maas.url, "system-id": "yq4fbe" }, ctx)).toThrow(
      new UsageError("--api-key-file or --api-key-env: one is required with --driver maas (host openstack3)"),
    );
    expect(() =>
      driverFromFlags(
        { ...base, "maas-url": maas.url, "system-id": "yq4fbe", "api-key-env": KEY_VAR, "api-key-file": "/k" },
        ctx,
      ),
    ).toThrow(new UsageError("--api-key-file and --api-key-env: give only one with --driver maas (host openstack3)"));
    expect(() =>
      driverFromFlags({ ...base, "maas-url": "maas:5240/MAAS", "system-id": "yq4fbe", "api-key-env": KEY_VAR }, ctx),
    ).toThrow(UsageError);
  });
});

describe("OAuth 1.0 PLAINTEXT, as MAAS's CLI signs", () => {
  const fixtureHeader = readFixture("maas/oauth-authorization-header.maascli-style.txt").trim();

  it("reproduces the fixture header byte for byte (same key, nonce and timestamp)", () => {
    const nonce = /oauth_nonce="(\d+)"/.exec(fixtureHeader)![1]!;
    const timestamp = /oauth_timestamp="(\d+)"/.exec(fixtureHeader)![1]!;
    expect(authorizationHeader(parseApiKey(FIXTURE_API_KEY), { nonce, timestamp })).toBe(fixtureHeader);
  });

  it("each request's header has exactly the fixture's structure, a fresh nonce and the current time", async () => {
    const { driver: d } = driver();
    await d.state();
    await d.state();
    const [a, b] = maas.requests.map((r) => r.authorization ?? "");
    const shape = (h: string) =>
      h.replace(/oauth_nonce="\d+"/, 'oauth_nonce="N"').replace(/oauth_timestamp="\d+"/, 'oauth_timestamp="T"');
    expect(shape(a!)).toBe(shape(fixtureHeader));
    expect(shape(b!)).toBe(shape(fixtureHeader));
    const nonce = (h: string) => /oauth_nonce="(\d+)"/.exec(h)![1];
    expect(nonce(a!)).not.toBe(nonce(b!));
    const ts = Number(/oauth_timestamp="(\d+)"/.exec(a!)![1]);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(10);
  });

  it("splits the key as MAAS does, and refuses anything but three parts without printing it", () => {
    const split = JSON.parse(readFixture("maas/api-key.split.json")) as Record<string, string>;
    expect(parseApiKey(split.api_key!)).toEqual({
      consumerKey: split.consumer_key,
      tokenKey: split.token_key,
      tokenSecret: split.token_secret,
    });
    expect(() => parseApiKey("a:b")).toThrow("it has 2 colon-separated parts, MAAS keys have 3");
    expect(() => parseApiKey("a:b:c:d")).toThrow("it has 4 colon-separated parts");
    expect(() => parseApiKey("a::c")).toThrow("has an empty token_key");
  });

  it("percent-encodes as RFC 5849 (the signature's & is %26)", () => {
    expect(oauthEncode("&Tu8")).toBe("%26Tu8");
    expect(oauthEncode("a b!*'()~-._")).toBe("a%20b%21%2A%27%28%29~-._");
  });
});

describe("maas errors: one clear line naming the host and the driver", () => {
  const who = () => `openstack0 (maas, ${maas.url}, system_id e8xa8m)`;

  it("401 unknown consumer key", async () => {
    const wrong = `Zz7bTzP3kLmN9aBcDe:${FIXTURE_KEY.tokenKey}:${FIXTURE_KEY.tokenSecret}`;
    const err = await failure(driver({}, { [KEY_VAR]: wrong }).driver.state());
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toBe(
      `MAAS refused the API key for ${who()}: unknown consumer key (first part of the key in environment variable ${KEY_VAR})`,
    );
  });

  it("401 unknown (revoked) token", async () => {
    const wrong = `${FIXTURE_KEY.consumerKey}:Zz4HiJk5LmN6oPq7Rs:${FIXTURE_KEY.tokenSecret}`;
    const err = await failure(driver({}, { [KEY_VAR]: wrong }).driver.on());
    expect(err.message).toBe(
      `MAAS refused the API key for ${who()}: unknown or revoked token (second part of the key in environment variable ${KEY_VAR}); create a new API key in MAAS`,
    );
  });

  it("401 wrong token secret: never echoes MAAS's body, which holds the real secret", async () => {
    const wrongSecret = "Zz8VwXy9Za0Bc1De2Fg3Hi4Jk5Lm6No7";
    const err = await failure(
      driver({}, { [KEY_VAR]: `${FIXTURE_KEY.consumerKey}:${FIXTURE_KEY.tokenKey}:${wrongSecret}` }).driver.off(true),
    );
    expect(err.message).toBe(
      `MAAS refused the API key for ${who()}: wrong token secret (third part of the key in environment variable ${KEY_VAR})`,
    );
    // what MAAS actually answered (the server mimics it) does hold the real secret
    expect(maas.requests).toHaveLength(1);
    expect(err.message).not.toContain(FIXTURE_KEY.tokenSecret);
    expect(err.message).not.toContain(wrongSecret);
  });

  it("404 unknown system_id: wrong systemId", async () => {
    const err = await failure(driver({ systemId: "zzzzzz" }).driver.state());
    expect(err.message).toBe(
      `MAAS has no machine zzzzzz for openstack0 (maas, ${maas.url}, system_id zzzzzz): wrong systemId in the stack config (MAAS: No Machine matches the given query.)`,
    );
  });

  it("404 from a URL that is not the MAAS API", async () => {
    const err = await failure(driver({ url: maas.url.replace(/\/MAAS$/, "/maas") }).driver.state());
    expect(err.message).toMatch(
      /MAAS answered 404 for query_power_state for .*: is the URL right \(it ends in \/MAAS\)\?$/,
    );
  });

  it("409: the MAAS text (power_on on a machine nobody allocated)", async () => {
    machine().allocated = false;
    const err = await failure(driver().driver.on());
    expect(err.message).toBe(`MAAS refused power_on for ${who()}: Can't start node: it hasn't been allocated.`);
  });

  it("503: MAAS cannot reach the BMC -- transient (a rack controller may reach it on the next try)", async () => {
    machine().bmcReachable = false;
    const d = driver().driver;
    for (const call of [d.state(), d.on(), d.off(false)]) {
      const err = await failure(call);
      expect(err.message).toBe(
        `MAAS cannot power-control ${who()}: No rack controllers can access the BMC of node openstack0`,
      );
      expect(err).toMatchObject({ permanent: false, refused: false });
    }
  });

  it("503 another power action in progress (MAAS is busy with this machine): transient, never a refusal; power-off retries the soft-off, no stop_mode=hard", async () => {
    let softOffs = 0;
    let power: "on" | "off" = "on";
    const busy = await serveMaasApi({
      credentials: FIXTURE_KEY,
      backend: {
        exists: () => true,
        power: (_id, call) => {
          if (call.op === "query_power_state") return maasReplies.powerState(power);
          if (call.op === "power_off" && call.stopMode === "soft" && ++softOffs <= 2)
            return maasReplies.powerActionInProgress("off", "openstack0");
          if (call.op === "power_off") power = "off";
          return { status: 200, body: readFixture("maas/power-off-response.json"), contentType: "application/json" };
        },
      },
    });
    try {
      const err = await failure(driver({ url: busy.url }).driver.off(true));
      expect(err.message).toBe(
        `MAAS cannot power-control openstack0 (maas, ${busy.url}, system_id e8xa8m): Unable to change power state to 'off' for node openstack0: another action is already in progress for that node.`,
      );
      expect(err).toMatchObject({ permanent: false, refused: false });

      softOffs = 0;
      const ctx = { ...context(), clock: fakeClock(0) };
      const o = await powerOff(
        {
          host: "openstack0",
          driver: "maas",
          "maas-url": busy.url,
          "system-id": "e8xa8m",
          "api-key-env": KEY_VAR,
          "graceful-timeout": 60_000,
          interval: 10_000,
        },
        ctx,
      );
      expect(o).toMatchObject({
        outcome: "pass",
        verdict: { summary: expect.stringMatching(/off after a graceful shutdown$/) as string },
      });
      expect(softOffs).toBe(3);
      expect(
        ctx.out.lines.filter((l) =>
          /^RAN: .*: graceful shutdown.*: transient error \(.*\); graceful path retried in 10s$/.test(l),
        ),
      ).toHaveLength(2);
    } finally {
      await busy.close();
    }
  });

  it("503 `No BMC is defined.` (a machine without a BMC): permanent, the decisive line", async () => {
    const noBmc = await serveMaasApi({
      credentials: FIXTURE_KEY,
      backend: { exists: () => true, power: () => maasReplies.noBmc() },
    });
    try {
      const err = await failure(driver({ url: noBmc.url }).driver.state());
      expect(err.message).toBe(
        `MAAS cannot power-control openstack0 (maas, ${noBmc.url}, system_id e8xa8m): No BMC is defined.  Cannot power control node.`,
      );
      expect((err as PowerError).permanent).toBe(true);
    } finally {
      await noBmc.close();
    }
  });

  it("power_off answered with nothing (MAAS sent no power action: e.g. power type manual): permanent", async () => {
    const none = await serveMaasApi({
      credentials: FIXTURE_KEY,
      backend: { exists: () => true, power: () => ({ status: 200, body: "null", contentType: "application/json" }) },
    });
    try {
      const err = await failure(driver({ url: none.url }).driver.off(true));
      expect(err.message).toMatch(
        /MAAS sent no power_off \(its power type cannot do it, e.g\. manual\): power the machine off by hand$/,
      );
      expect((err as PowerError).permanent).toBe(true);
    } finally {
      await none.close();
    }
  });

  it("query_power_state unknown / error: a PowerError (the gate polls on)", async () => {
    machine().power = "error";
    const err = await failure(driver().driver.state());
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toBe(
      `openstack0 via maas (${maas.url}, system_id e8xa8m): MAAS reports power state "error" (MAAS could not read the BMC; check the machine's power settings)`,
    );
  });

  it("connection refused: MAAS unreachable", async () => {
    const gone = await startMaasServer();
    const url = gone.url;
    await gone.close();
    const err = await failure(driver({ url }).driver.state());
    expect(err).toBeInstanceOf(PowerError);
    expect(err.message).toBe(
      `cannot reach MAAS at ${url} for openstack0 (maas): ECONNREFUSED -- is the MAAS region controller up and the URL right?`,
    );
  });

  it("in a drill every exchange is held on the clock (no cloud time passes while MAAS answers)", async () => {
    const held: Promise<unknown>[] = [];
    const { ctx, driver: d } = driver();
    ctx.clock = {
      ...realClock,
      hold: <T>(p: Promise<T>) => {
        held.push(p);
        return p;
      },
    };
    await d.state();
    await d.off(false);
    expect(held).toHaveLength(2);
    expect(maas.requests).toHaveLength(2);
  });

  it("no answer within ctx.callTimeoutMs: MAAS unreachable, bounded", async () => {
    machine().hangMs = 3_000;
    const started = Date.now();
    const err = await failure(driver({}, undefined, 400).driver.state());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err.message).toBe(`cannot reach MAAS at ${maas.url} for openstack0 (maas): no answer within 400ms`);
  });
});

describe("the MAAS key: where it comes from, and that it never leaks", () => {
  it("from a file (~/ expanded, trailing newline dropped)", async () => {
    fs.writeFileSync(path.join(tmp, "maas-api-key"), `${FIXTURE_API_KEY}\n`, { mode: 0o600 });
    const { driver: d } = driver({ apiKeyEnv: undefined, apiKeyFile: "~/maas-api-key" }, { HOME: tmp });
    await expect(d.state()).resolves.toBe("on");
  });

  it("from an environment variable", async () => {
    await expect(driver({}, { [KEY_VAR]: `${FIXTURE_API_KEY}\n` }).driver.state()).resolves.toBe("on");
  });

  it("missing / empty / malformed: a usage error naming where, and no request is sent", async () => {
    const missing = await failure(driver({}, {}).driver.state());
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toBe(
      `openstack0 (maas): the MAAS API key variable ${KEY_VAR} is not set in the environment of this run (export it in the shell that runs pulumi up)`,
    );
    const noFile = await failure(driver({ apiKeyEnv: undefined, apiKeyFile: "/nonexistent/key" }, {}).driver.state());
    expect(noFile.message).toBe("openstack0 (maas): the MAAS API key file /nonexistent/key does not exist");
    const empty = await failure(driver({}, { [KEY_VAR]: "  \n" }).driver.state());
    expect(empty.message).toBe(`openstack0 (maas): the MAAS API key in environment variable ${KEY_VAR} is empty`);
    const twoParts = `${FIXTURE_KEY.consumerKey}:${FIXTURE_KEY.tokenSecret}`;
    const malformed = await failure(driver({}, { [KEY_VAR]: twoParts }).driver.state());
    expect(malformed).toBeInstanceOf(UsageError);
    expect(malformed.message).toBe(
      `openstack0 (maas): the MAAS API key in environment variable ${KEY_VAR} is not consumer_key:token_key:token_secret (it has 2 colon-separated parts, MAAS keys have 3)`,
    );
    expect(malformed.message).not.toContain(FIXTURE_KEY.tokenSecret);
    expect(maas.requests).toEqual([]);
  });

  it("leak test: no child process; the secret is only in the Authorization header (never URL, body, output, errors)", async () => {
    const ctx = context();
    const d = new MaasDriver(target(), ctx);
    const errors: string[] = [];
    await d.state();
    await d.off(true);
    await d.on();
    machine().bmcReachable = false;
    errors.push((await failure(d.off(false))).message);
    const wrongSecret = new MaasDriver(
      target(),
      context({ [KEY_VAR]: `${FIXTURE_KEY.consumerKey}:${FIXTURE_KEY.tokenKey}:Zz8VwXy9Za0Bc1De2Fg3Hi4Jk5Lm6No7` }),
    );
    errors.push((await failure(wrongSecret.state())).message);
    // ctx.exec throws on any call: reaching here means nothing was spawned.
    const secret = FIXTURE_KEY.tokenSecret;
    for (const r of maas.requests) {
      expect(r.url).not.toContain(secret);
      expect(r.body).not.toContain(secret);
    }
    expect(maas.requests.slice(0, 4).every((r) => r.authorization?.endsWith(`oauth_signature="%26${secret}"`))).toBe(
      true,
    );
    const everything = [ctx.out.all(), d.label, ...errors].join("\n");
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(FIXTURE_API_KEY);
  });
});
