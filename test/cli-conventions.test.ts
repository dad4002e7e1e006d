/**
 * Issue #13, "CLI conventions", against the built bin/coldstart: `--help`/`-h` on every command
 * (exit 0, stdout, every flag of the schema the command parses with, its meaning and default);
 * `coldstart --help` lists every flag of every command; `--version`; usage on stderr when it is
 * an error; every `--json` is one document on stdout with `"schemaVersion": 1`.
 *
 * The expected flags come from the commands' own zod schemas, never from a hand list.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as z from "zod";
import { drillFlags } from "../cli/drill-command";
import { maintenanceFlags } from "../cli/maintenance-command";
import { preflightFlags } from "../cli/preflight-command";
import { recordFlags } from "../cli/record-command";
import { planCommand } from "../cli/plan-command";
import { flagsOf, HelpRequested } from "../cli/help";
import { drillDir } from "./support/drill-run";
import {
  rehearsalEnv,
  maintenanceArgs,
  plantedKeys,
  readReport,
  tempDir,
  writeScenario,
} from "./support/maintenance-run";

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "bin", "coldstart");

function coldstart(args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 60_000) {
  return spawnSync(BIN, args, { encoding: "utf8", env, timeout });
}

/** plan's schema is not exported: ask the command for it, the way `coldstart --help` does. */
async function planSchema(): Promise<z.ZodObject> {
  try {
    await planCommand(["--help"], () => undefined);
  } catch (e) {
    if (e instanceof HelpRequested) return e.schema;
    throw e;
  }
  throw new Error("plan --help did not raise HelpRequested");
}

const oneSpace = (text: string) => text.replace(/\s+/g, " ");

let schemas: [string, z.ZodObject, string[]][];
beforeAll(async () => {
  schemas = [
    ["plan", await planSchema(), ["json"]],
    ["drill", drillFlags, ["resume", "json"]],
    ["record", recordFlags, ["json"]],
    ["maintenance", maintenanceFlags, ["yes", "resume", "json"]],
    ["preflight", preflightFlags, ["json"]],
  ];
});

describe("--help and -h on every command", () => {
  it.each(["--help", "-h"])("%s: exit 0 on stdout, every flag with its meaning and default", (word) => {
    for (const [command, schema, switches] of schemas) {
      const r = coldstart([command, word]);
      expect({ command, status: r.status, stderr: r.stderr }).toEqual({ command, status: 0, stderr: "" });
      expect(r.stdout).toMatch(new RegExp(`^usage: coldstart ${command} `));
      const text = oneSpace(r.stdout);
      const flags = flagsOf(schema, switches);
      expect(flags.length).toBeGreaterThan(0);
      for (const flag of flags) {
        // the flag, its value, its meaning and its default, each from the schema
        expect({ command, flag: flag.name, listed: r.stdout.includes(`\n  --${flag.name}`) }).toEqual({
          command,
          flag: flag.name,
          listed: true,
        });
        expect(flag.description).toBeTruthy();
        expect(text).toContain(oneSpace(flag.description!));
        if (flag.value) expect(r.stdout).toContain(`--${flag.name} ${flag.value}`);
        if (flag.default !== undefined) expect(text).toContain(`default: ${flag.default}`);
      }
    }
  });

  it("help after other flags still wins, and `coldstart help <command>` is the same text", () => {
    const a = coldstart(["record", "--window", "w1", "--help"]);
    const b = coldstart(["help", "record"]);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain("--record-dir <dir>");
  });

  it("kept --help: exit 0, its usage (a step name, no flags)", () => {
    const r = coldstart(["kept", "--help"]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout).toMatch(/^usage: coldstart kept <step>\n/);
  });
});

describe("coldstart --help", () => {
  it("lists every command with every flag its schema takes, on stdout, exit 0", () => {
    for (const word of ["--help", "-h", "help"]) {
      const r = coldstart([word]);
      expect({ word, status: r.status, stderr: r.stderr }).toEqual({ word, status: 0, stderr: "" });
      // a command's block: from its line to the next command's
      const blocks = new Map<string, string>();
      for (const m of r.stdout.matchAll(/^ {2}([a-z]+) [^\n]*(?:\n {3,}[^\n]*)*/gm)) blocks.set(m[1], m[0]);
      for (const [command, schema, switches] of schemas) {
        const block = blocks.get(command);
        expect({ command, block: typeof block }).toEqual({ command, block: "string" });
        for (const flag of flagsOf(schema, switches))
          expect({ command, flag: flag.name, listed: block!.includes(`--${flag.name}`) }).toEqual({
            command,
            flag: flag.name,
            listed: true,
          });
      }
      for (const command of ["check", "act", "gate", "kept"]) expect(blocks.has(command)).toBe(true);
    }
  });

  it("--version and -V print package.json's version, exit 0", () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    for (const word of ["--version", "-V"]) {
      const r = coldstart([word]);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        stdout: `${version}\n`,
        stderr: "",
      });
    }
  });
});

