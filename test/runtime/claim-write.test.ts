/**
 * Issue #21: a step claim is never seen empty. It used to be created (`wx`) and then written: in
 * between, a second run of the step read an empty claim, took it for a dead holder's, removed it
 * and ran the step too. Now (runtime/step-claim.ts writeClaim, like the run lock) the claim's name
 * only ever appears by link(2) of a file that already holds the whole claim. Checked on every
 * file call claimStep makes: nothing opens or writes the claim's own name, and at the moment it is
 * linked its source holds a complete holder.
 */
import * as os from "node:os";
import * as path from "node:path";
import { claimStep } from "../../runtime/step-claim";

// the module object itself (what runtime/step-claim.ts calls through), not an import copy
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require("node:fs") as typeof import("node:fs");

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-claimwrite-"))));
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const WRITERS = ["openSync", "writeFileSync", "appendFileSync", "createWriteStream", "truncateSync", "copyFileSync"];

it("the claim's name appears only by link of a complete claim; nothing opens or writes it", async () => {
  const claimFile = path.join(dir, "w.running", "s1.json");
  const written: string[] = [];
  const linked: { from: string; content: string }[] = [];
  for (const name of WRITERS) {
    const real = (fs as unknown as Record<string, (...a: unknown[]) => unknown>)[name].bind(fs);
    jest.spyOn(fs as unknown as Record<string, (...a: unknown[]) => unknown>, name).mockImplementation((...a) => {
      if (typeof a[0] === "string" && path.resolve(a[0]) === claimFile) written.push(name);
      return real(...a);
    });
  }
  const realLink = fs.linkSync.bind(fs);
  jest.spyOn(fs, "linkSync").mockImplementation((from, to) => {
    if (path.resolve(String(to)) === claimFile)
      linked.push({ from: String(from), content: fs.readFileSync(from, "utf8") });
    return realLink(from, to);
  });
  const realRename = fs.renameSync.bind(fs);
  jest.spyOn(fs, "renameSync").mockImplementation((from, to) => {
    if (path.resolve(String(to)) === claimFile) written.push("renameSync"); // fine too, but not what we wrote
    return realRename(from, to);
  });

  const claim = await claimStep({
    recordDir: dir,
    window: "w",
    step: "s1",
    env: { HOME: dir },
    sleep: async () => undefined,
  });
  expect(claim.kind).toBe("claimed");
  expect(written).toEqual([]);
  expect(linked).toHaveLength(1);
  expect(JSON.parse(linked[0].content)).toMatchObject({ pid: process.pid, host: os.hostname(), step: "s1" });
  // the temporary file is gone; only the claim is left in the folder
  expect(fs.readdirSync(path.dirname(claimFile))).toEqual(["s1.json"]);
  if (claim.kind === "claimed") claim.release();
});
