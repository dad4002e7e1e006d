/**
 * runtime/step-claim.ts at its edges (issue #22, from the mutation run's survivors): which record
 * lines count as "this step already did its job in this window" (passedEarlier: a resume keeps the
 * step instead of running it again), and a release after the claim file was removed by hand.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { appendRecord, recordFile } from "../../runtime/record";
import { claimDir, claimStep, passedEarlier } from "../../runtime/step-claim";
import { recordEntry } from "../support/record-entry";

const ENV: NodeJS.ProcessEnv = { HOME: os.homedir() };
let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-claim-edges-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("passedEarlier: the last line saying the step finished its job in this window", () => {
  it.each(["pass", "skipped-by-guard", "kept"] as const)("%s counts", (outcome) => {
    const file = recordFile(dir, "w1", ENV);
    appendRecord(file, { ...recordEntry("w1", "s1", "fail"), summary: "first try" });
    appendRecord(file, { ...recordEntry("w1", "s1", outcome), summary: "done" });
    expect(passedEarlier(dir, "w1", "s1", ENV)).toMatchObject({ step: "s1", outcome, summary: "done" });
  });

  it.each(["fail", "blocker", "cancelled", "usage"] as const)(
    "%s alone does not; nor another step's pass",
    (outcome) => {
      const file = recordFile(dir, "w1", ENV);
      appendRecord(file, recordEntry("w1", "s1", outcome));
      appendRecord(file, recordEntry("w1", "s2", "pass"));
      expect(passedEarlier(dir, "w1", "s1", ENV)).toBeUndefined();
      expect(passedEarlier(dir, "w1", "s2", ENV)).toMatchObject({ step: "s2" });
    },
  );
});

describe("a claim removed by hand while its step ran", () => {
  it("the release neither throws nor leaves the window's claim folder behind", async () => {
    const claim = await claimStep({ recordDir: dir, window: "w1", step: "s1", env: ENV, sleep: async () => undefined });
    if (claim.kind !== "claimed") throw new Error(`not claimed: ${claim.kind}`);
    const folder = claimDir(dir, "w1", ENV);
    const [file] = fs.readdirSync(folder).filter((f) => f.endsWith(".json"));
    fs.rmSync(path.join(folder, file));
    expect(() => claim.release()).not.toThrow();
    expect(fs.existsSync(folder)).toBe(false);
  });
});
