/**
 * Issue #22: how the maas driver classifies MAAS's answers -- permanent (the gate stops at once),
 * cut at the deadline, or transient (retried) -- and what the operator reads, for the answers the
 * stand-in machines of test/power/maas.test.ts do not give: 403, 5xx other than 503, a redirect,
 * an empty error body, an expired timestamp, a state MAAS does not name, a power type that is
 * (not) ipmi, an answer cut mid-body, a call cut or not made at the step's deadline.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../config/errors";
import type { AddressInfo } from "node:net";
import { PowerError } from "../../power/driver";
import { MAX_ANSWER_BYTES } from "../../power/http-exchange";
import { floodingAnswer } from "../support/flooding-answer";
import { MaasDriver, machineOpUrl, type MaasTarget } from "../../power/maas";
import { realClock } from "../../runtime/clock";
import type { StepContext } from "../../runtime/step-context";
import { maasReplies, serveMaasApi, type MaasApiServer, type MaasPowerCall, type MaasReply } from "../../sim/maas-api";
import { readFixture } from "../fixtures";
import { captureReporter } from "../support/fake-exec";
import { FIXTURE_API_KEY, FIXTURE_KEY } from "../support/maas-server";
import { failure } from "../support/failure";

const KEY_VAR = "COLDSTART_TEST_MAAS_KEY";

let api: MaasApiServer;
/** What the stand-in MAAS answers to every authenticated power call. */
let reply: (call: MaasPowerCall) => MaasReply;
const calls: MaasPowerCall[] = [];

beforeAll(async () => {
  api = await serveMaasApi({
    credentials: FIXTURE_KEY,
    backend: {
      exists: (id) => id === "e8xa8m",
      power: (_id, call) => {
        calls.push(call);
        return reply(call);
      },
    },
  });
});
afterAll(async () => api?.close());
beforeEach(() => {
  calls.length = 0;
  reply = () => maasReplies.powerState("on");
});

const text = (status: number, body: string): MaasReply => ({ status, body, contentType: "text/plain" });
const json = (body: unknown): MaasReply => ({
  status: 200,
  body: JSON.stringify(body),
  contentType: "application/json",
});

function context(over: Partial<StepContext> = {}): StepContext {
  return {
    exec: async (req) => {
      throw new Error(`the maas driver started a program: ${req.file}`);
    },
    clock: realClock,
    env: { [KEY_VAR]: FIXTURE_API_KEY },
    out: captureReporter(),
    callTimeoutMs: 5_000,
    ...over,
  };
}

function driver(over: Partial<MaasTarget> = {}, ctx: StepContext = context()) {
  return new MaasDriver({ host: "openstack0", url: api.url, systemId: "e8xa8m", apiKeyEnv: KEY_VAR, ...over }, ctx);
}

const who = () => `openstack0 (maas, ${api.url}, system_id e8xa8m)`;
const label = () => `openstack0 via maas (${api.url}, system_id e8xa8m)`;

