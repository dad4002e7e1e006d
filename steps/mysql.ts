/**
 * Runbook Stage 2 -- MySQL InnoDB cluster. Check FIRST; act only on a confirmed outage.
 * reboot-cluster-from-complete-outage is DESTRUCTIVE against an already-reformed cluster, so the
 * action re-reads the status itself, runs only on the complete-outage signature, at most once per
 * window, and on the most up-to-date member (GTID superset).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { StepFlags } from "../cli/step-flags";
import {
  classifyMysql,
  isCompleteOutage,
  mysqlUnits,
  parseActionResult,
  rebootOutcome,
  unitForAddress,
  type MysqlUnit,
} from "../gates/mysql";
import type { Verdict } from "../gates/verdict";
import { Juju } from "../runtime/juju";
import { expandHome } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import {
  blocker,
  CUT_AT_DEADLINE,
  fail,
  pass,
  probeSafely,
  runGate,
  toolVerdict,
  skipped,
  type StepOutcome,
} from "./outcome";
import { unwrap } from "./unwrap";
import { parseAppStatus } from "../gates/juju-status";

const ACTION = "reboot-cluster-from-complete-outage";
type Target = StepFlags<"check mysql-cluster">;

async function readUnits(juju: Juju, app: string): Promise<MysqlUnit[]> {
  return mysqlUnits(unwrap(parseAppStatus(await juju.status(app), app)), app);
}

const EXPECT_CHECK =
  "a state the runbook knows how to continue from: healthy, converging, or a complete outage on every unit";

/** CHECK (read-only): classify; a partial outage or an unknown message stops the run here. */
export async function mysqlCheck(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  const verdict = await probeSafely(async () => classifyMysql(await readUnits(juju, flags.app), flags.units));
  switch (verdict.state) {
    case "healthy":
    case "converging":
    case "complete-outage":
      return pass(EXPECT_CHECK, verdict);
    case "not-ready":
    case "tool-error":
    case CUT_AT_DEADLINE:
    case "tool-missing":
      return fail(EXPECT_CHECK, verdict);
    default:
      return blocker(EXPECT_CHECK, verdict);
  }
}

interface RebootMarker {
  window: string;
  attempts: { unit: string; at: string; outcome?: string }[];
}

