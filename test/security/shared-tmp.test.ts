/**
 * Issue #21, on a shared jumphost: no folder coldstart uses may be one someone else made or can
 * write, nothing that decides what runs is read back from a run's folder, no planted symlink is
 * followed, and a rehearsal never holds the operator's real secrets. Another account is a real
 * second local user (test/support/second-user.ts); the CLI is the built one, as operators run it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describeWithSecondUser, giveTo, withSecondUser, type SecondUser } from "../support/second-user";
import { filesUnder, readReport, writeScenario, plantedKeys, rehearsalEnv } from "../support/maintenance-run";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "bin", "coldstart");
const STACK = ["--stack", "prior-build"];

function coldstart(args: string[], env: NodeJS.ProcessEnv = rehearsalEnv()) {
  return spawnSync(BIN, args, { encoding: "utf8", env, timeout: 120_000 });
}
const errLines = (stderr: string) => stderr.split("\n").filter((l) => l.trim() !== "");
const modeOf = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
/** A folder of this test's own (0700), under the run's temp root. */
const ours = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `coldstart-sec-${name}-`));

/** A fake `juju` that leaves a marker when anything runs it: a hostile PATH must never be used. */
function plantFakeJuju(binDir: string, marker: string): void {
  fs.mkdirSync(binDir, { recursive: true });
  fs.writeFileSync(path.join(binDir, "juju"), `#!/bin/sh\necho "ran as $(id -u)" >> '${marker}'\nexit 0\n`, {
    mode: 0o755,
  });
}

