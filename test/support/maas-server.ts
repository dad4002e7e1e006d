/**
 * A small stand-in for the MAAS region API (node:http on 127.0.0.1, a free port), enough for the
 * maas power driver: `{url}/api/2.0/machines/<system_id>/?op=query_power_state|power_on|power_off`.
 *
 * It answers as MAAS does (canonical/maas src/maasserver/api/nodes.py PowerMixin, api/auth.py,
 * api/support.py, piston3 oauth; fixtures/README.md M-api, M-oauth): bodies from the fixture files,
 * error bodies `text/plain`, and the OAuth check piston3 makes for a PLAINTEXT request -- every
 * oauth_ parameter present, a known consumer key ("Invalid API key."), a known token ("Invalid
 * access token: <token>"), oauth_version 1.0, a supported signature method, a timestamp within
 * 300 s, a fresh nonce, and the signature `<consumer_secret>&<token_secret>` with an empty
 * consumer secret. A failed check is a 401 `Authorization Error: ...` (and, like MAAS, a wrong
 * signature is answered with the EXPECTED signature -- the real token secret -- in the body).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { readFixture } from "../fixtures";

/** The fake API key of fixtures/maas/api-key.split.json (18/18/32, the shape MAAS makes). */
export const FIXTURE_KEY = {
  consumerKey: "Xq7bTzP3kLmN9aBcDe",
  tokenKey: "Fg4HiJk5LmN6oPq7Rs",
  tokenSecret: "Tu8VwXy9Za0Bc1De2Fg3Hi4Jk5Lm6No7",
};
export const FIXTURE_API_KEY = `${FIXTURE_KEY.consumerKey}:${FIXTURE_KEY.tokenKey}:${FIXTURE_KEY.tokenSecret}`;

export type MaasPowerState = "on" | "off" | "unknown" | "error";

export interface FakeMachine {
  systemId: string;
  hostname: string;
  power: MaasPowerState;
  /** power_on on a machine nobody allocated: 409 "Can't start node: it hasn't been allocated." */
  allocated: boolean;
  /** false: no rack controller reaches the BMC, every power call is a 503. */
  bmcReachable: boolean;
  /** After a power_off, how many query_power_state answers still say "on" (MAAS updates asynchronously). */
  offAfterPolls: number;
  /** The OS ignores a soft power-off (stop_mode=soft): only a hard one takes the machine down. */
  ignoresSoftOff: boolean;
  /** Answer nothing for this long (to test the client's timeout). */
  hangMs: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as sent, e.g. /MAAS/api/2.0/machines/e8xa8m/?op=power_off */
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: string;
}

export interface MaasServer {
  /** The MAAS URL as the stack config has it: http://127.0.0.1:<port>/MAAS */
  readonly url: string;
  readonly machines: Map<string, FakeMachine>;
  readonly requests: RecordedRequest[];
  addMachine(m: Partial<FakeMachine> & { systemId: string }): FakeMachine;
  close(): Promise<void>;
}

