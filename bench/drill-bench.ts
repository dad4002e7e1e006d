/**
 * `npm run bench`: drill wall time against the scenario's own critical path, for the healthy
 * planned window on the 4-host cloud and on larger generated clouds (linear growth check).
 * Prints figures; asserts nothing.
 */
import { expectSkippedStepRejections } from "../plan/mock-engine";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runDrill } from "../drill/drill";
import { loadScenario } from "../sim/scenario";
import { criticalPath } from "../sim/critical-path";
import { readCallLog } from "../sim/call-log";

interface Case {
  label: string;
  scale?: { hosts: number; guests: number; lbs: number };
}

const CASES: Case[] = [
  { label: "4 hosts (healthy-planned)" },
  { label: "50 hosts, 1250 guests, 125 LBs", scale: { hosts: 50, guests: 1250, lbs: 125 } },
  { label: "200 hosts, 5000 guests, 500 LBs", scale: { hosts: 200, guests: 5000, lbs: 500 } },
];

const timeScale = Number(process.env.BENCH_TIME_SCALE ?? 1 / 60);
const only = process.env.BENCH_ONLY;

async function main(): Promise<void> {
  expectSkippedStepRejections(); // failed steps' registrations, and only those
  const scenario = loadScenario("healthy-planned").scenario;
  const path0 = criticalPath(scenario, "planned");
  console.log(
    `coldstart drill bench -- scenario healthy-planned, stack prior-build, time scale 1 sim s = ${(1000 * timeScale).toFixed(1)} real ms`,
  );
  console.log(
    `critical path (sim): ${path0.parts.map((p) => `${p.stage} ${p.seconds}s`).join(" + ")} = ${path0.seconds}s\n`,
  );
  for (const c of CASES) {
    if (only && !c.label.includes(only)) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-bench-"));
    const report = await runDrill({
      stack: "prior-build",
      scenario: "healthy-planned",
      mode: "planned",
      dir,
      timeScale,
      scale: c.scale,
    });
    const critical = path0.seconds * 1000 * timeScale;
    const calls = readCallLog(path.join(dir, "cloud"));
    const perStep = new Map<string, number>();
    for (const call of calls) perStep.set(call.step ?? "?", (perStep.get(call.step ?? "?") ?? 0) + 1);
    const gates = report.steps.filter((s) => !/^power|^powered/.test(s.name));
    console.log(`== ${c.label}: ${report.exitCode === 0 ? "PASSED" : `STOPPED at ${report.failed?.step}`}`);
    console.log(
      `   steps ${report.steps.length}, drill wall ${(report.wallMs / 1000).toFixed(2)} s, critical path ${(critical / 1000).toFixed(2)} s, ratio ${(report.wallMs / critical).toFixed(2)}`,
    );
    console.log(
      `   tool calls ${calls.length} (juju ${calls.filter((x) => x.tool === "juju").length}, openstack ${calls.filter((x) => x.tool === "openstack").length}, virsh ${calls.filter((x) => x.tool === "virsh").length})`,
    );
    console.log(`   calls per step: ${gates.map((g) => `${g.name} ${perStep.get(g.name) ?? 0}`).join(", ")}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
