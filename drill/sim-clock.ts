/**
 * A drill's discrete-event clock, server side (issue #14), in the drill process. Cloud time (sim
 * ms since the simulated cloud began) moves only at quiescence: every participant waits, the
 * engine is settled, no admission is pending. Then it jumps to the earliest wake-up asked for.
 * Participants are tokens: a step shell (`s17`, registered by the engine before spawn) and each
 * call it makes (`s17.3`, registered by the step before spawn: runtime/sim-clock.ts). A token is
 * busy until every live connection of it waits, and busy when it has none (starting, computing,
 * a shell between tools, exiting): so a process that never joins can stall time, never skew it.
 * Engine decisions at an instant (slot grants, "may start" after a failure, interrupts) are made
 * at quiescence in the catalog's order, so real arrival order cannot leak into the timeline.
 * Deadlock (everyone waits forever) and a stall (nobody moves for the watchdog's real seconds)
 * end the drill with the tokens named.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { onLines, SIM_CLOCK_FILE_VAR, SIM_CLOCK_VAR, SIM_ID_VAR } from "../runtime/sim-clock";
import { readClockFileMs, writeClockFile } from "../runtime/clock-file";
import { makePrivateDir } from "../runtime/private-dir";

interface Conn {
  /** A process's socket; absent for an in-process participant (drill/tool-server.ts). */
  sock?: net.Socket;
  /** How it hears a wake or an abort: a line on its socket, or the in-process participant's handler. */
  tell(msg: { op: "wake"; t: number } | { op: "abort"; why: string }): void;
  token?: Token;
  /** busy, or waiting until this sim ms (null: until something else happens). */
  until: number | null | "busy";
  pid?: number;
}

interface Token {
  id: string;
  label: string;
  conns: Set<Conn>;
  /** Real ms when it last became busy (for the watchdog's message). */
  busySince: number;
  /** Created by a hello before its parent's `child`: dropped with its last connection. */
  implicit?: boolean;
}

interface EngineTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** What an admission decides at quiescence: start now, never (the run stops), or not yet (no slot). */
export type Admission = "go" | "no" | "wait";

export interface SimClockStats {
  advances: number;
  wakes: number;
  quiescences: number;
  maxBusy: number;
}

export interface SimClockServer {
  socketPath: string;
  clockFile: string;
  /** Cloud time, sim ms. */
  nowMs(): number;
  /** A SimTime for in-process users (sim/maas-api.ts): nowS only; never sleep inside a request. */
  time: { readonly kind: "discrete"; nowS(): number; sleepS(seconds: number): Promise<void> };
  /** The engine registers a step shell before it spawns it; returns the env the shell needs. */
  spawnToken(label: string): { id: string; env: Record<string, string> };
  /** The shell's pipes closed: drop its token and every call token under it. */
  endToken(id: string): void;
  /**
   * An in-process participant for token `id` (the call's COLDSTART_SIM_ID); `pid` names its client
   * process in a deadlock or stall message; `onAbort` hears the drill stop while it waits.
   */
  participant(id: string, opts: { pid?: number; onAbort(why: string): void }): SimParticipant;
  /** Run `fn` when cloud time reaches now + ms (the engine's customTimeouts); returns a cancel. */
  timer(ms: number, fn: () => void): () => void;
  /** Ask at each quiescence, in `order` order, until `decide` says go or no. */
  admit(order: number, decide: () => Admission): Promise<"go" | "no">;
  /** Run when a call ends and at each quiescence before anything else; true if it changed something. */
  onQuiescence(fn: () => boolean): void;
  stats: SimClockStats;
  close(): Promise<void>;
}

/**
 * A participant that runs in the drill process (drill/tool-server.ts: a fake tool call answered
 * here), on the token of the process it stands for. It is what a node tool that joined with
 * `hello` was: busy while it computes, waiting while `time.sleepS` waits.
 */
export interface SimParticipant {
  /** A SimTime (sim/time.ts) on this clock: sleepS waits on cloud time (Infinity: until close). */
  time: { readonly kind: "discrete"; nowS(): number; sleepS(seconds: number): Promise<void>; close(): void };
  /** Its process is gone (or its answer sent): a pending wait never resolves; the token is busy again. */
  close(): void;
}

