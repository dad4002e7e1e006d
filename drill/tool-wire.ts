/**
 * The framing between a fake tool's thin client (sim/bin/tool-client.pl) and the drill's tool
 * server (drill/tool-server.ts), issue #14. Ours, defined here; the client has no JSON (JSON::PP
 * is not in Debian's perl-base), so a message is byte strings with lengths, as Perl writes them
 * with `pack("N", scalar @f) . pack("(N/a*)*", @f)` (perlfunc pack: N = u32 big-endian):
 *   message = u32 count, then count times (u32 length, that many bytes).
 * Request fields:  TAG, tool, client pid, cwd, stdin, argc, argv[0..argc-1], then "NAME=value"
 *                  for every variable of the client's environment (the rest of the fields).
 * Response fields: TAG, exit code (decimal), stdout, stderr.
 * Strings are UTF-8 as node decodes argv, the environment and stdin (entry.ts readFileSync 'utf8').
 */

/** First field of every message: a client and a server of different builds refuse each other. */
export const WIRE_TAG = "coldstart-tool/1";

export interface ToolRequest {
  tool: string;
  pid: number;
  cwd: string;
  stdin: string;
  argv: string[];
  env: Record<string, string>;
}

export interface ToolAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class WireError extends Error {
  override readonly name = "WireError";
}

export function encodeFields(fields: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [u32(fields.length)];
  for (const f of fields) {
    const b = typeof f === "string" ? Buffer.from(f, "utf8") : f;
    parts.push(u32(b.length), b);
  }
  return Buffer.concat(parts);
}

/** The fields of a whole message at the start of `buf`, or undefined while it is incomplete. */
export function decodeFields(buf: Buffer): { fields: Buffer[]; size: number } | undefined {
  if (buf.length < 4) return undefined;
  const count = buf.readUInt32BE(0);
  const fields: Buffer[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (buf.length < at + 4) return undefined;
    const len = buf.readUInt32BE(at);
    if (buf.length < at + 4 + len) return undefined;
    fields.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { fields, size: at };
}

export function encodeRequest(r: ToolRequest): Buffer {
  return encodeFields([
    WIRE_TAG,
    r.tool,
    String(r.pid),
    r.cwd,
    r.stdin,
    String(r.argv.length),
    ...r.argv,
    ...Object.entries(r.env).map(([k, v]) => `${k}=${v}`),
  ]);
}

export function parseRequest(fields: Buffer[]): ToolRequest {
  const text = fields.map((f) => f.toString("utf8"));
  if (text[0] !== WIRE_TAG) throw new WireError(`expected the tag ${WIRE_TAG}, found ${JSON.stringify(text[0] ?? "")}`);
  const argc = Number(text[5]);
  if (text.length < 6 || !Number.isInteger(argc) || argc < 0 || 6 + argc > text.length)
    throw new WireError(`expected tag, tool, pid, cwd, stdin, argc and argc arguments, found ${text.length} fields`);
  const env: Record<string, string> = {};
  for (const kv of text.slice(6 + argc)) {
    const eq = kv.indexOf("=");
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    tool: text[1],
    pid: Number(text[2]),
    cwd: text[3],
    stdin: text[4],
    argv: text.slice(6, 6 + argc),
    env,
  };
}

export function encodeAnswer(a: ToolAnswer): Buffer {
  return encodeFields([WIRE_TAG, String(a.exitCode), a.stdout, a.stderr]);
}

export function parseAnswer(fields: Buffer[]): ToolAnswer {
  if (fields.length !== 4 || fields[0].toString("utf8") !== WIRE_TAG)
    throw new WireError(`expected ${WIRE_TAG}, exit code, stdout, stderr; found ${fields.length} fields`);
  return {
    exitCode: Number(fields[1].toString()),
    stdout: fields[2].toString("utf8"),
    stderr: fields[3].toString("utf8"),
  };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