/** The destructive action, guarded. */
export async function mysqlReboot(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const expected = `every one of the ${flags.units} units shows the complete-outage signature, and no earlier attempt in this window`;
  const { COLDSTART_WINDOW: window, COLDSTART_RECORD_DIR: recordDir } = ctx.env;
  const juju = new Juju(ctx, flags.model);
  let units: MysqlUnit[];
  try {
    units = await readUnits(juju, flags.app);
  } catch (err) {
    return fail(expected, toolVerdict(err as Error));
  }
  const verdict = classifyMysql(units, flags.units);
  if (!isCompleteOutage(units, flags.units)) {
    if (verdict.state === "healthy" || verdict.state === "converging") {
      const guardVerdict: Verdict = {
        ...verdict,
        ok: true,
        summary: `not a complete outage (${verdict.state}): ${ACTION} NOT run. ${verdict.summary}`,
      };
      return skipped(expected, guardVerdict);
    }
    return blocker(expected, {
      ...verdict,
      summary: `${ACTION} NOT run: ${verdict.summary}`,
      route: verdict.route ?? "mysql-will-not-reform",
    });
  }
  if (!window || !recordDir) {
    return blocker(expected, {
      ok: false,
      state: "no-window",
      summary: `${ACTION} NOT run: it must run inside a maintenance window (COLDSTART_WINDOW and COLDSTART_RECORD_DIR), so that it runs at most once per window`,
      details: [],
      route: "mysql-will-not-reform",
    });
  }
  const markerFile = path.join(expandHome(recordDir, ctx.env), `${window}.mysql-reboot.json`);
  if (fs.existsSync(markerFile)) {
    const earlier = JSON.parse(fs.readFileSync(markerFile, "utf8")) as RebootMarker;
    return blocker(expected, {
      ok: false,
      state: "already-attempted",
      summary: `${ACTION} already ran in window ${window}; a second attempt needs a human`,
      details: earlier.attempts.map((a) => `${a.at} on ${a.unit}: ${a.outcome ?? "no result recorded (interrupted?)"}`),
      route: "mysql-will-not-reform",
    });
  }
  const marker: RebootMarker = { window, attempts: [] };
  const leader = units.find((u) => u.leader)?.unit ?? `${flags.app}/leader`;
  let result = await attempt(juju, leader, marker, markerFile, ctx);
  if (result.state === "not-most-updated") {
    const right = unitForAddress(units, result.address);
    if (!right || right.unit === leader) {
      return blocker(expected, {
        ok: false,
        state: "action-failed",
        summary: `${ACTION} on ${leader} refused: not the most up-to-date member; it names ${result.address}, which ${right ? "is the same unit" : "matches no unit"}`,
        details: units.map((u) => `${u.unit}: ${u.addresses.join(", ")}`),
        route: "mysql-will-not-reform",
      });
    }
    ctx.out.line(
      `${leader} is not the most up-to-date member; running ${ACTION} once on ${right.unit} (${result.address}) as the error directs`,
    );
    result = await attempt(juju, right.unit, marker, markerFile, ctx);
  }
  const last = marker.attempts[marker.attempts.length - 1];
  if (result.state === "success") {
    return pass(expected, {
      ok: true,
      state: "rebooted",
      summary: `${ACTION} completed on ${last.unit}; the cluster-online gate now polls until every unit reassesses`,
      details: [],
    });
  }
  const why = result.state === "failed" ? result.message : `still not the most up-to-date member (${result.address})`;
  return blocker(expected, {
    ok: false,
    state: "action-failed",
    summary: `${ACTION} on ${last.unit} failed: ${why}`,
    details: [],
    route: "mysql-will-not-reform",
  });
}

async function attempt(juju: Juju, unit: string, marker: RebootMarker, markerFile: string, ctx: StepContext) {
  const entry: RebootMarker["attempts"][number] = { unit, at: new Date(ctx.clock.now()).toISOString() };
  marker.attempts.push(entry);
  // Written BEFORE the action: an interrupted run must not lead to a second, blind attempt.
  writeMarker(markerFile, marker);
  ctx.out.line(`running juju run ${unit} ${ACTION} (destructive; complete outage confirmed on every unit)`);
  let outcome;
  try {
    outcome = rebootOutcome(unwrap(parseActionResult(await juju.runAction(unit, ACTION, ctx.callTimeoutMs * 5))));
  } catch (err) {
    outcome = { state: "failed" as const, message: (err as Error).message };
  }
  entry.outcome = outcome.state === "failed" ? `failed: ${outcome.message}` : outcome.state;
  writeMarker(markerFile, marker);
  return outcome;
}

function writeMarker(file: string, marker: RebootMarker): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, JSON.stringify(marker, null, 2) + "\n", { mode: 0o600 });
}

/** GATE: all units Cluster is ONLINE, exactly one Mode: R/W. A partial outage or unknown state escalates at once. */
export async function mysqlClusterOnline(
  flags: StepFlags<"gate mysql-cluster-online">,
  ctx: StepContext,
): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  const outcome = await runGate(ctx, {
    expected: `all ${flags.units} units say Cluster is ONLINE and exactly one says Mode: R/W`,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => classifyMysql(await readUnits(juju, flags.app), flags.units),
    escalate: (v) => v.state === "partial-outage" || v.state === "unknown",
  });
  // Converging or still-blocked units that never come ONLINE: "MySQL will not reform".
  if (!outcome.verdict.ok && !outcome.verdict.route) outcome.verdict.route = "mysql-will-not-reform";
  return outcome;
}
