/**
 * Issue #21 part 3: a tool inherits an allow-list of coldstart's environment, in every mode. A
 * fake `juju` (a step run by hand) and a fake `bash` (the openrc sourcing of `coldstart
 * preflight --scenario`) write their whole environment to a file: the operator's credentials --
 * under names no pattern can guess (the stack's passwordEnv/apiKeyEnv) or not -- are in none of
 * them, PATH/HOME/LANG are. Build first (npm run -s build): the CLI runs from dist/.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { neverInherited, SECRET_VARS, toolEnv } from "../../runtime/tool-env";

const ROOT = path.resolve(__dirname, "../..");
const COLDSTART = path.join(ROOT, "bin", "coldstart");

/** What an operator's shell on a shared jumphost may hold: none of it is a tool's business. */
const SECRETS: Record<string, string> = {
  IPMI_PW_OPENSTACK0: "ipmi-pw-value-1",
  MAAS_KEY: "maas-key-value-2",
  PULUMI_CONFIG_PASSPHRASE: "passphrase-value-3",
  COLDSTART_UNSEAL_KEY_1: "unseal-key-value-4",
  OS_PASSWORD: "os-password-value-5",
  AWS_SECRET_ACCESS_KEY: "aws-secret-value-6",
  FOO_TOKEN: "foo-token-value-7",
};

let dir: string;
let bin: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-tool-env-"));
  bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The operator's environment: this one's, the secrets, a known LANG, the fake tools first on PATH. */
function operatorEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("COLDSTART_")) env[k] = v;
  return { ...env, ...SECRETS, HOME: dir, LANG: "C.UTF-8", PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` };
}

/** Every environment the fake tools dumped (one `env -0` dump per call). */
function dumps(file: string): Record<string, string>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\0--end--\0")
    .filter((d) => d !== "")
    .map((d) =>
      Object.fromEntries(
        d
          .split("\0")
          .filter((e) => e.includes("="))
          .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      ),
    );
}

function expectNoSecret(seen: Record<string, string>[], text: string): void {
  expect(seen.length).toBeGreaterThan(0);
  for (const env of seen) {
    for (const name of Object.keys(SECRETS)) expect({ name, has: name in env }).toEqual({ name, has: false });
    expect(env.PATH).toContain(bin);
    expect(env.HOME).toBe(dir);
    expect(env.LANG).toBe("C.UTF-8");
  }
  for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
}

describe("toolEnv", () => {
  it("keeps the allow-list and what a step passes on purpose; drops the rest, credential-looking names even when allowed", () => {
    const env = toolEnv(
      {
        PATH: "/bin",
        LC_TIME: "C",
        JUJU_DATA: "/j",
        MAAS_KEY: "k",
        PULUMI_HOME: "/p",
        COLDSTART_SIM_MAAS_API_KEY: "m",
      },
      { IPMI_PASSWORD: "passed on purpose", PATH: "/sim/bin:/bin" },
    );
    expect(env).toEqual({ PATH: "/sim/bin:/bin", LC_TIME: "C", JUJU_DATA: "/j", IPMI_PASSWORD: "passed on purpose" });
    // an inherited OS_PASSWORD never passes: only the one the openrc gives, passed by the step
    expect(toolEnv({ OS_PASSWORD: "x", OS_AUTH_URL: "u" })).toEqual({});
  });

  it("drops an allowed name that looks like a credential or that the graph names as the stack's (a second filter)", () => {
    expect(toolEnv({ LC_PASSWORD: "x", LC_TIME: "C" })).toEqual({ LC_TIME: "C" });
    expect(toolEnv({ LC_BMC: "pw", LC_TIME: "C", [SECRET_VARS]: "LC_BMC" })).toEqual({ LC_TIME: "C" });
    // the engine's own variables are credentials too, whatever else they are named
    expect(neverInherited("PULUMI_CONFIG_PASSPHRASE", {})).toBe(true);
    expect(neverInherited("PULUMI_HOME", {})).toBe(true);
  });
});

describe("a step run by hand", () => {
  it("its juju sees PATH, HOME, LANG and none of the operator's credentials", () => {
    const out = path.join(dir, "juju-env");
    // a juju that only reports what it was given (answers nothing: the step fails, which is fine)
    fs.writeFileSync(path.join(bin, "juju"), `#!/bin/sh\n{ env -0; printf '\\0--end--\\0'; } >> '${out}'\nexit 1\n`, {
      mode: 0o755,
    });
    const r = spawnSync(COLDSTART, ["check", "nova-resume-flag", "--model", "c:m", "--app", "nova-compute"], {
      env: operatorEnv(),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expectNoSecret(dumps(out), fs.readFileSync(out, "utf8"));
  });
});

