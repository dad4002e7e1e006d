/**
 * Preflight (before a window, read-only): the pure decisions. Each function turns what one probe
 * saw (parsed output, an error text, a file's stat) into a check outcome with the fix an operator
 * needs; preflight/run.ts does the I/O. Nothing here ever sees a secret: keys are counts, power
 * and MAAS errors arrive already redacted by the drivers.
 */
import { isPlainHttpMaas, type Config, type PowerSpec } from "../config/schema";
import { appUnitNames } from "../gates/juju-status";
import type { JujuStatusDoc } from "../gates/juju-schemas";
import { machinesVerdict } from "../gates/machines";
import type { ResumeFlag } from "../gates/nova-config";
import { resumeFlagVerdict } from "../gates/nova-config";
import { ROUTES } from "../gates/routes";
import { unsealPlan, type VaultStatus } from "../gates/vault";
import { keyFormProblem } from "../runtime/unseal-keys";
import { EXIT } from "../runtime/exit-codes";

/** pass; warn (the window may run, said loudly); fail (not ready); blocker (escalate); skipped (not checked, said why). */
export type CheckStatus = "pass" | "warn" | "fail" | "blocker" | "skipped";

export interface CheckOutcome {
  status: CheckStatus;
  /** One line: what was seen. */
  summary: string;
  /** For fail / blocker / warn: what to do, in one line. */
  fix?: string;
  details: string[];
}

export interface CheckResult extends CheckOutcome {
  id: string;
  title: string;
  durationMs: number;
}

export interface PreflightReport {
  schemaVersion: 1;
  stack: string;
  /** The real stack, or the simulated cloud of a scenario. */
  target: { kind: "stack" } | { kind: "sim"; scenario: string; dir: string; callLog: string };
  verdict: "ready" | "not-ready" | "blocker";
  exitCode: number;
  durationMs: number;
  /** Vault's threshold as read from the units (undefined: no status could be read) and the keys counted. */
  vault: { threshold?: number; shares?: number; keysAvailable: number; keysSource: string };
  checks: CheckResult[];
}

const ok = (summary: string, details: string[] = []): CheckOutcome => ({ status: "pass", summary, details });
const bad = (status: "fail" | "blocker" | "warn", summary: string, fix: string, details: string[] = []) => ({
  status,
  summary,
  fix,
  details,
});

/** What a probe call gave: the value, or the error line (a ToolError / PowerError message). */
export type Seen<T> = { ok: true; value: T } | { ok: false; error: string };

// --- Juju ---------------------------------------------------------------------------------------

export function jujuModelCheck(model: string, status: Seen<JujuStatusDoc>): CheckOutcome {
  if (!status.ok)
    return bad(
      "fail",
      `juju status -m ${model} did not answer: ${status.error}`,
      `run \`juju status -m ${model}\` on the jumphost: controller reachable, logged in (juju whoami), model named as coldstart:jujuModel`,
    );
  const apps = Object.keys(status.value.applications).length;
  const machines = Object.keys(status.value.machines ?? {}).length;
  return ok(`model ${model} answers (${apps} applications, ${machines} machines)`);
}

/**
 * Every application the stack names exists; mysql has exactly `mysqlUnits` units; vault,
 * nova-compute and neutron-api have units; ovn-chassis is a subordinate (no `units` of its own).
 */
export function jujuAppsCheck(apps: Config["apps"], mysqlUnits: number, status: Seen<JujuStatusDoc>): CheckOutcome {
  if (!status.ok) return { status: "fail", summary: "not checked: juju status did not answer", details: [] };
  const doc = status.value;
  const problems: string[] = [];
  const seen: string[] = [];
  for (const [key, app] of Object.entries(apps) as [keyof Config["apps"], string][]) {
    if (doc.applications[app] === undefined) {
      problems.push(`${app} (coldstart:apps.${key}): no such application in the model`);
      continue;
    }
    const units = appUnitNames(doc, app).length;
    if (key === "ovnChassis") seen.push(`${app} (subordinate)`);
    else if (key === "mysql" && units !== mysqlUnits)
      problems.push(`${app}: ${units} unit(s), coldstart:mysqlUnits says ${mysqlUnits}`);
    else if (units === 0) problems.push(`${app} (coldstart:apps.${key}): no units`);
    else seen.push(`${app} ${units}`);
  }
  if (problems.length === 0) return ok(`every configured application is deployed: ${seen.join(", ")}`);
  return bad(
    "fail",
    `${problems.length} configured application(s) not as expected: ${problems.join("; ")}`,
    "set coldstart:apps / coldstart:mysqlUnits to what `juju status` shows (a missing unit must be restored before the window)",
    problems,
  );
}

