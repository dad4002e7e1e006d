/** `coldstart check|act|gate <name> --flags`: the steps the graph's Commands run. */
import { UsageError } from "../config/errors";
import { parseFlags } from "./args";
import { EXIT } from "./exit-codes";
import { STEP_FLAGS, type StepKey } from "./step-flags";

export function isStepKey(key: string): key is StepKey {
  return key in STEP_FLAGS;
}

export async function stepCommand(verb: string, argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const key = `${verb} ${name ?? ""}`;
  if (!name || !isStepKey(key)) {
    const known = Object.keys(STEP_FLAGS)
      .filter((k) => k.startsWith(`${verb} `))
      .map((k) => k.slice(verb.length + 1));
    throw new UsageError(`${verb}: unknown step "${name ?? ""}" (known: ${known.join(", ")})`);
  }
  const json = rest.includes("--json");
  const flags = parseFlags(
    key,
    rest.filter((w) => w !== "--json"),
    STEP_FLAGS[key],
  );
  void flags;
  void json;
  process.stderr.write(`coldstart ${key}: not implemented yet (issue #3); its flags were accepted\n`);
  return EXIT.notImplemented;
}
