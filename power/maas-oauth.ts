/**
 * MAAS API authentication: OAuth 1.0 PLAINTEXT, as MAAS's own CLI signs requests
 * (apiclient/maas_client.py MAASOAuth, via oauthlib; fixtures/maas/oauth-authorization-header.maascli-style.txt).
 *
 * The API key is `consumer_key:token_key:token_secret` (exactly three parts); the consumer secret
 * is empty, so the PLAINTEXT signature is `&<token_secret>`, percent-encoded in the header as
 * `%26<token_secret>`. The header therefore carries the token secret: it goes to MAAS and nowhere
 * else (never logged, never in a message).
 */
import { randomBytes } from "node:crypto";

export interface MaasApiKey {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

/** Why a key does not parse (never contains the key). */
export class MalformedApiKey extends Error {
  override readonly name = "MalformedApiKey";
}

export function parseApiKey(key: string): MaasApiKey {
  const parts = key.trim().split(":");
  if (parts.length !== 3)
    throw new MalformedApiKey(
      `is not consumer_key:token_key:token_secret (it has ${parts.length} colon-separated part${parts.length === 1 ? "" : "s"}, MAAS keys have 3)`,
    );
  const [consumerKey, tokenKey, tokenSecret] = parts as [string, string, string];
  const empty = [
    ["consumer_key", consumerKey],
    ["token_key", tokenKey],
    ["token_secret", tokenSecret],
  ].find(([, v]) => v === "");
  if (empty) throw new MalformedApiKey(`has an empty ${empty[0]} (MAAS keys are consumer_key:token_key:token_secret)`);
  return { consumerKey, tokenKey, tokenSecret };
}

/** RFC 5849 section 3.6 percent-encoding (unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"). */
export function oauthEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** oauthlib's nonce: a random 64-bit number followed by the timestamp, all digits. */
export function makeNonce(timestamp: string): string {
  return `${randomBytes(8).readBigUInt64BE()}${timestamp}`;
}

export interface SignOptions {
  /** Seconds since the epoch (default: now). MAAS refuses timestamps more than 300 s off its clock. */
  timestamp?: string;
  nonce?: string;
}

/** The `Authorization` header value, parameters in the order MAAS's CLI sends them. */
export function authorizationHeader(key: MaasApiKey, opts: SignOptions = {}): string {
  const timestamp = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? makeNonce(timestamp);
  const params: [string, string][] = [
    ["oauth_nonce", nonce],
    ["oauth_timestamp", timestamp],
    ["oauth_version", "1.0"],
    ["oauth_signature_method", "PLAINTEXT"],
    ["oauth_consumer_key", key.consumerKey],
    ["oauth_token", key.tokenKey],
    // PLAINTEXT: oauthEncode(consumer_secret) & oauthEncode(token_secret), consumer secret empty.
    ["oauth_signature", `&${oauthEncode(key.tokenSecret)}`],
  ];
  return `OAuth ${params.map(([k, v]) => `${k}="${oauthEncode(v)}"`).join(", ")}`;
}
