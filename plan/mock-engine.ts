/**
 * Run the real program under pulumi.runtime.setMocks, with a recording monitor that sees what the
 * engine would (dependencies, parent, custom timeouts). No Pulumi CLI, no plugin, no network.
 *
 * Ordering is the SDK's own: a resource reaches the monitor only after everything it dependsOn
 * (and its parent) has registered. The drill relies on that by executing steps inside newResource.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor, type MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

/** The value the SDK treats as "unknown" in preview (NM/runtime/rpc.js unknownValue). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** The marker the SDK wraps secret values in (NM/runtime/rpc.js specialSigKey/specialSecretSig). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface RegisteredResource {
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  dependencies: string[];
  inputs: Record<string, unknown>;
  createTimeout: string;
  /** Secret-wrapped input property names (redacted in `inputs`). */
  secretInputs: string[];
}

export type StepExecutor = (
  args: MockResourceArgs,
  plainInputs: Record<string, unknown>,
  /** What the engine would get with it: the resource's customTimeouts.create ("" when none). */
  meta: { createTimeout: string },
) => Promise<Record<string, unknown>>;

export interface MockRunOptions {
  project: string;
  stack: string;
  preview: boolean;
  config: Record<string, string>;
  secretKeys?: string[];
  /** Drill: run each Command's create for real. Plan: leave unset (outputs are unknown). */
  execute?: StepExecutor;
}

export interface MockRunResult {
  resources: RegisteredResource[];
  /** Names of resources whose newResource rejected, with the message. */
  failed: Map<string, string>;
  /** An error the program itself threw while building the graph (e.g. bad config). */
  programError?: unknown;
}

export function isSecretWrapped(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG
  );
}

/** Lift every secret wrapper off, recursively (the drill needs plain values to execute). */
export function unwrapSecrets(value: unknown): unknown {
  if (isSecretWrapped(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
  getCustomtimeouts(): { getCreate(): string } | undefined;
}

class RecordingMonitor extends MockMonitor {
  readonly requests = new Map<string, RegisterRequest>();
  override async registerResource(
    req: RegisterRequest,
    callback: (err: unknown, response: unknown) => void,
  ): Promise<void> {
    this.requests.set(`${req.getType()}::${req.getName()}`, req);
    return super.registerResource(req, callback);
  }
}

/**
 * Run `program` under mocks and return every resource it registered, in registration order.
 * One run per process is the SDK's assumption (its state is process-global); callers that need
 * isolation spawn a process.
 */
export async function runUnderMocks(program: () => unknown, opts: MockRunOptions): Promise<MockRunResult> {
  const resources: RegisteredResource[] = [];
  const failed = new Map<string, string>();
  let monitor: RecordingMonitor;

  const mocks: pulumi.runtime.Mocks = {
    newResource: async (args: MockResourceArgs) => {
      const req = monitor.requests.get(`${args.type}::${args.name}`);
      const secretInputs = Object.keys(args.inputs ?? {}).filter((k) => isSecretWrapped(args.inputs[k]));
      const inputs = Object.fromEntries(
        Object.entries(args.inputs ?? {}).map(([k, v]) => [k, isSecretWrapped(v) ? "[secret]" : v]),
      );
      resources.push({
        type: args.type,
        name: args.name,
        custom: args.custom ?? true,
        parent: req?.getParent() ?? "",
        dependencies: req?.getDependenciesList() ?? [],
        inputs,
        createTimeout: req?.getCustomtimeouts()?.getCreate() ?? "",
        secretInputs,
      });
      if (args.type !== "command:local:Command") return { id: undefined, state: {} };
      if (!opts.execute) {
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout: UNKNOWN, stderr: UNKNOWN } };
      }
      try {
        const outputs = await opts.execute(args, unwrapSecrets(args.inputs) as Record<string, unknown>, {
          createTimeout: req?.getCustomtimeouts()?.getCreate() ?? "",
        });
        return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
      } catch (err) {
        failed.set(args.name, err instanceof Error ? err.message : String(err));
        throw err;
      }
    },
    call: (args: pulumi.runtime.MockCallArgs) => {
      throw new Error(`coldstart makes no provider calls, but the program called ${args.token}`);
    },
  };

  const stopExpecting = expectSkippedStepRejections();
  try {
    await pulumi.runtime.setMocks(mocks, opts.project, opts.stack, opts.preview);
    monitor = new RecordingMonitor(mocks);
    pulumi.runtime.setMockOptions(monitor, opts.project, opts.stack, opts.preview);
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    let programError: unknown;
    try {
      program();
    } catch (err) {
      programError = err;
    }
    await pulumi.runtime.disconnect();
    return { resources, failed, programError };
  } finally {
    stopExpecting();
  }
}

/**
 * The one unhandled rejection a run under mocks leaves by design: the SDK rejects the
 * registration of a step that failed, and of every step after it, with
 * `failed to register new resource <step> [command:local:Command]: ...` (@pulumi/pulumi
 * runtime/resource.js registerResource), and nothing awaits those promises: that is how the
 * dependents of a failed step are skipped. They surface late, after the run. Those, and only
 * those, are expected; any other unhandled rejection is a bug: one line and exit 70, as the CLI's
 * own top level does (README: exit codes).
 */
export const SKIPPED_STEP_REJECTION = /^failed to register new resource [A-Za-z0-9._-]+ \[command:local:Command\]: /;

export function expectSkippedStepRejections(): () => void {
  const onRejection = (reason: unknown) => {
    if (reason instanceof Error && SKIPPED_STEP_REJECTION.test(reason.message)) return;
    process.stderr.write(
      `coldstart: internal error (a bug, please report): unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`,
    );
    process.exit(70);
  };
  process.on("unhandledRejection", onRejection);
  return () => process.off("unhandledRejection", onRejection);
}
