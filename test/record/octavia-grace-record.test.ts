/**
 * Stage 6's [REVALIDATE: timing budget on current build] in the record: the real octavia-grace step
 * (through stepCommand, so the line is the one a window writes) against a scripted
 * `openstack loadbalancer list` on a fake clock, then `coldstart record` on that file.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stepCommand } from "../../cli/step-command";
import { recordCommand } from "../../cli/record-command";
import { readRecord, recordFile } from "../../runtime/record";
import { fakeClock } from "../../runtime/clock";
import { readFixture } from "../fixtures";
import { captureReporter, fakeExec, OPENRC_CALL, openrcReply } from "../support/fake-exec";

const LB_LIST = /^openstack loadbalancer list -f json$/;
const K8S_LB = "4a13c573-623c-4d23-8a9c-581dc17ceb1f";

/** The recorded list (k8s-api-lb in ERROR), with k8s-api-lb ACTIVE from the n-th poll on. */
function listRecoveringAt(n: number | undefined) {
  return (_: unknown, served: number): string => {
    const lbs = JSON.parse(readFixture("octavia/loadbalancer-list.json")) as {
      id: string;
      provisioning_status: string;
    }[];
    if (n !== undefined && served >= n) for (const lb of lbs) if (lb.id === K8S_LB) lb.provisioning_status = "ACTIVE";
    return JSON.stringify(lbs);
  };
}

async function graceWindow(recoversAtPoll: number | undefined) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-grace-"));
  const env = {
    HOME: "/home/operator",
    COLDSTART_WINDOW: "w-grace",
    COLDSTART_RECORD_DIR: dir,
    COLDSTART_STACK: "roosevelt",
    COLDSTART_STAGE: "stage-6-octavia",
    COLDSTART_STEP: "octavia-grace",
  };
  const fake = fakeExec().on(OPENRC_CALL, openrcReply()).on(LB_LIST, listRecoveringAt(recoversAtPoll));
  const code = await stepCommand(
    "act",
    ["octavia-grace", "--openrc", "~/admin-openrc", "--grace", "5m", "--interval", "15s"],
    { exec: fake.exec, clock: fakeClock(Date.UTC(2026, 11, 5, 7, 0, 0)), env, out: captureReporter() },
  );
  const out: string[] = [];
  await recordCommand(
    ["--window", "w-grace", "--record-dir", dir, "--format", "json"],
    (t) => out.push(t),
    () => undefined,
  );
  const doc = JSON.parse(out.join("")) as { revalidate: { step: string; clear: boolean; why: string }[] };
  return {
    code,
    entry: readRecord(recordFile(dir, "w-grace"))[0]!,
    marker: doc.revalidate.find((r) => r.step === "octavia-grace")!,
  };
}

describe("the Octavia grace's REVALIDATE marker", () => {
  it("an LB in ERROR that is ACTIVE again within the grace: offered for clearing, with the time it took", async () => {
    // polls at 0, 2, 4, 6 s in ERROR (the first waits, a tenth of the 15 s interval:
    // runtime/poll-schedule.ts); ACTIVE at the 5th, 8 s in
    const w = await graceWindow(5);
    expect(w.code).toBe(0);
    expect(w.entry.evidence).toEqual({
      kind: "octavia-grace",
      graceMs: 300_000,
      intervalMs: 15_000,
      lbs: [{ id: K8S_LB, name: "k8s-api-lb", firstErrorAtMs: 0, recoveredAtMs: 8_000, statusAtEnd: "ACTIVE" }],
    });
    expect(w.marker.clear).toBe(true);
    expect(w.marker.why).toMatch(
      /^k8s-api-lb in ERROR, ACTIVE again 8.0s into the grace, within the 5m grace \(to within one poll \(15s\)\)/,
    );
  });

  it("an LB still in ERROR when the grace ends (failover's job): the marker stays open, saying so", async () => {
    const w = await graceWindow(undefined);
    expect(w.code).toBe(0); // the grace is not a gate: the failover step handles it
    expect(w.marker).toMatchObject({
      clear: false,
      why: "k8s-api-lb stayed out of ACTIVE through the 5m grace (ERROR at its end): the budget was not shown to hold for every LB in ERROR",
    });
  });

  it("no LB in ERROR at all: the marker stays open", async () => {
    const w = await graceWindow(1);
    expect(w.entry.evidence).toMatchObject({ kind: "octavia-grace", lbs: [] });
    expect(w.marker).toMatchObject({ clear: false, why: "no LB was in ERROR during the 5m grace" });
  });
});