/**
 * A bash first on PATH that reports its environment, then is the real one (sim/bin has no bash:
 * this one is found by the openrc sourcing). Returns the file its dumps go to.
 */
function fakeBashDumpingEnv(): string {
  const out = path.join(dir, "bash-env");
  const realBash = spawnSync("sh", ["-c", "command -v bash"], { encoding: "utf8" }).stdout.trim();
  fs.writeFileSync(
    path.join(bin, "bash"),
    `#!/bin/sh\n{ env -0; printf '\\0--end--\\0'; } >> '${out}'\nexec '${realBash}' "$@"\n`,
    { mode: 0o755 },
  );
  return out;
}

describe("coldstart preflight --scenario (what maintenance runs first)", () => {
  it("the bash that sources the openrc sees PATH, HOME, LANG, the sim's folder and none of the operator's credentials", () => {
    const out = fakeBashDumpingEnv();
    const r = spawnSync(
      COLDSTART,
      ["preflight", "--stack", "roosevelt", "--scenario", "preflight-healthy", "--dir", path.join(dir, "pf"), "--json"],
      { env: operatorEnv(), encoding: "utf8", timeout: 60_000 },
    );
    expect(r.stdout).toContain('"checks"');
    const seen = dumps(out);
    expectNoSecret(seen, fs.readFileSync(out, "utf8") + r.stdout + r.stderr);
    // the sim's own wiring does reach it (allowed by name: runtime/tool-env.ts SIM_TOOL_ENV)
    expect(seen.some((e) => e.COLDSTART_SIM_DIR !== undefined)).toBe(true);
  });
});

describe("coldstart maintenance --engine drill (its preflight, then every step under the engine)", () => {
  it("every openrc-sourcing bash, of the preflight and of the steps, sees none of the operator's credentials", () => {
    const out = fakeBashDumpingEnv();
    const r = spawnSync(
      COLDSTART,
      [
        ...["maintenance", "--engine", "drill", "--stack", "prior-build", "--window", "tool-env-maint"],
        ...[
          "--scenario",
          "healthy-planned",
          "--dir",
          path.join(dir, "drill"),
          "--report-dir",
          path.join(dir, "reports"),
        ],
        "--yes",
      ],
      { env: operatorEnv(), encoding: "utf8", timeout: 90_000 },
    );
    expect(r.status).toBe(0);
    const seen = dumps(out);
    // the preflight's openstack checks and the guest/LB steps of the window each sourced the openrc
    expect(seen.length).toBeGreaterThan(3);
    // A step that runs the openstack client (or Stage 7's cloud-assert script) gives it the OS_*
    // of the sim's openrc on purpose; the operator's own OS_PASSWORD never passes.
    const fromOpenrc = seen.filter((e) => e.OS_PASSWORD !== undefined);
    for (const e of fromOpenrc) expect(e.OS_PASSWORD).not.toBe(SECRETS.OS_PASSWORD);
    expectNoSecret(
      seen.map(({ OS_PASSWORD: _given, ...rest }) => rest),
      fs.readFileSync(out, "utf8") + r.stdout + r.stderr,
    );
  }, 120_000);
});
