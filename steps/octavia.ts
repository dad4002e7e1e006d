/**
 * Runbook Stage 6 -- Octavia LBs. Expect auto-recovery once amphorae resume; an LB still
 * provisioning_status=ERROR after the grace gets `openstack loadbalancer failover` (VIP and FIP
 * are preserved) and is polled to ACTIVE. Only ERROR LBs are ever failed over.
 * [REVALIDATE: timing budget on current build]
 */
import type { StepFlags } from "../stages/step-def";
import { LBS_ACTIVE, LB_FAILOVER, type OCTAVIA_GRACE } from "../stages/octavia";
import {
  failoverMove,
  failoverOutcome,
  lbName,
  lbsInError,
  lbsVerdict,
  parseLoadBalancers,
  type LoadBalancer,
} from "../gates/octavia";
import { forConsole } from "../runtime/safe-text";
import { formatDuration } from "../config/duration";
import { mapBounded } from "../runtime/bounded";
import { OpenStack } from "../runtime/openstack";
import type { StepContext } from "../runtime/step-context";
import { onlyToolErrors } from "../runtime/tool-error";
import { fail, pass, runGate, toolVerdict, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";
import { answerOf, followed, sent } from "./request-line";
import type { EvidenceOf } from "../runtime/record";
import { humanDuration } from "../record/format";

async function lbs(os: OpenStack): Promise<LoadBalancer[]> {
  return unwrap(parseLoadBalancers(await os.loadBalancerList()));
}

/** Wait up to the grace for LBs in ERROR to recover on their own; always continues to failover. */
export async function octaviaGrace(flags: StepFlags<typeof OCTAVIA_GRACE>, ctx: StepContext): Promise<StepOutcome> {
  const expected = `no LB in provisioning_status=ERROR, or ${formatDuration(flags.grace)} passed`;
  const os = new OpenStack(ctx, flags.openrc);
  // Every LB seen in ERROR, when, and when it was first seen ACTIVE again: the record offers the
  // runbook's [REVALIDATE: timing budget] for clearing only from this (record/revalidate.ts).
  const t0 = ctx.clock.now();
  const seen = new Map<string, GraceLb>();
  const outcome = await runGate(ctx, {
    expected,
    timeoutMs: flags.grace,
    intervalMs: flags.interval,
    // A wait inside an action, whose result the lbs-active gate confirms anyway (GateSpec.successes):
    // the grace ends at the first look with no LB in ERROR; lb-failover lists the LBs again.
    successes: 1,
    probe: async () => {
      const list = await lbs(os);
      track(seen, list, ctx.clock.now() - t0);
      const inError = lbsInError(list);
      return inError.length === 0
        ? { ok: true, state: "no-error", summary: "no LB in ERROR", details: [] }
        : {
            ok: false,
            state: "error",
            summary: `${inError.length} LB(s) in ERROR: ${inError.map(lbName).join(", ")}`,
            details: [],
          };
    },
  });
  // (a probe cut at the end of the grace is state cut-at-deadline: the grace being over, not a failure)
  if (outcome.verdict.state === "tool-error" || outcome.verdict.state === "tool-missing") return outcome;
  // Grace over with LBs still in ERROR is not a failure: the failover step handles them.
  const done = pass(expected, { ...outcome.verdict, ok: true }, outcome.polls);
  const tracked = [...seen.values()];
  for (const lb of tracked)
    done.verdict.details.push(
      lb.recoveredAtMs !== undefined
        ? `${lbName(lb)}: ERROR, ACTIVE again ${humanDuration(lb.recoveredAtMs)} into the grace (to within one poll, ${formatDuration(flags.interval)})`
        : `${lbName(lb)}: ERROR, not recovered within the grace (${lb.statusAtEnd} at its last probe)`,
    );
  done.evidence = { kind: "octavia-grace", graceMs: flags.grace, intervalMs: flags.interval, lbs: tracked };
  return done;
}

type GraceLb = EvidenceOf<"octavia-grace">["lbs"][number];

/** Note LBs newly in ERROR, and the first probe that sees a noted one ACTIVE again. */
function track(seen: Map<string, GraceLb>, list: readonly LoadBalancer[], atMs: number): void {
  for (const lb of list) {
    const known = seen.get(lb.id);
    if (!known) {
      if (lb.provisioning_status === "ERROR")
        seen.set(lb.id, {
          id: lb.id,
          // evidence is data, kept as the name, but with no terminal control in it
          name: lb.name == null ? undefined : forConsole(lb.name),
          firstErrorAtMs: atMs,
          statusAtEnd: lb.provisioning_status,
        });
      continue;
    }
    known.statusAtEnd = lb.provisioning_status;
    if (known.recoveredAtMs === undefined && lb.provisioning_status === "ACTIVE") known.recoveredAtMs = atMs;
    // back in ERROR after recovering: it did not stay recovered
    if (lb.provisioning_status === "ERROR") known.recoveredAtMs = undefined;
  }
  for (const known of seen.values()) if (!list.some((lb) => lb.id === known.id)) known.statusAtEnd = "gone";
}

/** openstack loadbalancer failover for each LB still in ERROR (bounded parallelism). */
export async function lbFailover(flags: StepFlags<typeof LB_FAILOVER>, ctx: StepContext): Promise<StepOutcome> {
  const expected = LB_FAILOVER.expected;
  const os = new OpenStack(ctx, flags.openrc);
  try {
    const list = await lbs(os);
    const targets = list.filter((lb) => failoverMove(lb) === "failover");
    const underWay = list
      .filter((lb) => failoverMove(lb) === "in-progress")
      .map(
        (lb) =>
          `${lbName(lb)} (${forConsole(lb.id)}): provisioning ${forConsole(lb.provisioning_status)}: a failover or update already in progress, not sent again; lbs-active waits for it`,
      );
    // an earlier run's failover (or an update) still PENDING: followed, never sent again (console and record)
    for (const line of underWay) followed(ctx.out, line);
    if (targets.length === 0)
      return pass(expected, {
        ok: true,
        state: "none-in-error",
        summary: "no LB in ERROR: no failover",
        details: underWay,
      });
    const details = await mapBounded(targets, flags.parallel, async (lb) => {
      const what = `openstack loadbalancer failover ${forConsole(lb.id)} (${lb.name == null ? "unnamed" : lbName(lb)})`;
      const res = await sent(
        ctx.out,
        what,
        () => os.loadBalancerFailover(lb.id),
        (r) => {
          const o = failoverOutcome(r.exitCode, r.stdout, r.stderr);
          return o.state === "failed" ? `failed (${answerOf(o.message)})` : o.state;
        },
      );
      const outcome = failoverOutcome(res.exitCode, res.stdout, res.stderr);
      return { lb, outcome };
    });
    const bad = details.filter((d) => d.outcome.state === "failed" || d.outcome.state === "not-found");
    const verdict = {
      ok: bad.length === 0,
      state: bad.length ? "failover-failed" : "failover-accepted",
      summary: `failover for ${targets.length} LB(s) in ERROR: ${details.map((d) => `${lbName(d.lb)} ${d.outcome.state}`).join(", ")}`,
      details: [
        ...details.map(
          (d) => `${forConsole(d.lb.id)}: ${d.outcome.state === "failed" ? d.outcome.message : d.outcome.state}`,
        ),
        ...underWay,
      ],
      route: bad.length ? ("lb-error" as const) : undefined,
    };
    return verdict.ok ? pass(expected, verdict) : fail(expected, verdict);
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
}

/** GATE: every LB provisioning_status=ACTIVE. */
export async function lbsActive(flags: StepFlags<typeof LBS_ACTIVE>, ctx: StepContext): Promise<StepOutcome> {
  const os = new OpenStack(ctx, flags.openrc);
  const outcome = await runGate(ctx, {
    expected: LBS_ACTIVE.expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => lbsVerdict(await lbs(os)),
  });
  if (!outcome.verdict.ok && !outcome.verdict.route) outcome.verdict.route = "lb-error";
  return outcome;
}
