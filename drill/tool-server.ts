/**
 * A drill's fake tool calls, answered in the drill process (issue #14). A step still spawns
 * `juju …` as a real process (its argv, stdin and exit code are what steps are tested against),
 * but that process is a thin client (sim/bin/tool-client.pl, started by the shim sim/bin/sim-tool when
 * COLDSTART_SIM_TOOLS is set) that sends the call here and prints the answer: the tool's own work
 * (sim/tools/*.ts `main`) runs here, with the client's argv, stdin, cwd and environment.
 * On the clock the call is the client's token (COLDSTART_SIM_ID, registered by its step before
 * spawn): busy while the tool computes, waiting while the tool's `time.sleepS` waits, through an
 * in-process participant (drill/sim-clock.ts participant) -- what a node tool joined with `hello`
 * was. A client that goes away (a call timeout's SIGKILL) cancels its wait and nothing else.
 * The socket sits in the clock's private directory; stdin (unseal keys) is never written down.
 */
import * as net from "node:net";
import * as path from "node:path";
import type { SimClockServer, SimParticipant } from "./sim-clock";
import { NOT_JOINABLE, SIM_CLOCK_VAR, SIM_ID_VAR } from "../runtime/sim-clock";
import { TOOLS, unknownTool, type ToolMain } from "../sim/tools/registry";
import type { ToolContext, ToolResult } from "../sim/tools/common";
import type { SimTime } from "../sim/time";
import { decodeFields, encodeAnswer, parseRequest, type ToolRequest } from "./tool-wire";

/** Set on every step shell of a drill: the tool server's socket (the shims use the client when set). */
export const SIM_TOOLS_VAR = "COLDSTART_SIM_TOOLS";

export interface ToolServer {
  socketPath: string;
  /** What every step shell gets: { COLDSTART_SIM_TOOLS: socketPath }. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface ToolServerOptions {
  clock: Pick<SimClockServer, "socketPath" | "participant" | "time">;
  /** The tools by name; default the fake tools (sim/tools/registry.ts). Tests give their own. */
  tools?: Record<string, () => Promise<ToolMain>>;
}

const fault = (stderr: string): ToolResult => ({ stdout: "", stderr, exitCode: 70 });

export async function startToolServer(opts: ToolServerOptions): Promise<ToolServer> {
  const tools = opts.tools ?? TOOLS;
  // next to the clock's socket: the same private directory, removed with it
  const socketPath = path.join(path.dirname(opts.clock.socketPath), "t");
  const socks = new Set<net.Socket>();

  /** The call's clock, as entry.ts chose it: the drill's when COLDSTART_SIM_CLOCK is set. */
  const timeOf = (req: ToolRequest, onAbort: (why: string) => void): { time?: SimTime; p?: SimParticipant } => {
    if (!req.env[SIM_CLOCK_VAR]) return {};
    const id = req.env[SIM_ID_VAR];
    if (id) {
      const p = opts.clock.participant(id, { pid: req.pid, onAbort });
      return { time: p.time, p };
    }
    // no token to wait on: as runtime/sim-clock.ts joinSimClock refuses it, on the first wait
    const refuse = (): Promise<void> => Promise.reject(new Error(NOT_JOINABLE));
    return {
      time: {
        kind: "discrete",
        nowS: () => opts.clock.time.nowS(),
        sleepS: (s) => (s > 0 ? refuse() : Promise.resolve()),
      },
    };
  };

  const serve = (sock: net.Socket) => {
    socks.add(sock);
    const chunks: Buffer[] = [];
    let started = false;
    let over = false;
    let participant: SimParticipant | undefined;
    const reply = (a: ToolResult) => {
      if (over) return;
      over = true;
      participant?.close();
      sock.end(encodeAnswer(a));
    };
    const run = async (req: ToolRequest): Promise<ToolResult> => {
      const load = Object.hasOwn(tools, req.tool) ? tools[req.tool] : undefined;
      if (!load) return unknownTool(req.tool, Object.keys(tools));
      const main = await load();
      // the drill stopped while the call waits: what the process got (runtime/sim-clock.ts abort)
      const { time, p } = timeOf(req, (why) =>
        reply(fault(`coldstart: the drill's clock stopped this process: ${why}\n`)),
      );
      participant = p;
      if (over) p?.close(); // the client left while the tool was loading
      const ctx: ToolContext = { env: req.env, cwd: req.cwd, ...(time ? { time } : {}) };
      return main(req.argv, req.stdin, ctx);
    };
    sock.on("data", (chunk: Buffer) => {
      if (started) return; // one request per connection; nothing follows it
      chunks.push(chunk);
      const msg = decodeFields(chunks.length === 1 ? chunk : Buffer.concat(chunks));
      if (!msg) return;
      started = true;
      chunks.length = 0;
      let req: ToolRequest;
      try {
        req = parseRequest(msg.fields);
      } catch (err) {
        return reply(
          fault(`coldstart sim: the drill's tool server cannot read this call: ${(err as Error).message}\n`),
        );
      }
      // entry.ts's error path: a tool that throws answers exit 70 with one line
      run(req).then(reply, (err: unknown) => reply(fault(`coldstart sim: ${(err as Error).message}\n`)));
    });
    sock.on("error", () => undefined);
    // the client is gone (killed at its call timeout): its wait ends, the tool's work is abandoned
    sock.on("close", () => {
      socks.delete(sock);
      over = true;
      participant?.close();
    });
  };

  const server = net.createServer(serve);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    env: { [SIM_TOOLS_VAR]: socketPath },
    close: async () => {
      for (const s of socks) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
