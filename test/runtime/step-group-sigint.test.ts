/**
 * pulumi's terminate sends SIGINT to the provider plugin's whole process group (pulumi/pulumi
 * sdk/go/common/util/cmdutil/child_unix.go InterruptChildren, from pkg/resource/plugin/plugin.go),
 * and a terminal's Ctrl-C signals a step run by hand the same way: that group holds the step's
 * shell and its coldstart. Each tool call leads a process group of its own (runtime/exec.ts
 * spawnExec, detached), so the signal never cuts a power call in flight: the call ends as the
 * tool answers and the step records what it did. Needs the built CLI (npm run -s build).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readRecord, recordFile } from "../../runtime/record";

const ROOT = path.resolve(__dirname, "../..");
const COLDSTART = path.join(ROOT, "bin", "coldstart");
const WINDOW = "w-group-sigint";

it("a SIGINT to the step's process group while `virsh start` runs: virsh finishes, the step passes (power on sent) and records it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-group-sigint-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const log = path.join(dir, "virsh.log");
  // libvirt's words (power/virsh.ts): `domstate --reason` -> "shut off (shutdown)"; start takes a while
  fs.writeFileSync(
    path.join(bin, "virsh"),
    `#!/bin/sh
case "$3" in
  domstate) echo "shut off (shutdown)" ;;
  start) echo begun >> '${log}'; sleep 1.5; echo done >> '${log}'; echo "Domain '$4' started" ;;
  *) echo "error: unexpected $*" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
  const recordDir = path.join(dir, "records");
  // sh -c "coldstart ...; exit $?" in a group of its own: the provider's command under pulumi
  const step = spawn(
    "/bin/sh",
    ["-c", `'${COLDSTART}' act power-on --host h0 --driver virsh --uri qemu:///system --domain h0; exit $?`],
    {
      env: {
        ...env,
        HOME: dir,
        PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
        COLDSTART_WINDOW: WINDOW,
        COLDSTART_RECORD_DIR: recordDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let stderr = "";
  step.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const ended = new Promise<string>((resolve) => step.on("exit", (code, signal) => resolve(`${code} ${signal}`)));
  const until = Date.now() + 30_000;
  while (!fs.existsSync(log)) {
    if (Date.now() > until) throw new Error(`virsh start never ran: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(-step.pid!, "SIGINT"); // the whole group: shell and coldstart, not virsh's own group
  // dash dies of it (as the provider's shell does under pulumi's terminate); coldstart, forked, goes on
  expect(await ended).toBe("null SIGINT");
  const file = recordFile(recordDir, WINDOW, {});
  while (readRecord(file).length === 0) {
    if (Date.now() > until) throw new Error(`no record line: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(fs.readFileSync(log, "utf8").split("\n")).toEqual(["begun", "done", ""]); // one start, not cut
  expect(stderr).toContain("SIGINT: this step stops at its next safe point"); // coldstart heard it
  expect([...readRecord(file)]).toMatchObject([{ step: "act power-on", outcome: "pass", state: "power-on-sent" }]);
}, 60_000);
