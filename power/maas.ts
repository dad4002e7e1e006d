/**
 * maas driver: the current build's hosts are MAAS machines; MAAS drives their BMCs. Straight to
 * the MAAS 2.0 REST API over node:http(s) (power/http-exchange.ts; no `maas` CLI, no child process):
 *
 *   GET  {url}/api/2.0/machines/{system_id}/?op=query_power_state   -> {"state": "on"|"off"|"unknown"|"error"}
 *   POST {url}/api/2.0/machines/{system_id}/?op=power_on
 *   POST {url}/api/2.0/machines/{system_id}/?op=power_off           body stop_mode=soft (graceful) | stop_mode=hard
 *
 * signed with OAuth 1.0 PLAINTEXT (maas-oauth.ts). The node JSON that power_on/power_off return
 * is NOT the new state (power_off still says "power_state": "on", fixtures/maas/power-off-response.json):
 * only query_power_state counts, and the power-state gate polls it.
 *
 * MAAS's answers (src/maasserver/api/nodes.py, auth.py, exceptions.py) become one line naming the
 * host and the driver: 401 bad key, 404 wrong system_id, 409 the MAAS text (e.g. not allocated),
 * 503 MAAS cannot reach the BMC, no connection / no answer = MAAS unreachable.
 *
 * Which of them waiting can fix (canonical/maas @ 9e51f33ce6f7f19bd91ecddfd97baf5495db4eba):
 * - 401/403/404/409: never; and a 503 `No BMC is defined.  Cannot power control node.`
 *   (src/maasserver/models/node.py `_power_control_node`: the machine has no BMC at all) -- permanent;
 * - 503 `No rack controllers can access the BMC of node <hostname>` (node.py
 *   `_get_bmc_client_connection_info`: no rack controller reached the BMC just now), 503
 *   `Unable to change power state to 'off' for node <hostname>: another action is already in
 *   progress for that node.` (the rack's PowerActionAlreadyInProgress, src/maasserver/middleware.py
 *   APIRPCErrorsMiddleware; 504 for its RPC TimeoutError), any other 5xx, a refused connection or
 *   no answer: transient, retried while time remains.
 * MAAS never refuses stop_mode=soft: `Node._stop` passes it on only for power type ipmi
 * (`power_off_mode`); every other power type (virsh: `destroy`, redfish: `ForceOff`, ...) is powered
 * off HARD by MAAS itself. power_off's node JSON names the power_type, so the step can say so.
 * power_off/power_on answer nothing (None) when MAAS sent no power action because the power type
 * cannot do it (node.py `_stop`: "The node must be powered off manually"): permanent.
 */
import * as fs from "node:fs";
import * as z from "zod";
import type { StepContext } from "../runtime/step-context";
import { callTimeout } from "../runtime/deadline";
import { UsageError } from "../config/errors";
import { formatDuration } from "../config/duration";
import { PowerError, type PowerDriver, type PowerState } from "./driver";
import { readSecret, redact, secretWhere, unreadable, type SecretRef } from "./credentials";
import { expandHome } from "../runtime/record";
import { httpExchange, HttpTimeout } from "./http-exchange";
import { authorizationHeader, MalformedApiKey, parseApiKey, type MaasApiKey } from "./maas-oauth";

export interface MaasTarget {
  host: string;
  /** The MAAS URL ending in /MAAS, e.g. http://maas:5240/MAAS. */
  url: string;
  systemId: string;
  /** Exactly one of apiKeyFile / apiKeyEnv. */
  apiKeyFile?: string;
  apiKeyEnv?: string;
  /** A PEM file of the CA(s) that signed MAAS's certificate (https:// only; may start with `~/`). */
  caFile?: string;
}

export type MaasOp = "query_power_state" | "power_on" | "power_off";

/** `{url}/api/2.0/machines/{system_id}/?op=<op>` (a trailing slash on the URL is tolerated). */
export function machineOpUrl(url: string, systemId: string, op: MaasOp): string {
  return `${url.replace(/\/+$/, "")}/api/2.0/machines/${encodeURIComponent(systemId)}/?op=${op}`;
}

const powerStateReply = z.object({ state: z.string() });

/** 503 for a machine with no BMC (node.py _power_control_node). */
export const NO_BMC = /No BMC is defined/;

/** The power_type of power_off's node JSON (absent in odd answers: then nothing is said). */
const nodePowerType = z.object({ power_type: z.string() });

/**
 * The codes node:tls gives a certificate that did not verify (OpenSSL's X509_V_ERR_* names, e.g.
 * DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED) and Node's own
 * ERR_TLS_CERT_ALTNAME_INVALID; EPROTO (no TLS at all there) stays "unreachable".
 */
const TLS_VERIFY_CODE = /CERT|UNABLE_TO_(GET|VERIFY)|SELF_SIGNED/;

