/** `coldstart check|act|gate <name> --flags`: the steps the graph's Commands run. */
import { UsageError } from "../config/errors";
import { parseFlags } from "./args";
import { EXIT } from "./exit-codes";
import { STEP_FLAGS, type StepKey } from "./step-flags";
import { consoleReporter, type StepContext } from "../runtime/step-context";
import { realExec } from "../runtime/exec";
import { realClock } from "../runtime/clock";
import { appendRecord, recordFile } from "../runtime/record";
import { describeOutcome, type StepOutcome } from "../steps/outcome";
import { STEP_HANDLERS } from "../steps/handlers";
import { describeRoute } from "../gates/routes";

export function isStepKey(key: string): key is StepKey {
  return key in STEP_FLAGS;
}

/** Default bound on one juju/openstack call when the step's flags do not set one. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000;

export async function stepCommand(verb: string, argv: string[], ctxOverride?: Partial<StepContext>): Promise<number> {
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
  const env = ctxOverride?.env ?? process.env;
  const ctx: StepContext = {
    exec: realExec,
    clock: realClock,
    env,
    out: consoleReporter(json),
    callTimeoutMs: Number(env.COLDSTART_CALL_TIMEOUT_MS) || DEFAULT_CALL_TIMEOUT_MS,
    ...ctxOverride,
  };
  const handler = STEP_HANDLERS[key] as ((f: typeof flags, c: StepContext) => Promise<StepOutcome>) | undefined;
  if (!handler) {
    ctx.out.warn(`${key}: not implemented yet; its flags were accepted`);
    return EXIT.notImplemented;
  }
  const start = new Date(ctx.clock.now());
  const outcome = await handler(flags, ctx);
  const end = new Date(ctx.clock.now());
  const stepName = env.COLDSTART_STEP ?? key;
  for (const line of describeOutcome(stepName, outcome)) {
    if (outcome.exitCode === EXIT.ok) ctx.out.line(line);
    else process.stderr.write(line + "\n");
  }
  if (json)
    ctx.out.line("result", { outcome: outcome.outcome, state: outcome.verdict.state, route: outcome.verdict.route });
  writeRecord(ctx, key, stepName, start, end, outcome);
  return outcome.exitCode;
}

/** Append to the window's as-executed record when the step runs inside a window (the graph sets these). */
function writeRecord(ctx: StepContext, key: string, step: string, start: Date, end: Date, o: StepOutcome): void {
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: dir } = ctx.env;
  if (!window || !dir) return;
  const problem = appendRecord(recordFile(dir, window, ctx.env), {
    window,
    stack: ctx.env.COLDSTART_STACK ?? "",
    stage: ctx.env.COLDSTART_STAGE ?? "",
    step,
    command: key,
    start: start.toISOString(),
    end: end.toISOString(),
    exitCode: o.exitCode,
    outcome: o.outcome,
    state: o.verdict.state,
    summary: o.verdict.summary,
    details: o.verdict.details,
    route: o.verdict.route,
    fix: o.verdict.route ? describeRoute(o.verdict.route) : undefined,
    polls: o.polls,
  });
  if (problem) ctx.out.warn(problem);
}