export function machinesCheck(model: string, machines: Seen<Parameters<typeof machinesVerdict>[0]>): CheckOutcome {
  if (!machines.ok)
    return bad(
      "fail",
      `juju machines -m ${model} did not answer: ${machines.error}`,
      `run \`juju machines -m ${model}\` on the jumphost`,
    );
  const v = machinesVerdict(machines.value);
  if (v.ok) return ok(v.summary);
  return bad(
    "fail",
    v.summary,
    "a window must not start on a sick cloud: bring these machine agents back (juju status; the host's console and power) first",
    v.details,
  );
}

// --- OpenStack ----------------------------------------------------------------------------------

export function openstackCheck(what: string, seen: Seen<string>, openrc: string): CheckOutcome {
  if (seen.ok) return ok(`${what}: ${seen.value}`);
  return bad(
    "fail",
    `${what}: ${seen.error}`,
    `source ${openrc} and run the same openstack call on the jumphost: credentials in the openrc, Keystone and the API endpoint reachable`,
  );
}

// --- Power --------------------------------------------------------------------------------------

const POWER_FIX: Record<Config["hosts"][number]["power"]["driver"], string> = {
  maas: "check the MAAS API key (the file or variable the stack names; a revoked key needs a new one from MAAS), the MAAS URL and the machine's power settings in MAAS",
  ipmi: "check the BMC address, user, password (the file or variable the stack names) and cipher suite: `ipmitool -I lanplus -C <suite> -H <bmc> -U <user> -E chassis power status`",
  virsh: "check the libvirt URI, its ssh key and the domain name: `virsh -c <uri> domstate <domain>`",
};

export function powerCheck(label: string, power: PowerSpec, seen: Seen<"on" | "off">): CheckOutcome {
  const driver = power.driver;
  if (seen.ok) {
    // allowPlainHttp is an explicit opt-in, so the window may run; every preflight says what it costs
    if (driver === "maas" && isPlainHttpMaas(power.url))
      return bad(
        "warn",
        `${label}: power ${seen.value}, over plain http:// (allowPlainHttp): the MAAS API key's token secret crosses the network in clear on every call`,
        "enable TLS on MAAS (sudo maas config-tls enable <key> <cert>, port 5443), then set url to https://<maas>:5443/MAAS (caFile for a private CA) and drop allowPlainHttp",
      );
    return ok(`${label}: power ${seen.value}`);
  }
  // MAAS answered but could not reach the BMC: the key is fine, the BMC (or its network) is not
  if (driver === "maas" && /cannot power-control|MAAS reports power state/.test(seen.error))
    return bad(
      "fail",
      seen.error,
      "MAAS cannot reach this machine's BMC: check the BMC's power and network, and its power settings in MAAS (a rack controller must reach it)",
    );
  return bad("fail", seen.error, POWER_FIX[driver]);
}

// --- Vault --------------------------------------------------------------------------------------

export interface VaultUnitSeen {
  unit: string;
  status: Seen<VaultStatus>;
}

/** Every vault unit's seal status is readable (a sealed unit now is a warning: Vault is down until unsealed). */
export function vaultStatusCheck(app: string, units: Seen<VaultUnitSeen[]>): CheckOutcome {
  if (!units.ok)
    return bad("fail", `the ${app} units could not be listed: ${units.error}`, `run \`juju status ${app}\``);
  if (units.value.length === 0) return bad("fail", `application ${app} has no units`, "set coldstart:apps.vault");
  const unreadable = units.value.filter((u) => !u.status.ok);
  const details = units.value.map((u) =>
    u.status.ok
      ? `${u.unit}: ${u.status.value.sealed ? "sealed" : "unsealed"}, threshold ${u.status.value.t} of ${u.status.value.n}`
      : `${u.unit}: ${u.status.error}`,
  );
  if (unreadable.length > 0)
    return bad(
      "fail",
      `${unreadable.length} of ${units.value.length} vault unit(s) do not answer vault status: ${unreadable.map((u) => `${u.unit} (${u.status.ok ? "" : u.status.error})`).join(", ")}`,
      "Stage 3 must read every unit: check the vault service on those units (`juju ssh <unit> sudo systemctl status vault`) before the window",
      details,
    );
  const sealed = units.value.filter((u) => u.status.ok && u.status.value.sealed);
  if (sealed.length > 0)
    return bad(
      "warn",
      `every vault unit answers; sealed NOW: ${sealed.map((u) => u.unit).join(", ")}`,
      "a sealed Vault is down for the cloud today: unseal it (Stage 3 procedure) before the window",
      details,
    );
  return ok(`all ${units.value.length} vault unit(s) answer, unsealed`, details);
}