describe("MAAS's HTTP answers: permanent or transient, and the line the operator reads", () => {
  it("403: the key's user may not do this -- permanent", async () => {
    reply = () => text(403, "User does not have permission.\nsecond line\n");
    const err = await failure(driver().on());
    expect(err).toBeInstanceOf(PowerError);
    expect(err).toMatchObject({ permanent: true, refused: false, cut: false });
    expect(err.message).toBe(
      `MAAS refused power_on for ${who()}: the API key's user may not do this (User does not have permission.)`,
    );
    reply = () => text(403, "");
    expect((await failure(driver().on())).message).toBe(
      `MAAS refused power_on for ${who()}: the API key's user may not do this (403 Forbidden)`,
    );
  });

  it("404, 409: permanent; an empty 409 and 503 say their status", async () => {
    reply = () => text(409, "Node is locked  \nmore");
    expect((await failure(driver().on())).message).toBe(`MAAS refused power_on for ${who()}: Node is locked`);
    reply = () => text(409, "  ");
    const conflict = await failure(driver().off(false));
    expect(conflict).toMatchObject({ permanent: true });
    expect(conflict.message).toBe(`MAAS refused power_off for ${who()}: 409 Conflict`);
    const notFound = await failure(driver({ systemId: "nosuch" }).state());
    expect(notFound).toMatchObject({ permanent: true });
    reply = () => text(503, "");
    const unavailable = await failure(driver().state());
    expect(unavailable).toMatchObject({ permanent: false });
    expect(unavailable.message).toBe(`MAAS cannot power-control ${who()}: 503 Service Unavailable`);
  });

  it("503 from a busy rack (not `No BMC is defined`): transient; the first line of a long body, at most 300 characters", async () => {
    reply = () => maasReplies.bmcUnreachable();
    const err = await failure(driver().state());
    expect(err).toMatchObject({ permanent: false });
    expect(err.message).toBe(
      `MAAS cannot power-control ${who()}: Power state could not be queried: connection timeout`,
    );
    reply = () => text(503, `\n  ${"x".repeat(400)}  \nmore`);
    expect((await failure(driver().state())).message).toBe(`MAAS cannot power-control ${who()}: ${"x".repeat(300)}`);
  });

  it("`No BMC is defined` is permanent only in a 503", async () => {
    reply = () => text(500, "No BMC is defined.  Cannot power control node.");
    const err = await failure(driver().state());
    expect(err).toMatchObject({ permanent: false });
  });

  it("any other status (500, 400, a redirect, 1xx-free 2xx bounds): transient, status and text named", async () => {
    reply = () => maasReplies.internal("Internal server error.");
    const internal = await failure(driver().state());
    expect(internal).toMatchObject({ permanent: false });
    expect(internal.message).toBe(`MAAS answered HTTP 500 to query_power_state for ${who()}: Internal server error.`);
    reply = () => ({
      status: 302,
      body: "",
      contentType: "text/plain",
      headers: { Location: "/MAAS/accounts/login/" },
    });
    const redirect = await failure(driver().state());
    expect(redirect).toMatchObject({ permanent: false });
    expect(redirect.message).toBe(`MAAS answered HTTP 302 to query_power_state for ${who()}`);
    reply = () => text(300, "Multiple Choices");
    expect((await failure(driver().state())).message).toBe(
      `MAAS answered HTTP 300 to query_power_state for ${who()}: Multiple Choices`,
    );
    // the whole 2xx range is an answer
    reply = () => ({ status: 299, body: '{"state": "off"}', contentType: "application/json" });
    await expect(driver().state()).resolves.toBe("off");
  });

  it("401 for an expired timestamp, or a text we do not know: what to fix, never MAAS's body", async () => {
    reply = () => maasReplies.unauthorized("Authorization Error: 'Expired timestamp: given 1, must be older than 2'");
    const expired = await failure(driver().state());
    expect(expired).toMatchObject({ permanent: true });
    expect(expired.message).toBe(
      `MAAS refused the API key for ${who()}: the request's timestamp is more than 5 minutes off the MAAS clock: fix this machine's clock (NTP)`,
    );
    reply = () => maasReplies.unauthorized(`Authorization Error: something new ${FIXTURE_KEY.tokenSecret}`);
    const other = await failure(driver().state());
    expect(other.message).toBe(
      `MAAS refused the API key for ${who()}: bad or expired API key (environment variable ${KEY_VAR})`,
    );
  });

  it("the key is never quoted from MAAS's body, whole or its secret alone", async () => {
    reply = () => text(409, `conflict for ${FIXTURE_API_KEY} and ${FIXTURE_KEY.tokenSecret}`);
    const err = await failure(driver().on());
    expect(err.message).toBe(`MAAS refused power_on for ${who()}: conflict for <redacted> and <redacted>`);
  });
});

