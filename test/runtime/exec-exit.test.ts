/**
 * Issue #22: a step that exits while a tool runs (a second Ctrl-C: runtime/cancel.ts calls
 * process.exit) takes the tool's process group down on its way out (runtime/exec.ts trackGroup),
 * and only the groups of calls still running: a finished call's pid may name another process by
 * then. Run in a node child of the built module (npm run -s build first), whose process.kill is
 * wrapped to log what it is asked.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { alive } from "../support/live-process";

const mod = path.resolve(__dirname, "../../dist/runtime/exec.js");

it("at exit, the groups of the calls still running are killed, not those of finished ones, each once", () => {
  expect(fs.existsSync(mod)).toBe(true); // build first: npm run -s build
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-exec-exit-"));
  try {
    const script = `
      const { realExec } = require(${JSON.stringify(mod)});
      const kills = [];
      const realKill = process.kill.bind(process);
      process.kill = (pid, sig) => { if (pid < 0) kills.push([-pid, sig]); return realKill(pid, sig); };
      (async () => {
        // twelve finished calls: more than node's default of ten listeners on one event
        const finished = [];
        for (let i = 0; i < 12; i++) finished.push(Number((await realExec({ file: "sh", args: ["-c", "echo $$"], timeoutMs: 10000 })).stdout));
        const running = [];
        for (const name of ["a", "b"]) {
          const file = ${JSON.stringify(dir)} + "/" + name;
          void realExec({ file: "sh", args: ["-c", "echo $$ > " + file + "; exec sleep 30"], timeoutMs: 60000 });
          while (!require("node:fs").existsSync(file) || require("node:fs").readFileSync(file, "utf8") === "") await new Promise((r) => setTimeout(r, 10));
          running.push(Number(require("node:fs").readFileSync(file, "utf8")));
        }
        process.on("exit", () => process.stdout.write(JSON.stringify({ finished, running, kills })));
        process.exit(130);
      })();`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(r.stderr).toBe(""); // no MaxListenersExceededWarning: one exit hook for all calls
    expect(r.status).toBe(130);
    const out = JSON.parse(r.stdout) as { finished: number[]; running: number[]; kills: [number, string][] };
    expect(out.finished).toHaveLength(12);
    expect(out.kills.sort()).toEqual(out.running.map((pid) => [pid, "SIGKILL"]).sort());
    for (const pid of out.running) expect(alive(pid)).toBe(false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
