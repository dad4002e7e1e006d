/**
 * One HTTP exchange for the MAAS driver (power/maas.ts), on node:http / node:https.
 *
 * Why not Node's fetch: every power step is a fresh process, and the first fetch in a process loads
 * undici (its own HTTP stack, web streams and an llhttp wasm module): ~60 ms of CPU before the first
 * byte against ~20 ms for node:http (Node 22, `node -e`, measured side by side), then more per
 * request. Across one drill's 16 power steps that was a fifth of all the steps' CPU.
 *
 * A fresh connection per exchange (`agent: false`: Node sends `Connection: close`; nodejs.org/api
 * http.html#httprequestoptions-callback). A power gate polls a second to minutes apart, longer
 * than a server's keep-alive: a kept socket that the server closes as we reuse it fails the poll
 * with ECONNRESET, and a new TCP connection to MAAS costs less than that doubt.
 */
import * as http from "node:http";

export interface HttpExchange {
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange, connect to the answer's last byte (real time: a hung MAAS is real). */
  timeoutMs: number;
  /**
   * https:// only: the PEM CA certificate(s) the server's certificate must chain to, INSTEAD of
   * Node's bundled Mozilla CAs (node:tls createSecureContext `ca`: "Optionally override the
   * trusted CA certificates"). A self-signed MAAS is trusted through its own certificate here,
   * never by turning verification off.
   */
  ca?: string;
}

export interface HttpAnswer {
  status: number;
  text: string;
}

/** Thrown when no whole answer came within timeoutMs (fetch's AbortSignal.timeout used this name). */
export class HttpTimeout extends Error {
  override readonly name = "TimeoutError";
}

/** An answer larger than this is not MAAS's (a machine's JSON is tens of KB): refused, not buffered. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/**
 * Send one request and read the whole answer. Rejects with the socket's own error (its `code`:
 * ECONNREFUSED, ENOTFOUND, ...) when there is no connection, HttpTimeout when no whole answer came
 * in time. Any status is an answer: the caller judges it (no redirect is followed).
 */
export async function httpExchange(url: string, x: HttpExchange): Promise<HttpAnswer> {
  const target = new URL(url);
  if (target.protocol !== "http:" && target.protocol !== "https:")
    throw new TypeError(`${url}: not an http:// or https:// URL`);
  // TLS only when the URL asks for it: loading node:https costs a step that does not use it
  const request = target.protocol === "https:" ? (await import("node:https")).request : http.request;
  const headers: Record<string, string | number> = { ...x.headers };
  if (x.body !== undefined) headers["Content-Length"] = Buffer.byteLength(x.body);
  return new Promise<HttpAnswer>((resolve, reject) => {
    // the first call settles the promise (a later reject or resolve does nothing); every call
    // stops the timer, so a finished exchange keeps no timer alive in the step's process
    const settle = (err: Error | undefined, answer?: HttpAnswer) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer!);
    };
    // `ca` undefined: Node's bundled CAs (node:tls); node:http ignores it
    const req = request(target, { method: x.method, headers, agent: false, ca: x.ca }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () =>
        settle(undefined, { status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
      );
      // cut mid-answer: no 'end', but this 'error' (ECONNRESET "aborted", or the error req.destroy()
      // was given) before res's 'close' (nodejs.org/api/http.html#httprequesturl-options-callback,
      // the event order of a premature close after the response is received)
      res.on("error", (err) => settle(err));
    });
    // after the request: settle() reads `timer`, and a request emits nothing before this tick ends
    // destroy(err) settles with err: req's 'error' before an answer, res's 'error' during one
    const timer = setTimeout(() => req.destroy(new HttpTimeout(`no answer within ${x.timeoutMs} ms`)), x.timeoutMs);
    req.on("error", (err) => settle(err));
    req.end(x.body);
  });
}
