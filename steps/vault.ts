/**
 * Runbook Stage 3 -- Vault unseal (sealed-after-restart is BY DESIGN). Threshold from status
 * (3-of-5 today); keys reach Vault only as the body of PUT /v1/sys/unseal on stdin of `juju ssh`
 * (never argv, here or on the unit). Missing keys = BLOCKER before Vault is touched.
 * GATE: Sealed=false on every unit.
 */
import type { StepFlags } from "../stages/step-def";
import { VAULT_UNSEAL, VAULT_UNSEALED } from "../stages/vault-unseal";
import { renderProcedure } from "../runbook/render-procedure";
import { appUnitNames, parseAppStatus } from "../gates/juju-status";
import * as z from "zod";
import {
  HANDED_TO_KEYHOLDERS,
  STATUS_COMMAND,
  UNSEAL_COMMAND,
  parseVaultStatus,
  readVaultStatus,
  unsealPlan,
  unsealStart,
  vaultVerdict,
  type EarlierUnseal,
  type VaultStatus,
} from "../gates/vault";
import { Juju } from "../runtime/juju";
import type { StepContext } from "../runtime/step-context";
import { KEY_VAR_PREFIX, KEYS_FILE_VAR, keyFormProblem, malformedKeys, readUnsealKeys } from "../runtime/unseal-keys";
import { blocker, fail, pass, runGate, toolVerdict, type StepOutcome } from "./outcome";
import { unwrap } from "./unwrap";
import { followed, sent } from "./request-line";
import { onlyToolErrors, ToolError } from "../runtime/tool-error";
import type { EvidenceOf } from "../runtime/record";
import { unitMarker, type UnitMarker } from "./window-marker";

type UnitUnseal = EvidenceOf<"vault-unseal">["units"][number];

export { STATUS_COMMAND, UNSEAL_COMMAND, VAULT_ADDR } from "../gates/vault";

type Target = StepFlags<typeof VAULT_UNSEAL>;

/**
 * Keys in COLDSTART_UNSEAL_KEY_n still work, but under a plain `pulumi up` the command provider
 * passes the CLI's whole environment to every step (pulumi-command v1.2.1
 * provider/pkg/provider/local/commandOutputs.go: `cmd.Env = os.Environ()` plus the step's
 * `environment`), so all 34 step processes held them. Said once, by the step that uses them.
 */
export const ENV_KEYS_WARNING = `unseal keys from ${KEY_VAR_PREFIX}1..n: under pulumi up every step process's environment holds them; name a 0600 file or a FIFO in ${KEYS_FILE_VAR} instead, or run coldstart maintenance (README "Unseal key custody")`;

async function vaultUnits(juju: Juju, app: string): Promise<string[]> {
  return appUnitNames(unwrap(parseAppStatus(await juju.status(app), app)), app);
}

async function unitStatus(juju: Juju, unit: string): Promise<VaultStatus> {
  const res = await juju.execOnUnit(unit, STATUS_COMMAND);
  // vault status: 0 unsealed, 2 sealed (data), 1 error
  const parsed = readVaultStatus(res.code, res.stdout);
  if (!parsed.ok) throw new ToolError(`vault status on ${unit}: ${parsed.error}`);
  return parsed.value;
}

/** A unit whose status cannot be read counts as not unsealed (null); a bug is rethrown. */
function statusOrNull(juju: Juju, unit: string): Promise<VaultStatus | null> {
  return unitStatus(juju, unit).catch((err: unknown) => {
    onlyToolErrors(err);
    return null;
  });
}

export { HANDED_TO_KEYHOLDERS } from "../gates/vault";

