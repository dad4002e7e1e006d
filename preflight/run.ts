/**
 * Preflight (before a window, read-only): the I/O. Every check runs at once (a bound of
 * PREFLIGHT_PARALLEL), each with the stack's `gates.commandTimeout` as its deadline: every call it
 * makes is cut there (runtime/deadline.ts), and a check still running then is reported as such.
 * A result is handed to `onResult` the moment its check finishes. Only reads: juju status /
 * machines / config / exec `vault status`, openstack token issue and list calls, each host's power
 * STATE, stat and a temp file in the two directories, `pulumi stack ls`. Never a power action,
 * `juju run`, an unseal or a `server start`.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";
import type { Config } from "../config/schema";
import { UsageError } from "../config/errors";
import { formatDuration } from "../config/duration";
import { unknownConfigKeys } from "../config/load";
import { parseAppStatus, appUnitNames } from "../gates/juju-status";
import type { JujuStatusDoc } from "../gates/juju-schemas";
import { parseMachines } from "../gates/machines";
import { parseJujuConfig, resumeFlag } from "../gates/nova-config";
import { readVaultStatus } from "../gates/vault";
import { mapBounded } from "../runtime/bounded";
import { realClock } from "../runtime/clock";
import { execWithinDeadline } from "../runtime/deadline";
import { realExec, type Exec } from "../runtime/exec";
import { Juju } from "../runtime/juju";
import { OpenStack } from "../runtime/openstack";
import { expandHome } from "../runtime/record";
import type { StepContext } from "../runtime/step-context";
import { ToolError } from "../runtime/tool-error";
import { excerpt } from "../runtime/excerpt";
import { pulumiCliEnv } from "../runtime/tool-env";
import { malformedKeys, readUnsealKeys } from "../runtime/unseal-keys";
import { STATUS_COMMAND } from "../steps/vault";
import { driverFor } from "../power/from-flags";
import {
  cloudAssertScriptCheck,
  dirCheck,
  jujuAppsCheck,
  jujuModelCheck,
  machinesCheck,
  openstackCheck,
  powerCheck,
  pulumiStackCheck,
  resumeFlagCheck,
  keyholderKeysCheck,
  unknownKeysCheck,
  vaultKeysCheck,
  vaultStatusCheck,
  vaultThreshold,
  verdictOf,
  type CheckOutcome,
  type CheckResult,
  type DirSeen,
  type KeysSeen,
  type PreflightReport,
  type PulumiSeen,
  type Seen,
  type VaultUnitSeen,
} from "./checks";

/** Checks in flight at once: a 4-host cloud has ~16; the bound keeps a 1000-host bench sane. */
export const PREFLIGHT_PARALLEL = 16;
/** After the deadline, how long a check gets to report a cut call (the exec drain is 1 s). */
const REPORT_GRACE_MS = 2_000;

export interface PreflightTarget {
  stack: string;
  /** The stack file the values came from (named by the unknown-keys check). */
  file: string;
  config: Config;
  /** Every `coldstart:` value of the stack file as written (unknown keys included). */
  values: Record<string, string>;
  /** Environment of the checks: HOME for `~/`, the secrets' variables, the unseal keys (counted only). */
  env: NodeJS.ProcessEnv;
  /** Variables every child gets on top of the inherited ones (the sim's PATH and COLDSTART_SIM_DIR); never a secret. */
  childEnv?: Record<string, string>;
  /** Check the stack in the Pulumi backend (with a `pulumi` CLI on PATH) or say why not. */
  pulumi: { check: true; projectDir: string } | { check: false; why: string };
  kind: PreflightReport["target"];
}

export interface PreflightOptions {
  /** A result the moment its check finished. */
  onResult?: (result: CheckResult) => void;
  exec?: Exec;
}

interface Check {
  id: string;
  title: string;
  run(ctx: StepContext): Promise<CheckOutcome>;
}

const silent = { line: () => undefined, warn: () => undefined };

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function seen<T>(fn: () => Promise<T>): Promise<Seen<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    // a tool's answer (ToolError, PowerError is one) or a secret not configured (UsageError) is a
    // finding; anything else is a bug and reaches the CLI's exit 70
    if (err instanceof ToolError || err instanceof UsageError) return { ok: false, error: err.message };
    throw err;
  }
}

/** Run one call's parse: a Parsed<T> that is not ok becomes an error line. */
function unwrapParsed<T>(p: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!p.ok) throw new ToolError(p.error);
  return p.value;
}

