/**
 * Simulated cloud -- the MAAS 2.0 region API, enough for the maas power driver (power/maas.ts):
 * `{url}/api/2.0/machines/<system_id>/?op=query_power_state|power_on|power_off`, on node:http.
 *
 * ONE implementation of what MAAS does at that door, shared by the unit tests' stand-in
 * (test/support/maas-server.ts, whose machines are in-memory records with test knobs) and the
 * drills (`startSimMaas`, whose machines are the sim's hosts and whose power IS the sim state):
 *
 * - the OAuth check piston3 makes for a PLAINTEXT request (canonical/maas src/maasserver/api/auth.py,
 *   piston3 oauth; fixtures/README.md M-oauth): every oauth_ parameter present, a known consumer
 *   key ("Invalid API key."), a known token ("Invalid access token: <token>"), oauth_version 1.0,
 *   a supported signature method, a timestamp within 300 s, a fresh nonce, and the signature
 *   `<consumer_secret>&<token_secret>` with an empty consumer secret. A failed check is a 401
 *   `Authorization Error: ...` (and, like MAAS, a wrong signature is answered with the EXPECTED
 *   signature -- the real token secret -- in the body);
 * - MAAS's answers (src/maasserver/api/nodes.py PowerMixin, api/support.py, exceptions.py;
 *   fixtures/README.md M-api): `{"state": ...}`, the node JSON after power_on / power_off, and the
 *   error bodies as `text/plain` (404 "No Machine matches the given query.", 409, 503, 400).
 *
 * The sim logs every request to the call log (tool "maas", argv [method, path?query, form body
 * if any], exitCode 0 for a 2xx answer, else the HTTP status, and the calling step); never the
 * Authorization header. The calling step is read from the process at the other end of the
 * connection (`loopbackPeerStep`), as the fake CLI tools log their own COLDSTART_STEP: a step
 * talks HTTP to MAAS itself, so nothing else names it (issue #23: without it `--kill-at` and
 * `--cancel-at` never fired at a power step of a MAAS stack).
 */