export async function vaultUnseal(flags: Target, ctx: StepContext): Promise<StepOutcome> {
  const byKeyholders = flags["unseal-by"] === "keyholders";
  const expected = byKeyholders
    ? "every sealed vault unit unsealed with the keys the run holds, or handed to the keyholders with the manual procedure"
    : "every vault unit unsealed with the threshold its status reports; enough keys present before any is sent";
  const juju = new Juju(ctx, flags.model);
  // the keys' one consumer: it may open a FIFO in COLDSTART_UNSEAL_KEYS_FILE (runtime/unseal-keys.ts)
  const keys = readUnsealKeys(ctx.env, { openPipes: true });
  if (keys.ok && keys.from === "env") ctx.out.warn(ENV_KEYS_WARNING);
  let statuses: { unit: string; status: VaultStatus }[];
  try {
    const units = await vaultUnits(juju, flags.app);
    statuses = [];
    for (const unit of units) statuses.push({ unit, status: await unitStatus(juju, unit) });
  } catch (err) {
    onlyToolErrors(err);
    return fail(expected, toolVerdict(err));
  }
  if (!keys.ok) {
    return blocker(expected, {
      ok: false,
      state: "keys-unreadable",
      summary: keys.problem,
      details: [],
      route: "vault-keys-missing",
    });
  }
  // Decide for every unit first: a blocker anywhere means Vault is not touched at all. A partial
  // unseal by someone else is reset before we start, so count on the full threshold.
  // Keyholder mode: a shortage of keys is not a blocker (the keyholders give the rest), so each unit
  // is judged as if the run held its whole threshold; what else stops a window still does.
  const plans = statuses.map((s) => ({
    ...s,
    plan: unsealPlan({ ...s.status, progress: 0 }, byKeyholders ? s.status.t : keys.keys.length),
  }));
  const blocked = plans.flatMap((p) => (p.plan.action === "blocker" ? [{ unit: p.unit, reason: p.plan.reason }] : []));
  if (blocked.length > 0) {
    return blocker(expected, {
      ok: false,
      state: "blocker",
      summary: `Vault NOT touched: ${keys.source}; ${blocked.length} unit(s) cannot be unsealed`,
      details: blocked.map((b) => `${b.unit}: ${b.reason}`),
      route: "vault-keys-missing",
    });
  }
  // a key Vault would refuse for its form (400 at that key, progress kept): none is sent
  const malformed = malformedKeys(keys.keys);
  if (malformed.length > 0 && keys.keys.length > 0 && plans.some((p) => p.plan.action === "unseal"))
    return blocker(expected, {
      ok: false,
      state: "blocker",
      summary: `Vault NOT touched: ${keyFormProblem(malformed, keys.keys.length, keys.source)}`,
      details: [],
      route: "vault-keys-missing",
    });
  const details: string[] = [];
  const used: UnitUnseal[] = [];
  const progress = progressMarker(ctx);
  const handed: { unit: string; status: VaultStatus }[] = [];
  try {
    for (const p of plans) {
      if (p.plan.action !== "unseal") {
        details.push(`${p.unit}: already unsealed`);
        used.push({ unit: p.unit, keysUsed: 0, threshold: p.status.t, result: "already-unsealed" });
      } else if (
        byKeyholders &&
        (keys.keys.length === 0 || (!unsealStart(p.status, progress.earlier(p.unit)).ours && p.status.progress > 0))
      ) {
        // no key held, or an unseal in progress that is not this window's: the keyholders' (never reset)
        handed.push(p);
      } else if (byKeyholders) {
        const done = await unsealUnit(juju, p.unit, p.status, keys.keys, ctx, progress, true);
        details.push(done.line);
        if (done.unit.result === "unsealed") used.push(done.unit);
        else handed.push({ unit: p.unit, status: done.status });
      } else {
        const done = await unsealUnit(juju, p.unit, p.status, keys.keys, ctx, progress);
        details.push(done.line);
        used.push(done.unit);
      }
    }
  } catch (err) {
    onlyToolErrors(err);
    const verdict = toolVerdict(err);
    // A refused key is a BLOCKER (never try other keys); anything else leaves Vault sealed.
    if (verdict.route === "vault-key-rejected") return blocker(expected, { ...verdict, details });
    return fail(expected, { ...verdict, details, route: "vault-sealed" });
  }
  if (handed.length > 0) return handOver(flags, ctx, expected, handed, details, keys.keys.length);
  const verdict = vaultVerdict(
    await Promise.all(statuses.map(async (s) => ({ unit: s.unit, status: await statusOrNull(juju, s.unit) }))),
  );
  // How many keys each unit took and Vault's own threshold, for the record: counts, never a key.
  const threshold = Math.max(0, ...statuses.map((s) => s.status.t));
  const keyCount = `${Math.max(0, ...used.map((u) => u.keysUsed))} key(s) per sealed unit, threshold ${threshold}, ${keys.keys.length} held`;
  const outcome = verdict.ok
    ? pass(expected, { ...verdict, details: [...details, keyCount] })
    : fail(expected, { ...verdict, details: [...details, keyCount, ...verdict.details] });
  outcome.evidence = { kind: "vault-unseal", threshold, keysAvailable: keys.keys.length, units: used };
  return outcome;
}

/**
 * Which key this window's unseal was sending to each unit (indexes only), in
 * `<recordDir>/<window>.vault-unseal.json`, written whole before each key is sent: a run killed
 * mid-unseal lets the resume tell its own progress from someone else's (gates/vault.ts
 * `unsealStart`). Outside a window (no COLDSTART_WINDOW / COLDSTART_RECORD_DIR): not kept.
 */
