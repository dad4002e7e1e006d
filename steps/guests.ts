/**
 * Runbook Stage 5 -- guests (and the pre-shutdown hold-down they depend on). With D-043 in force,
 * pre-shutdown-running guests should be ACTIVE; unexpectedly SHUTOFF ones are started, held ones
 * never are. A regressed resume flag is a warning: it only takes effect on the NEXT boot.
 *
 * "Pre-shutdown-running" comes from a baseline's servers.json (steps/baseline.ts):
 * - planned (--mode planned): THIS window's capture -- the folder in --baseline-dir whose
 *   coldstart-baseline.json names COLDSTART_WINDOW (the window id every step of the graph gets);
 * - unplanned: the newest capture in --baseline-dir (any window, or one made by hand with the
 *   runbook's script), its age printed and recorded;
 * - none found: the operator names the guests to start (config startGuests, passed as --start
 *   with --start-named yes; `[]` = none). Until then the start step stops as a BLOCKER listing the
 *   SHUTOFF guests, and starts nothing.
 * Only guests ACTIVE in the baseline (or named) are started when SHUTOFF and counted by the gate;
 * every other guest is left as it was and listed in the record with its status before and now.
 * Without --mode (a step run by hand, or a caller from before baselines) the old rule applies:
 * every SHUTOFF guest that is not held is started and counted -- the step says so.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StepFlags } from "../stages/step-def";
import { HOLD_GUESTS } from "../stages/pre-shutdown";
import { GUESTS_ACTIVE, NOVA_RESUME_FLAG, START_SHUTOFF_GUESTS } from "../stages/guests";
import {
  baselineVerdict,
  guestLabel,
  guestLine,
  guestName,
  guestPlan,
  guestsToStart,
  guestsVerdict,
  holdTargets,
  parseServerList,
  powerMove,
  powerMoveNote,
  serverRef,
  type Baseline,
  type GuestPlan,
  type Server,
} from "../gates/guests";
import { parseJujuConfig, resumeFlag, resumeFlagVerdict } from "../gates/nova-config";
import { mapBounded } from "../runtime/bounded";
import { Juju } from "../runtime/juju";
import { OpenStack } from "../runtime/openstack";
import type { StepContext } from "../runtime/step-context";
import { expandHome, type EvidenceOf } from "../runtime/record";
import { onlyToolErrors, ToolError, toolErrorOf } from "../runtime/tool-error";
import { forConsole } from "../runtime/safe-text";
import { shellQuote } from "../stages/command-line";
import { blocker, fail, pass, probeSafely, runGate, toolVerdict, skipped, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";
import { followed, sent as sentLine } from "./request-line";
import { BASELINE_META, baselineMetaSchema, folderTime } from "./baseline";

async function servers(os: OpenStack): Promise<Server[]> {
  return unwrap(parseServerList(await os.serverList()));
}

/** With Task State: what an action step decides a start / stop by (gates/guests.ts powerMove). */
async function serversLong(os: OpenStack): Promise<Server[]> {
  return unwrap(parseServerList(await os.serverListLong()));
}