import { createHash, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { parseApiKey, type MaasApiKey } from "../power/maas-oauth";
import { appendCall } from "./call-log";
import { powerOff, powerOn, requestShutdown, type Power } from "./state";
import { loadState, readState, updateState } from "./store";
import { callLogAt, stateTime, type SimTime } from "./time";
import { descendants } from "../drill/process-tree";

// ---------------------------------------------------------------------------------------------
// OAuth 1.0 PLAINTEXT, checked as piston3 checks it

const OAUTH_REQUIRED = ["consumer_key", "token", "signature", "signature_method", "timestamp", "nonce"].map(
  (p) => `oauth_${p}`,
);
/** piston3's OAuthServer.timestamp_threshold (seconds). */
export const TIMESTAMP_THRESHOLD_S = 300;

/** piston3 oauth: split the OAuth header into its (URL-decoded) parameters, realm dropped. */
export function splitOAuthHeader(header: string): Map<string, string> | undefined {
  if (!header.startsWith("OAuth ")) return undefined;
  const params = new Map<string, string>();
  for (const part of header.slice("OAuth ".length).split(",")) {
    const m = /^\s*([^=\s]+)="(.*)"\s*$/.exec(part);
    if (!m) continue;
    const [, k, v] = m as unknown as [string, string, string];
    if (k === "realm") continue;
    params.set(k, decodeURIComponent(v));
  }
  return params;
}

/**
 * The OAuth check; undefined when it passes, else the 401 body MAAS sends. `nonces` is the
 * server's memory of used nonces (a passing request adds its own).
 */
export function checkOAuth(
  header: string | undefined,
  creds: MaasApiKey,
  nonces: Set<string>,
  nowS: number = Math.floor(Date.now() / 1000),
): string | undefined {
  const params = header === undefined ? undefined : splitOAuthHeader(header);
  // Not an OAuth request at all: piston3's challenge (MAAS: "returns 401: Unauthorized").
  if (params === undefined || !OAUTH_REQUIRED.every((p) => params.has(p))) return "Authorization Required";
  const error = (message: string) => `Authorization Error: '${message}'`;
  if (params.get("oauth_consumer_key") !== creds.consumerKey) return "Authorization Error: Invalid API key.";
  if (params.get("oauth_token") !== creds.tokenKey)
    return error(`Invalid access token: ${params.get("oauth_token") ?? ""}`);
  const version = params.get("oauth_version") ?? "1.0";
  if (version !== "1.0") return error(`OAuth version ${version} not supported.`);
  const method = params.get("oauth_signature_method") ?? "";
  if (method !== "PLAINTEXT")
    return error(`Signature method ${method} not supported try one of the following: PLAINTEXT`);
  const timestamp = Number(params.get("oauth_timestamp"));
  if (!Number.isInteger(timestamp) || nowS - timestamp > TIMESTAMP_THRESHOLD_S)
    return error(
      `Expired timestamp: given ${params.get("oauth_timestamp")} and now ${nowS} has a greater difference than threshold ${TIMESTAMP_THRESHOLD_S}`,
    );
  const nonce = params.get("oauth_nonce") ?? "";
  if (nonces.has(nonce)) return error(`Nonce already used: ${nonce}`);
  nonces.add(nonce);
  const expected = `&${creds.tokenSecret}`; // escape(consumer_secret="") & escape(token_secret)
  if (params.get("oauth_signature") !== expected)
    return error(`Invalid signature. Expected signature base string: ${expected}`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// MAAS's answers

export type MaasPowerState = "on" | "off" | "unknown" | "error";

export interface MaasReply {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json";

/** A node as MAAS's machine handler returns it (the keys that matter; values illustrative). */
export type MaasNode = Record<string, unknown>;

/** The node JSON of a compact deployed machine (the sim has no fixture files to read). */
export const SIM_NODE_TEMPLATE: MaasNode = {
  architecture: "amd64/generic",
  domain: { authoritative: true, ttl: null, name: "maas", id: 0, is_default: true },
  fqdn: "node.maas",
  hostname: "node",
  locked: false,
  node_type: 0,
  node_type_name: "Machine",
  osystem: "ubuntu",
  owner: "admin",
  pool: { name: "default", description: "Default pool", id: 0 },
  power_state: "on",
  power_type: "ipmi",
  status: 6,
  status_name: "Deployed",
  system_id: "node",
  zone: { name: "default", description: "", id: 1 },
  resource_uri: "/MAAS/api/2.0/machines/node/",
};

export const maasReplies = {
  /** A path that is not a MAAS API handler: Django's HTML 404. */
  notFoundPage: (): MaasReply => ({ status: 404, body: "<h1>Not Found</h1>", contentType: "text/html; charset=utf-8" }),
  unauthorized: (body: string): MaasReply => ({
    status: 401,
    body,
    contentType: TEXT,
    headers: { "WWW-Authenticate": 'OAuth realm="MAAS API"' },
  }),
  noSuchMachine: (): MaasReply => ({ status: 404, body: "No Machine matches the given query.", contentType: TEXT }),
  notAllocated: (): MaasReply => ({
    status: 409,
    body: "Can't start node: it hasn't been allocated.",
    contentType: TEXT,
  }),
  /** 503 for a machine without a BMC (canonical/maas @ 9e51f33, src/maasserver/models/node.py _power_control_node). */
  noBmc: (): MaasReply => ({
    status: 503,
    body: "No BMC is defined.  Cannot power control node.",
    contentType: TEXT,
  }),
  /** 503 when no rack controller reaches the BMC (node.py _get_bmc_client_connection_info; PowerProblem is a 503, exceptions.py). */
  noRackController: (hostname: string): MaasReply => ({
    status: 503,
    body: `No rack controllers can access the BMC of node ${hostname}`,
    contentType: TEXT,
  }),
  /**
   * 503 when the rack controller reached no answer from the BMC: MAAS's machine handler turns the
   * rack's PowerActionFail into PowerProblem (a 503 with its text): canonical/maas
   * src/maasserver/api/machines.py `query_power_state` (MAAS 2.x: `except PowerActionFail as e:
   * raise PowerProblem(e)`, docstring "Returns 503 (with explanatory text) if the power state could
   * not be queried"). The text is the rack's report (src/provisioningserver/rpc/power.py
   * `power_query_failure`: "Power state could not be queried: %s") with the reason MAAS users see
   * for a BMC that does not answer ("connection timeout", as in the MAAS 1.8 report "Failed to
   * query node's BMC - Power state could not be queried: connection timeout"). Assembled from those
   * sources, not captured. Newer MAAS (api/nodes.py PowerMixin, `node.power_query().wait(60)`)
   * was not traced to its error path: no source found for a different answer.
   */
  bmcUnreachable: (): MaasReply => ({
    status: 503,
    body: "Power state could not be queried: connection timeout",
    contentType: TEXT,
  }),
  /**
   * 503 when the rack controller is still carrying out another power action for the node: the
   * rack's PowerActionAlreadyInProgress (src/provisioningserver/power/change.py
   * maybe_change_power_state: "Unable to change power state to '%s' for node %s: another action is
   * already in progress for that node.") becomes a 503 with Retry-After 10 in the API
   * (src/maasserver/middleware.py APIRPCErrorsMiddleware). Assembled from those sources.
   */
  powerActionInProgress: (change: "on" | "off", hostname: string): MaasReply => ({
    status: 503,
    body: `Unable to change power state to '${change}' for node ${hostname}: another action is already in progress for that node.`,
    contentType: TEXT,
  }),
  unrecognised: (method: string, op: string | null): MaasReply => ({
    status: 400,
    body: `Unrecognised signature: method=${method} op=${op ?? "None"}`,
    contentType: TEXT,
  }),
  powerState: (state: MaasPowerState): MaasReply => ({
    status: 200,
    body: JSON.stringify({ state }),
    contentType: JSON_TYPE,
  }),
  /**
   * The node JSON power_on / power_off answer with. Its power_state is what MAAS had stored
   * BEFORE the action (it updates asynchronously: fixtures/maas/power-off-response.json still
   * says "on"); only query_power_state tells the new state.
   */
  node: (template: MaasNode, m: { systemId: string; hostname: string; powerState?: MaasPowerState }): MaasReply => {
    const node: MaasNode = structuredClone(template);
    node.system_id = m.systemId;
    node.hostname = m.hostname;
    node.fqdn = `${m.hostname}.maas`;
    node.resource_uri = `/MAAS/api/2.0/machines/${m.systemId}/`;
    if (m.powerState !== undefined) node.power_state = m.powerState;
    return { status: 200, body: JSON.stringify(node, null, 4), contentType: JSON_TYPE };
  },
  internal: (message: string): MaasReply => ({ status: 500, body: message, contentType: TEXT }),
};

// ---------------------------------------------------------------------------------------------
// the HTTP front: route, authenticate, find the machine, parse the op; the backend does the rest

export type MaasPowerCall =
  { op: "query_power_state" } | { op: "power_on" } | { op: "power_off"; stopMode: "soft" | "hard" };

export interface MaasHttpRequest {
  method: string;
  /** Path and query as sent, e.g. /MAAS/api/2.0/machines/e8xa8m/?op=power_off */
  url: string;
  /** The Authorization header (it carries the token secret: keep it in memory, never log it). */
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
  /** The calling step (COLDSTART_STEP of the process that opened the connection), when known. */
  step?: string;
}

export interface MaasBackend {
  /** false: 404 "No Machine matches the given query." */
  exists(systemId: string): boolean;
  /** Carry out an authenticated power call on a machine that exists. */
  power(systemId: string, call: MaasPowerCall): MaasReply | Promise<MaasReply>;
}

export interface MaasApiOptions {
  credentials: MaasApiKey;
  backend: MaasBackend;
  /** Default 0: a free port on 127.0.0.1. */
  port?: number;
  /** Every request as it arrived, before it is answered. */
  onRequest?: (req: MaasHttpRequest) => void;
  /** Every request with the answer it got. */
  onReply?: (req: MaasHttpRequest, reply: MaasReply) => void;
  /**
   * The step that opened a connection (its client's port, our port), asked once per request as it
   * arrives, while the client waits for the answer. Default: none.
   */
  callerOf?: (peer: { remotePort: number; localPort: number }) => string | undefined;
}

export interface MaasApiServer {
  /** The MAAS URL as a stack config has it: http://127.0.0.1:<port>/MAAS */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MACHINE_PATH = /^\/MAAS\/api\/2\.0\/machines\/([^/]+)\/$/;

/** Which power call a request is (undefined: MAAS has no handler for it -> 400). */
function powerCall(method: string, op: string | null, form: URLSearchParams): MaasPowerCall | undefined {
  if (method === "GET" && op === "query_power_state") return { op };
  if (method === "POST" && op === "power_on") return { op };
  // MAAS: stop_mode defaults to "hard"; only "soft" asks the OS.
  if (method === "POST" && op === "power_off")
    return { op, stopMode: form.get("stop_mode") === "soft" ? "soft" : "hard" };
  return undefined;
}

async function answer(req: MaasHttpRequest, opts: MaasApiOptions, nonces: Set<string>): Promise<MaasReply> {
  const url = new URL(req.url, "http://maas");
  const match = MACHINE_PATH.exec(url.pathname);
  if (!match) return maasReplies.notFoundPage();
  const auth = checkOAuth(req.authorization, opts.credentials, nonces);
  if (auth !== undefined) return maasReplies.unauthorized(auth);
  const systemId = decodeURIComponent(match[1]!);
  if (!opts.backend.exists(systemId)) return maasReplies.noSuchMachine();
  const form = new URLSearchParams(req.body);
  const op = url.searchParams.get("op") ?? form.get("op");
  const call = powerCall(req.method, op, form);
  if (!call) return maasReplies.unrecognised(req.method, op);
  return opts.backend.power(systemId, call);
}

/** A MAAS API on 127.0.0.1 answering through `backend`. */
export async function serveMaasApi(opts: MaasApiOptions): Promise<MaasApiServer> {
  const nonces = new Set<string>();
  const server = http.createServer((incoming, res) => {
    const { remotePort, localPort } = incoming.socket;
    const step =
      opts.callerOf && remotePort !== undefined && localPort !== undefined
        ? opts.callerOf({ remotePort, localPort })
        : undefined;
    let body = "";
    incoming.on("data", (chunk: Buffer) => (body += chunk.toString()));
    incoming.on("end", () => {
      const req: MaasHttpRequest = {
        method: incoming.method ?? "",
        url: incoming.url ?? "/",
        authorization: incoming.headers.authorization,
        contentType: incoming.headers["content-type"],
        body,
        ...(step === undefined ? {} : { step }),
      };
      opts.onRequest?.(req);
      answer(req, opts, nonces)
        .catch((err: unknown) => maasReplies.internal(err instanceof Error ? err.message : String(err)))
        .then((reply) => {
          opts.onReply?.(req, reply);
          if (res.destroyed) return;
          res.writeHead(reply.status, { ...reply.headers, "Content-Type": reply.contentType });
          res.end(reply.body);
        })
        .catch(() => undefined);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/MAAS`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// the sim's MAAS: machines = the sim's hosts, power = the sim state

/** MAAS's z-number digits (provisioningserver/utils/znums.py): base 24, no ambiguous characters. */
const ZCHARS = "34678abcdefghkmnpqrstwxy";
const Z_MIN = 24 ** 5;
const Z_SPAN = 24 ** 6 - Z_MIN;

function zNumber(n: number): string {
  let out = "";
  for (let x = n; x > 0; x = Math.floor(x / 24)) out = ZCHARS[x % 24] + out;
  return out;
}

/**
 * A stable system_id per host, in MAAS's shape (6 z-number digits, as generate_node_system_id
 * makes them), derived from the host name; a collision is moved on deterministically.
 */
export function simSystemIds(hosts: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const taken = new Set<string>();
  for (const host of hosts) {
    for (let salt = 0; ; salt++) {
      const digest = createHash("sha256").update(`coldstart-sim-maas:${host}:${salt}`).digest();
      const id = zNumber(Z_MIN + (digest.readUInt32BE(0) % Z_SPAN));
      if (taken.has(id)) continue;
      taken.add(id);
      out[host] = id;
      break;
    }
  }
  return out;
}

const KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A fresh fake MAAS API key, `consumer_key:token_key:token_secret` sized 18/18/32 as MAAS makes them. */
export function generateMaasApiKey(): string {
  const part = (n: number) => Array.from({ length: n }, () => KEY_CHARS[randomInt(KEY_CHARS.length)]).join("");
  return `${part(18)}:${part(18)}:${part(32)}`;
}

export interface SimMaasOptions {
  /** The API key MAAS accepts (`consumer_key:token_key:token_secret`); held in memory only. */
  apiKey: string;
  /** Default 0 (a free port). A drill resumed on the same port keeps its steps' inputs equal. */
  port?: number;
  /** Who made a request (default: loopbackPeerStep, a process under this one). */
  callerOf?: MaasApiOptions["callerOf"];
  /**
   * The sim's clock (sim/time.ts): in a drill on the discrete-event clock, the clock server's
   * `time` (the drill process is the server); tests inject a scaled one on a fake real clock.
   * Default: the state's own clock. OAuth timestamps use the real clock. The API answers in zero
   * sim time: a step waits for its HTTP answer busy, so a handler must never sleep on this clock.
   */
  time?: SimTime;
}

export interface SimMaas {
  /** http://127.0.0.1:<port>/MAAS */
  readonly url: string;
  readonly port: number;
  /** host name -> system_id */
  readonly systemIds: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The sim's MAAS: query_power_state answers from the sim state; power_on = `virsh start`;
 * power_off stop_mode=soft = `virsh shutdown` (off after the scenario's shutdownSeconds, never if
 * the host ignores it), stop_mode=hard (the default) = `virsh destroy`. The scenario's
 * transientPowerErrors make a call answer 503 "No rack controllers can access the BMC of node
 * <hostname>" that many times first (what MAAS says while no rack controller reaches the BMC);
 * hosts.unreachableBmc answers every call for that host 503 (maasReplies.bmcUnreachable), and
 * maas.revokedApiKey refuses the key's token (401).
 * Every request goes to the sim's call log as tool "maas".
 */
export async function startSimMaas(simDir: string, opts: SimMaasOptions): Promise<SimMaas> {
  const dir = path.resolve(simDir);
  const initial = loadState(dir);
  const time = opts.time ?? stateTime(dir, initial);
  const systemIds = simSystemIds(initial.hosts.map((h) => h.name));
  const hostOf = new Map(Object.entries(systemIds).map(([host, id]) => [id, host]));
  const indexOf = (hosts: readonly { name: string }[], host: string) => hosts.findIndex((h) => h.name === host);

  const backend: MaasBackend = {
    exists: (systemId) => hostOf.has(systemId),
    power: (systemId, call) => {
      const host = hostOf.get(systemId)!;
      const kind = call.op === "query_power_state" ? "state" : call.op === "power_on" ? "on" : `${call.stopMode}-off`;
      const before = readState(dir, time);
      const at = indexOf(before.hosts, host);
      const pending = before.powerFaults?.some((f) => f.host === at && f.call === kind && f.remaining > 0);
      // a scenario's transient fault, counted down under the lock (the common path only reads)
      const faulty =
        pending === true &&
        updateState(
          dir,
          (s) => {
            const i = indexOf(s.hosts, host);
            const f = s.powerFaults?.find((x) => x.host === i && x.call === kind && x.remaining > 0);
            if (f) f.remaining--;
            return f !== undefined;
          },
          time,
        );
      if (faulty) return maasReplies.noRackController(host);
      if (before.hosts[at]?.bmcUnreachable) return maasReplies.bmcUnreachable();
      if (call.op === "query_power_state") {
        const s = readState(dir, time);
        return maasReplies.powerState(s.hosts[indexOf(s.hosts, host)]!.power);
      }
      return updateState(
        dir,
        (s, t) => {
          const i = indexOf(s.hosts, host);
          const before: Power = s.hosts[i]!.power;
          if (call.op === "power_on") powerOn(s, i, t, "maas power_on");
          else if (call.stopMode === "soft") requestShutdown(s, i, t);
          else powerOff(s, i, t, "maas power_off stop_mode=hard");
          return maasReplies.node(SIM_NODE_TEMPLATE, { systemId, hostname: host, powerState: before });
        },
        time,
      );
    },
  };

  const key = parseApiKey(opts.apiKey);
  const server = await serveMaasApi({
    // scenario maas.revokedApiKey: MAAS still knows the consumer, but the key's token was deleted,
    // so piston3 answers "Invalid access token: <token>" (checkOAuth above)
    credentials: initial.maas?.revokedApiKey ? { ...key, tokenKey: `${key.tokenKey}-revoked` } : key,
    backend,
    port: opts.port,
    onReply: (req, reply) =>
      appendCall(dir, {
        tool: "maas",
        argv: [req.method, req.url, ...(req.body === "" ? [] : [req.body])],
        stdinBytes: Buffer.byteLength(req.body),
        at: callLogAt(time, initial),
        exitCode: reply.status >= 200 && reply.status < 300 ? 0 : reply.status,
        ...(req.step === undefined ? {} : { step: req.step }),
      }),
    callerOf: opts.callerOf ?? ((peer) => loopbackPeerStep(peer.remotePort, peer.localPort)),
  });
  return { url: server.url, port: server.port, systemIds, close: () => server.close() };
}

// ---------------------------------------------------------------------------------------------
// which step called: the process at the other end of a loopback connection (Linux /proc)

/** The inode of the TCP socket bound to 127.0.0.1/::1 `localPort` and connected to `remotePort`. */
function socketInode(localPort: number, remotePort: number): string | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
  const ends = (addr: string | undefined, port: number) => addr?.endsWith(`:${hex(port)}`) === true;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (ends(f[1], localPort) && ends(f[2], remotePort)) return f[9];
    }
  }
  return undefined;
}

/**
 * The processes under `root`, nearest first, read through /proc/<pid>/task/<tid>/children (a few
 * reads: the drill's step shells and their coldstart); where the kernel has no such file, every
 * process's stat (drill/process-tree.ts), which costs a read per process on the machine.
 */
function processesUnder(root: number): number[] {
  const children = (pid: number): number[] | undefined => {
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
    const out: number[] = [];
    for (const tid of tids) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT" && pid === root) return undefined; // no such file here
        continue;
      }
      for (const word of text.split(" ")) if (/^\d+$/.test(word)) out.push(Number(word));
    }
    return out;
  };
  const first = children(root);
  if (first === undefined) return descendants(root).map((p) => p.pid);
  const found: number[] = [];
  for (let queue = first; queue.length > 0;) {
    found.push(...queue);
    queue = queue.flatMap((pid) => children(pid) ?? []);
  }
  return found;
}

/** COLDSTART_STEP from a process's environment (undefined: none, or not ours to read). */
function stepOfProcess(pid: number): string | undefined {
  try {
    const env = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return env.find((e) => e.startsWith("COLDSTART_STEP="))?.slice("COLDSTART_STEP=".length) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The step a MAAS request came from: the client's socket (its port `clientPort`, connected to our
 * `serverPort`) is looked up in /proc/net/tcp, then among the processes under `root` (the drill:
 * a step's shell and its coldstart), the one holding that socket; its COLDSTART_STEP, which every
 * step's environment sets (stages/stage.ts). Undefined when any part cannot be read (not Linux,
 * the client already gone): the call is then logged without a step, as before.
 */
export function loopbackPeerStep(clientPort: number, serverPort: number, root = process.pid): string | undefined {
  const inode = socketInode(clientPort, serverPort);
  if (inode === undefined || inode === "0") return undefined;
  const target = `socket:[${inode}]`;
  for (const pid of processesUnder(root)) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === target) return stepOfProcess(pid);
    }
  }
  return undefined;
}
