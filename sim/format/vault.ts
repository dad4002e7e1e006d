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
