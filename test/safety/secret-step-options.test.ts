/**
 * The unseal step's output may carry what Vault or the step printed around a key, so its Command
 * is registered with `logging: "none"` and `additionalSecretOutputs: ["stdout", "stderr"]`
 * (stages/stage.ts, for a definition with handlesSecrets; design.md "Step output that could echo
 * secrets"). Read here from what the engine would receive: the real program run under the
 * recording mock monitor (plan/mock-engine.ts), its RegisterResource requests captured at
 * MockMonitor.registerResource. Every other step keeps its output logged and not secret.
 */
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { runPlanProgram } from "../../plan/plan";
import type { RegisteredResource } from "../../plan/mock-engine";
import { findStep } from "../../stages/step-table";

const COMMAND = "command:local:Command";

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getAdditionalsecretoutputsList(): string[];
}

interface Registration {
  name: string;
  logging: unknown;
  additionalSecretOutputs: string[];
  handlesSecrets: boolean | undefined;
}

async function registrations(stack: string, mode: "planned" | "unplanned"): Promise<Registration[]> {
  const requested = new Map<string, string[]>();
  // the monitor the program runs under (RecordingMonitor) hands every request to this method
  const original = MockMonitor.prototype.registerResource;
  const spy = jest.spyOn(MockMonitor.prototype, "registerResource").mockImplementation(function (
    this: MockMonitor,
    req: RegisterRequest,
    callback: Parameters<typeof original>[1],
  ) {
    if (req.getType() === COMMAND) requested.set(req.getName(), req.getAdditionalsecretoutputsList());
    return original.call(this, req, callback);
  } as typeof original);
  let resources: RegisteredResource[];
  let steps: { name: string; verb: string; command: string }[];
  try {
    const run = await runPlanProgram({ stack, mode, window: "2026-12-05-maint" });
    resources = run.resources;
    steps = run.plan.steps;
  } finally {
    spy.mockRestore();
  }
  const commands = resources.filter((r) => r.type === COMMAND);
  expect(commands.map((c) => c.name).sort()).toEqual(steps.map((s) => s.name).sort());
  return commands.map((c) => {
    const step = steps.find((s) => s.name === c.name)!;
    expect(requested.has(c.name)).toBe(true);
    return {
      name: c.name,
      logging: c.inputs.logging,
      additionalSecretOutputs: requested.get(c.name) ?? [],
      handlesSecrets: findStep(step.verb, step.command)?.handlesSecrets,
    };
  });
}

describe.each([
  ["roosevelt", "planned"],
  ["roosevelt", "unplanned"],
  ["prior-build", "planned"],
  ["prior-build", "unplanned"],
] as const)("%s, %s: the secret options as registered", (stack, mode) => {
  let regs: Registration[];
  beforeAll(async () => {
    regs = await registrations(stack, mode);
  });

  it("vault-unseal is registered with logging none and stdout and stderr as secret outputs", () => {
    const unseal = regs.find((r) => r.name === "vault-unseal");
    expect(unseal).toBeDefined();
    expect(unseal!.logging).toBe("none");
    expect([...unseal!.additionalSecretOutputs].sort()).toEqual(["stderr", "stdout"]);
  });

  it("only the steps whose definition handles secrets have them (today: vault-unseal); every other step's output is logged", () => {
    expect(regs.length).toBeGreaterThan(20);
    expect(regs.filter((r) => r.handlesSecrets).map((r) => r.name)).toEqual(["vault-unseal"]);
    for (const r of regs.filter((x) => !x.handlesSecrets)) {
      expect({ step: r.name, logging: r.logging, secret: r.additionalSecretOutputs }).toEqual({
        step: r.name,
        logging: "stdoutAndStderr",
        secret: [],
      });
    }
  });
});
