/**
 * Issue #21: maintenance over the real engine. The `pulumi` CLI the Automation API starts passes
 * its environment to every step (the command provider's `cmd.Env = os.Environ()`), so unseal
 * keys this process was given (COLDSTART_UNSEAL_KEY_n from a CI secret store) must not reach the
 * CLI: only the FIFO path up() is given. Against a stand-in `pulumi` on PATH that logs the names
 * of the COLDSTART_UNSEAL_* variables it was started with (as test/automation/pulumi-engine.test.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiEngine } from "../../automation/pulumi-engine";

const ROOT = path.resolve(__dirname, "../..");

/** The stand-in: `version` answers 3.200.0 (the SDK then tails an event-log file); the rest logs and exits 0. */
const FAKE_PULUMI = `#!/usr/bin/env node
const fs = require("node:fs");
const path = require("node:path");
const args = process.argv.slice(2);
if (args[0] === "version") { process.stdout.write("v3.200.0\\n"); process.exit(0); }
const unseal = Object.keys(process.env).filter((k) => k.startsWith("COLDSTART_UNSEAL_"));
fs.appendFileSync(path.join(process.env.FAKE_PULUMI_DIR, "calls.jsonl"),
  JSON.stringify({ command: args[0], unseal, file: process.env.COLDSTART_UNSEAL_KEYS_FILE }) + "\\n");
if (args[0] === "stack" && (args[1] === "output" || args[1] === "history")) { process.stdout.write(args[1] === "output" ? "{}\\n" : "[]\\n"); process.exit(0); }
const flag = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
if (args[0] === "preview") fs.writeFileSync(flag("--save-plan"), "{\\"resourcePlans\\":{}}\\n");
if (args[0] === "preview" || args[0] === "up")
  fs.appendFileSync(flag("--event-log"), JSON.stringify({ sequence: 1, timestamp: 0,
    summaryEvent: { maybeCorrupt: false, durationSeconds: 0, resourceChanges: {}, policyPacks: {} } }) + "\\n");
`;

it("keys in this process's environment never reach the pulumi CLI; the FIFO path given to up() does", async () => {
  const fake = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-fake-pulumi-keys-"));
  fs.mkdirSync(path.join(fake, "bin"));
  fs.writeFileSync(path.join(fake, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
  const project = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-fake-project-keys-"));
  fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  fs.cpSync(path.join(ROOT, "stacks"), path.join(project, "stacks"), { recursive: true });

  const saved = { ...process.env };
  process.env.PATH = `${path.join(fake, "bin")}${path.delimiter}${saved.PATH}`;
  process.env.FAKE_PULUMI_DIR = fake;
  // as CI maps its secret store into maintenance's environment
  process.env.COLDSTART_UNSEAL_KEY_1 = "cGxhbnRlZC1vbmU=";
  process.env.COLDSTART_UNSEAL_KEY_2 = "cGxhbnRlZC10d28=";
  process.env.COLDSTART_UNSEAL_KEYS_FILE = "/home/operator/keys";
  try {
    const engine = new PulumiEngine({ stack: "prior-build", projectDir: project, env: {} });
    await engine.preview("w-keys");
    const fifo = "/run/user/1000/coldstart-keys-x/unseal-keys";
    await engine.up("w-keys", {
      env: { COLDSTART_UNSEAL_KEYS_FILE: fifo },
      signal: new AbortController().signal,
      onEvent: () => undefined,
    });
    const calls = fs
      .readFileSync(path.join(fake, "calls.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { command: string; unseal: string[]; file?: string });
    expect(calls.map((c) => c.command)).toEqual(expect.arrayContaining(["preview", "up"]));
    // no call ever had a key; the preview's had nothing of the keys at all
    for (const c of calls) expect(c.unseal.filter((k) => k !== "COLDSTART_UNSEAL_KEYS_FILE")).toEqual([]);
    for (const c of calls.filter((x) => x.command === "preview")) expect(c.unseal).toEqual([]);
    for (const c of calls.filter((x) => x.command === "up"))
      expect(c).toMatchObject({ unseal: ["COLDSTART_UNSEAL_KEYS_FILE"], file: fifo });
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}, 30_000);
