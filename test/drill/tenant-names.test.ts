/**
 * Names a tenant chose reach the operator's terminal, the record and the Markdown report (issue
 * #21): a drill whose SHUTOFF server and stuck-in-ERROR load balancer are both named with an OSC
 * title escape, a BEL, HTML and Markdown. Stage 5 starts the server, Stage 6 fails the LB over and
 * its gate fails naming it on the console, so both names are printed, recorded and rendered; none
 * may carry ESC or BEL, and the Markdown shows each name as text.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { DrillReport } from "../../drill/drill";
import { renderRecord } from "../../record/render";
import { readRecord } from "../../runtime/record";
import { drillDir } from "../support/drill-run";

const ROOT = path.resolve(__dirname, "../..");
const EVIL = "\u001b]0;pwned\u0007evil<script>*x*|";
/** What is left of it to print: the OSC sequence removed whole, the rest as the tenant wrote it. */
const PRINTED = "evil<script>*x*|";
const IN_MARKDOWN = "evil&lt;script&gt;\\*x\\*\\|";
/** ESC or BEL anywhere (a string test: the linter refuses control characters in a regex literal). */
const noControl = (text: string) => expect([text.includes("\u001b"), text.includes("\u0007")]).toEqual([false, false]);

/** guests-shutoff's cloud with new-server-test renamed, and lb-stuck's k8s-api-lb renamed: both hostile. */
function hostileScenario(dir: string): string {
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "sim/scenarios", `${name}.json`), "utf8"));
  const scenario = read("guests-shutoff");
  const guest = scenario.guests.find((g: { name: string }) => g.name === "new-server-test");
  guest.name = EVIL;
  scenario.loadBalancers = read("lb-stuck").loadBalancers;
  scenario.loadBalancers.find((l: { name: string }) => l.name === "k8s-api-lb").name = EVIL;
  scenario.description =
    "guests-shutoff + lb-error with a server and an LB named with terminal escapes, HTML and Markdown";
  const file = path.join(dir, "hostile-names.json");
  fs.writeFileSync(file, JSON.stringify(scenario, null, 2));
  return file;
}

describe("a server and an LB named with terminal escapes, HTML and Markdown", () => {
  const scenarioDir = drillDir("hostile-names-scenario");
  const dir = drillDir("hostile-names");
  // without --json: the progress lines (every step's output, as an operator's terminal shows them) on stderr
  const run = spawnSync(
    path.join(ROOT, "bin", "coldstart"),
    ["drill", "--dir", dir, "--stack", "prior-build", "--scenario", hostileScenario(scenarioDir)],
    { encoding: "utf8", timeout: 90_000 },
  );
  const report = JSON.parse(fs.readFileSync(path.join(dir, "report.json"), "utf8")) as DrillReport;
  const record = [...readRecord(report.recordFile)];
  const calls = fs
    .readFileSync(report.callLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { tool: string; argv: string[] })
    .map((c) => `${c.tool} ${c.argv.join(" ")}`);
  const entry = (step: string) => record.filter((e) => e.step === step).at(-1)!;
  const status = (step: string) => report.steps.find((s) => s.name === step)?.status;
  afterAll(() => fs.rmSync(scenarioDir, { recursive: true, force: true }));

  it("the window runs as with any name: the server is started by ID, the LB failed over, its gate fails", () => {
    expect(run.status).toBe(1);
    expect(report.failed?.step).toBe("lbs-active");
    expect(status("start-shutoff-guests")).toBe("passed");
    expect(status("lb-failover")).toBe("passed");
    expect(calls).toContain("openstack server start f5dc173b-6804-445a-a6d8-c705dad5b5eb");
    expect(calls).toContain("openstack loadbalancer failover 4a13c573-623c-4d23-8a9c-581dc17ceb1f");
  });

  it("the console (the failed gate's lines, as the engine passes them on) names the LB without ESC or BEL", () => {
    for (const text of [run.stdout, run.stderr]) noControl(text);
    expect(run.stderr).toContain(
      `\n    ${PRINTED} (4a13c573-623c-4d23-8a9c-581dc17ceb1f): provisioning ERROR, operating ERROR\n`,
    );
  });

  it("the record names them, without ESC or BEL, in messages and in evidence", () => {
    const raw = fs.readFileSync(report.recordFile, "utf8");
    noControl(raw);
    // JSON.stringify writes a control character as \u001b: not there either
    expect(raw).not.toMatch(/\\u001b|\\u0007/);
    expect(entry("start-shutoff-guests").summary).toContain(PRINTED);
    expect(entry("start-shutoff-guests").details).toContain(
      `${PRINTED} (f5dc173b-6804-445a-a6d8-c705dad5b5eb): before ACTIVE, now SHUTOFF -> start sent: counted`,
    );
    const guests = entry("guests-active").evidence as { guests: { name: string }[] };
    expect(guests.guests.map((g) => g.name)).toContain(PRINTED);
    expect(entry("lb-failover").summary).toContain(`${PRINTED} accepted`);
    const grace = entry("octavia-grace").evidence as { lbs: { name: string }[] };
    expect(grace.lbs.map((l) => l.name)).toEqual([PRINTED]);
  });

  it("the Markdown record (coldstart record, maintenance's .md) shows them as text: no tag, no emphasis, no cell break", () => {
    const md = renderRecord(report.window, record);
    noControl(md);
    expect(md).not.toContain("<script>");
    expect(md).not.toContain("*x*");
    expect(md).toContain(IN_MARKDOWN);
    // the guests table: the name's | does not open a sixth cell
    const row = md.split("\n").find((l) => l.startsWith(`| ${IN_MARKDOWN} |`))!;
    expect(row.split(/(?<!\\)\|/).length - 2).toBe(5);
    const cli = spawnSync(
      path.join(ROOT, "bin", "coldstart"),
      ["record", "--window", report.window, "--record-dir", path.dirname(report.recordFile), "--format", "markdown"],
      { encoding: "utf8", timeout: 60_000 },
    );
    expect(cli.stdout).toContain(IN_MARKDOWN);
    noControl(cli.stdout);
    expect(cli.stdout).not.toContain("<script>");
  });
});