type ProgressMarker = UnitMarker<EarlierUnseal>;
const progressMarker = (ctx: StepContext): ProgressMarker =>
  unitMarker(ctx, "vault-unseal", z.object({ sending: z.number().int().min(0) }));

/**
 * Keyholder mode: the units still sealed go to the keyholders. The step prints (WARNING lines: the
 * drill's and maintenance's consoles show them at once) and records (its details: report.json) the
 * manual unseal procedure (stages/manual/vault.ts, the same VAULT_UNSEAL.manual the runbook prints)
 * and each sealed unit with its threshold and progress -- counts, never a key -- and passes: the
 * vault-unsealed gate waits, under its own timeout, until Vault reports them unsealed.
 */
function handOver(
  flags: Target,
  ctx: StepContext,
  expected: string,
  handed: readonly { unit: string; status: VaultStatus }[],
  details: readonly string[],
  held: number,
): StepOutcome {
  const units = handed.map(
    (h) =>
      `UNIT=${h.unit}   # sealed: threshold ${h.status.t} of ${h.status.n}, progress ${h.status.progress}: ${h.status.t - h.status.progress} key(s) still to give`,
  );
  const procedure = renderProcedure(
    {
      name: VAULT_UNSEAL.command,
      summary: "unseal by hand, keys typed at the hidden prompt (keyholders)",
      manual: VAULT_UNSEAL.manual({ model: flags.model, app: flags.app, "unseal-by": "keyholders" }),
    },
    "text",
  );
  const summary = `handed to the keyholders: ${handed.map((h) => h.unit).join(", ")} sealed (threshold ${Math.max(...handed.map((h) => h.status.t))}, ${held} key(s) held by the run): the keyholders unseal by hand with the procedure below; vault-unsealed waits for Vault to report unsealed`;
  ctx.out.warn(`KEYHOLDERS: ${summary}`);
  for (const line of [...units, ...procedure]) ctx.out.warn(`KEYHOLDERS: ${line}`);
  return pass(expected, {
    ok: true,
    state: HANDED_TO_KEYHOLDERS,
    summary,
    details: [...details, "the sealed units (one UNIT= per RUN below):", ...units, ...procedure],
  });
}

/**
 * Send the threshold of keys to one unit, each as a request body on stdin. Returns its detail line
 * and key count. `handOver` (keyholder mode): the keys running out before the threshold leaves the
 * unit sealed with its progress for the keyholders (result still-sealed) instead of an error.
 */
async function unsealUnit(
  juju: Juju,
  unit: string,
  start: VaultStatus,
  keys: string[],
  ctx: StepContext,
  marker: ProgressMarker,
  handOver = false,
): Promise<{ line: string; unit: UnitUnseal; status: VaultStatus }> {
  let status = start;
  let used = 0;
  const begin = unsealStart(status, marker.earlier(unit));
  const reset = begin.reset;
  if (reset) {
    // A partial unseal by someone else: start over so we know which shares were given.
    status = unwrap(
      parseVaultStatus(
        await sent(
          ctx.out,
          `${unit}: unseal reset (progress was ${start.progress}/${start.t}, someone else's partial unseal)`,
          () => juju.sshWithStdin(unit, UNSEAL_COMMAND, JSON.stringify({ reset: true })),
          () => "done",
        ),
      ),
    );
  }
  const resumed = begin.ours
    ? `${unit}: unseal already in progress from this window's earlier run (progress ${start.progress}/${start.t}): key(s) 1-${begin.from} counted, not sent again`
    : undefined;
  if (resumed) followed(ctx.out, resumed);
  for (let i = begin.from; i < status.t && status.sealed; i++) {
    if (keys[i] === undefined && handOver) break;
    if (keys[i] === undefined) throw new ToolError(`${unit}: ran out of keys after ${i} (threshold ${status.t})`);
    marker.note(unit, { sending: i });
    // said without the key: its number, and Vault's progress or refusal (Vault never echoes a key)
    const what = `${unit}: unseal key ${i + 1} of ${status.t}`;
    const raw = await sent(
      ctx.out,
      what,
      () => juju.sshWithStdin(unit, UNSEAL_COMMAND, JSON.stringify({ key: keys[i] })),
      (r) => {
        const a = parseVaultStatus(r);
        return a.ok
          ? `accepted (sealed=${a.value.sealed}, progress ${a.value.progress}/${a.value.t})`
          : `refused (${vaultErrors(r) ? "Vault refused the key" : "no unseal answer"})`;
      },
    );
    const answer = parseVaultStatus(raw);
    if (!answer.ok) {
      const refused = vaultErrors(raw);
      throw new ToolError(
        `${unit}: ${refused ?? `unseal answer: ${answer.error}`}`,
        refused ? "vault-key-rejected" : "tool-unavailable",
      );
    }
    status = answer.value;
    used = i + 1;
  }
  const verdict = !status.sealed
    ? `unsealed with ${used} key(s) (threshold ${status.t})`
    : handOver && status.progress < status.t
      ? `${used} key(s) given of threshold ${status.t} (progress ${status.progress}/${status.t}): the keyholders give the rest`
      : "STILL SEALED after the threshold";
  return {
    line: resumed ? `${unit}: ${verdict}; ${resumed.slice(unit.length + 2)}` : `${unit}: ${verdict}`,
    unit: { unit, keysUsed: used, threshold: status.t, result: status.sealed ? "still-sealed" : "unsealed", reset },
    status,
  };
}

