/**
 * `coldstart preflight --stack <name> [--json] [--scenario <name|file> [--dir <dir>] [--time-scale <x>]]`:
 * before a window, read-only and safe at any time. Every check runs at once; a line per check on
 * STDERR as it finishes; the table (or, with --json, one JSON document) on STDOUT at the end.
 * Exit 0 ready, 1 not ready, 3 a blocker. With --scenario it runs against that scenario's
 * simulated cloud, built as `coldstart drill` builds it (the folder is printed).
 */
import * as z from "zod";
import { parseFlags } from "./args";
import { DEFAULT_STACK } from "./plan-command";
import { UsageError } from "../config/errors";
import { usePrivateDir } from "../runtime/private-dir";
import { resultLines, renderTable, type PreflightReport } from "../preflight/checks";
import { runPreflight } from "../preflight/run";
import { simTarget, stackTarget } from "../preflight/targets";

export const preflightFlags = z
  .object({
    stack: z
      .string()
      .min(1, "expected a stack name (stacks/Pulumi.<name>.yaml)")
      .default(DEFAULT_STACK)
      .meta({ description: "the stack whose cloud is checked (stacks/Pulumi.<name>.yaml)", placeholder: "name" }),
    json: z
      .literal("true")
      .optional()
      .describe("one JSON document (the report, schemaVersion 1) on stdout instead of the table"),
    scenario: z.string().min(1, "expected a scenario name (sim/scenarios/<name>.json) or a file").optional().meta({
      description:
        "check that scenario's simulated cloud instead of the stack's real one (sim/scenarios/<name>.json or a file)",
      placeholder: "name|file",
    }),
    dir: z.string().min(1).optional().meta({
      description:
        "with --scenario: the simulated cloud's directory, yours alone (created 0700 if missing; default: a new private one)",
      placeholder: "dir",
    }),
    "time-scale": z.coerce
      .number()
      .positive()
      .max(1)
      .optional()
      .meta({ description: "with --scenario: real seconds per simulated second (at most 1)", placeholder: "x" }),
  })
  .strict();

export async function preflightCommand(
  argv: string[],
  out: (text: string) => void,
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  const flags = parseFlags("preflight", argv, preflightFlags, ["json"]);
  if (!flags.scenario && (flags.dir !== undefined || flags["time-scale"] !== undefined))
    throw new UsageError("preflight: --dir and --time-scale go with --scenario (the simulated cloud); drop them");
  const onResult = (r: Parameters<typeof resultLines>[0]) => err(resultLines(r).join("\n") + "\n");
  let report: PreflightReport;
  if (flags.scenario) {
    const sim = await simTarget({
      stack: flags.stack,
      scenario: flags.scenario,
      // the operator's folder only when it is theirs alone (issue #21); else a new private one
      dir: flags.dir === undefined ? undefined : usePrivateDir(flags.dir, "preflight --dir"),
      timeScale: flags["time-scale"],
    });
    try {
      err(`preflight of stack ${flags.stack} against the simulated cloud of ${sim.sim.scenario}, in ${sim.sim.dir}\n`);
      report = await runPreflight(sim.target, { onResult });
    } finally {
      await sim.close();
    }
  } else {
    err(`preflight of stack ${flags.stack}: every check at once, each bounded by gates.commandTimeout\n`);
    report = await runPreflight(stackTarget(flags.stack), { onResult });
  }
  if (flags.json) out(JSON.stringify(report, null, 2) + "\n");
  else out(renderTable(report).join("\n") + "\n");
  return report.exitCode;
}
