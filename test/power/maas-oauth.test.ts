/**
 * Issue #22: power/maas-oauth.ts -- the MAAS API key's three parts, and the OAuth 1.0 PLAINTEXT
 * header as MAAS's CLI (oauthlib) builds it: what MAAS checks (test/sim/maas-api.test.ts checks
 * it as piston3 does) and what the operator reads for a key that does not parse.
 */
import { authorizationHeader, makeNonce, MalformedApiKey, oauthEncode, parseApiKey } from "../../power/maas-oauth";
import { checkOAuth, splitOAuthHeader } from "../../sim/maas-api";
import { FIXTURE_API_KEY, FIXTURE_KEY } from "../support/maas-server";

/** The message parseApiKey refuses `key` with. */
function refusal(key: string): string {
  try {
    parseApiKey(key);
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedApiKey);
    expect((err as Error).name).toBe("MalformedApiKey");
    return (err as Error).message;
  }
  throw new Error(`expected ${key} to be refused`);
}

describe("parseApiKey", () => {
  it("takes the key with surrounding blanks (a file's newline) as its three parts", () => {
    expect(parseApiKey(`  ${FIXTURE_API_KEY} \n`)).toEqual(FIXTURE_KEY);
  });

  it("counts the parts it found, in the singular for one", () => {
    expect(refusal("justonepart")).toBe(
      "is not consumer_key:token_key:token_secret (it has 1 colon-separated part, MAAS keys have 3)",
    );
    expect(refusal("a:b")).toBe(
      "is not consumer_key:token_key:token_secret (it has 2 colon-separated parts, MAAS keys have 3)",
    );
  });

  it("names the empty part, never the others", () => {
    expect(refusal(":tok:secret")).toBe(
      "has an empty consumer_key (MAAS keys are consumer_key:token_key:token_secret)",
    );
    expect(refusal("cons::secret")).toBe("has an empty token_key (MAAS keys are consumer_key:token_key:token_secret)");
    expect(refusal("cons:tok:")).toBe("has an empty token_secret (MAAS keys are consumer_key:token_key:token_secret)");
  });
});

describe("oauthEncode: RFC 5849 3.6", () => {
  it("encodes each of !'()* that encodeURIComponent leaves alone, upper-case hex", () => {
    expect(["!", "'", "(", ")", "*"].map(oauthEncode)).toEqual(["%21", "%27", "%28", "%29", "%2A"]);
    expect(oauthEncode("AZaz09-._~")).toBe("AZaz09-._~");
  });
});

describe("the nonce and the timestamp", () => {
  it("a nonce is a random 64-bit number followed by the timestamp, all digits, fresh each time", () => {
    const a = makeNonce("1765000000");
    const b = makeNonce("1765000000");
    expect(a).toMatch(/^\d{1,20}1765000000$/);
    expect(a).not.toBe(b);
  });

  it("without options: the current time in whole seconds, a nonce ending in it; MAAS's check accepts it", () => {
    const before = Math.floor(Date.now() / 1000);
    const header = authorizationHeader(FIXTURE_KEY);
    const after = Math.floor(Date.now() / 1000);
    const params = splitOAuthHeader(header)!;
    const timestamp = params.get("oauth_timestamp")!;
    expect(timestamp).toMatch(/^\d+$/);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(after);
    expect(params.get("oauth_nonce")).toMatch(new RegExp(`^\\d+${timestamp}$`));
    expect(params.get("oauth_signature")).toBe(`&${FIXTURE_KEY.tokenSecret}`);
    expect(checkOAuth(header, FIXTURE_KEY, new Set())).toBeUndefined();
  });

  it("given ones are used as they are", () => {
    const params = splitOAuthHeader(authorizationHeader(FIXTURE_KEY, { timestamp: "17", nonce: "42" }))!;
    expect([params.get("oauth_timestamp"), params.get("oauth_nonce")]).toEqual(["17", "42"]);
  });
});