function tlsRefusal(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && TLS_VERIFY_CODE.test(code) ? code : undefined;
}

/** Text MAAS puts in a 404 for a system_id it does not know (`No Machine matches the given query.`). */
const NO_SUCH_MACHINE = /^No \w+ matches the given query\.?$/;

export class MaasDriver implements PowerDriver {
  readonly label: string;
  private readonly secret: SecretRef;

  constructor(
    private readonly target: MaasTarget,
    private readonly ctx: StepContext,
  ) {
    this.label = `${target.host} via maas (${target.url}, system_id ${target.systemId})`;
    this.secret = {
      host: target.host,
      driver: "maas",
      what: "MAAS API key",
      file: target.apiKeyFile,
      env: target.apiKeyEnv,
    };
  }

  private apiKey(): MaasApiKey {
    const raw = readSecret(this.secret, this.ctx.env);
    try {
      return parseApiKey(raw);
    } catch (err) {
      if (err instanceof MalformedApiKey)
        throw new UsageError(
          `${this.target.host} (maas): the MAAS API key in ${secretWhere(this.secret)} ${err.message}`,
        );
      throw err;
    }
  }

  /**
   * The CA file's PEM, read at each call like the key. Unreadable or not PEM is a configuration
   * problem of the run (UsageError, exit 2), never "MAAS unreachable": waiting cannot fix it.
   */
  private ca(): string | undefined {
    const configured = this.target.caFile;
    if (configured === undefined) return undefined;
    const file = expandHome(configured, this.ctx.env);
    const where = `the CA file ${configured}${file !== configured ? ` (${file})` : ""}`;
    let pem: string;
    try {
      pem = fs.readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`${this.target.host} (maas): ${where} ${unreadable(err)}: fix caFile in the stack config`);
    }
    if (!pem.includes("-----BEGIN CERTIFICATE-----"))
      throw new UsageError(
        `${this.target.host} (maas): ${where} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line): fix caFile in the stack config`,
      );
    return pem;
  }

  private async call(method: "GET" | "POST", op: MaasOp, form?: Record<string, string>): Promise<string> {
    const key = this.apiKey();
    const ca = this.ca();
    const url = machineOpUrl(this.target.url, this.target.systemId, op);
    const headers: Record<string, string> = { Authorization: authorizationHeader(key), Accept: "application/json" };
    let body: string | undefined;
    if (method === "POST") {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(form ?? {}).toString();
    }
    let status: number;
    let text: string;
    // cut at the step's (or the polling gate's) deadline, like every exec call (runtime/deadline.ts)
    const timeoutMs = callTimeout(this.ctx, this.ctx.callTimeoutMs);
    if (timeoutMs <= 0) throw new PowerError(`${this.label}: not asked: the step's time budget was spent`, false, true);
    try {
      // not a child process, so the drill's clock is told: no cloud time passes during the exchange
      const exchange = httpExchange(url, { method, headers, body, timeoutMs, ca });
      ({ status, text } = await (this.ctx.clock.hold ? this.ctx.clock.hold(exchange) : exchange));
    } catch (err) {
      const tls = tlsRefusal(err);
      // MAAS answered, its certificate did not verify: waiting will not change the certificate
      if (tls) throw new PowerError(this.untrusted(tls), true, false, false, { cause: err });
      const timedOut = err instanceof HttpTimeout;
      // the tool boundary: no connection or no whole answer in time is MAAS unreachable, the
      // socket's error kept as the cause
      const cut = timedOut && timeoutMs < this.ctx.callTimeoutMs;
      throw new PowerError(this.unreachable(err, timeoutMs, cut), false, cut, false, { cause: err });
    }
    if (status >= 200 && status < 300) return text;
    // 401/403/404/409 and a machine without a BMC will not change by waiting; other 503s may.
    const permanent = [401, 403, 404, 409].includes(status) || (status === 503 && NO_BMC.test(text));
    throw new PowerError(
      this.httpError(op, status, redact(redact(text, this.rawKey(key)), key.tokenSecret)),
      permanent,
    );
  }

  private rawKey(key: MaasApiKey): string {
    return `${key.consumerKey}:${key.tokenKey}:${key.tokenSecret}`;
  }

  private untrusted(code: string): string {
    const fix =
      this.target.caFile === undefined
        ? "set caFile on this host's power to the PEM of the CA that signed MAAS's certificate"
        : `is ${this.target.caFile} the CA that signed MAAS's certificate, and does the certificate name the URL's host?`;
    return `MAAS at ${this.target.url} for ${this.target.host} (maas): its TLS certificate did not verify (${code}): ${fix}`;
  }

  /** `timeoutMs`: what the call was given; `cut`: less than callTimeoutMs, the step's deadline came first. */
  private unreachable(err: unknown, timeoutMs: number, cut: boolean): string {
    if (err instanceof HttpTimeout)
      return `cannot reach MAAS at ${this.target.url} for ${this.target.host} (maas): no answer within ${formatDuration(timeoutMs)}${cut ? " (cut to what was left of the step's budget)" : ""}`;
    // httpExchange rejects only with Errors: the socket's own (its code: ECONNREFUSED, ECONNRESET,
    // ENOTFOUND, ...) or one of its own, named by its message ("answer larger than ... bytes")
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return `cannot reach MAAS at ${this.target.url} for ${this.target.host} (maas): ${code} -- is the MAAS region controller up and the URL right?`;
  }

  private httpError(op: MaasOp, status: number, text: string): string {
    const who = `${this.target.host} (maas, ${this.target.url}, system_id ${this.target.systemId})`;
    // split always gives at least one element (maybe "")
    const said = text.trim().split("\n")[0]!.trim().slice(0, 300);
    switch (status) {
      case 401:
        return `MAAS refused the API key for ${who}: ${this.why401(said)}`;
      case 403:
        return `MAAS refused ${op} for ${who}: the API key's user may not do this (${said || "403 Forbidden"})`;
      case 404:
        return NO_SUCH_MACHINE.test(said)
          ? `MAAS has no machine ${this.target.systemId} for ${who}: wrong systemId in the stack config (MAAS: ${said})`
          : `MAAS answered 404 for ${op} for ${who}: is the URL right (it ends in /MAAS)?`;
      case 409:
        return `MAAS refused ${op} for ${who}: ${said || "409 Conflict"}`;
      case 503:
        return `MAAS cannot power-control ${who}: ${said || "503 Service Unavailable"}`;
      default:
        return `MAAS answered HTTP ${status} to ${op} for ${who}${said ? `: ${said}` : ""}`;
    }
  }

  /**
   * Never echo a 401 body: for a wrong token secret MAAS answers "Invalid signature. Expected
   * signature base string: &<the real token secret>".
   */
  private why401(said: string): string {
    const where = secretWhere(this.secret);
    if (/Invalid API key/i.test(said)) return `unknown consumer key (first part of the key in ${where})`;
    if (/Invalid access token/i.test(said))
      return `unknown or revoked token (second part of the key in ${where}); create a new API key in MAAS`;
    if (/Invalid signature/i.test(said)) return `wrong token secret (third part of the key in ${where})`;
    if (/Expired timestamp/i.test(said))
      return `the request's timestamp is more than 5 minutes off the MAAS clock: fix this machine's clock (NTP)`;
    return `bad or expired API key (${where})`;
  }

  async state(): Promise<PowerState> {
    const text = await this.call("GET", "query_power_state");
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PowerError(`${this.label}: query_power_state answered ${JSON.stringify(text.slice(0, 80))}, not JSON`);
    }
    const parsed = powerStateReply.safeParse(json);
    if (!parsed.success)
      throw new PowerError(
        `${this.label}: query_power_state answered ${JSON.stringify(text.slice(0, 80))}, expected {"state": ...}`,
      );
    const state = parsed.data.state;
    if (state === "on" || state === "off") return state;
    throw new PowerError(
      `${this.label}: MAAS reports power state ${JSON.stringify(state)}` +
        (state === "error" || state === "unknown"
          ? " (MAAS could not read the BMC; check the machine's power settings)"
          : ""),
    );
  }

  async on(): Promise<void> {
    this.sent("power_on", await this.call("POST", "power_on"));
  }

  /**
   * graceful: stop_mode=soft (MAAS asks the BMC for a soft power-off -- power type ipmi only);
   * otherwise stop_mode=hard. Returns a note when MAAS will power this power type off hard anyway.
   */
  async off(graceful: boolean): Promise<string | void> {
    const answer = await this.call("POST", "power_off", { stop_mode: graceful ? "soft" : "hard" });
    this.sent("power_off", answer);
    if (!graceful) return;
    let type: string | undefined;
    try {
      const parsed = nodePowerType.safeParse(JSON.parse(answer));
      if (parsed.success) type = parsed.data.power_type;
    } catch {
      // not JSON: nothing to say about the power type
    }
    if (type !== undefined && type !== "ipmi")
      return `MAAS power type ${type} has no soft power-off: MAAS powers it off hard whatever stop_mode says (only ipmi gets a soft off)`;
  }

  /** An empty / null answer: MAAS sent no power action (the power type cannot do it). */
  private sent(op: "power_on" | "power_off", answer: string): void {
    const t = answer.trim();
    if (t === "" || t === "null")
      throw new PowerError(
        `${this.label}: MAAS sent no ${op} (its power type cannot do it, e.g. manual): power the machine ${op === "power_on" ? "on" : "off"} by hand`,
        true,
      );
  }
}
