/**
 * Transport of the power credentials (issue #21): MAAS over https unless the stack opts in to
 * plain http (allowPlainHttp), the CA file of a MAAS with its own certificate (caFile, against a
 * real local TLS server with a self-signed certificate made by openssl), preflight's WARN for
 * the opt-in, and IPMI cipher suite 0 (no authentication) refused unless allowNoAuthCipher.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { describeIssues, UsageError } from "../../config/errors";
import { hostSchema, powerSchema } from "../../config/schema";
import { PowerError } from "../../power/driver";
import { httpExchange } from "../../power/http-exchange";
import { MaasDriver, type MaasTarget } from "../../power/maas";
import { driverFromFlags } from "../../power/from-flags";
import { powerFlags, powerSpecFromFlags } from "../../stages/power-flags";
import { POWER_STATE } from "../../stages/power-on";
import { powerCheck, resultLines, verdictOf } from "../../preflight/checks";
import { realClock } from "../../runtime/clock";
import type { StepContext } from "../../runtime/step-context";
import { captureReporter } from "../support/fake-exec";
import { FIXTURE_API_KEY } from "../support/maas-server";
import { failure } from "../support/failure";

/** The one line the config loader prints for the first problem of a host's power settings. */
function refusal(power: Record<string, unknown>): string {
  const host = { name: "openstack0", power };
  const parsed = hostSchema.safeParse(host);
  if (parsed.success) return "accepted";
  return describeIssues("coldstart:hosts[0]", parsed.error, host)[0]!;
}

const maas = (over: Record<string, unknown> = {}) => ({
  driver: "maas",
  url: "https://10.20.0.2:5443/MAAS",
  systemId: "e8xa8m",
  apiKeyFile: "~/.config/coldstart/maas-api-key",
  ...over,
});

