/**
 * A drill's discrete-event clock, participant side (issue #14): what a step process and a fake tool
 * use instead of real time when the drill engine says so (COLDSTART_SIM_CLOCK). The server is
 * drill/sim-clock.ts; the protocol, one NDJSON line per message over a Unix socket:
 * - client -> server: hello {id, pid}; child {id, label} (before spawn: the child's token is busy
 *   from now); done {id} (its pipes closed); wait {until: sim ms | null}; busy {} -- any message
 *   but wait means "this process computes";
 * - server -> client: wake {t} (cloud time is t; fire every timer at or before it); ack {} (a
 *   `done` was seen: the call's answer may be read now); abort {why}.
 * Time is sim ms since the simulated cloud began, read synchronously from the clock file: it only
 * changes while every participant waits, so a running process always reads the current value.
 * Loads node:net, the clock file (runtime/clock-file.ts) and exec: a fake tool that waits loads it on its hot path.
 */
import * as net from "node:net";
import { spawnExec, type Exec } from "./exec";
import type { Clock } from "./clock";
import { SIM_CLOCK_VAR, SIM_EPOCH_MS, readSimClockMs } from "./clock-file";

/** The clock's protocol is one JSON object per line (NDJSON) both ways: call `fn` per whole line. */
export function onLines(sock: net.Socket, fn: (line: string) => void): void {
  let buf = "";
  sock.setEncoding("utf8");
  sock.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      fn(line);
    }
  });
}

export { SIM_CLOCK_FILE_VAR, SIM_CLOCK_VAR, SIM_EPOCH_MS, readSimClockMs } from "./clock-file";
/** This process's token (`s17`, `s17.3`). Not "..._TOKEN": exec's secret filter strips /TOKEN/i. */
export const SIM_ID_VAR = "COLDSTART_SIM_ID";