const tokenSchema = z.object({ expires: z.string() });
const computeServicesSchema = z.array(z.looseObject({ Binary: z.string(), Host: z.string(), State: z.string() }));
const lbListSchema = z.array(z.looseObject({ id: z.string(), provisioning_status: z.string() }));
/** `pulumi stack ls --json`: node_modules/@pulumi/pulumi/automation/workspace.d.ts StackSummary (3.270.0), what localWorkspace.js listStacks parses from the same command. */
const stackListSchema = z.array(
  z.looseObject({
    name: z.string(),
    current: z.boolean().optional(),
    lastUpdate: z.string().optional(),
    updateInProgress: z.boolean().optional(),
  }),
);

function parseJsonWith<S extends z.ZodType>(what: string, schema: S, text: string): z.infer<S> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ToolError(`${what}: expected JSON, found ${JSON.stringify(text.trim().slice(0, 60))}`);
  }
  const r = schema.safeParse(data);
  if (!r.success) throw new ToolError(`${what}: unexpected shape (${r.error.issues[0]?.message ?? "?"})`);
  return r.data;
}

/** The nearest existing folder at or above `p` (a directory the steps will create is created there). */
function nearestExisting(p: string): string {
  let dir = p;
  while (!fs.existsSync(dir)) {
    const up = path.dirname(dir);
    if (up === dir) return dir;
    dir = up;
  }
  return dir;
}