describe("MAAS: https unless the stack opts in to plain http", () => {
  it("refuses http:// to another machine in one line naming the field and both fixes", () => {
    const line = refusal(maas({ url: "http://10.20.0.2:5240/MAAS" }));
    expect(line).toBe(
      "coldstart:hosts[0].power.url: plain http:// sends the MAAS API key's token secret in clear on every call: use https:// (MAAS: maas config-tls enable), or set allowPlainHttp: true on this host's power to accept that, found \"http://10.20.0.2:5240/MAAS\"",
    );
    expect(line).not.toContain("\n");
    expect(refusal(maas({ url: "http://maas.example:5240/MAAS", allowPlainHttp: false }))).toMatch(
      /^coldstart:hosts\[0\]\.power\.url: plain http:\/\//,
    );
  });

  it("accepts https://, and http:// with allowPlainHttp: true", () => {
    expect(refusal(maas())).toBe("accepted");
    expect(refusal(maas({ url: "http://10.20.0.2:5240/MAAS", allowPlainHttp: true }))).toBe("accepted");
  });

  it("accepts http:// to this machine (the sim's MAAS on 127.0.0.1): no key crosses a network", () => {
    for (const url of ["http://127.0.0.1:5240/MAAS", "http://localhost:5240/MAAS", "http://[::1]:5240/MAAS"])
      expect(refusal(maas({ url }))).toBe("accepted");
    // a name that merely starts like loopback is another machine
    expect(refusal(maas({ url: "http://127.0.0.1.evil.example/MAAS" }))).toMatch(/plain http:\/\//);
  });

  it("refuses caFile on an http:// URL (it would be ignored)", () => {
    expect(refusal(maas({ url: "http://127.0.0.1:5240/MAAS", caFile: "/etc/ca.pem" }))).toBe(
      'coldstart:hosts[0].power.caFile: caFile is used only over https://: make url https://, or remove caFile, found "/etc/ca.pem"',
    );
  });

  it("the opt-in and the CA file travel in the power steps' flags and back through powerSchema", () => {
    const host = hostSchema.parse({
      name: "openstack0",
      power: maas({ url: "http://10.20.0.2:5240/MAAS", allowPlainHttp: true }),
    });
    expect(powerFlags(host)).toMatchObject({ "maas-url": "http://10.20.0.2:5240/MAAS", "allow-plain-http": "true" });
    const gate = (flags: Record<string, unknown>) =>
      POWER_STATE.flags.parse({ expect: "on", timeout: "10m", interval: "10s", ...flags });
    expect(powerSpecFromFlags(gate(powerFlags(host)))).toEqual(host.power);
    // a step run by hand without the opt-in is refused like the config, naming the flag
    const { "allow-plain-http": _, ...without } = powerFlags(host) as Record<string, unknown>;
    expect(() => powerSpecFromFlags(gate(without))).toThrow(/^--maas-url: plain http:\/\/ sends the MAAS API key/);
    const withCa = hostSchema.parse({ name: "openstack0", power: maas({ caFile: "~/maas-ca.pem" }) });
    expect(powerFlags(withCa)).toMatchObject({ "ca-file": "~/maas-ca.pem" });
    expect(powerSpecFromFlags(gate(powerFlags(withCa)))).toEqual(withCa.power);
  });
});

describe("preflight: plain http by opt-in is a WARN line, not a failure", () => {
  const label = "openstack0 via maas (http://10.20.0.2:5240/MAAS, system_id e8xa8m)";
  const spec = powerSchema.parse(maas({ url: "http://10.20.0.2:5240/MAAS", allowPlainHttp: true }));

  it("warns with the fix, and the stack stays READY", () => {
    const outcome = powerCheck(label, spec, { ok: true, value: "on" });
    expect(outcome.status).toBe("warn");
    const lines = resultLines({ id: "power-openstack0", title: "", durationMs: 40, ...outcome });
    expect(lines[0]).toBe(
      `WARN    power-openstack0 (0.04s): ${label}: power on, over plain http:// (allowPlainHttp): the MAAS API key's token secret crosses the network in clear on every call`,
    );
    expect(lines[1]).toMatch(/^ {8}fix: enable TLS on MAAS \(sudo maas config-tls enable <key> <cert>, port 5443\)/);
    expect(verdictOf([outcome])).toEqual({ verdict: "ready", exitCode: 0 });
  });

  it("https and the sim's loopback MAAS pass without a warning; a failure still fails", () => {
    expect(powerCheck(label, powerSchema.parse(maas()), { ok: true, value: "off" }).status).toBe("pass");
    const loopback = powerSchema.parse(maas({ url: "http://127.0.0.1:5240/MAAS" }));
    expect(powerCheck(label, loopback, { ok: true, value: "on" }).status).toBe("pass");
    expect(powerCheck(label, spec, { ok: false, error: "cannot reach MAAS" }).status).toBe("fail");
  });
});

describe("IPMI: a cipher suite without authentication only by opt-in", () => {
  const ipmi = (over: Record<string, unknown> = {}) => ({
    driver: "ipmi",
    bmc: "10.20.0.13",
    user: "admin",
    passwordEnv: "IPMI_PW",
    ...over,
  });

  it("refuses suite 0 in one line naming the field and the fix", () => {
    expect(refusal(ipmi({ cipherSuite: 0 }))).toBe(
      "coldstart:hosts[0].power.cipherSuite: cipher suite 0 has no authentication (RAKP-none: a session without the password): use 3 or 17, or set allowNoAuthCipher: true on this host's power to accept that, found 0",
    );
  });

  it("accepts suite 0 with allowNoAuthCipher: true, and every suite that authenticates without it", () => {
    expect(refusal(ipmi({ cipherSuite: 0, allowNoAuthCipher: true }))).toBe("accepted");
    for (const suite of [1, 2, 3, 6, 7, 8, 11, 12, 15, 16, 17])
      expect(refusal(ipmi({ cipherSuite: suite }))).toBe("accepted");
    expect(refusal(ipmi())).toBe("accepted"); // the default, 3
  });

  it("a power step given -C 0 by hand is refused the same way, and accepted with the flag", () => {
    const flags = {
      host: "openstack3",
      driver: "ipmi",
      bmc: "b",
      user: "u",
      "password-env": "PW",
      "cipher-suite": "0",
    };
    const gate = (extra: Record<string, unknown>) =>
      POWER_STATE.flags.parse({ expect: "on", timeout: "10m", interval: "10s", ...flags, ...extra });
    expect(() => powerSpecFromFlags(gate({}))).toThrow(/^--cipher-suite: cipher suite 0 has no authentication/);
    expect(powerSpecFromFlags(gate({ "allow-no-auth-cipher": "true" }))).toMatchObject({
      cipherSuite: 0,
      allowNoAuthCipher: true,
    });
    expect(() => gate({ "allow-no-auth-cipher": "yes please" })).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------
// https with a CA file, against a real TLS server

const OPENSSL = spawnSync("openssl", ["version"], { encoding: "utf8" }).status === 0;
if (!OPENSSL)
  // node:crypto cannot make an X.509 certificate: without openssl these tests cannot run
  process.stderr.write(
    "NOTICE: openssl not found: the https + caFile tests of test/power/transport.test.ts are SKIPPED\n",
  );
const withOpenssl = OPENSSL ? describe : describe.skip;

withOpenssl("MAAS over https with caFile (a real TLS server, self-signed for 127.0.0.1)", () => {
  let dir: string;
  let server: https.Server;
  let url: string;
  let caFile: string;
  const paths: string[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-tls-test-"));
    const key = path.join(dir, "key.pem");
    caFile = path.join(dir, "cert.pem");
    const made = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"].concat([
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        caFile,
      ]),
      { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
    server = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(caFile) }, (req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"state": "on"}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/MAAS`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => (paths.length = 0));

  const ctx = (): StepContext => ({
    exec: async () => {
      throw new Error("no child process");
    },
    clock: realClock,
    env: { MAAS_KEY: FIXTURE_API_KEY, HOME: dir },
    out: captureReporter(),
    callTimeoutMs: 5_000,
  });
  const target = (over: Partial<MaasTarget> = {}): MaasTarget => ({
    host: "openstack0",
    url,
    systemId: "e8xa8m",
    apiKeyEnv: "MAAS_KEY",
    ...over,
  });

  it("httpExchange trusts the server through `ca`, and refuses it without", async () => {
    const answer = await httpExchange(`${url}/x`, {
      method: "GET",
      headers: {},
      timeoutMs: 5_000,
      ca: fs.readFileSync(caFile, "utf8"),
    });
    expect(answer).toEqual({ status: 200, text: '{"state": "on"}' });
    const err = await failure(httpExchange(`${url}/x`, { method: "GET", headers: {}, timeoutMs: 5_000 }));
    expect((err as NodeJS.ErrnoException).code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("the maas driver reads caFile (~/ expanded) and reads the power state over TLS", async () => {
    const d = new MaasDriver(target({ caFile: `~/${path.basename(caFile)}` }), ctx());
    await expect(d.state()).resolves.toBe("on");
    expect(paths).toEqual(["/MAAS/api/2.0/machines/e8xa8m/?op=query_power_state"]);
  });

  it("through the power step's flags too (--ca-file)", async () => {
    const flags = { host: "openstack0", driver: "maas" as const, "maas-url": url, "system-id": "e8xa8m" };
    const d = driverFromFlags({ ...flags, "api-key-env": "MAAS_KEY", "ca-file": caFile } as never, ctx());
    await expect(d.state()).resolves.toBe("on");
  });

  it("without caFile: a permanent failure naming the certificate problem and caFile, nothing answered", async () => {
    const err = await failure(new MaasDriver(target(), ctx()).state());
    expect(err).toBeInstanceOf(PowerError);
    expect((err as PowerError).permanent).toBe(true);
    expect(err.message).toBe(
      `MAAS at ${url} for openstack0 (maas): its TLS certificate did not verify (DEPTH_ZERO_SELF_SIGNED_CERT): set caFile on this host's power to the PEM of the CA that signed MAAS's certificate`,
    );
    expect(paths).toEqual([]);
  });

  it("an unreadable or non-PEM caFile is refused in one line before anything is sent", async () => {
    const missing = await failure(new MaasDriver(target({ caFile: "~/nope.pem" }), ctx()).state());
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.message).toBe(
      `openstack0 (maas): the CA file ~/nope.pem (${dir}/nope.pem) does not exist: fix caFile in the stack config`,
    );
    const notPem = path.join(dir, "not-pem.txt");
    fs.writeFileSync(notPem, "hello\n");
    const bad = await failure(new MaasDriver(target({ caFile: notPem }), ctx()).state());
    expect(bad).toBeInstanceOf(UsageError);
    expect(bad.message).toBe(
      `openstack0 (maas): the CA file ${notPem} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line): fix caFile in the stack config`,
    );
    expect(paths).toEqual([]);
  });
});
