/**
 * Simulated cloud -- the fake tools by name, each loaded on demand so a call pays only for what it
 * uses. One list for the two ways a call is answered: its own process (entry.ts, the shims'
 * fallback) and the drill's tool server (drill/tool-server.ts, issue #14).
 */
import type { ToolContext, ToolResult } from "./common";

export type ToolMain = (argv: string[], stdin: string, ctx?: ToolContext) => Promise<ToolResult>;

export const TOOLS: Record<string, () => Promise<ToolMain>> = {
  juju: async () => (await import("./juju")).main,
  openstack: async () => (await import("./openstack")).main,
  virsh: async () => (await import("./virsh")).main,
  "cloud-assert": async () => (await import("./cloud-assert")).main,
};

/** Exit 64 for an unknown tool, as entry.ts has always answered. */
export function unknownTool(tool: string | undefined, known: string[] = Object.keys(TOOLS)): ToolResult {
  return {
    stdout: "",
    stderr: `coldstart sim: unknown tool "${tool ?? ""}" (one of ${known.join(", ")})\n`,
    exitCode: 64,
  };
}
