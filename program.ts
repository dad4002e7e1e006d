/** The Pulumi program, callable from index.ts (real engine) and from plan/drill (mocks). */
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, NAMESPACE } from "./config/load";
import { UsageError } from "./config/errors";
import { buildRestart } from "./stages/restart";
import { resetCatalog } from "./stages/catalog";

export interface ProgramOutputs {
  window: string;
  mode: string;
  finalGate: pulumi.Output<string>[];
}

export function restartProgram(env: NodeJS.ProcessEnv = process.env): ProgramOutputs {
  resetCatalog();
  const source = new pulumi.Config(NAMESPACE);
  let config;
  try {
    config = loadConfig((key) => source.get(key), env, Object.keys(pulumi.runtime.allConfig()));
  } catch (err) {
    // RunError: the engine prints the message alone, no stack trace.
    if (err instanceof UsageError) throw new pulumi.RunError(err.message);
    throw err;
  }
  const last = buildRestart(config);
  return { window: config.window, mode: config.mode, finalGate: last.map((r) => r.urn) };
}