export interface SimClockOptions {
  /** `<sim dir>/clock`; its cloud time is kept when it exists (a resume continues the clock). */
  clockFile: string;
  /** Real seconds without a message or an advance before the drill is stopped (default 120, env COLDSTART_SIM_WATCHDOG_S). */
  watchdogS?: number;
  /** Pacing only (`--time-scale`): at least this many real ms per sim ms before an advance. */
  pace?: number;
  /** A deadlock or stall: the drill stops every step and fails with this message. */
  onFatal(message: string): void;
}

/** Event-loop turns with nothing new before the drill process counts as settled. */
const SETTLE_ROUNDS = 3;
const IN_FLIGHT = /^(FSReq|FileHandle|GetAddrInfoReqWrap)/;

export async function startSimClock(opts: SimClockOptions): Promise<SimClockServer> {
  let t = 0;
  try {
    t = readClockFileMs(opts.clockFile); // a resume continues the cloud's time
  } catch {
    // no clock yet: the cloud begins at 0
  }
  writeClockFile(opts.clockFile, t);
  // a private dir: no port, nobody else's socket, and a short path whatever --dir is
  const sockDir = makePrivateDir("coldstart-clock-");
  const socketPath = path.join(sockDir, "s");
  const tokens = new Map<string, Token>();
  const conns = new Set<Conn>();
  const timers: EngineTimer[] = [];
  const admissions: { order: number; decide: () => Admission; done: (a: "go" | "no") => void }[] = [];
  const hooks: (() => boolean)[] = [];
  const stats: SimClockStats = { advances: 0, wakes: 0, quiescences: 0, maxBusy: 0 };
  let seq = 0;
  let spawned = 0;
  let lastProgress = Date.now();
  let fatal: string | undefined;
  let closed = false;

  const tokenBusy = (tok: Token) => tok.conns.size === 0 || [...tok.conns].some((c) => c.until === "busy");
  const markBusy = (tok: Token | undefined) => {
    if (tok && !tokenBusy(tok)) tok.busySince = Date.now();
  };
  const drop = (id: string) => {
    for (const [k, tok] of tokens)
      if (k === id || k.startsWith(`${id}.`)) {
        tokens.delete(k);
        for (const c of tok.conns) c.token = undefined;
      }
  };
  const newToken = (id: string, label: string, implicit = false): Token => {
    const tok: Token = { id, label, conns: new Set(), busySince: Date.now(), implicit };
    tokens.set(id, tok);
    return tok;
  };

  /** Like a hello: the call's token, or an implicit one when it beat its parent's `child` (another socket). */
  const join = (c: Conn, id: string) => {
    const tok = tokens.get(id) ?? newToken(id, "(joined before its parent registered it)", true);
    c.token = tok;
    tok.conns.add(c);
  };
  /** A participant's socket closed (or an in-process one ended): its token is busy again, or gone if implicit. */
  const leave = (c: Conn) => {
    conns.delete(c);
    const tok = c.token;
    if (tok) {
      markBusy(tok);
      tok.conns.delete(c);
      if (tok.implicit && tok.conns.size === 0) tokens.delete(tok.id);
    }
    lastProgress = Date.now();
    poke();
  };

  const fail = (message: string) => {
    if (fatal) return;
    fatal = message;
    for (const c of conns) c.tell({ op: "abort", why: message });
    opts.onFatal(message);
  };
  const describe = (tok: Token, now: number) => {
    const pids = [...tok.conns].map((c) => c.pid).filter((p) => p !== undefined);
    const state = tokenBusy(tok)
      ? `busy for ${((now - tok.busySince) / 1000).toFixed(0)} s${tok.conns.size === 0 ? " (not connected: starting, computing or exiting)" : ""}`
      : "waits forever";
    return `${tok.id}${pids.length ? ` (pid ${pids.join(",")})` : ""} \`${tok.label}\` ${state}`;
  };

  // settle: SETTLE_ROUNDS turns of the event loop with no new event and no file request in flight
  let gen = 0;
  let scheduled = false;
  const poke = () => {
    gen++;
    if (scheduled || closed) return;
    scheduled = true;
    let seen = gen;
    let rounds = 0;
    const tick = () => {
      if (closed) return;
      if (seen !== gen) {
        seen = gen;
        rounds = 0;
      }
      rounds++;
      if (rounds < SETTLE_ROUNDS || process.getActiveResourcesInfo().some((r) => IN_FLIGHT.test(r))) {
        setImmediate(tick);
        return;
      }
      scheduled = false;
      quiesce();
    };
    setImmediate(tick);
  };

  let pacing = false;
  const quiesce = () => {
    if (fatal || pacing) return;
    const busy = [...tokens.values()].filter(tokenBusy).length;
    stats.maxBusy = Math.max(stats.maxBusy, busy);
    if (busy > 0) return;
    stats.quiescences++;
    if (hooks.some((h) => h())) return poke();
    // admissions in catalog order; one decided means the engine acts: settle again first
    admissions.sort((a, b) => a.order - b.order);
    let acted = false;
    for (const a of [...admissions]) {
      const d = a.decide();
      if (d === "wait") continue;
      admissions.splice(admissions.indexOf(a), 1);
      a.done(d);
      acted = true;
    }
    if (acted) return poke();
    let next = Infinity;
    for (const c of conns) if (c.token && typeof c.until === "number") next = Math.min(next, c.until);
    if (timers.length > 0) next = Math.min(next, timers[0].at);
    if (next === Infinity) {
      if (tokens.size === 0 && admissions.length === 0) return; // nothing runs: the engine is between runs or done
      const now = Date.now();
      const who = [...tokens.values()].map((tok) => describe(tok, now));
      if (admissions.length) who.push(`${admissions.length} step(s) wait for a slot that no running step will free`);
      return fail(`drill clock: deadlock at cloud time ${t} ms: ${who.join("; ")}`);
    }
    const T = Math.max(t, next);
    const delay = opts.pace ? (T - t) * opts.pace : 0;
    if (delay > 0) {
      pacing = true;
      setTimeout(() => {
        pacing = false;
        if ([...tokens.values()].some(tokenBusy)) return poke();
        advance(T);
      }, delay);
      return;
    }
    advance(T);
  };
  const advance = (T: number) => {
    if (T > t) {
      t = T;
      writeClockFile(opts.clockFile, t);
      stats.advances++;
    }
    lastProgress = Date.now();
    const due = [...conns]
      .filter((c) => c.token && typeof c.until === "number" && c.until <= t)
      .sort((a, b) => (a.token?.id ?? "").localeCompare(b.token?.id ?? "", "en", { numeric: true }));
    for (const c of due) {
      c.until = "busy";
      if (c.token) c.token.busySince = lastProgress;
      stats.wakes++;
      c.tell({ op: "wake", t });
    }
    while (timers.length > 0 && timers[0].at <= t) timers.shift()?.fn();
    poke();
  };

  const onMessage = (c: Conn, msg: { op?: string; id?: string; pid?: number; label?: string; until?: unknown }) => {
    lastProgress = Date.now();
    if (msg.op === "wait") {
      if (!c.token) return; // a process whose token was dropped (its step ended) counts for nothing
      c.until = typeof msg.until === "number" ? msg.until : null;
      return poke();
    }
    markBusy(c.token);
    c.until = "busy";
    if (msg.op === "hello" && typeof msg.id === "string") {
      c.pid = msg.pid;
      // a hello may beat the parent's `child` (another socket): the id names its parent anyway
      join(c, msg.id);
    } else if (msg.op === "child" && typeof msg.id === "string") {
      const tok = tokens.get(msg.id);
      if (tok) {
        tok.implicit = false;
        tok.label = msg.label ?? tok.label;
      } else newToken(msg.id, msg.label ?? "");
    } else if (msg.op === "done" && typeof msg.id === "string") {
      drop(msg.id);
      // a call just ended (its log line is written): an interrupt "at this call" lands here,
      // before the step reads the answer, wherever the step goes next
      for (const h of hooks) h();
      c.sock?.write(`${JSON.stringify({ op: "ack" })}\n`);
    }
    poke();
  };

  const server = net.createServer((sock) => {
    const c: Conn = { sock, until: "busy", tell: (msg) => sock.write(`${JSON.stringify(msg)}\n`) };
    conns.add(c);
    onLines(sock, (line) => {
      let msg: Parameters<typeof onMessage>[1];
      try {
        msg = JSON.parse(line) as Parameters<typeof onMessage>[1];
      } catch {
        return; // not a message of ours: ignore the line (a bug in onMessage is never swallowed)
      }
      onMessage(c, msg);
    });
    sock.on("error", () => undefined);
    sock.on("close", () => leave(c));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });

  const watchdogMs = 1000 * (opts.watchdogS ?? (Number(process.env.COLDSTART_SIM_WATCHDOG_S) || 120));
  const watchdog = setInterval(() => {
    const now = Date.now();
    if (fatal || tokens.size === 0 || now - lastProgress < watchdogMs) return;
    const busy = [...tokens.values()].filter(tokenBusy).map((tok) => describe(tok, now));
    fail(
      `drill clock: no progress for ${Math.round(watchdogMs / 1000)} real s at cloud time ${t} ms; busy: ${busy.join("; ") || "(none)"}`,
    );
  }, 1000);
  watchdog.unref();

  const timer = (ms: number, fn: () => void) => {
    const tm: EngineTimer = { at: t + Math.max(0, Math.round(ms)), seq: seq++, fn };
    let i = timers.length;
    while (i > 0 && (timers[i - 1].at > tm.at || (timers[i - 1].at === tm.at && timers[i - 1].seq > tm.seq))) i--;
    timers.splice(i, 0, tm);
    return () => {
      const at = timers.indexOf(tm);
      if (at >= 0) timers.splice(at, 1);
    };
  };

  const participant = (id: string, p: { pid?: number; onAbort(why: string): void }): SimParticipant => {
    let c: Conn | undefined;
    let resume: (() => void) | undefined;
    let ended = false;
    const close = () => {
      if (ended) return;
      ended = true;
      resume = undefined; // the wait is cancelled, nothing else: the tool's promise just never settles
      if (c) leave(c);
    };
    const sleepS = (seconds: number): Promise<void> => {
      if (ended) return new Promise<void>(() => undefined);
      // as the process client: no wait, no round trip (runtime/sim-clock.ts sleepS)
      if (!(seconds > 0)) return Promise.resolve();
      if (!c) {
        // joins on its first wait, as a tool process did (sim/time.ts discreteTime)
        const conn: Conn = {
          until: "busy",
          pid: p.pid,
          tell: (msg) => {
            if (msg.op === "abort") return p.onAbort(msg.why);
            const r = resume;
            resume = undefined;
            r?.();
          },
        };
        conns.add(conn);
        join(conn, id);
        c = conn;
      }
      lastProgress = Date.now();
      // the wake time as the process client computed it: now + round(ms) (runtime/sim-clock.ts timer)
      if (c.token) c.until = seconds === Infinity ? null : t + Math.max(0, Math.round(seconds * 1000));
      poke();
      return new Promise<void>((resolve) => (resume = resolve));
    };
    return { time: { kind: "discrete", nowS: () => t / 1000, sleepS, close }, close };
  };

  return {
    socketPath,
    clockFile: opts.clockFile,
    participant,
    nowMs: () => t,
    time: {
      kind: "discrete",
      nowS: () => t / 1000,
      sleepS: (seconds) => new Promise<void>((resolve) => timer(seconds * 1000, resolve)),
    },
    spawnToken: (label) => {
      const id = `s${++spawned}`;
      newToken(id, label);
      poke();
      return { id, env: { [SIM_CLOCK_VAR]: socketPath, [SIM_CLOCK_FILE_VAR]: opts.clockFile, [SIM_ID_VAR]: id } };
    },
    endToken: (id) => {
      drop(id);
      lastProgress = Date.now();
      poke();
    },
    timer,
    admit: (order, decide) =>
      new Promise((resolve) => {
        admissions.push({ order, decide, done: resolve });
        poke();
      }),
    onQuiescence: (fn) => hooks.push(fn),
    stats,
    close: async () => {
      closed = true;
      clearInterval(watchdog);
      for (const c of conns) c.sock?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(sockDir, { recursive: true, force: true });
    },
  };
}