describeWithSecondUser("--dir: a folder someone else made, or others may write, is refused", () => {
  it.each([
    ["drill", (dir: string) => ["drill", ...STACK, "--scenario", "healthy-planned", "--dir", dir]],
    [
      "maintenance --engine drill",
      (dir: string) => [
        "maintenance",
        "--engine",
        "drill",
        ...STACK,
        "--window",
        "sec-w1",
        "--yes",
        "--dir",
        dir,
        "--report-dir",
        path.join(path.dirname(dir), "reports"),
      ],
    ],
  ])("%s --dir <another user's folder>: exit 2, one line naming its owner and mode, nothing written", (_, args) =>
    withSecondUser((user) => {
      const dir = path.join(ours("theirs"), "planted");
      fs.mkdirSync(dir, { mode: 0o755 });
      giveTo(dir, user);
      const r = coldstart(args(dir));
      expect(r.status).toBe(2);
      expect(errLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(
        new RegExp(`^coldstart: .*--dir ${dir}: owned by uid ${user.uid} \\(${user.name}\\), mode 0755`),
      );
      expect(fs.readdirSync(dir)).toEqual([]);
    }),
  );

  it.each(["0777", "0770"])("a folder of ours with mode %s: exit 2, one line naming the mode", (mode) => {
    const dir = ours("shared-mode");
    fs.chmodSync(dir, parseInt(mode, 8));
    const r = coldstart(["drill", ...STACK, "--scenario", "healthy-planned", "--dir", dir]);
    expect(r.status).toBe(2);
    expect(errLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`--dir ${dir}: owned by uid 0 (root), mode ${mode}`);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a --dir that does not exist yet is created 0700 (then it is ours)", () => {
    const dir = path.join(ours("new"), "made-by-us");
    const r = coldstart([
      "drill",
      ...STACK,
      "--scenario",
      "healthy-planned",
      "--dir",
      dir,
      "--cancel-at",
      "mysql-check",
    ]);
    expect(r.status).toBe(130);
    expect(modeOf(dir)).toBe("700");
  }, 120_000);
});

describeWithSecondUser("drill --resume without --dir: never another user's folder, never drill.json's PATH", () => {
  /** A drill folder another user planted, newest of all, with her bin first on the PATH it names. */
  function plantTheirs(tmp: string, user: SecondUser, marker: string): string {
    const dir = path.join(tmp, "coldstart-drill-healthy-planned-29991231T235959Z-evil00");
    const bin = path.join(dir, "bin");
    plantFakeJuju(bin, marker);
    fs.writeFileSync(
      path.join(dir, "drill.json"),
      JSON.stringify({
        window: "drill-healthy-planned",
        scenarioRef: "healthy-planned",
        sim: { dir: path.join(dir, "cloud"), binDir: bin, mode: "planned", env: { PATH: `${bin}:/usr/bin:/bin` } },
      }),
    );
    fs.chmodSync(dir, 0o755);
    giveTo(dir, user);
    return dir;
  }

  it("with only her folder there: exit 2, one line saying it was skipped and why; her juju never runs", () =>
    withSecondUser((user) => {
      const tmp = ours("resume-theirs");
      const marker = path.join(ours("marker"), "ran");
      const theirs = plantTheirs(tmp, user, marker);
      const r = coldstart(["drill", ...STACK, "--scenario", "healthy-planned", "--resume"], {
        ...rehearsalEnv(),
        TMPDIR: tmp,
      });
      expect(r.status).toBe(2);
      expect(errLines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(
        `skipped, not yours alone: ${path.basename(theirs)} (owned by uid ${user.uid} (${user.name}), mode 0755`,
      );
      expect(fs.existsSync(marker)).toBe(false);
    }));

  it(
    "with ours older and hers newest: resumes ours, whose own drill.json names a hostile PATH too; no juju of hers runs",
    () =>
      withSecondUser((user) => {
        const tmp = ours("resume-both");
        const env = { ...rehearsalEnv(), TMPDIR: tmp };
        const first = coldstart(
          ["drill", ...STACK, "--scenario", "healthy-planned", "--cancel-at", "mysql-check"],
          env,
        );
        expect(first.status).toBe(130);
        const mine = /^drill directory: (.*)$/m.exec(first.stderr)![1];
        const marker = path.join(ours("marker"), "ran");
        plantTheirs(tmp, user, marker);
        // what decides what runs is derived again, never read from drill.json: even ours may not say it
        const evil = path.join(ours("evil-bin"), "bin");
        plantFakeJuju(evil, marker);
        const savedFile = path.join(mine, "drill.json");
        const saved = JSON.parse(fs.readFileSync(savedFile, "utf8")) as { sim: Record<string, unknown> };
        Object.assign(saved.sim, {
          env: { PATH: `${evil}:/usr/bin:/bin`, COLDSTART_SIM_ROOT: path.dirname(evil) },
          binDir: evil,
          dir: path.dirname(evil),
          cloudAssertScript: path.join(evil, "juju"),
          openrcPath: path.join(evil, "juju"),
        });
        fs.writeFileSync(savedFile, JSON.stringify(saved));
        const r = coldstart(["drill", ...STACK, "--scenario", "healthy-planned", "--resume"], env);
        expect(errLines(r.stderr)[0]).toBe(`drill directory: ${mine} (resumed)`);
        expect(fs.existsSync(marker)).toBe(false);
        expect(r.status).toBe(0);
      }),
    180_000,
  );
});

describe("a planted symlink in a --dir of ours is never followed", () => {
  /** A root-only file the link points at: it must be left as it is. */
  function target(name: string): { file: string; text: string } {
    const file = path.join(ours(`target-${name}`), name);
    fs.writeFileSync(file, `ORIGINAL ${name}\n`, { mode: 0o600 });
    return { file, text: `ORIGINAL ${name}\n` };
  }

  it("admin-openrc and the cloud-assert script: the links are replaced by the sim's files, their targets untouched", () => {
    const dir = ours("links");
    const openrc = target("openrc");
    const script = target("cloud-assert");
    fs.mkdirSync(path.join(dir, "cloud", "ops-repo", "scripts"), { recursive: true, mode: 0o700 });
    fs.symlinkSync(openrc.file, path.join(dir, "cloud", "admin-openrc"));
    fs.symlinkSync(script.file, path.join(dir, "cloud", "ops-repo", "scripts", "cloud-assert.sh"));
    fs.symlinkSync(openrc.file, path.join(dir, "cloud", "calls.jsonl"));
    const r = coldstart(["drill", ...STACK, "--scenario", "healthy-planned", "--dir", dir]);
    expect({ status: r.status, stderr: r.stderr.slice(-400) }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(fs.readFileSync(openrc.file, "utf8")).toBe(openrc.text);
    expect(fs.readFileSync(script.file, "utf8")).toBe(script.text);
    for (const f of ["admin-openrc", "ops-repo/scripts/cloud-assert.sh", "calls.jsonl"])
      expect({ f, link: fs.lstatSync(path.join(dir, "cloud", f)).isSymbolicLink() }).toEqual({ f, link: false });
    expect(fs.readFileSync(path.join(dir, "cloud", "admin-openrc"), "utf8")).toMatch(/^export OS_AUTH_URL=/m);
  }, 120_000);

  it("a symlinked folder on the way (ops-repo): exit 2, one line naming it; nothing written through it", () => {
    const dir = ours("dir-link");
    const elsewhere = ours("elsewhere");
    fs.mkdirSync(path.join(dir, "cloud"), { mode: 0o700 });
    fs.symlinkSync(elsewhere, path.join(dir, "cloud", "ops-repo"));
    const r = coldstart(["drill", ...STACK, "--scenario", "healthy-planned", "--dir", dir]);
    expect(r.status).toBe(2);
    expect(errLines(r.stderr).filter((l) => l.startsWith("coldstart: "))).toEqual([
      `coldstart: ${path.join(dir, "cloud", "ops-repo")}: is a symlink; coldstart does not follow it. Remove it, or use a new folder`,
    ]);
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  }, 60_000);
});

describe("maintenance --engine drill: a new private folder per run, and no real secret reaches it", () => {
  const REAL_KEY = "REALKEY-SENTINEL-xyz";
  const PASS = "PASS-SENTINEL";
  const tmp = ours("maint");
  const keys = plantedKeys();
  const scenario = writeScenario("healthy-planned", keys, ours("maint-scenario"));
  const runs: { dir: string; reportDir: string; status: number | null; stdout: string; stderr: string }[] = [];
  beforeAll(() => {
    for (const n of [1, 2]) {
      const reportDir = path.join(ours(`maint-reports-${n}`), "reports");
      const r = coldstart(
        [
          "maintenance",
          "--engine",
          "drill",
          "--yes",
          ...STACK,
          "--window",
          "sec-maint",
          "--scenario",
          scenario,
          "--report-dir",
          reportDir,
        ],
        {
          ...rehearsalEnv(),
          TMPDIR: tmp,
          COLDSTART_UNSEAL_KEY_1: REAL_KEY,
          PULUMI_CONFIG_PASSPHRASE: PASS,
        },
      );
      const dir = /^maintenance drill directory: (.*)$/m.exec(r.stderr)?.[1] ?? "";
      runs.push({ dir, reportDir, ...r });
    }
  }, 240_000);

  it("--resume without --dir: exit 2, one line saying to give the run's folder with --dir", () => {
    const r = coldstart(["maintenance", "--engine", "drill", "--resume", ...STACK, "--window", "sec-maint"], {
      ...rehearsalEnv(),
      TMPDIR: tmp,
    });
    expect(r.status).toBe(2);
    expect(errLines(r.stderr)).toEqual([
      "coldstart: maintenance --engine drill --resume: give the earlier run's directory with --dir (every run without --dir gets a new private one, printed at its start)",
    ]);
  });

  it("two runs of the same window get two different folders, each 0700 under TMPDIR", () => {
    const [a, b] = runs.map((r) => r.dir);
    expect(a).toMatch(new RegExp(`^${tmp}/coldstart-maintenance-sec-maint-[A-Za-z0-9]{6}$`));
    expect(b).toMatch(new RegExp(`^${tmp}/coldstart-maintenance-sec-maint-[A-Za-z0-9]{6}$`));
    expect(a).not.toBe(b);
    expect([modeOf(a), modeOf(b)]).toEqual(["700", "700"]);
  });

  it("says once, by name only, that the operator's key and passphrase were ignored", () => {
    for (const r of runs) {
      const said = errLines(r.stderr).filter((l) => /ignored/.test(l));
      expect(said).toEqual([
        "maintenance --engine drill: ignored COLDSTART_UNSEAL_KEY_1, PULUMI_CONFIG_PASSPHRASE from the environment: a rehearsal takes its unseal keys from the scenario and needs no Pulumi credentials",
      ]);
    }
  });

  it("the window completes with the scenario's keys (three unseals that Vault took)", () => {
    for (const r of runs) {
      expect({ status: r.status, tail: r.stderr.slice(-300) }).toEqual({ status: 0, tail: expect.any(String) });
      const calls = fs
        .readFileSync(path.join(r.dir, "cloud", "calls.jsonl"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { tool: string; argv: string[] });
      expect(calls.filter((c) => c.tool === "juju" && c.argv.join(" ").includes("/v1/sys/unseal"))).toHaveLength(3);
      expect(readReport(r.reportDir, "sec-maint").json.summary).toMatchObject({ result: "succeeded", exitCode: 0 });
    }
  });

  it("the sentinels are in no file of the run folder (call log included), the reports, or the output", () => {
    for (const r of runs) {
      const files = [...filesUnder(r.dir), ...(fs.existsSync(r.reportDir) ? filesUnder(r.reportDir) : [])];
      expect(files.map((f) => path.relative(r.dir, f.file))).toEqual(
        expect.arrayContaining([path.join("cloud", "calls.jsonl"), "drill.json"]),
      );
      for (const { file, text } of [...files, { file: "stdout", text: r.stdout }, { file: "stderr", text: r.stderr }])
        for (const s of [REAL_KEY, PASS]) expect({ file, leaked: text.includes(s) }).toEqual({ file, leaked: false });
    }
  });
});
