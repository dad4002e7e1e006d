/** An HTTP handler answering 200 with more than MAX_ANSWER_BYTES (power/http-exchange.ts), sent
 * as fast as the client reads it: what a misdirected URL (a file server, a proxy) can send. */
import type * as http from "node:http";
import { MAX_ANSWER_BYTES } from "../../power/http-exchange";

export function floodingAnswer(_req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  res.writeHead(200);
  let sent = 0;
  const more = (): void => {
    while (sent <= MAX_ANSWER_BYTES) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", more);
    }
    res.end();
  };
  // the client hangs up once it has seen too much: that is the point
  res.on("error", () => undefined);
  more();
}
