/** The Pulumi program, callable from index.ts (real engine) and from plan/drill (mocks). */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, NAMESPACE } from "./config/load";
import { UsageError } from "./config/errors";
import { buildRestart } from "./stages/restart";
import type { Registered } from "./stages/step-def";

export interface ProgramOutputs {
  window: string;
  mode: string;
  finalGate: pulumi.Output<string>[];
  /**
   * What this run registered (plain data, this run's own: building the program twice in one
   * process gives two independent lists). The plan and the drill read it; index.ts exports only
   * the three fields above.
   */
  registered: Registered;
}

export function restartProgram(env: NodeJS.ProcessEnv = process.env): ProgramOutputs {
  const source = new pulumi.Config(NAMESPACE);
  let config;
  try {
    config = loadConfig((key) => source.get(key), env, Object.keys(pulumi.runtime.allConfig()));
  } catch (err) {
    // RunError: the engine prints the message alone, no stack trace.
    if (err instanceof UsageError) throw new pulumi.RunError(err.message);
    throw err;
  }
  const { gates, registered } = buildRestart(config);
  return { window: config.window, mode: config.mode, finalGate: gates.map((r) => r.urn), registered };
}
