/**
 * Runbook "Pre-shutdown (planned only)": baseline capture (reference, not a restore path) into
 * <baselineDir>/<UTC time>-pre-maintenance: bundle, juju status, servers, LBs, amphorae.
 * Refuses to run unless the configured model answers (the runbook: "switch to the openstack
 * model first"; coldstart names the model with -m instead of relying on `juju switch`).
 *
 * The folder keeps the runbook's name. Run inside a maintenance window (COLDSTART_WINDOW, the id
 * the record uses; the graph sets it for every step), it gets, last of all, coldstart-baseline.json:
 * which window captured it, when, and from which model. Stage 5 finds THIS window's baseline by
 * that file (a planned window starts only the guests that were ACTIVE in it); a folder without it
 * (an interrupted capture, one made outside a window or by hand with the runbook's script) is
 * never taken for a window's baseline -- an unplanned recovery may still use it as the newest.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";
import type { StepFlags } from "../stages/step-def";
import type { BASELINE_CAPTURE } from "../stages/pre-shutdown";
import { Juju } from "../runtime/juju";
import { OpenStack } from "../runtime/openstack";
import { expandHome } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import { toolErrorOf } from "../runtime/tool-error";
import { keyFormProblem, malformedKeys, readUnsealKeys } from "../runtime/unseal-keys";
import { blocker, fail, pass, toolVerdict, type StepOutcome } from "./outcome";

/** The file that marks a complete capture and names its window. */
export const BASELINE_META = "coldstart-baseline.json";
/** `<YYYYMMDD-HHMMSS>-pre-maintenance`, the runbook's folder name (UTC). */
export const BASELINE_FOLDER = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-pre-maintenance$/;

export const baselineMetaSchema = z.object({
  window: z.string().nullable(),
  stack: z.string().nullable().optional(),
  model: z.string(),
  capturedAt: z.string(),
});
export type BaselineMeta = z.infer<typeof baselineMetaSchema>;

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** The UTC time a folder name says (undefined for a name that is not the runbook's). */
export function folderTime(name: string): number | undefined {
  const m = BASELINE_FOLDER.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

export async function baselineCapture(
  flags: StepFlags<typeof BASELINE_CAPTURE>,
  ctx: StepContext,
): Promise<StepOutcome> {
  const expected = `a baseline of model ${flags.model}: bundle, juju status, servers, load balancers, amphorae`;
  const juju = new Juju(ctx, flags.model);
  const os = new OpenStack(ctx, flags.openrc);
  const capturedAt = ctx.clock.now();
  const dir = path.join(expandHome(flags.dir, ctx.env), `${stamp(capturedAt)}-pre-maintenance`);
  const window = ctx.env.COLDSTART_WINDOW || null;
  // Keys Vault would refuse for their form stop Stage 3 after every host was restarted: refused
  // here, before anything is shut down (issue #23). Only keys this step can see without taking
  // them: a bare `pulumi up` gives every step the environment's keys; a keys FIFO is never opened
  // (its one reader is the unseal step); maintenance checks the keys it serves itself.
  const keys = readUnsealKeys(ctx.env);
  const malformed = keys.ok ? malformedKeys(keys.keys) : [];
  if (keys.ok && malformed.length > 0)
    return blocker(expected, {
      ok: false,
      state: "blocker",
      summary: `nothing captured, nothing shut down: ${keyFormProblem(malformed, keys.keys.length, keys.source)}`,
      details: [],
      route: "vault-keys-missing",
    });
  try {
    await juju.showModel();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    await juju.exportBundle(path.join(dir, "bundle.yaml"));
    fs.writeFileSync(path.join(dir, "juju-status.yaml"), await juju.statusYaml());
    const captures: [string, string[]][] = [
      ["servers.txt", ["server", "list", "--all-projects"]],
      ["servers.json", ["server", "list", "--all-projects", "-f", "json"]],
      ["loadbalancers.txt", ["loadbalancer", "list"]],
      ["amphorae.txt", ["loadbalancer", "amphora", "list"]],
    ];
    for (const [file, args] of captures) fs.writeFileSync(path.join(dir, file), (await os.call(args)).stdout);
    // last: only a complete capture says which window it belongs to
    if (window !== null) {
      const meta: BaselineMeta = {
        window,
        stack: ctx.env.COLDSTART_STACK || null,
        model: flags.model,
        capturedAt: new Date(capturedAt).toISOString(),
      };
      fs.writeFileSync(path.join(dir, BASELINE_META), JSON.stringify(meta, null, 2) + "\n", { mode: 0o600 });
    }
  } catch (err) {
    return fail(expected, toolVerdict(toolErrorOf(err)));
  }
  return pass(expected, {
    ok: true,
    state: "captured",
    summary: `Pre-maintenance snapshot at ${dir}${window ? ` (window ${window})` : ""}`,
    details: fs.readdirSync(dir).sort(),
  });
}