/** The threshold every readable unit reports (the highest, should they ever disagree). */
export function vaultThreshold(units: Seen<VaultUnitSeen[]>): { t: number; n: number } | undefined {
  if (!units.ok) return undefined;
  const read = units.value.flatMap((u) => (u.status.ok ? [u.status.value] : []));
  if (read.length === 0) return undefined;
  return { t: Math.max(...read.map((s) => s.t)), n: Math.max(...read.map((s) => s.n)) };
}

export type KeysSeen =
  | {
      ok: true;
      count: number;
      source: string;
      /** 1-based positions of keys Vault would refuse for their form (runtime/unseal-keys.ts vaultAcceptsKeyForm). */
      malformed: number[];
    }
  | { ok: false; problem: string };

/**
 * The unseal keys this run holds (a count, never a value) against the threshold Vault itself
 * reports: the same decision Stage 3 makes before it touches Vault (gates/vault.ts unsealPlan),
 * made now for every unit as if it were sealed from scratch. Too few keys, an uninitialized or
 * auto-unseal Vault: BLOCKER.
 */
export function vaultKeysCheck(units: Seen<VaultUnitSeen[]>, keys: KeysSeen): CheckOutcome {
  const escalate = ROUTES["vault-keys-missing"].fix;
  if (!keys.ok) return bad("blocker", `unseal keys unreadable: ${keys.problem}`, escalate);
  // before the threshold: a key Vault refuses for its form would stop Stage 3 as surely as a missing one
  if (keys.malformed.length > 0)
    return bad("blocker", keyFormProblem(keys.malformed, keys.count, keys.source), escalate);
  const read = units.ok ? units.value.flatMap((u) => (u.status.ok ? [{ unit: u.unit, s: u.status.value }] : [])) : [];
  if (read.length === 0)
    return bad(
      "fail",
      `${keys.source}; Vault's threshold is unknown (no unit's status could be read)`,
      "make every vault unit answer (see vault-status), then run preflight again",
    );
  const blocked = read.flatMap(({ unit, s }) => {
    const plan = unsealPlan({ ...s, sealed: true, progress: 0 }, keys.count);
    return plan.action === "blocker" ? [`${unit}: ${plan.reason}`] : [];
  });
  const t = Math.max(...read.map((r) => r.s.t));
  const n = Math.max(...read.map((r) => r.s.n));
  if (blocked.length > 0)
    return bad(
      "blocker",
      `${keys.count} unseal key(s) available, Vault needs ${t} (threshold ${t} of ${n}): the window would stop at Stage 3 with every host already restarted`,
      escalate,
      blocked,
    );
  return ok(`${keys.source}; Vault needs ${t} of ${n}`);
}

/**
 * Keyholder mode (coldstart:vaultUnsealBy keyholders): the same judgement, except that holding
 * fewer keys than Vault's threshold (none included) is the plan, not a blocker -- Stage 3 hands the
 * unseal to the keyholders. A warning says so, so that they are on call for the window.
 */
export function keyholderKeysCheck(units: Seen<VaultUnitSeen[]>, keys: KeysSeen): CheckOutcome {
  const judged = vaultKeysCheck(units, keys);
  const shortOnly =
    judged.status === "blocker" &&
    judged.details.length > 0 &&
    judged.details.every((d) => /unseal key\(s\) available/.test(d));
  if (!shortOnly) return judged;
  return bad(
    "warn",
    `keyholder mode: ${judged.summary.replace(/: the window would stop.*$/, "")}: Stage 3 hands the unseal to the keyholders`,
    "have the keyholders on call for Stage 3: it prints the manual unseal procedure and vault-unsealed waits for them (gates.vaultUnsealed.timeout)",
  );
}