/** Pre-shutdown: stop the guests to hold down after the window (before the hosts go down). */
export async function holdGuests(flags: StepFlags<typeof HOLD_GUESTS>, ctx: StepContext): Promise<StepOutcome> {
  const expected = HOLD_GUESTS.expected;
  if (flags.guest.length === 0) {
    return skipped(expected, {
      ok: true,
      state: "none",
      summary: "no guests to hold down (holdGuests is empty)",
      details: [],
    });
  }
  const os = new OpenStack(ctx, flags.openrc);
  // Decided from each server as listed now, so a resume after a kill that came right after a stop
  // reached nova waits for that stop instead of sending it again (nova's 409: task_state set).
  const sent = new Set<string>();
  const noted = new Set<string>();
  const notes: string[] = [];
  const act = async (list: readonly Server[]): Promise<void> => {
    for (const s of holdTargets(list, flags.guest).toStop) {
      const ref = serverRef(s);
      const m = powerMove(s, "stop");
      if (m.move === "send" && !sent.has(ref)) {
        sent.add(ref);
        await sentLine(
          ctx.out,
          `openstack server stop ${guestName(s)} (${forConsole(ref)}), status ${s.Status}, to hold it down after the window`,
          () => os.serverStop(ref),
        );
      } else if ((m.move === "in-progress" || m.move === "busy") && !sent.has(ref) && !noted.has(ref)) {
        noted.add(ref);
        const text = `server ${guestLabel(s)}: ${powerMoveNote("stop", m)}; waiting${m.move === "busy" ? " for it to clear" : " for SHUTOFF"}`;
        // in progress: an earlier run's stop reached nova (FOLLOWED: console and record); busy: another task's
        if (m.move === "in-progress") followed(ctx.out, text);
        else ctx.out.line(text);
        notes.push(text); // the record's details keep the fact; the console line its FOLLOWED: label
      }
    }
  };
  try {
    const list = await serversLong(os);
    const { unmatched } = holdTargets(list, flags.guest);
    if (unmatched.length > 0) {
      // A typo here would let a forensics guest auto-resume: stop before changing anything.
      return fail(expected, {
        ok: false,
        state: "unknown-guest",
        summary: `holdGuests names no such server: ${unmatched.map(forConsole).join(", ")}; nothing was stopped`,
        details: [],
        route: "guests-shutoff",
      });
    }
    await act(list);
    const verdict = await runGate(ctx, {
      expected,
      timeoutMs: flags.timeout,
      intervalMs: flags.interval,
      cancellable: false, // the stops were sent: see them through

      probe: async () => {
        const now = await serversLong(os);
        // a guest busy with another task at the first look gets its stop once that task is over
        await act(now);
        const still = holdTargets(now, flags.guest).toStop;
        return still.length === 0
          ? { ok: true, state: "held", summary: `held down: ${flags.guest.map(forConsole).join(", ")}`, details: [] }
          : {
              ok: false,
              state: "stopping",
              summary: `not SHUTOFF yet: ${still.map((s) => `${guestName(s)} (${s.Status}${s["Task State"] ? `, task_state ${forConsole(s["Task State"])}` : ""})`).join(", ")}`,
              details: [],
            };
      },
    });
    // what an earlier request left under way is said in the record, as the console said it
    const waited = notes.map((n) => n.replace(/; waiting.*$/, "; waited"));
    return waited.length === 0
      ? verdict
      : { ...verdict, verdict: { ...verdict.verdict, details: [...waited, ...verdict.verdict.details] } };
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
}

/** CHECK: resume-guests-state-on-host-boot (D-043). Regressed = warning, the run continues. */
export async function novaResumeFlag(
  flags: StepFlags<typeof NOVA_RESUME_FLAG>,
  ctx: StepContext,
): Promise<StepOutcome> {
  const expected = NOVA_RESUME_FLAG.expected;
  const juju = new Juju(ctx, flags.model);
  const verdict = await probeSafely(async () =>
    resumeFlagVerdict(resumeFlag(unwrap(parseJujuConfig(await juju.config(flags.app))))),
  );
  if (verdict.state === "regressed") ctx.out.warn(verdict.summary);
  return verdict.ok ? pass(expected, verdict) : fail(expected, verdict);
}

type BaselineFlags = Pick<StepFlags<typeof GUESTS_ACTIVE>, "mode" | "baseline-dir" | "start" | "start-named" | "hold">;

/** How long ago, in days/hours/minutes ("3d 4h", "2h 5m", "12m"). */
export function formatAge(ms: number): string {
  const m = Math.max(0, Math.floor(ms / 60_000));
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m % 60}m`;
  return `${m}m`;
}

interface Found {
  baseline?: Baseline;
  /** Where it was looked for, in words (for the output and the record). */
  looked: string;
}

/**
 * The baseline this step goes by: this window's (planned), or the newest in --baseline-dir
 * (unplanned). A folder counts only if it has servers.json; a servers.json that does not parse is
 * a failure naming the file (never silently skipped: it may be the one that matters).
 */
export function findBaseline(flags: BaselineFlags, env: NodeJS.ProcessEnv): Found {
  const configured = flags["baseline-dir"];
  if (configured === undefined) return { looked: "no --baseline-dir given" };
  const root = expandHome(configured, env);
  const window = env.COLDSTART_WINDOW;
  const planned = flags.mode === "planned";
  const looked = planned
    ? `a capture of window ${window ?? "(COLDSTART_WINDOW unset)"} in ${root}`
    : `the newest capture in ${root}`;
  if (planned && !window) return { looked };
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return { looked: `${looked} (no such folder)` };
  }
  const candidates = names
    .filter((n) => folderTime(n) !== undefined && fs.existsSync(path.join(root, n, "servers.json")))
    .map((n) => {
      const dir = path.join(root, n);
      let meta: { window: string | null; capturedAt: string } | undefined;
      try {
        const parsed = baselineMetaSchema.safeParse(JSON.parse(fs.readFileSync(path.join(dir, BASELINE_META), "utf8")));
        if (parsed.success) meta = parsed.data;
      } catch {
        // no meta: a capture made outside a window (or by hand); its folder name gives the time
      }
      const metaTime = meta ? Date.parse(meta.capturedAt) : NaN;
      return { dir, window: meta?.window ?? undefined, at: Number.isNaN(metaTime) ? folderTime(n)! : metaTime };
    })
    .filter((c) => !planned || c.window === window)
    .sort((a, b) => b.at - a.at);
  const newest = candidates[0];
  if (!newest) return { looked };
  const file = path.join(newest.dir, "servers.json");
  const parsed = parseServerList(fs.readFileSync(file, "utf8"));
  if (!parsed.ok) throw new ToolError(`baseline ${file}: ${parsed.error}`, "guests-shutoff", true);
  return {
    looked,
    baseline: {
      dir: newest.dir,
      source: planned ? "window" : "newest",
      window: newest.window,
      capturedAtMs: newest.at,
      servers: parsed.value,
    },
  };
}

/** "baseline <dir> (this window's, captured <iso>)" / "(newest, captured <iso>, 3d 4h ago, window w)". */
export function describeBaseline(b: Baseline, nowMs: number): string {
  const at =
    b.capturedAtMs === undefined ? "capture time unknown" : `captured ${new Date(b.capturedAtMs).toISOString()}`;
  const age = b.capturedAtMs === undefined ? "" : `, ${formatAge(nowMs - b.capturedAtMs)} ago`;
  const who =
    b.source === "window"
      ? "this window's"
      : `the newest${b.window ? `, window ${b.window}` : ", made outside a window"}`;
  return `baseline ${b.dir} (${who}, ${at}${age})`;
}

function namedList(flags: BaselineFlags): string[] | undefined {
  return flags["start-named"] === "yes" || (flags.start?.length ?? 0) > 0 ? (flags.start ?? []) : undefined;
}

/** The BLOCKER details: how an operator names the guests to start (and re-runs from this step). */
export function howToName(shutoff: readonly Server[]): string[] {
  // a tenant's name goes into commands the operator may paste: shell-quoted, never spliced
  const example = shutoff[0] ? guestName(shutoff[0]) : "<name-or-id>";
  return [
    ...shutoff.map((s) => `SHUTOFF: ${guestLabel(s)}`),
    "name the guests to start (names or IDs) in the stack config, then run `pulumi up` again (it resumes at this step):",
    `  pulumi config set --path 'coldstart:startGuests[0]' ${shellQuote(example)}   (one entry per guest: [1], [2], ...)`,
    "  to start none of them: pulumi config set coldstart:startGuests '[]'",
    `  in a drill: coldstart drill ... --resume --set ${shellQuote(`startGuests=${JSON.stringify([example])}`)}`,
  ];
}

interface Decision {
  /** Set when the step must stop before any start. */
  stop?: StepOutcome;
  plan?: GuestPlan;
  where: string;
}

function decide(flags: BaselineFlags, list: Server[], ctx: StepContext, expected: string): Decision {
  const found = findBaseline(flags, ctx.env);
  const named = namedList(flags);
  const where = found.baseline
    ? describeBaseline(found.baseline, ctx.clock.now())
    : `no baseline (looked for ${found.looked})${named ? "; startGuests decides" : ""}`;
  const plan = guestPlan(list, { baseline: found.baseline?.servers, hold: flags.hold, named });
  if (plan.unmatchedNamed.length > 0)
    return {
      where,
      stop: fail(expected, {
        ok: false,
        state: "unknown-guest",
        summary: `startGuests names no such server: ${plan.unmatchedNamed.map(forConsole).join(", ")}; nothing was started`,
        details: plan.guests.map((g) => guestLine(g)),
        route: "guests-shutoff",
      }),
    };
  if (!found.baseline && named === undefined) {
    const shutoff = plan.guests
      .filter((g) => g.fate === "unknown" && g.server.Status === "SHUTOFF")
      .map((g) => g.server);
    if (shutoff.length > 0)
      return {
        where,
        stop: blocker(expected, {
          ok: false,
          state: "no-baseline",
          summary: `${where}: cannot tell which of ${shutoff.length} SHUTOFF guest(s) ran before the outage; nothing was started`,
          details: howToName(shutoff),
          route: "guests-shutoff",
        }),
      };
  }
  return { where, plan };
}

/**
 * `openstack server start` for each target whose Task State allows it (gates/guests.ts powerMove):
 * one already powering-on (an earlier run's start reached nova before that run was killed) is not
 * sent again -- guests-active waits for it to be ACTIVE, as for every start sent here; one busy with
 * another task is not sent either (nova's 409) and is a failure naming the task.
 * fates: what happened to each target, as the record's "now" of its guest line.
 */
async function startEach(
  targets: readonly Server[],
  parallel: number,
  os: OpenStack,
  ctx: StepContext,
): Promise<{ failures: string[]; fates: Map<Server, string> }> {
  const failures: string[] = [];
  const fates = new Map<Server, string>();
  await mapBounded([...targets], parallel, async (s) => {
    const m = powerMove(s, "start");
    if (m.move !== "send") {
      const note = powerMoveNote("start", m);
      if (m.move === "in-progress")
        followed(ctx.out, `server ${guestLabel(s)}: ${note}; guests-active waits for ACTIVE`);
      else ctx.out.line(`server ${guestLabel(s)}: ${note}`);
      fates.set(s, `${s.Status}, ${note}`);
      if (m.move === "busy") failures.push(`${guestName(s)}: ${note}; not started`);
      return;
    }
    await sentLine(ctx.out, `openstack server start ${guestName(s)} (${forConsole(serverRef(s))})`, () =>
      os.serverStart(serverRef(s)),
    )
      .then(() => fates.set(s, "SHUTOFF -> start sent"))
      .catch((e: unknown) => {
        onlyToolErrors(e);
        fates.set(s, "SHUTOFF -> start FAILED");
        failures.push(`${guestName(s)}: ${forConsole(e.message)}`);
      });
  });
  return { failures, fates };
}

/** Start the unexpectedly SHUTOFF guests; held guests are never started. */
export async function startShutoffGuests(
  flags: StepFlags<typeof START_SHUTOFF_GUESTS>,
  ctx: StepContext,
): Promise<StepOutcome> {
  if (flags.mode === undefined) return startEveryShutoffGuest(flags, ctx);
  const expected = START_SHUTOFF_GUESTS.expected;
  const os = new OpenStack(ctx, flags.openrc);
  try {
    const list = await serversLong(os);
    const d = decide(flags, list, ctx, expected);
    ctx.out.line(d.where);
    if (d.stop) return d.stop;
    const plan = d.plan!;
    const targets = plan.toStart;
    const { failures, fates } = await startEach(targets, flags.parallel, os, ctx);
    const details = [
      ...plan.guests.map((g) => guestLine(g, targets.includes(g.server) ? fates.get(g.server) : undefined)),
      ...plan.gone.map((s) => `${guestLabel(s)}: before ACTIVE, now gone (deleted?): not started`),
      ...failures,
    ];
    const evidence = guestsEvidence(plan, d.where);
    if (targets.length === 0)
      return withEvidence(
        skipped(expected, {
          ok: true,
          state: "none-shutoff",
          summary: `no guest to start: none that ran before the window is SHUTOFF; ${d.where}`,
          details,
        }),
        evidence,
      );
    const verdict = {
      ok: failures.length === 0,
      state: "started",
      summary: `started ${targets.length - failures.length} of ${targets.length} SHUTOFF guest(s) that ran before the window: ${targets.map(guestName).join(", ")}; ${d.where}`,
      details,
      route: failures.length ? ("guests-shutoff" as const) : undefined,
    };
    return withEvidence(verdict.ok ? pass(expected, verdict) : fail(expected, verdict), evidence);
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
}

/** Without --mode: the rule from before baselines (every SHUTOFF guest that is not held). */
async function startEveryShutoffGuest(
  flags: StepFlags<typeof START_SHUTOFF_GUESTS>,
  ctx: StepContext,
): Promise<StepOutcome> {
  const expected = "every SHUTOFF guest that is not held down gets openstack server start";
  ctx.out.warn(
    "no --mode given: every SHUTOFF guest that is not held is started, with no baseline to tell which ran before the window",
  );
  const os = new OpenStack(ctx, flags.openrc);
  try {
    const targets = guestsToStart(await serversLong(os), flags.hold);
    if (targets.length === 0) {
      return skipped(expected, {
        ok: true,
        state: "none-shutoff",
        summary: "no unexpectedly SHUTOFF guests",
        details: [],
      });
    }
    const { failures, fates } = await startEach(targets, flags.parallel, os, ctx);
    const notes = targets.flatMap((s) =>
      fates.get(s)?.includes("not sent again") ? [`${guestLabel(s)}: ${fates.get(s)!}`] : [],
    );
    const verdict = {
      ok: failures.length === 0,
      state: "started",
      summary: `started ${targets.length - failures.length} of ${targets.length} SHUTOFF guest(s): ${targets.map(guestName).join(", ")}`,
      details: [...notes, ...failures],
      route: failures.length ? ("guests-shutoff" as const) : undefined,
    };
    return verdict.ok ? pass(expected, verdict) : fail(expected, verdict);
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
}

/** GATE: every guest that ran before the window (or is named) and is not held is ACTIVE. */
export async function guestsActive(flags: StepFlags<typeof GUESTS_ACTIVE>, ctx: StepContext): Promise<StepOutcome> {
  const os = new OpenStack(ctx, flags.openrc);
  if (flags.mode === undefined)
    return runGate(ctx, {
      expected: "every guest that is not held down is ACTIVE",
      timeoutMs: flags.timeout,
      intervalMs: flags.interval,
      probe: async () => guestsVerdict(await servers(os), flags.hold),
    });
  const expected = GUESTS_ACTIVE.expected;
  let found: Found;
  try {
    found = findBaseline(flags, ctx.env);
  } catch (err) {
    return fail(expected, toolVerdict(toolErrorOf(err)));
  }
  const named = namedList(flags);
  const where = found.baseline
    ? describeBaseline(found.baseline, ctx.clock.now())
    : `no baseline (looked for ${found.looked}); counting only startGuests`;
  ctx.out.line(where);
  let last: GuestPlan | undefined;
  const outcome = await runGate(ctx, {
    expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => {
      last = guestPlan(await servers(os), { baseline: found.baseline?.servers, hold: flags.hold, named });
      return baselineVerdict(last, where);
    },
  });
  // the final listing: every guest's status before the window and after it, for the record
  return last ? withEvidence(outcome, guestsEvidence(last, where)) : outcome;
}

/** Every guest with its baseline status and its status now (gone: in the baseline, not listed now). */
export function guestsEvidence(plan: GuestPlan, baseline: string): EvidenceOf<"guests"> {
  return {
    kind: "guests",
    baseline,
    guests: [
      ...plan.guests.map((g) => ({
        // evidence is data, kept as nova has it, but with no terminal control in it
        name: guestName(g.server),
        id: g.server.ID === undefined ? undefined : forConsole(g.server.ID),
        before: g.before,
        after: g.server.Status,
        fate: g.fate,
      })),
      ...plan.gone.map((s) => ({
        name: guestName(s),
        id: s.ID === undefined ? undefined : forConsole(s.ID),
        before: s.Status,
        after: "gone",
        fate: "expected",
      })),
    ],
  };
}

function withEvidence(outcome: StepOutcome, evidence: EvidenceOf<"guests">): StepOutcome {
  return { ...outcome, evidence };
}