describe("query_power_state's answer", () => {
  it("not JSON, or JSON without a state: transient, the answer quoted (80 characters)", async () => {
    reply = () => text(200, `<html>${"y".repeat(100)}</html>`);
    const html = await failure(driver().state());
    expect(html).toMatchObject({ permanent: false });
    expect(html.message).toBe(`${label()}: query_power_state answered "<html>${"y".repeat(74)}", not JSON`);
    reply = () => json({ power: "on" });
    expect((await failure(driver().state())).message).toBe(
      `${label()}: query_power_state answered "{\\"power\\":\\"on\\"}", expected {"state": ...}`,
    );
    reply = () => json({ power: "z".repeat(100) });
    expect((await failure(driver().state())).message).toBe(
      `${label()}: query_power_state answered "{\\"power\\":\\"${"z".repeat(70)}", expected {"state": ...}`,
    );
  });

  it("unknown: MAAS could not read the BMC; a state MAAS does not name is quoted without that hint", async () => {
    reply = () => maasReplies.powerState("unknown");
    expect((await failure(driver().state())).message).toBe(
      `${label()}: MAAS reports power state "unknown" (MAAS could not read the BMC; check the machine's power settings)`,
    );
    reply = () => json({ state: "sleeping" });
    const odd = await failure(driver().state());
    expect(odd).toMatchObject({ permanent: false });
    expect(odd.message).toBe(`${label()}: MAAS reports power state "sleeping"`);
  });
});

describe("power_on / power_off's answer", () => {
  const node = (power_type: string) => maasReplies.node({ power_type }, { systemId: "e8xa8m", hostname: "openstack0" });

  it("soft off of power type ipmi: no note (MAAS passes stop_mode on); any other type: MAAS powers it off hard", async () => {
    reply = () => node("ipmi");
    await expect(driver().off(true)).resolves.toBeUndefined();
    reply = () => node("redfish");
    await expect(driver().off(true)).resolves.toBe(
      "MAAS power type redfish has no soft power-off: MAAS powers it off hard whatever stop_mode says (only ipmi gets a soft off)",
    );
    // a hard off needs no note, whatever the type
    await expect(driver().off(false)).resolves.toBeUndefined();
    expect(calls).toEqual([
      { op: "power_off", stopMode: "soft" },
      { op: "power_off", stopMode: "soft" },
      { op: "power_off", stopMode: "hard" },
    ]);
  });

  it("an answer that is not JSON, or names no power type: nothing said about the type", async () => {
    reply = () => text(200, "done");
    await expect(driver().off(true)).resolves.toBeUndefined();
    reply = () => json({ system_id: "e8xa8m" });
    await expect(driver().off(true)).resolves.toBeUndefined();
  });

  it("power_on answered with nothing: permanent, power it on by hand", async () => {
    reply = () => text(200, " \n");
    const err = await failure(driver().on());
    expect(err).toMatchObject({ permanent: true });
    expect(err.message).toBe(
      `${label()}: MAAS sent no power_on (its power type cannot do it, e.g. manual): power the machine on by hand`,
    );
    reply = () => node("manual");
    await expect(driver().on()).resolves.toBeUndefined();
  });
});

