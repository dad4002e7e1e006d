/**
 * Fail fast, in one line, when the Pulumi language host runs this program on Node.js < 22.
 *
 * Nothing else stops it:
 * - pulumi-language-nodejs runs the first `node` on PATH and checks no version (pulumi/pulumi
 *   sdk/nodejs/cmd/pulumi-language-nodejs/main.go, `Run`: `exec.LookPath("node")`; read at
 *   commit 1b5949891b, 3.260.0-dev).
 * - @pulumi/pulumi 3.270.0 declares `engines.node: >=22` but checks it only when the project's
 *   .npmrc sets `engine-strict`, and only after the program module has been loaded
 *   (node_modules/@pulumi/pulumi/cmd/run/run.js:496-515). engine-strict would also make `npm ci`
 *   refuse to run on the Node 20 that README's fresh-machine install allows.
 * - Checked here: the SDK 3.270.0 runs this program on Node 20.20.2 without a word and registers
 *   every step (test/project/language-host.test.ts shows both).
 *
 * index.ts imports this module before anything else, so nothing is registered on a wrong Node.
 * A RunError is printed by the SDK as its message alone, without a stack trace
 * (node_modules/@pulumi/pulumi/cmd/run/run.js:377-379).
 */
import { RunError } from "@pulumi/pulumi";

/** package.json `engines.node` is `>=22` (test/project/language-host.test.ts keeps the two equal). */
export const MIN_NODE_MAJOR = 22;

/** The one-line problem with running on `version` (e.g. "20.20.2"), or undefined when it is fine. */
export function nodeVersionProblem(version: string, execPath: string): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return (
    `coldstart needs Node.js >= ${MIN_NODE_MAJOR} (@pulumi/pulumi requires it), but the Pulumi language host ran ` +
    `${execPath} v${version}: put Node ${MIN_NODE_MAJOR} first on PATH (export PATH="$PWD/bin:$PATH" makes ` +
    `\`pulumi\` run through bin/pulumi, which does that), then run pulumi again`
  );
}

const problem = nodeVersionProblem(process.versions.node, process.execPath);
if (problem !== undefined) throw new RunError(problem);
