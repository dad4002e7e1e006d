/**
 * Simulated cloud -- Vault's answers (Stage 3): `vault status -format=json` (MarshalIndent, exit 2
 * when sealed), the `vault status` table, and the HTTP seal-status body of PUT /v1/sys/unseal.
 * Key order and values as fixtures/vault (V-api, V-cli).
 */
import type { SimState, VaultUnitRec } from "../state";

const VERSION = "1.11.0";
const BUILD_DATE = "2022-05-03T08:34:11Z";
const CLUSTER_NAME = "vault-cluster-336172e1";
const CLUSTER_ID = "f94053ad-d80e-4270-2006-2efd67d0910a";

/** SealStatusResponse, in Vault's struct order. */
export function sealStatus(s: SimState, v: VaultUnitRec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: "shamir",
    initialized: true,
    sealed: v.sealed,
    t: s.vault.threshold,
    n: s.vault.shares,
    progress: v.sealed ? v.given.length : 0,
    nonce: v.sealed ? v.nonce : "",
    version: VERSION,
    build_date: BUILD_DATE,
    migration: false,
  };
  if (!v.sealed) Object.assign(out, { cluster_name: CLUSTER_NAME, cluster_id: CLUSTER_ID });
  Object.assign(out, { recovery_seal: false, storage_type: "mysql" });
  return out;
}

/** The HTTP body (compact JSON, newline-terminated like Vault's encoder). */
export function sealStatusBody(s: SimState, v: VaultUnitRec): string {
  return JSON.stringify(sealStatus(s, v)) + "\n";
}

export function errorBody(message: string): string {
  return JSON.stringify({ errors: [message] }) + "\n";
}

/** `vault status -format=json`: non-HA mysql storage, so ha_enabled false and a zero active_time. */
export function statusJson(s: SimState, v: VaultUnitRec): string {
  return (
    JSON.stringify({ ...sealStatus(s, v), ha_enabled: false, active_time: "0001-01-01T00:00:00Z" }, null, 2) + "\n"
  );
}

/** `vault status` (table; columnize with a 4-space glue). */
export function statusTable(s: SimState, v: VaultUnitRec): string {
  const rows: [string, string][] = [
    ["Seal Type", "shamir"],
    ["Initialized", "true"],
    ["Sealed", String(v.sealed)],
    ["Total Shares", String(s.vault.shares)],
    ["Threshold", String(s.vault.threshold)],
  ];
  if (v.sealed)
    rows.push(["Unseal Progress", `${v.given.length}/${s.vault.threshold}`], ["Unseal Nonce", v.nonce || "n/a"]);
  rows.push(["Version", VERSION], ["Build Date", BUILD_DATE], ["Storage Type", "mysql"]);
  if (!v.sealed) rows.push(["Cluster Name", CLUSTER_NAME], ["Cluster ID", CLUSTER_ID]);
  rows.push(["HA Enabled", "false"]);
  const all: [string, string][] = [["Key", "Value"], ["---", "-----"], ...rows];
  const width = Math.max(...all.map(([k]) => k.length)) + 4;
  return all.map(([k, val]) => k.padEnd(width) + val).join("\n") + "\n";
}

/** What Vault answers while its MySQL storage is unreachable (it reads the seal config from storage). */
export const STORAGE_DOWN =
  "failed to check for initialization: Error 2003: Can't connect to remote MySQL server for client connected to '127.0.0.1:3306'";

// --- the listeners a request on the vault unit can reach ------------------------------------------

/**
 * The vault charm's two listeners (openstack/charm-vault @ 5a0c525ee5286391fdc42242e82816021c469cb3
 * `src/templates/vault.hcl.j2`): `[::]:8200` serves TLS when ssl-cert/ssl-key are set
 * (`ssl_available`, `src/reactive/vault_handlers.py`), plain HTTP otherwise; `127.0.0.1:8220` is
 * always plain ("Localhost only listener for charm access to vault", `tls_disable = 1`) and is what
 * the charm itself talks to (`src/lib/charm/vault.py`: `VAULT_LOCALHOST_URL = "http://127.0.0.1:8220"`;
 * added in 28fb89a, 2018-04-20; the public listener became `[::]:8200` in 9f2a473, 2019-11-01).
 */
export const PUBLIC_PORT = 8200;
export const LOOPBACK_PORT = 8220;

/**
 * Go's net/http server answers a plain-HTTP request on a TLS listener (first bytes "GET /", "PUT /",
 * ...) with `HTTP/1.0 400 Bad Request` and this body, then closes: golang/go @
 * cf501e05e138e6911f759a5db786e90b295499b9 `src/net/http/server.go` (`(*conn).serve`,
 * `tlsRecordHeaderLooksLikeHTTP`). Vault serves with net/http, so that is what a client meets.
 */
export const PLAIN_HTTP_TO_TLS_BODY = "Client sent an HTTP request to an HTTPS server.\n";

export interface VaultUrl {
  https: boolean;
  host: string;
  port: number;
  /** "/v1/sys/unseal"; "" for a bare address. */
  path: string;
}

export function parseVaultUrl(url: string): VaultUrl | undefined {
  const m = /^(https?):\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d+)(\/[^\s]*)?$/.exec(url);
  if (!m) return undefined;
  return { https: m[1] === "https", host: m[2], port: Number(m[3]), path: m[4] ?? "" };
}

/** `VAULT_ADDR=<url> vault status[ -format=json]` -> the address and the format; anything else undefined. */
export function parseStatusCommand(command: string): { addr: string; url: VaultUrl; json: boolean } | undefined {
  const m = /^VAULT_ADDR=(\S+) vault status( -format=json)?$/.exec(command);
  const url = m ? parseVaultUrl(m[1]) : undefined;
  return m && url ? { addr: m[1], url, json: m[2] !== undefined } : undefined;
}

/** What a client on the vault unit meets at `url`: a listener speaking its scheme, plain HTTP sent to the TLS listener, or nothing listening. */
export function listenerAt(s: SimState, url: VaultUrl): "ok" | "plain-to-tls" | "refused" {
  if (url.port === LOOPBACK_PORT) return url.https ? "refused" : "ok";
  if (url.port !== PUBLIC_PORT) return "refused";
  const tls = s.vault.tls === true;
  if (tls && !url.https) return "plain-to-tls";
  // https against the plain listener is not a case coldstart ever sends: the sim does not model it
  return tls === url.https ? "ok" : "refused";
}

/**
 * `vault status` against the TLS listener over plain HTTP: the API client reads the 400 and its
 * non-JSON body as a raw message (hashicorp/vault @ cb610b0a786bfaf7b0b265b2e63a27808c4c8a08
 * `api/response.go`: `ResponseError.Error()`, "Error making API request.\n\nURL: %s %s\nCode: %d.
 * Raw Message:\n\n"), and `vault status` prints "Error checking seal status: %s" and exits 1
 * (hashicorp/vault @ a1080912906c4c3010909d406f52e8f6315f6ec6 `command/status.go`). Assembled
 * from those sources; no Vault binary was run.
 */
export function statusPlainToTls(addr: string): string {
  return `Error checking seal status: Error making API request.\n\nURL: GET ${addr}/v1/sys/seal-status\nCode: 400. Raw Message:\n\n${PLAIN_HTTP_TO_TLS_BODY}`;
}

/** curl's own line when nothing listens (curl 7.8x wording, as the sim printed before; not a capture). */
export function curlRefused(url: VaultUrl): string {
  return `curl: (7) Failed to connect to ${url.host} port ${url.port} after 0 ms: Connection refused\n`;
}
