/** `coldstart plan`: the same program under mocks, as an ordered plan. */
import { restartProgram } from "../program";
import { findProjectDir, readStackConfig } from "../config/stack-files";
import { NAMESPACE } from "../config/load";
import { UsageError } from "../config/errors";
import { runUnderMocks, type RegisteredResource } from "./mock-engine";
import { buildPlan, type Plan } from "./model";

export interface PlanRequest {
  stack: string;
  mode?: "planned" | "unplanned";
  window?: string;
  /** Extra/overriding config values (`coldstart:<key>` -> text), e.g. for tests. */
  overrides?: Record<string, string>;
  projectDir?: string;
}

/** Window id shown when none is given: the committed stacks deliberately carry none. */
export const PREVIEW_WINDOW = "next-window";

export async function makePlan(req: PlanRequest): Promise<Plan> {
  return (await runPlanProgram(req)).plan;
}

/** The plan plus every resource exactly as registered (tests inspect raw inputs). */
export async function runPlanProgram(req: PlanRequest): Promise<{ plan: Plan; resources: RegisteredResource[] }> {
  const projectDir = req.projectDir ?? findProjectDir();
  const stack = readStackConfig(projectDir, req.stack);
  const values = { ...stack.values, ...req.overrides };
  if (req.mode) values[`${NAMESPACE}:mode`] = req.mode;
  if (req.window) values[`${NAMESPACE}:window`] = req.window;
  if (!values[`${NAMESPACE}:window`]) values[`${NAMESPACE}:window`] = PREVIEW_WINDOW;

  // The program must read config only from Pulumi config here, not from this process's env.
  const env = { ...process.env, COLDSTART_WINDOW: undefined, COLDSTART_MODE: undefined };
  let outputs: ReturnType<typeof restartProgram> | undefined;
  const run = await runUnderMocks(() => (outputs = restartProgram(env)), {
    project: stack.project,
    stack: stack.stack,
    preview: true,
    config: values,
    secretKeys: stack.secretKeys,
  });
  if (run.programError) {
    const err = run.programError as Error;
    throw new UsageError(`${stack.file}: ${err.message}`);
  }
  const plan = buildPlan(
    { project: stack.project, stack: stack.stack, mode: outputs!.mode, window: outputs!.window },
    run.resources,
    outputs!.registered,
  );
  return { plan, resources: run.resources };
}