export interface SimClockClient {
  /** now() = SIM_EPOCH_MS + cloud ms; sleep/timer on cloud time; hold keeps this process busy. */
  clock: Clock & {
    timer(ms: number, fn: () => void): () => void;
    hold<T>(p: Promise<T>): Promise<T>;
  };
  /** realExec's behaviour with the call timeout on cloud time and every child registered. */
  exec: Exec;
  /** For fake tools: resolve after `seconds` of cloud time (Infinity: never; only a kill ends it). */
  sleepS(seconds: number): Promise<void>;
  /** Cloud time, sim ms (the clock file). */
  nowMs(): number;
  close(): void;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Resource types of this process that mean "an answer is on its way" (not a wait). */
const IN_FLIGHT = /^(FSReq|FileHandle|GetAddrInfoReqWrap|TCPConnectWrap)/;

/** Why a process cannot join the drill's clock: a socket without a token, or a token without a socket. */
export const NOT_JOINABLE = `${SIM_CLOCK_VAR} and ${SIM_ID_VAR} must both be set to join a drill's clock`;

export function joinSimClock(env: NodeJS.ProcessEnv = process.env): SimClockClient {
  const socketPath = env[SIM_CLOCK_VAR];
  const id = env[SIM_ID_VAR];
  if (!socketPath || !id) throw new Error(NOT_JOINABLE);
  const nowMs = () => readSimClockMs(env);

  const sock = net.createConnection(socketPath);
  const send = (msg: Record<string, unknown>) => sock.write(`${JSON.stringify(msg)}\n`);
  sock.on("error", (err) => {
    process.stderr.write(`coldstart: the drill's clock (${socketPath}) is gone: ${err.message}\n`);
    process.exit(70);
  });
  onLines(sock, (line) => {
    const msg = JSON.parse(line) as { op: string; t?: number; why?: string };
    if (msg.op === "wake") wake(msg.t ?? nowMs());
    else if (msg.op === "ack") {
      acks.shift()?.();
      schedule();
    } else if (msg.op === "abort") {
      process.stderr.write(`coldstart: the drill's clock stopped this process: ${msg.why ?? "(no reason)"}\n`);
      process.exit(70);
    }
  });
  send({ op: "hello", id, pid: process.pid });

  const timers: Timer[] = [];
  /** `done`s not acknowledged yet, in the order sent. */
  const acks: (() => void)[] = [];
  let seq = 0;
  let children = 0;
  let forever = 0;
  let holds = 0;
  let childSeq = 0;
  /** What the server believes: undefined = busy, else the `until` we sent. */
  let waiting: number | null | undefined;

  /** Something runs here while the server may think we wait (a real timer, a signal): say so first. */
  const busy = () => {
    if (waiting === undefined) return;
    waiting = undefined;
    send({ op: "busy" });
  };
  const keepAlive = () => {
    // the socket alone keeps a process alive only while it waits on cloud time
    if (timers.length > 0 || forever > 0 || acks.length > 0) sock.ref();
    else sock.unref();
  };

  let scheduled = false;
  let dirty = false;
  let rounds = 0;
  const schedule = () => {
    keepAlive();
    if (scheduled) {
      dirty = true;
      return;
    }
    scheduled = true;
    rounds = 0;
    setImmediate(tick);
  };
  // Idle = two event-loop turns with nothing new and no file/DNS/connect request in flight: the
  // promise chains that a wake or a child's end started have run to their next wait.
  const tick = () => {
    if (dirty) {
      dirty = false;
      rounds = 0;
    }
    rounds++;
    if (rounds < 2 || process.getActiveResourcesInfo().some((r) => IN_FLIGHT.test(r))) {
      setImmediate(tick);
      return;
    }
    scheduled = false;
    decide();
  };
  const decide = () => {
    if (holds > 0 || acks.length > 0) return;
    // nothing pending: the process is about to exit (or stuck: the server's watchdog names it)
    if (timers.length === 0 && children === 0 && forever === 0) return;
    const until = timers.length > 0 ? timers[0].at : null;
    if (waiting === until) return;
    waiting = until;
    send({ op: "wait", until });
  };
  const wake = (t: number) => {
    waiting = undefined; // the server marked us busy before it sent the wake
    while (timers.length > 0 && timers[0].at <= t) timers.shift()?.fn();
    schedule();
  };

  const timer = (ms: number, fn: () => void): (() => void) => {
    busy();
    const t: Timer = { at: nowMs() + Math.max(0, Math.round(ms)), seq: seq++, fn };
    let i = timers.length;
    while (i > 0 && (timers[i - 1].at > t.at || (timers[i - 1].at === t.at && timers[i - 1].seq > t.seq))) i--;
    timers.splice(i, 0, t);
    schedule();
    return () => {
      const at = timers.indexOf(t);
      if (at < 0) return;
      busy();
      timers.splice(at, 1);
      schedule();
    };
  };
  const hold = <T>(p: Promise<T>): Promise<T> => {
    busy();
    holds++;
    return p.finally(() => {
      holds--;
      schedule();
    });
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => timer(ms, resolve));
  keepAlive();

  const exec: Exec = (req) =>
    spawnExec(req, {
      timer,
      hold,
      child: (label) => {
        busy();
        const childId = `${id}.${++childSeq}`;
        children++;
        send({ op: "child", id: childId, label });
        return {
          env: { [SIM_ID_VAR]: childId },
          done: () => {
            children--;
            waiting = undefined; // "done" marks us busy on the server
            send({ op: "done", id: childId });
            // the answer is read only once the server has seen the call end (acks come in order)
            const acked = new Promise<void>((resolve) => acks.push(resolve));
            keepAlive();
            return acked;
          },
        };
      },
    });

  return {
    clock: { now: () => SIM_EPOCH_MS + nowMs(), sleep, timer, hold },
    exec,
    nowMs,
    sleepS: (seconds) => {
      if (seconds === Infinity) {
        busy();
        forever++;
        schedule();
        return new Promise<void>(() => undefined);
      }
      if (!(seconds > 0)) return Promise.resolve();
      return sleep(seconds * 1000);
    },
    close: () => {
      sock.end();
    },
  };
}