function probeDir(key: string, configured: string, env: NodeJS.ProcessEnv): DirSeen {
  const full = path.resolve(expandHome(configured, env));
  const probed = nearestExisting(full);
  let writable: Seen<true>;
  // a temp file created and removed: the only write preflight makes
  const probe = path.join(probed, `.coldstart-preflight-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    fs.writeFileSync(probe, "", { flag: "wx", mode: 0o600 });
    fs.rmSync(probe, { force: true });
    writable = { ok: true, value: true };
  } catch (err) {
    writable = { ok: false, error: (err as NodeJS.ErrnoException).code ?? message(err) };
  }
  let freeBytes: number | undefined;
  try {
    const st = fs.statfsSync(probed);
    freeBytes = st.bavail * st.bsize;
  } catch {
    freeBytes = undefined;
  }
  return { key, path: full, probed, writable, freeBytes };
}

/** The checks, and the vault units' statuses once a vault check has read them (for the threshold in the report). */
function checksFor(target: PreflightTarget): {
  checks: Check[];
  vaultRead(): Promise<Seen<VaultUnitSeen[]>> | undefined;
} {
  const { config, env } = target;
  const model = config.jujuModel;
  const apps = config.apps;

  // One `juju status` for the model, apps and vault checks: a memo, started by whichever check
  // asks first, under that check's deadline.
  let modelStatus: Promise<Seen<JujuStatusDoc>> | undefined;
  const statusOnce = (ctx: StepContext) =>
    (modelStatus ??= seen(async () => unwrapParsed(parseAppStatus(await new Juju(ctx, model).modelStatus()))));
  let vaultUnits: Promise<Seen<VaultUnitSeen[]>> | undefined;
  const vaultOnce = (ctx: StepContext) =>
    (vaultUnits ??= (async (): Promise<Seen<VaultUnitSeen[]>> => {
      const status = await statusOnce(ctx);
      if (!status.ok) return status;
      if (status.value.applications[apps.vault] === undefined)
        return { ok: false, error: `no application ${apps.vault} in the model` };
      const juju = new Juju(ctx, model);
      const units = appUnitNames(status.value, apps.vault);
      return {
        ok: true,
        value: await Promise.all(
          units.map(async (unit) => ({
            unit,
            status: await seen(async () => {
              const res = await juju.execOnUnit(unit, STATUS_COMMAND); // as Stage 3 reads it;
              const parsed = readVaultStatus(res.code, res.stdout);
              // vault's own error line (e.g. connection refused) says why; it never carries a key
              if (!parsed.ok)
                throw new ToolError(`${parsed.error}${res.stderr.trim() ? `: ${lastLine(res.stderr)}` : ""}`);
              return parsed.value;
            }),
          })),
        ),
      };
    })());

  const checks: Check[] = [
    {
      id: "stack-keys",
      title: "no unknown coldstart: keys in the stack file",
      run: async () => unknownKeysCheck(path.basename(target.file), unknownConfigKeys(Object.keys(target.values))),
    },
    {
      id: "pulumi-stack",
      title: "the stack exists in the Pulumi backend and is not locked",
      run: async (ctx) => pulumiStackCheck(target.stack, await pulumiStacks(target, ctx)),
    },
    { id: "juju-model", title: "the model answers", run: async (ctx) => jujuModelCheck(model, await statusOnce(ctx)) },
    {
      id: "juju-apps",
      title: "every configured application, with its unit count",
      run: async (ctx) => jujuAppsCheck(apps, config.mysqlUnits, await statusOnce(ctx)),
    },
    {
      id: "juju-machines",
      title: "every machine agent started",
      run: async (ctx) =>
        machinesCheck(
          model,
          await seen(async () => unwrapParsed(parseMachines(await new Juju(ctx, model).machines()))),
        ),
    },
    {
      id: "openstack-token",
      title: "the openrc authenticates",
      run: async (ctx) =>
        openstackCheck(
          "openstack token issue",
          await seen(async () => {
            // -c expires: the token itself (a bearer credential) is never printed to us
            const out = await new OpenStack(ctx, config.openrc).call(["token", "issue", "-f", "json", "-c", "expires"]);
            return `token issued, expires ${parseJsonWith("openstack token issue", tokenSchema, out.stdout).expires}`;
          }),
          config.openrc,
        ),
    },
    {
      id: "openstack-compute",
      title: "the compute API answers",
      run: async (ctx) =>
        openstackCheck(
          "openstack compute service list",
          await seen(async () => {
            const out = await new OpenStack(ctx, config.openrc).call(["compute", "service", "list", "-f", "json"]);
            const rows = parseJsonWith("openstack compute service list", computeServicesSchema, out.stdout);
            const computes = rows.filter((r) => r.Binary === "nova-compute");
            const down = computes.filter((r) => r.State !== "up").map((r) => r.Host);
            return `answers: ${computes.length} nova-compute service(s)${down.length ? `, DOWN: ${down.join(", ")}` : ", all up"}`;
          }),
          config.openrc,
        ),
    },
    {
      id: "openstack-loadbalancer",
      title: "the load-balancer API answers",
      run: async (ctx) =>
        openstackCheck(
          "openstack loadbalancer list",
          await seen(async () => {
            const rows = parseJsonWith(
              "openstack loadbalancer list",
              lbListSchema,
              await new OpenStack(ctx, config.openrc).loadBalancerList(),
            );
            const notActive = rows.filter((r) => r.provisioning_status !== "ACTIVE").length;
            return `answers: ${rows.length} load balancer(s)${notActive ? `, ${notActive} not ACTIVE` : ""}`;
          }),
          config.openrc,
        ),
    },
    ...config.hosts.map((host): Check => ({
      id: `power-${host.name}`,
      title: `${host.name}'s power driver answers with a power state`,
      run: async (ctx) => {
        let label = `${host.name} via ${host.power.driver}`;
        const state = await seen(async () => {
          const driver = driverFor(host.name, host.power, ctx);
          label = driver.label;
          return driver.state();
        });
        return powerCheck(label, host.power, state);
      },
    })),
    {
      id: "vault-status",
      title: "every vault unit's seal status is readable",
      run: async (ctx) => vaultStatusCheck(apps.vault, await vaultOnce(ctx)),
    },
    {
      id: "vault-keys",
      title: "the unseal keys of this run are at least Vault's threshold",
      run: async (ctx) =>
        (config.vaultUnsealBy === "keyholders" ? keyholderKeysCheck : vaultKeysCheck)(
          await vaultOnce(ctx),
          keysOf(env),
        ),
    },
    {
      id: "nova-resume-flag",
      title: "nova-compute resume-guests-state-on-host-boot",
      run: async (ctx) =>
        resumeFlagCheck(
          apps.novaCompute,
          await seen(async () =>
            resumeFlag(unwrapParsed(parseJujuConfig(await new Juju(ctx, model).config(apps.novaCompute)))),
          ),
        ),
    },
    {
      id: "cloud-assert-script",
      title: "the cloud-assert script exists and is executable",
      run: async () => {
        const file = path.resolve(expandHome(config.cloudAssertScript, env));
        let stat: { isFile: boolean; executable: boolean } | undefined;
        try {
          const st = fs.statSync(file);
          let executable = true;
          try {
            fs.accessSync(file, fs.constants.X_OK);
          } catch {
            executable = false;
          }
          stat = { isFile: st.isFile(), executable };
        } catch {
          stat = undefined;
        }
        return cloudAssertScriptCheck({ path: file, stat });
      },
    },
    {
      id: "baseline-dir",
      title: "baselineDir is writable, with free space",
      run: async () => dirCheck(probeDir("coldstart:baselineDir", config.baselineDir, env)),
    },
    {
      id: "record-dir",
      title: "recordDir is writable, with free space",
      run: async () => dirCheck(probeDir("coldstart:recordDir", config.recordDir, env)),
    },
  ];
  return { checks, vaultRead: () => vaultUnits };
}

