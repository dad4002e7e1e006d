/**
 * Issue #23 item 5: the engine reads a step's output one line at a time with a default
 * bufio.Scanner (pulumi-command v1.2.1 provider/pkg/provider/util/util.go `LogOutput`): one line
 * of 64 KiB or more stops that reader and the step stalls for good. A step's lines are cut at
 * 16 KiB (runtime/line-bound.ts), whatever a tool printed: tested here on the real step process
 * with a fake `juju` whose answer is one 1 MiB line, which coldstart quotes in its verdict.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { jsonReporter } from "../../cli/step-command";
import { LINE_CUT_MARKER, lineBounder, MAX_LINE_BYTES } from "../../runtime/line-bound";

/** bufio.MaxScanTokenSize: the longest line the engine's Scanner takes. */
const SCANNER_LIMIT = 64 * 1024;
const MiB = 1024 * 1024;

function lineBytes(text: string): number[] {
  return text.split("\n").map((l) => Buffer.byteLength(l, "utf8"));
}

describe("lineBounder", () => {
  it("cuts a 1 MiB line written in pieces at 16 KiB with the marker, and lets the next line through whole", () => {
    const bound = lineBounder();
    const big = "a".repeat(MiB);
    let out = bound("head ");
    for (let i = 0; i < big.length; i += 65536) out += bound(big.slice(i, i + 65536));
    out += bound("\nnext line\n");
    const lines = out.split("\n");
    expect(lines).toEqual([expect.stringMatching(/^head a+/), "next line", ""]);
    expect(lines[0].endsWith(LINE_CUT_MARKER)).toBe(true);
    expect(Buffer.byteLength(lines[0].slice(0, -LINE_CUT_MARKER.length))).toBe(MAX_LINE_BYTES);
  });

  it("ends the cut line at once, before its own newline arrives (a step killed mid-line leaves whole lines)", () => {
    const bound = lineBounder(10);
    expect(bound("0123456789abc")).toBe(`0123456789${LINE_CUT_MARKER}\n`);
    expect(bound("def")).toBe("");
    expect(bound("\nok\n")).toBe("ok\n");
  });

  it("never splits a character: a cut inside a multi-byte one drops it", () => {
    const bound = lineBounder(4);
    // "aé" is 3 bytes, "ü" 2 more: the 5th byte would split it
    expect(bound("aéü\n")).toBe(`aé${LINE_CUT_MARKER}\n`);
  });

  it("lines at the bound pass unchanged, many in one write", () => {
    const bound = lineBounder(5);
    expect(bound("12345\n12\n345\n")).toBe("12345\n12\n345\n");
  });
});

describe("a step whose tool printed one 1 MiB line", () => {
  const ROOT = path.resolve(__dirname, "../..");
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-test-long-line-"));
  // `juju status --format=json` with a 1 MiB unit name: its zod error quotes the key path
  fs.writeFileSync(
    path.join(bin, "juju"),
    `#!${process.execPath}
const big = "m".repeat(${MiB});
const units = { [big]: { "workload-status": { current: "active", message: big } } };
process.stdout.write(JSON.stringify({ model: { name: "m" }, machines: {}, applications: { "mysql-innodb-cluster": { units } } }) + "\\n");
`,
    { mode: 0o755 },
  );
  const run = (...extra: string[]) =>
    spawnSync(
      path.join(ROOT, "bin", "coldstart"),
      ["check", "mysql-cluster", "--model", "c:m", "--app", "mysql-innodb-cluster", "--units", "3", ...extra],
      { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8", timeout: 60_000 },
    );

  it("prints its verdict with no line the engine's Scanner could not read, the long one cut with the marker", () => {
    const r = run();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^FAILED check mysql-cluster$/m);
    expect(r.stderr).toContain(LINE_CUT_MARKER);
    for (const n of [...lineBytes(r.stdout), ...lineBytes(r.stderr)]) {
      expect(n).toBeLessThan(SCANNER_LIMIT);
      expect(n).toBeLessThanOrEqual(MAX_LINE_BYTES + Buffer.byteLength(LINE_CUT_MARKER));
    }
  });

  it("--json: every line stays one JSON object under the bound", () => {
    const r = run("--json");
    expect(r.status).toBe(1);
    const lines = r.stdout.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of [...lines, ...r.stderr.split("\n")]) expect(Buffer.byteLength(l)).toBeLessThan(SCANNER_LIMIT);
    for (const l of lines) expect(() => JSON.parse(l) as unknown).not.toThrow();
  });
});

describe("the steps' --json reporter", () => {
  it("a message that would make a line past the bound is cut, and the line stays one JSON object", () => {
    const written: string[] = [];
    const out = jsonReporter((s) => written.push(s) > 0);
    out.line("x".repeat(MiB));
    out.line("short", { state: "ok" });
    expect(written.length).toBe(2);
    expect(Buffer.byteLength(written[0])).toBeLessThan(MAX_LINE_BYTES);
    expect(JSON.parse(written[0])).toMatchObject({ schemaVersion: 1, cut: true });
    expect(JSON.parse(written[1])).toEqual({ schemaVersion: 1, message: "short", state: "ok" });
  });
});
