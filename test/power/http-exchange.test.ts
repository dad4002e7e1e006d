/**
 * The MAAS driver's HTTP exchange (power/http-exchange.ts) against real local servers: the whole
 * answer or a named failure, never a partial answer taken for a whole one.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { httpExchange, HttpTimeout, MAX_ANSWER_BYTES } from "../../power/http-exchange";
import { floodingAnswer } from "../support/flooding-answer";
import { failure } from "../support/failure";

let server: http.Server;
let url: string;
let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;
const seen: { method?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method, headers: req.headers, body });
      handle(req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/MAAS/api/2.0/machines/x/?op=power_off`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => (seen.length = 0));

const exchange = (over: Partial<Parameters<typeof httpExchange>[1]> = {}) =>
  httpExchange(url, {
    method: "POST",
    headers: { Accept: "application/json" },
    body: "stop_mode=soft",
    timeoutMs: 2_000,
    ...over,
  });

describe("httpExchange", () => {
  it("sends the method, headers and body (with its length) and reads the whole answer, whatever its status", async () => {
    handle = (_req, res) => res.writeHead(409, { "Content-Type": "text/plain" }).end("Node must be allocated");
    await expect(exchange()).resolves.toEqual({ status: 409, text: "Node must be allocated" });
    expect(seen).toEqual([
      expect.objectContaining({
        method: "POST",
        body: "stop_mode=soft",
        headers: expect.objectContaining({ accept: "application/json", "content-length": "14", connection: "close" }),
      }),
    ]);
  });

  it("no answer at all within timeoutMs: HttpTimeout, and the connection is closed, not left open", async () => {
    let closed: Promise<void> = Promise.resolve();
    handle = (req) => {
      closed = new Promise((r) => req.socket.once("close", () => r()));
    };
    const err = await failure(exchange({ timeoutMs: 300 }));
    expect(err).toBeInstanceOf(HttpTimeout);
    await closed; // the test times out if the client kept the socket
  });

  it("a finished exchange leaves no timer running (a power step's process exits at once)", async () => {
    handle = (_req, res) => res.writeHead(200).end("{}");
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    await expect(exchange({ timeoutMs: 60_000 })).resolves.toEqual({ status: 200, text: "{}" });
    expect(timers()).toBe(before);
  });

  it("follows no redirect: a 302 is the answer", async () => {
    handle = (_req, res) => res.writeHead(302, { Location: "/elsewhere" }).end();
    await expect(exchange({ method: "GET", body: undefined })).resolves.toEqual({ status: 302, text: "" });
    expect(seen).toHaveLength(1);
  });

  it("an answer cut before its last byte is a failure, not a shorter answer", async () => {
    handle = (_req, res) => {
      res.writeHead(200, { "Content-Length": "100" });
      res.write('{"state": "o');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    const err = await failure(exchange());
    expect(err).not.toBeInstanceOf(HttpTimeout);
    expect(err).toMatchObject({ code: "ECONNRESET", message: "aborted" });
  });

  it("no whole answer within timeoutMs: HttpTimeout (named TimeoutError), in about that time", async () => {
    handle = (_req, res) => {
      res.writeHead(200);
      res.write("{");
      setTimeout(() => res.end("}"), 3_000).unref();
    };
    const started = Date.now();
    const err = await failure(exchange({ timeoutMs: 300 }));
    expect(err).toBeInstanceOf(HttpTimeout);
    expect(err.name).toBe("TimeoutError");
    expect(err.message).toBe("no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("an answer larger than MAX_ANSWER_BYTES is refused, not buffered", async () => {
    handle = floodingAnswer;
    const err = await failure(exchange({ timeoutMs: 10_000 }));
    expect(err.message).toBe(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
  });

  it("an answer of exactly MAX_ANSWER_BYTES is still taken whole", async () => {
    handle = (_req, res) => res.writeHead(200).end(Buffer.alloc(MAX_ANSWER_BYTES, 0x20));
    const answer = await exchange({ timeoutMs: 10_000 });
    expect(answer.status).toBe(200);
    expect(answer.text).toHaveLength(MAX_ANSWER_BYTES);
  });

  it("no connection: the socket's own error, with its code", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const err = await failure(
      httpExchange(`http://127.0.0.1:${port}/MAAS`, { method: "GET", headers: {}, timeoutMs: 2_000 }),
    );
    expect((err as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("an https:// URL speaks TLS (here to a plain HTTP server: a TLS error, nothing sent in clear)", async () => {
    const err = await failure(
      httpExchange(url.replace(/^http:/, "https:"), { method: "GET", headers: {}, timeoutMs: 2_000 }),
    );
    expect((err as NodeJS.ErrnoException).code).toBe("EPROTO");
    expect(seen).toEqual([]);
  });

  it("a URL that is not http(s) is refused by name before anything is sent", async () => {
    const err = await failure(httpExchange("ftp://maas/MAAS", { method: "GET", headers: {}, timeoutMs: 1_000 }));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe("ftp://maas/MAAS: not an http:// or https:// URL");
  });
});