// --- files --------------------------------------------------------------------------------------

export interface ScriptSeen {
  path: string;
  /** undefined: does not exist; else what stat said. */
  stat?: { isFile: boolean; executable: boolean };
}

export function cloudAssertScriptCheck(seen: ScriptSeen): CheckOutcome {
  const fix = `check out the operations repo so that ${seen.path} exists (coldstart:cloudAssertScript), executable`;
  if (!seen.stat) return bad("fail", `cloud-assert script ${seen.path} does not exist: Stage 7 can never pass`, fix);
  if (!seen.stat.isFile) return bad("fail", `cloud-assert script ${seen.path} is not a file`, fix);
  if (!seen.stat.executable)
    return bad("fail", `cloud-assert script ${seen.path} is not executable`, `chmod +x ${seen.path}`);
  return ok(`cloud-assert script ${seen.path} exists and is executable`);
}

/** Free space a directory needs: a baseline capture (juju status, bundle, server lists) and the records are a few MB. */
export const MIN_FREE_BYTES = 100 * 1024 * 1024;

export interface DirSeen {
  /** The config key, e.g. coldstart:recordDir. */
  key: string;
  path: string;
  /** The existing folder written to (the path itself, or the nearest existing parent it will be created in). */
  probed: string;
  writable: Seen<true>;
  freeBytes?: number;
}

const mib = (b: number) => `${Math.floor(b / (1024 * 1024))} MiB`;

export function dirCheck(seen: DirSeen): CheckOutcome {
  const where = seen.probed === seen.path ? seen.path : `${seen.path} (to be created in ${seen.probed})`;
  if (!seen.writable.ok)
    return bad(
      "fail",
      `${seen.key} ${where} is not writable: ${seen.writable.error}`,
      `make ${seen.probed} writable for this user, or point ${seen.key} elsewhere`,
    );
  if (seen.freeBytes !== undefined && seen.freeBytes < MIN_FREE_BYTES)
    return bad(
      "fail",
      `${seen.key} ${where}: ${mib(seen.freeBytes)} free, below ${mib(MIN_FREE_BYTES)}`,
      `free space on that file system (at least ${mib(MIN_FREE_BYTES)}), or point ${seen.key} elsewhere`,
    );
  const free = seen.freeBytes === undefined ? "" : `, ${mib(seen.freeBytes)} free`;
  return ok(`${seen.key} ${where} is writable${free} (needs ${mib(MIN_FREE_BYTES)})`);
}

// --- nova-compute resume flag -------------------------------------------------------------------

export function resumeFlagCheck(app: string, seen: Seen<ResumeFlag>): CheckOutcome {
  if (!seen.ok) return bad("fail", `juju config ${app} did not answer: ${seen.error}`, `run \`juju config ${app}\``);
  const v = resumeFlagVerdict(seen.value);
  if (v.state === "enabled") return ok(v.summary);
  // Stage 5 warns and goes on: so does preflight, but days earlier, when it can still be set.
  return bad(
    "warn",
    v.summary.replace(/^WARNING: /, ""),
    `set it before the window so the next boot resumes guests: juju config ${app} resume-guests-state-on-host-boot=true (D-043)`,
    v.details,
  );
}

// --- the stack ----------------------------------------------------------------------------------

/** `problems` are config/load.ts unknownConfigKeys lines ("coldstart:holdGuest: not a coldstart setting (did you mean ...)"). */
export function unknownKeysCheck(file: string, problems: string[]): CheckOutcome {
  if (problems.length === 0) return ok(`${file}: every coldstart: key is a known setting`);
  return bad(
    "fail",
    `${file}: ${problems.length} unknown coldstart: key(s), which the program refuses at the start of the window: ${problems.map((p) => p.split(":").slice(0, 2).join(":")).join(", ")}`,
    "rename or remove them (a typo such as holdGuest would leave the guest to keep down auto-resuming)",
    problems,
  );
}