function lastLine(text: string): string {
  return excerpt(text.trim().split("\n").slice(-1)[0] ?? "");
}

/** The keys this run holds: a count and where they came from, never a value. */
export function keysOf(env: NodeJS.ProcessEnv): KeysSeen {
  const keys = readUnsealKeys(env);
  return keys.ok
    ? { ok: true, count: keys.keys.length, source: keys.source, malformed: malformedKeys(keys.keys) }
    : { ok: false, problem: keys.problem };
}

async function pulumiStacks(target: PreflightTarget, ctx: StepContext): Promise<PulumiSeen> {
  if (!target.pulumi.check) return { kind: "not-applicable", why: target.pulumi.why };
  const res = await ctx.exec({
    file: "pulumi",
    args: ["stack", "ls", "--json"],
    cwd: target.pulumi.projectDir,
    // the backend's variables on purpose: tools inherit no PULUMI_* (runtime/tool-env.ts)
    env: pulumiCliEnv(target.env),
    timeoutMs: ctx.callTimeoutMs,
  });
  // bin/pulumi (this project's wrapper) exits 127 when no real CLI is further down PATH
  if (res.notFound || res.exitCode === 127)
    return {
      kind: "no-cli",
      why: "no pulumi CLI on PATH (the stack's state and lock are checked where it is installed)",
    };
  if (res.exitCode !== 0 || res.timedOut)
    return {
      kind: "error",
      error: res.timedOut ? "no answer (timed out)" : lastLine(res.stderr) || `exited ${res.exitCode}`,
    };
  try {
    return { kind: "stacks", stacks: parseJsonWith("pulumi stack ls --json", stackListSchema, res.stdout) };
  } catch (err) {
    if (!(err instanceof ToolError)) throw err;
    return { kind: "error", error: err.message };
  }
}

export async function runPreflight(target: PreflightTarget, opts: PreflightOptions = {}): Promise<PreflightReport> {
  const start = Date.now();
  const base = opts.exec ?? realExec;
  const extra = target.childEnv;
  const exec: Exec = extra ? (req) => base({ ...req, env: { ...extra, ...req.env } }) : base;
  const timeoutMs = target.config.gates.commandTimeout;
  const { checks, vaultRead } = checksFor(target);
  const results = await mapBounded(checks, PREFLIGHT_PARALLEL, async (check): Promise<CheckResult> => {
    const began = Date.now();
    const ctx: StepContext = {
      exec: (req) => execWithinDeadline(ctx, exec)(req),
      clock: realClock,
      env: target.env,
      out: silent,
      callTimeoutMs: timeoutMs,
      deadline: began + timeoutMs,
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            status: "fail",
            summary: `no answer within ${formatDuration(timeoutMs)} (gates.commandTimeout)`,
            fix: "the same call would hang during the window: find out why it does not answer",
            details: [],
          }),
        timeoutMs + REPORT_GRACE_MS,
      );
    });
    let outcome: CheckOutcome;
    try {
      outcome = await Promise.race([check.run(ctx), late]);
    } catch (err) {
      // a check's own tool failure is its finding; a bug is not reported as one (exit 70)
      if (!(err instanceof ToolError || err instanceof UsageError)) throw err;
      outcome = { status: "fail", summary: err.message, details: [] };
    } finally {
      clearTimeout(timer);
    }
    const result: CheckResult = { id: check.id, title: check.title, ...outcome, durationMs: Date.now() - began };
    opts.onResult?.(result);
    return result;
  });
  const read = vaultRead();
  const threshold = read ? vaultThreshold(await read) : undefined;
  const keys = keysOf(target.env);
  const { verdict, exitCode } = verdictOf(results);
  return {
    schemaVersion: 1,
    stack: target.stack,
    target: target.kind,
    verdict,
    exitCode,
    durationMs: Date.now() - start,
    vault: {
      ...(threshold ? { threshold: threshold.t, shares: threshold.n } : {}),
      keysAvailable: keys.ok ? keys.count : 0,
      keysSource: keys.ok ? keys.source : keys.problem,
    },
    checks: results,
  };
}
