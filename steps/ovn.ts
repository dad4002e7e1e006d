/**
 * Runbook Stage 4 -- OVN chassis. Probe connection-status on every chassis (not the charm
 * message); sweep only the units that are not connected (restart ovn-controller / ovs-vswitchd
 * there, then neutron-server), re-probe. [REVALIDATE: sweep unit list against current topology]
 *
 * "Every chassis" = every unit of every application deployed from the ovn-chassis or
 * ovn-dedicated-chassis charm, found by charm in the whole model's `juju status` (gates/ovn.ts
 * CHASSIS_CHARMS, charmOf): with Octavia on OVN the charm runs a second time as octavia-ovn-chassis
 * (a subordinate of octavia, carrying the load-balancer management network), which a probe of
 * the one configured application (--chassis-app under --app) never saw. --chassis-app is still
 * probed when the model has it, whatever its charm; --app is kept on the command line only.
 */
import type { StepFlags } from "../stages/step-def";
import { OVN_CHASSIS_CONNECTED, OVN_CHECK, OVN_TLS_SWEEP } from "../stages/ovn-chassis";
import { appUnitNames, parseAppStatus } from "../gates/juju-status";
import {
  allChassisUnits,
  chassisApplications,
  ovnVerdict,
  parseConnectionStatus,
  restartTookEffect,
  sweepTargets,
  type EarlierRestart,
  type ChassisResult,
} from "../gates/ovn";
import type { Verdict } from "../gates/verdict";
import { mapBounded } from "../runtime/bounded";
import { Juju } from "../runtime/juju";
import type { StepContext } from "../runtime/step-context";
import { onlyToolErrors } from "../runtime/tool-error";
import { fail, pass, probeSafely, runGate, toolVerdict, skipped, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";
import { answerOf, followed } from "./request-line";
import { excerpt } from "../runtime/excerpt";
import * as z from "zod";
import { unitMarker, type UnitMarker } from "./window-marker";

type Target = StepFlags<typeof OVN_CHECK>;
const PROBE = "ovn-appctl -t ovn-controller connection-status";

type Probed = ChassisResult & { error?: string };

/** Probe every chassis; a probe that failed keeps its error so the verdict can name the call. */
async function probeAll(juju: Juju, flags: Target, parallel = 4): Promise<Probed[]> {
  const status = unwrap(parseAppStatus(await juju.modelStatus()));
  const chassis = allChassisUnits(status, chassisApplications(status, flags["chassis-app"]));
  return mapBounded(chassis, parallel, async (c) => {
    try {
      const res = await juju.execOnUnit(c.chassis, PROBE);
      return { chassis: c.chassis, principal: c.principal, status: parseConnectionStatus(res.stdout) };
    } catch (err) {
      onlyToolErrors(err);
      return { chassis: c.chassis, principal: c.principal, status: undefined, error: err.message };
    }
  });
}

/** ovnVerdict plus the probe failures, named; `afterSweep` for the gate that follows the sweep. */
function verdictOf(results: Probed[], afterSweep = false): Verdict {
  const verdict = ovnVerdict(results, afterSweep);
  const errors = results.filter((r) => r.error).map((r) => `${r.chassis}: probe failed: ${r.error}`);
  return errors.length
    ? { ...verdict, summary: `${verdict.summary}; ${errors[0]}`, details: [...verdict.details, ...errors] }
    : verdict;
}

/** CHECK (read-only): which chassis are not connected; the sweep acts on exactly those. */
export async function ovnCheck(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const expected = OVN_CHECK.expected;
  const juju = new Juju(ctx, flags.model);
  const verdict = await probeSafely(async () => verdictOf(await probeAll(juju, flags)));
  if (verdict.state === "all-connected" || verdict.state === "not-connected")
    return pass(expected, { ...verdict, ok: true });
  return fail(expected, verdict);
}

/** The post-vault TLS restart sweep, on affected units only. */
export async function ovnTlsSweep(flags: StepFlags<typeof OVN_TLS_SWEEP>, ctx: StepContext): Promise<StepOutcome> {
  const expected = OVN_TLS_SWEEP.expected;
  const juju = new Juju(ctx, flags.model);
  let results: ChassisResult[];
  try {
    results = await probeAll(juju, flags, flags.parallel);
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
  const targets = sweepTargets(results);
  const restarts = restartMarker(ctx);
  if (targets.length === 0 && restarts.any()) {
    // every chassis is connected now, but this window's earlier sweep was cut after its chassis
    // restarts: it still owes neutron-server its restart (sent only if that one did not run)
    const details: string[] = [];
    try {
      await restartNeutronServer(juju, flags["neutron-app"], ctx, details, restarts);
    } catch (err) {
      onlyToolErrors(err);
      return fail(expected, { ...toolVerdict(err), details });
    }
    const outcome = pass(expected, {
      ok: true,
      state: "swept",
      summary: `all ${results.length} chassis connected after this window's earlier sweep; neutron-server finished`,
      details,
    });
    outcome.evidence = { kind: "ovn-tls-sweep", chassis: results.length, restarted: [] };
    return outcome;
  }
  if (targets.length === 0) {
    const verdict: Verdict = {
      ok: true,
      state: "nothing-to-sweep",
      summary: `all ${results.length} chassis connected: no restart`,
      details: [],
    };
    const outcome = skipped(expected, verdict);
    outcome.evidence = { kind: "ovn-tls-sweep", chassis: results.length, restarted: [] };
    return outcome;
  }
  const details: string[] = [];
  const restarted = await mapBounded(targets, flags.parallel, async (t) => {
    const res = await restartOnce(juju, t.chassis, CHASSIS_SERVICES, restarts, ctx, `on ${t.chassis} (${t.principal})`);
    details.push(
      `${t.chassis}: restart ${res.already ? ALREADY : res.code === 0 ? "done" : `FAILED (${excerpt(res.stdout.trim().split("\n").pop() ?? "")})`}`,
    );
    return res.code === 0;
  });
  let after: Verdict;
  let reprobed: Probed[];
  try {
    await restartNeutronServer(juju, flags["neutron-app"], ctx, details, restarts);
    reprobed = await probeAll(juju, flags, flags.parallel);
    after = verdictOf(reprobed);
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, { ...toolVerdict(err), details });
  }
  const verdict: Verdict = {
    ok: restarted.every(Boolean),
    state: "swept",
    summary: `swept ${targets.length} of ${results.length} chassis (${targets.map((t) => t.chassis).join(", ")}); re-probe: ${after.summary}`,
    details,
    route: restarted.every(Boolean) ? undefined : "chassis-not-connected",
  };
  const outcome = verdict.ok ? pass(expected, verdict) : fail(expected, verdict);
  // Which units were restarted and whether the re-probe saw them connected: what the record needs
  // to offer the [REVALIDATE] marker of this step for clearing (record/revalidate.ts).
  outcome.evidence = {
    kind: "ovn-tls-sweep",
    chassis: results.length,
    restarted: targets.map((t, i) => ({
      unit: t.chassis,
      principal: t.principal,
      restartOk: restarted[i] === true,
      reconnected: reprobed.some((r) => r.chassis === t.chassis && r.status === "connected"),
    })),
  };
  return outcome;
}

/** Every chassis' status at a probe, for the record (a failed probe counts as not connected). */
function chassisEvidence(results: Probed[]): StepOutcome["evidence"] {
  return {
    kind: "ovn-chassis",
    connected: results.filter((r) => r.status === "connected").map((r) => r.chassis),
    notConnected: results.filter((r) => r.status !== "connected").map((r) => r.chassis),
  };
}

/** A restart's answer in its RAN: line: done, or FAILED with the remote exit code and its last line. */
function restartAnswer(res: { code: number; stdout: string }): string {
  if (res.code === 0) return "done";
  const last = res.stdout.trim().split("\n").pop() ?? "";
  return `FAILED (${res.code === -1 ? "no result" : `exit ${res.code}`}${last ? `: ${answerOf(last)}` : ""})`;
}

const CHASSIS_SERVICES = "ovs-vswitchd ovn-controller";
const ALREADY = "already done by this window's earlier run (new InvocationID): not sent again";

/** Which units this window's sweep restarted, and their services' InvocationIDs just before (issue #23). */
type RestartMarker = UnitMarker<EarlierRestart>;
const restartMarker = (ctx: StepContext): RestartMarker =>
  unitMarker(ctx, "ovn-tls-sweep", z.object({ services: z.string(), before: z.array(z.string()) }));

/**
 * `systemctl restart <services>` on a unit at most once per window: the services' InvocationIDs
 * are read and noted before the restart is sent, so a resume after a kill sees whether that
 * restart ran (gates/ovn.ts `restartTookEffect`) instead of restarting the unit again.
 */
async function restartOnce(
  juju: Juju,
  unit: string,
  services: string,
  marker: RestartMarker,
  ctx: StepContext,
  where: string,
): Promise<{ code: number; stdout: string; already?: boolean }> {
  const ids = await juju
    .execOnUnit(unit, `systemctl show -p InvocationID --value ${services}`)
    .then((r) => (r.code === 0 ? r.stdout.split("\n").slice(0, services.split(" ").length) : undefined))
    .catch((e: unknown) => {
      onlyToolErrors(e);
      return undefined; // unknown: the restart is sent, as without a marker
    });
  if (restartTookEffect(marker.earlier(unit), services, ids)) {
    followed(ctx.out, `systemctl restart ${services} ${where}: ${ALREADY}`);
    return { code: 0, stdout: "", already: true };
  }
  if (ids) marker.note(unit, { services, before: ids });
  const res = await juju.execOnUnit(unit, `systemctl restart ${services}`).catch((e: unknown) => {
    onlyToolErrors(e);
    return { code: -1, stdout: e.message };
  });
  ctx.out.line(`RAN: systemctl restart ${services} ${where}: ${restartAnswer(res)}`);
  return res;
}

/** neutron-server on every neutron-api unit, after the chassis restarts (runbook Stage 4 sweep). */
async function restartNeutronServer(
  juju: Juju,
  app: string,
  ctx: StepContext,
  details: string[],
  marker: RestartMarker,
): Promise<void> {
  const neutron = unwrap(parseAppStatus(await juju.status(app), app));
  for (const unit of appUnitNames(neutron, app)) {
    const res = await restartOnce(juju, unit, "neutron-server", marker, ctx, `on ${unit}`);
    details.push(`${unit}: neutron-server restart ${res.already ? ALREADY : res.code === 0 ? "done" : "FAILED"}`);
  }
}

/** GATE: every chassis connected. */
export async function ovnChassisConnected(
  flags: StepFlags<typeof OVN_CHASSIS_CONNECTED>,
  ctx: StepContext,
): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  let last: Probed[] | undefined;
  const outcome = await runGate(ctx, {
    expected: OVN_CHASSIS_CONNECTED.expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => {
      last = await probeAll(juju, flags);
      // the sweep ran before this gate: a chassis still down is not sent back to the sweep
      return verdictOf(last, true);
    },
  });
  // the last probe's units: a sweep's restarted chassis count as reconnected once this gate passed
  if (last) outcome.evidence = chassisEvidence(last);
  return outcome;
}