interface Credentials {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

const OAUTH_REQUIRED = ["consumer_key", "token", "signature", "signature_method", "timestamp", "nonce"].map(
  (p) => `oauth_${p}`,
);
const TIMESTAMP_THRESHOLD_S = 300;

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

/** The OAuth check; undefined when it passes, else the 401 body MAAS sends. */
function checkOAuth(header: string | undefined, creds: Credentials, nonces: Set<string>): string | undefined {
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
  const now = Math.floor(Date.now() / 1000);
  if (!Number.isInteger(timestamp) || now - timestamp > TIMESTAMP_THRESHOLD_S)
    return error(
      `Expired timestamp: given ${params.get("oauth_timestamp")} and now ${now} has a greater difference than threshold ${TIMESTAMP_THRESHOLD_S}`,
    );
  const nonce = params.get("oauth_nonce") ?? "";
  if (nonces.has(nonce)) return error(`Nonce already used: ${nonce}`);
  nonces.add(nonce);
  const expected = `&${creds.tokenSecret}`; // escape(consumer_secret="") & escape(token_secret)
  if (params.get("oauth_signature") !== expected)
    return error(`Invalid signature. Expected signature base string: ${expected}`);
  return undefined;
}

function nodeBody(fixture: "power-on-response.json" | "power-off-response.json", m: FakeMachine): string {
  const node = JSON.parse(readFixture(`maas/${fixture}`)) as Record<string, unknown>;
  node.system_id = m.systemId;
  node.hostname = m.hostname;
  node.fqdn = `${m.hostname}.maas`;
  return JSON.stringify(node, null, 4);
}

export async function startMaasServer(creds: Credentials = FIXTURE_KEY): Promise<MaasServer> {
  const machines = new Map<string, FakeMachine>();
  const requests: RecordedRequest[] = [];
  const nonces = new Set<string>();
  /** query_power_state answers left before a pending power-off shows, per machine. */
  const pendingOff = new Map<string, number>();
  const hanging = new Set<NodeJS.Timeout>();

  const send = (res: http.ServerResponse, status: number, body: string, type = "text/plain; charset=utf-8") => {
    res.writeHead(status, { "Content-Type": type });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const rawUrl = req.url ?? "/";
      requests.push({
        method: req.method ?? "",
        url: rawUrl,
        authorization: req.headers.authorization,
        contentType: req.headers["content-type"],
        body,
      });
      const url = new URL(rawUrl, "http://maas");
      const match = /^\/MAAS\/api\/2\.0\/machines\/([^/]+)\/$/.exec(url.pathname);
      if (!match) return send(res, 404, "<h1>Not Found</h1>", "text/html; charset=utf-8");
      const auth = checkOAuth(req.headers.authorization, creds, nonces);
      if (auth !== undefined) {
        res.setHeader("WWW-Authenticate", 'OAuth realm="MAAS API"');
        return send(res, 401, auth);
      }
      const machine = machines.get(decodeURIComponent(match[1]!));
      if (!machine) return send(res, 404, "No Machine matches the given query.");
      const op = url.searchParams.get("op") ?? new URLSearchParams(body).get("op");
      const answer = () => {
        const noBmc = () => send(res, 503, `No rack controllers can access the BMC of node ${machine.hostname}`);
        if (req.method === "GET" && op === "query_power_state") {
          if (!machine.bmcReachable) return noBmc();
          const left = pendingOff.get(machine.systemId);
          if (left !== undefined) {
            if (left <= 0) {
              machine.power = "off";
              pendingOff.delete(machine.systemId);
            } else pendingOff.set(machine.systemId, left - 1);
          }
          return send(res, 200, JSON.stringify({ state: machine.power }), "application/json");
        }
        if (req.method === "POST" && op === "power_on") {
          if (!machine.allocated) return send(res, 409, "Can't start node: it hasn't been allocated.");
          if (!machine.bmcReachable) return noBmc();
          machine.power = "on";
          pendingOff.delete(machine.systemId);
          return send(res, 200, nodeBody("power-on-response.json", machine), "application/json");
        }
        if (req.method === "POST" && op === "power_off") {
          if (!machine.bmcReachable) return noBmc();
          const stopMode = new URLSearchParams(body).get("stop_mode") ?? "hard";
          if (!(stopMode === "soft" && machine.ignoresSoftOff)) {
            if (machine.offAfterPolls <= 0) machine.power = "off";
            else pendingOff.set(machine.systemId, machine.offAfterPolls);
          }
          // Like MAAS: the node JSON still says "power_state": "on" (fixtures/maas/power-off-response.json).
          return send(res, 200, nodeBody("power-off-response.json", machine), "application/json");
        }
        return send(res, 400, `Unrecognised signature: method=${req.method ?? ""} op=${op ?? "None"}`);
      };
      if (machine.hangMs > 0) {
        const timer = setTimeout(() => {
          hanging.delete(timer);
          answer();
        }, machine.hangMs);
        hanging.add(timer);
      } else answer();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/MAAS`,
    machines,
    requests,
    addMachine: (m) => {
      const machine: FakeMachine = {
        hostname: m.systemId,
        power: "on",
        allocated: true,
        bmcReachable: true,
        offAfterPolls: 0,
        ignoresSoftOff: false,
        hangMs: 0,
        ...m,
      };
      machines.set(machine.systemId, machine);
      return machine;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of hanging) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
