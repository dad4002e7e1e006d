/**
 * `npm run campaign [-- --scenario <name>]… [--step <regex>] [--sample <n>] [--jobs <n>]`: the
 * fault campaign (issue #23 item 2, README "Fault campaign"). For each scenario a reference drill,
 * then a kill -9 at EVERY cloud call of every state-changing step (each call by its occurrence:
 * `--at-call "<call>#N"`) and a `--resume`; each point must end as the run with no kill did.
 * Prints one line per lost point (why, and the commands that replay it), then
 * `fault campaign: <n> kill points, <n> survived`. Exit 0 when all survived, 1 when one was lost,
 * 2 for a usage error.
 */
import { campaignBase, pool, reference, runPoint, SCENARIOS, type CampaignScenario } from "./campaign/run";
import type { KillPoint } from "./campaign/points";
import * as fs from "node:fs";

interface Options {
  scenarios: CampaignScenario[];
  step?: RegExp;
  sample?: number;
  jobs: number;
}

function usage(message: string): never {
  process.stderr.write(`coldstart campaign: ${message}\n`);
  process.exit(2);
}

function parse(argv: readonly string[]): Options {
  const names: string[] = [];
  let step: RegExp | undefined;
  let sample: number | undefined;
  let jobs = 2; // the machine has 2 cores (README "Fault campaign")
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!["--scenario", "--step", "--sample", "--jobs"].includes(flag))
      usage(`unknown argument ${flag}; use --scenario <name>, --step <regex>, --sample <n>, --jobs <n>`);
    if (value === undefined) usage(`${flag} needs a value`);
    i++;
    if (flag === "--scenario") names.push(value);
    else if (flag === "--step") {
      try {
        step = new RegExp(value);
      } catch {
        usage(`--step ${value}: not a regular expression; give e.g. --step '^vault-unseal$'`);
      }
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) usage(`${flag} ${value}: expected a whole number >= 1`);
      if (flag === "--sample") sample = n;
      else jobs = n;
    }
  }
  const scenarios = names.length
    ? names.map(
        (n) =>
          SCENARIOS.find((s) => s.scenario === n) ??
          usage(`--scenario ${n}: not a campaign scenario; use one of ${SCENARIOS.map((s) => s.scenario).join(", ")}`),
      )
    : [...SCENARIOS];
  return { scenarios, step, sample, jobs };
}

/** `n` points spread evenly over the list (the first and the last included). */
export function spread<T>(items: readonly T[], n: number | undefined): T[] {
  if (n === undefined || n >= items.length) return [...items];
  if (n === 1) return [items[0]!];
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))]!);
}

/** The campaign's verdict line (README "Fault campaign"). */
export function summaryLine(results: readonly { survived: boolean }[]): string {
  return `fault campaign: ${results.length} kill points, ${results.filter((r) => r.survived).length} survived`;
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  const base = campaignBase();
  const started = Date.now();
  const refs = [];
  for (const s of opts.scenarios) refs.push(await reference(s, base));
  const work = refs.flatMap((ref) =>
    spread(
      ref.points.filter((p: KillPoint) => !opts.step || opts.step.test(p.step)),
      opts.sample,
    ).map((point) => ({ ref, point })),
  );
  process.stderr.write(
    `campaign: ${work.length} kill points to run in ${refs.map((r) => r.scenario.scenario).join(", ")}, ${opts.jobs} at a time\n`,
  );
  let done = 0;
  const results = await pool(work, opts.jobs, async ({ ref, point }) => {
    const r = await runPoint(ref, point, base);
    done++;
    process.stderr.write(
      `  [${done}/${work.length}] ${r.survived ? "survived" : "LOST    "} ${r.scenario} ${point.step} at ${JSON.stringify(point.atCall)} (${(r.ms / 1000).toFixed(1)} s)\n`,
    );
    return r;
  });
  const lost = results.filter((r) => !r.survived);
  for (const r of lost) {
    process.stdout.write(`LOST ${r.scenario} ${r.point.step} at ${JSON.stringify(r.point.atCall)}\n`);
    for (const p of r.problems) process.stdout.write(`  ${p}\n`);
    process.stdout.write(`  replay: ${r.replay}\n`);
  }
  if (!lost.length) fs.rmSync(base, { recursive: true, force: true });
  process.stdout.write(`${summaryLine(results)} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  return lost.length ? 1 : 0;
}

if (require.main === module)
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`coldstart campaign: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