/** Vault's own error list ({"errors": [...]}), e.g. a wrong share; it never echoes the key. */
function vaultErrors(raw: string): string | undefined {
  try {
    const doc = JSON.parse(raw) as { errors?: unknown };
    if (Array.isArray(doc.errors) && doc.errors.every((e) => typeof e === "string")) {
      return `Vault refused the unseal request: ${doc.errors.join("; ")} (a wrong or malformed key; check the key custody, D-069)`;
    }
  } catch {
    // not JSON: the caller reports the parse error
  }
  return undefined;
}

export async function vaultUnsealed(flags: StepFlags<typeof VAULT_UNSEALED>, ctx: StepContext): Promise<StepOutcome> {
  const juju = new Juju(ctx, flags.model);
  const seen = new HandUnseals();
  const outcome = await runGate(ctx, {
    expected: VAULT_UNSEALED.expected,
    timeoutMs: flags.timeout,
    intervalMs: flags.interval,
    probe: async () => {
      const units = await vaultUnits(juju, flags.app);
      const read = await Promise.all(units.map(async (unit) => ({ unit, status: await statusOrNull(juju, unit) })));
      seen.note(read, ctx.clock.now());
      return vaultVerdict(read);
    },
  });
  // A unit this gate saw sealed and then unsealed was unsealed by hand (coldstart sends no key
  // here): the record says so, when, and how many keys Vault reports it took -- never which.
  const lines = seen.lines(flags["unseal-by"] === "keyholders" ? "the keyholders" : "hand (not by coldstart)");
  if (outcome.outcome === "pass" && lines.length > 0) {
    outcome.verdict = {
      ...outcome.verdict,
      summary: `${outcome.verdict.summary}; unsealed by hand: ${lines.map((l) => l.unit).join(", ")}`,
      details: [...lines.map((l) => l.line), ...outcome.verdict.details],
    };
  }
  return outcome;
}

/**
 * What the gate saw of each unit it found sealed: the last poll it was sealed (with Vault's
 * threshold and progress then) and the first it was unsealed. Counts and times only.
 */
export class HandUnseals {
  private readonly units = new Map<
    string,
    { sealedAt: number; t: number; n: number; progress: number; unsealedAt?: number }
  >();

  note(read: readonly { unit: string; status: VaultStatus | null }[], now: number): void {
    for (const { unit, status } of read) {
      if (status === null) continue;
      const u = this.units.get(unit);
      if (status.sealed) {
        if (u === undefined || u.unsealedAt === undefined)
          this.units.set(unit, {
            sealedAt: now,
            t: status.t,
            n: status.n,
            progress: Math.max(status.progress, u?.progress ?? 0),
          });
      } else if (u !== undefined && u.unsealedAt === undefined) {
        u.unsealedAt = now;
        u.t = status.t || u.t;
        u.n = status.n || u.n;
      }
    }
  }

  lines(by: string): { unit: string; line: string }[] {
    return [...this.units.entries()].flatMap(([unit, u]) =>
      u.unsealedAt === undefined
        ? []
        : [
            {
              unit,
              line: `${unit}: unsealed by ${by} between ${iso(u.sealedAt)} (last seen sealed, progress ${u.progress}/${u.t}) and ${iso(u.unsealedAt)} (first seen unsealed); Vault reports threshold ${u.t} of ${u.n}: it took ${u.t} key(s) (which: never known to coldstart)`,
            },
          ],
    );
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