describe("the call itself", () => {
  it("sends Accept: application/json and the OAuth header; a POST's form is urlencoded, power_on's empty", async () => {
    const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { "Content-Type": "application/json" }).end(readFixture("maas/power-off-response.json"));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/MAAS//`;
      await driver({ url, systemId: "e8 xa/8m" }).on();
      // a GET has no body and no form type
      await failure(driver({ url }).state());
      expect(seen[1]?.headers["content-type"]).toBeUndefined();
      expect(seen[1]?.headers["content-length"]).toBeUndefined();
      seen.length = 1;
      expect(seen[0]).toMatchObject({
        method: "POST",
        url: "/MAAS/api/2.0/machines/e8%20xa%2F8m/?op=power_on",
        body: "",
        headers: {
          accept: "application/json",
          "content-type": "application/x-www-form-urlencoded",
          authorization: expect.stringMatching(/^OAuth oauth_nonce="\d+"/) as string,
        },
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(machineOpUrl("http://maas:5240/MAAS///", "a b", "power_off")).toBe(
      "http://maas:5240/MAAS/api/2.0/machines/a%20b/?op=power_off",
    );
  });

  it("a CA file that is missing or holds no PEM: a usage error naming it as configured and as expanded, nothing sent", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-maas-ca-"));
    try {
      fs.writeFileSync(path.join(home, "ca.txt"), "not a certificate\n");
      const ctx = context({ env: { [KEY_VAR]: FIXTURE_API_KEY, HOME: home } });
      const missing = await failure(driver({ caFile: "~/nope.pem" }, ctx).state());
      expect(missing).toBeInstanceOf(UsageError);
      expect(missing.message).toBe(
        `openstack0 (maas): the CA file ~/nope.pem (${home}/nope.pem) does not exist: fix caFile in the stack config`,
      );
      const notPem = await failure(driver({ caFile: path.join(home, "ca.txt") }, ctx).state());
      expect(notPem).toBeInstanceOf(UsageError);
      expect(notPem.message).toBe(
        `openstack0 (maas): the CA file ${home}/ca.txt holds no PEM certificate (no -----BEGIN CERTIFICATE----- line): fix caFile in the stack config`,
      );
      fs.writeFileSync(path.join(home, "ca.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
      // a PEM is passed on (node:http ignores it on an http:// URL)
      await expect(driver({ caFile: "~/ca.pem" }, ctx).state()).resolves.toBe("on");
      expect(calls).toEqual([{ op: "query_power_state" }]);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("the step's time budget spent: not asked at all, a cut error", async () => {
    const err = await failure(driver({}, context({ deadline: Date.now() - 1 })).state());
    expect(err).toBeInstanceOf(PowerError);
    expect(err).toMatchObject({ cut: true, permanent: false });
    expect(err.message).toBe(`${label()}: not asked: the step's time budget was spent`);
    expect(calls).toEqual([]);
  });

  it("no answer before the step's deadline: a cut error naming the time it had; at the call timeout: transient, not cut", async () => {
    reply = () => {
      throw new Error("never answered");
    };
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/MAAS`;
      const cut = await failure(driver({ url }, context({ deadline: Date.now() + 300 })).state());
      expect(cut).toMatchObject({ cut: true, permanent: false });
      expect(cut.message).toMatch(
        new RegExp(
          `^cannot reach MAAS at ${url} for openstack0 \\(maas\\): no answer within \\d+ms \\(cut to what was left of the step's budget\\)$`,
        ),
      );
      const timedOut = await failure(driver({ url }, context({ callTimeoutMs: 300 })).state());
      expect(timedOut).toMatchObject({ cut: false, permanent: false });
      expect(timedOut.message).toBe(`cannot reach MAAS at ${url} for openstack0 (maas): no answer within 300ms`);
    } finally {
      hanging.closeAllConnections();
      await new Promise((r) => hanging.close(r));
    }
  });

  it("an answer larger than any MAAS answer: refused, its reason named", async () => {
    const flooding = http.createServer(floodingAnswer);
    await new Promise<void>((r) => flooding.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(flooding.address() as AddressInfo).port}/MAAS`;
      const err = await failure(driver({ url }).state());
      expect(err).toMatchObject({ cut: false, permanent: false });
      expect(err.message).toBe(
        `cannot reach MAAS at ${url} for openstack0 (maas): answer larger than ${MAX_ANSWER_BYTES} bytes -- is the MAAS region controller up and the URL right?`,
      );
    } finally {
      flooding.closeAllConnections();
      await new Promise((r) => flooding.close(r));
    }
  });

  it("an answer cut before its last byte: MAAS unreachable (transient), saying so", async () => {
    const cutting = http.createServer((_req, res) => {
      res.writeHead(200, { "Content-Length": "100" });
      res.write('{"state": "o');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((r) => cutting.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(cutting.address() as AddressInfo).port}/MAAS`;
      const err = await failure(driver({ url }).state());
      expect(err).toMatchObject({ cut: false, permanent: false, refused: false });
      // node:http reports the cut as the answer's error: ECONNRESET ("aborted"), kept as the cause
      expect(err.cause).toMatchObject({ code: "ECONNRESET" });
      expect(err.message).toBe(
        `cannot reach MAAS at ${url} for openstack0 (maas): ECONNRESET -- is the MAAS region controller up and the URL right?`,
      );
    } finally {
      await new Promise((r) => cutting.close(r));
    }
  });
});
