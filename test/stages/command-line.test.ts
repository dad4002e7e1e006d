/**
 * stages/command-line.ts: the create line every step runs and the plan shows (issue #22: its
 * mutants lived because only the golden plans, a whole-program test, read these lines). Each
 * line is checked by what /bin/sh makes of it: the words coldstart receives.
 */
import { spawnSync } from "node:child_process";
import { commandLine, KEEP_CHILD, keptLine, shellQuote } from "../../stages/command-line";

/** The argv a POSIX shell gives the program for `line` (printf one word a line, NUL-safe enough here). */
function wordsOf(line: string): string[] {
  const r = spawnSync("/bin/sh", ["-c", `set -- ${line.replace(/; exit \$\?$/, "")}; shift 0; printf '%s\\n' "$@"`], {
    encoding: "utf8",
  });
  expect(r.status).toBe(0);
  return r.stdout.replace(/\n$/, "").split("\n");
}

describe("shellQuote: a word reaches the program as it was", () => {
  it.each([
    ["plain", "openstack0", "openstack0"],
    ["path and flag-ish characters", "~/admin-openrc", "~/admin-openrc"],
    ["model with colon", "maas-controller:openstack", "maas-controller:openstack"],
  ])("%s stays bare", (_what, word, printed) => {
    expect(shellQuote(word)).toBe(printed);
  });

  it.each([
    ["empty", ""],
    ["a space", "web 1"],
    ["a quote", "it's"],
    ["command substitution", "$(touch /tmp/x)"],
    ["a leading safe run then unsafe", "abc;rm"],
    ["unsafe then a trailing safe run", ";rm abc"],
    ["a newline", "a\nb"],
  ])("%s is single-quoted and survives the shell whole", (_what, word) => {
    const quoted = shellQuote(word);
    expect(quoted.startsWith("'")).toBe(true);
    const r = spawnSync("/bin/sh", ["-c", `printf '%s' ${quoted}`], { encoding: "utf8" });
    expect(r.stdout).toBe(word);
  });
});

describe("commandLine: the step's create line", () => {
  const line = commandLine("/opt/cold start/bin/coldstart", "act", "power-off-openstack0", {
    host: "openstack0",
    graceful: true,
    dryRun: false,
    missing: undefined,
    unit: ["vault/0", "vault 1"],
    timeout: 600,
  });

  it("ends with `; exit $?` so the shell forks coldstart instead of exec-ing it", () => {
    expect(KEEP_CHILD).toBe("; exit $?");
    expect(line.endsWith("; exit $?")).toBe(true);
  });

  it("true is a bare flag, false and undefined are left out, a list repeats its flag, the CLI path is quoted", () => {
    expect(wordsOf(line)).toEqual([
      "/opt/cold start/bin/coldstart",
      "act",
      "power-off-openstack0",
      "--host",
      "openstack0",
      "--graceful",
      "--unit",
      "vault/0",
      "--unit",
      "vault 1",
      "--timeout",
      "600",
    ]);
  });

  it("the shell runs it and returns coldstart's exit code", () => {
    const r = spawnSync("/bin/sh", [
      "-c",
      commandLine("/bin/sh", "check", "x", {}).replace(/^\/bin\/sh check x/, "/bin/sh -c 'exit 7'"),
    ]);
    expect(r.status).toBe(7);
  });
});

describe("keptLine: the update line", () => {
  it("quotes the CLI and the step", () => {
    expect(wordsOf(keptLine("/opt/cold start/bin/coldstart", "vault-unseal"))).toEqual([
      "/opt/cold start/bin/coldstart",
      "kept",
      "vault-unseal",
    ]);
  });
});