/** One entry of `pulumi stack ls --json` (Automation API StackSummary). */
export interface StackSummary {
  name: string;
  updateInProgress?: boolean;
  lastUpdate?: string;
}

export type PulumiSeen =
  | { kind: "no-cli"; why: string }
  | { kind: "not-applicable"; why: string }
  | { kind: "error"; error: string }
  | { kind: "stacks"; stacks: StackSummary[] };

export function pulumiStackCheck(stack: string, seen: PulumiSeen): CheckOutcome {
  if (seen.kind === "no-cli" || seen.kind === "not-applicable")
    return { status: "skipped", summary: `not checked: ${seen.why}`, details: [] };
  if (seen.kind === "error")
    return bad(
      "fail",
      `pulumi stack ls --json: ${seen.error}`,
      "log in to the stack's backend on this machine (pulumi login; PULUMI_BACKEND_URL / PULUMI_ACCESS_TOKEN)",
    );
  // names are "<stack>", "<org>/<stack>" or "<org>/<project>/<stack>" depending on the backend
  const found = seen.stacks.find((s) => s.name === stack || s.name.endsWith(`/${stack}`));
  if (!found)
    return bad(
      "fail",
      `stack ${stack} does not exist in this backend (it lists ${seen.stacks.map((s) => s.name).join(", ") || "no stack"})`,
      `pulumi stack init ${stack} (or log in to the backend that holds it)`,
    );
  if (found.updateInProgress)
    return bad(
      "fail",
      `stack ${found.name} is locked: an update is in progress (or a killed one left its lock)`,
      `wait for it; if no pulumi process runs it any more: pulumi cancel --stack ${stack}`,
    );
  return ok(`stack ${found.name} exists, not locked${found.lastUpdate ? ` (last update ${found.lastUpdate})` : ""}`);
}

// --- the verdict and the output -----------------------------------------------------------------

export function verdictOf(checks: readonly CheckOutcome[]): { verdict: PreflightReport["verdict"]; exitCode: number } {
  if (checks.some((c) => c.status === "blocker")) return { verdict: "blocker", exitCode: EXIT.blocker };
  if (checks.some((c) => c.status === "fail")) return { verdict: "not-ready", exitCode: EXIT.gateFailed };
  return { verdict: "ready", exitCode: EXIT.ok };
}

const LABEL: Record<CheckStatus, string> = {
  pass: "PASS",
  warn: "WARN",
  fail: "FAIL",
  blocker: "BLOCKER",
  skipped: "SKIP",
};

/** The line printed the moment a check finishes (and its fix under it). */
export function resultLines(r: CheckResult): string[] {
  const head = `${LABEL[r.status].padEnd(7)} ${r.id} (${(r.durationMs / 1000).toFixed(2)}s): ${r.summary}`;
  return r.fix && r.status !== "pass" ? [head, `        fix: ${r.fix}`] : [head];
}

/** The table at the end: one row per check in a fixed order, then the verdict. */
export function renderTable(report: PreflightReport): string[] {
  const idWidth = Math.max(5, ...report.checks.map((c) => c.id.length));
  const rows = report.checks.map(
    (c) =>
      `${c.id.padEnd(idWidth)}  ${LABEL[c.status].padEnd(7)}  ${`${(c.durationMs / 1000).toFixed(2)}s`.padStart(7)}  ${c.summary}`,
  );
  const failing = report.checks.filter((c) => c.status === "fail" || c.status === "blocker" || c.status === "warn");
  const verdict =
    report.verdict === "ready"
      ? `READY (exit 0)${failing.length ? `, with ${failing.length} warning(s)` : ""}`
      : report.verdict === "blocker"
        ? "BLOCKER (exit 3): escalate, never improvise -- do not start the window"
        : "NOT READY (exit 1): fix the failing checks before the window";
  return [
    `${"check".padEnd(idWidth)}  ${"result".padEnd(7)}  ${"time".padStart(7)}  what was seen`,
    ...rows,
    "",
    ...failing.flatMap((c) => (c.fix ? [`${c.id}: fix: ${c.fix}`] : [])),
    `preflight of stack ${report.stack}${report.target.kind === "sim" ? ` (simulated cloud, scenario ${report.target.scenario})` : ""}: ${verdict}; ${(report.durationMs / 1000).toFixed(1)}s wall`,
  ];
}