describe("usage errors: exit 2, on stderr, no stack trace", () => {
  it("no command: the usage on stderr, nothing on stdout", () => {
    const r = coldstart([]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^usage: coldstart <command> \[flags\]\n/);
    expect(r.stderr).toContain("\n  drill ");
  });

  it.each([
    [["frobnicate"], /^coldstart: unknown command "frobnicate" \(try: coldstart help\)\n$/],
    [["drill", "--scenario"], /^coldstart: --scenario: expected a value after the flag, found nothing\n$/],
    [
      ["record", "--window", "w1", "--colour", "red"],
      /^coldstart: record: unknown flag --colour \(known: .*--json\)\n$/,
    ],
    [
      ["record", "--window", "w1", "--json", "--format", "markdown"],
      /^coldstart: record: --json and --format markdown/,
    ],
    [["maintenance", "--window", "w1"], /^coldstart: maintenance: --stack: expected string, found nothing/],
  ])("%j: one line", (args, message) => {
    const r = coldstart(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

/** The one JSON document on stdout, with the convention's version at its top. */
function jsonDoc(stdout: string): Record<string, unknown> {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  expect(Object.keys(doc)[0]).toBe("schemaVersion");
  expect(doc.schemaVersion).toBe(1);
  return doc;
}

describe("--json: one document on stdout, schemaVersion 1", () => {
  it("plan: --json and its alias --format json print the same document", () => {
    const a = coldstart(["plan", "--stack", "prior-build", "--json"]);
    const b = coldstart(["plan", "--stack", "prior-build", "--format", "json"]);
    expect(a.status).toBe(0);
    expect(jsonDoc(a.stdout)).toEqual(jsonDoc(b.stdout));
  });

  it("preflight --scenario: the report, its exit code the report's", () => {
    const dir = drillDir("cli-json-preflight");
    const r = coldstart([
      "preflight",
      "--stack",
      "prior-build",
      "--scenario",
      "healthy-planned",
      "--dir",
      dir,
      "--json",
    ]);
    const doc = jsonDoc(r.stdout);
    expect(r.status).toBe(doc.exitCode);
    expect(typeof doc.durationMs).toBe("number");
  });

  it("drill, then record of its window (--json and --format json alike)", () => {
    const dir = drillDir("cli-json-drill");
    const r = coldstart(
      ["drill", "--stack", "prior-build", "--scenario", "healthy-planned", "--dir", dir, "--json"],
      process.env,
      120_000,
    );
    const drill = jsonDoc(r.stdout);
    // the failed step, if any, in the message (drills are timing-sensitive under load)
    expect({ status: r.status, failed: drill.failed }).toEqual({ status: 0, failed: undefined });
    expect(drill).toMatchObject({ exitCode: 0, cancelled: false, dir });
    expect(typeof drill.wallMs).toBe("number");
    const args = ["record", "--window", String(drill.window), "--record-dir", path.join(dir, "records")];
    const a = coldstart([...args, "--json"]);
    const b = coldstart([...args, "--format", "json"]);
    expect(a.status).toBe(0);
    const record = jsonDoc(a.stdout);
    expect(record).toEqual(jsonDoc(b.stdout));
    expect(record).toMatchObject({ window: drill.window });
    expect(typeof record.durationMs).toBe("number");
    // the Markdown is still the default
    expect(coldstart(args).stdout).not.toMatch(/^\{/);
  }, 150_000);

  it("maintenance --engine drill --json: the report's summary on stdout, progress on stderr, no key", () => {
    const keys = plantedKeys();
    const root = tempDir("cli-json");
    const run = {
      window: "maint-cli-json",
      scenario: writeScenario("healthy-planned", keys, root),
      dir: path.join(root, "drill"),
      reportDir: path.join(root, "reports"),
    };
    const r = spawnSync(BIN, [...maintenanceArgs(run), "--json"], {
      encoding: "utf8",
      env: rehearsalEnv(),
      timeout: 120_000,
    });
    expect(r.status).toBe(0);
    const doc = jsonDoc(r.stdout);
    const written = readReport(run.reportDir, run.window).json;
    expect(doc.summary).toEqual(written.summary);
    expect(doc.summary).toMatchObject({ result: "succeeded", exitCode: 0, window: run.window });
    expect(doc.record).toEqual(JSON.parse(JSON.stringify(written.record)));
    expect(doc.reportFiles).toEqual([
      path.join(run.reportDir, `maintenance-${run.window}.json`),
      path.join(run.reportDir, `maintenance-${run.window}.md`),
    ]);
    // the human lines moved to stderr, whole
    expect(r.stderr).toContain(`maintenance window ${run.window} on stack prior-build`);
    expect(r.stderr).toContain("maintenance PASSED (exit 0)");
    for (const key of keys) expect(r.stdout + r.stderr).not.toContain(key.slice(0, 16));
  }, 150_000);

  it("maintenance --json that runs nothing (no approval) still answers one document", () => {
    const root = tempDir("cli-json-declined");
    const run = {
      window: "maint-cli-json-no",
      scenario: "healthy-planned",
      dir: path.join(root, "drill"),
      reportDir: path.join(root, "reports"),
      yes: false,
    };
    const r = spawnSync(BIN, [...maintenanceArgs(run), "--json"], {
      encoding: "utf8",
      env: rehearsalEnv(),
      timeout: 120_000,
    });
    const doc = jsonDoc(r.stdout);
    expect(doc).toMatchObject({ summary: { window: run.window, exitCode: r.status }, reportFiles: [] });
    expect(r.status).not.toBe(0);
  }, 150_000);
});
