/**
 * Stage 3's manual procedures (issue #24 item 1): the seed's hidden-prompt unseal loop with this
 * stack's model and vault application, the charm's 127.0.0.1:8220, Vault's own threshold, the key
 * typed at `read -s` and sent on stdin (never argv), and the GATE Sealed=false. The RUN loop is
 * also run, against a fake `juju` that records each call's argv and stdin.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makePlan } from "../../plan/plan";
import type { Plan } from "../../plan/model";
import type { ManualProcedure } from "../../stages/manual";
import { findProjectDir, readStackConfig } from "../../config/stack-files";
import { loadConfig } from "../../config/load";
import type { Config } from "../../config/schema";
import { renderProcedure } from "../../runbook/render-procedure";
import { UNSEAL_COMMAND, VAULT_ADDR } from "../../gates/vault";

const STACKS = ["roosevelt", "prior-build"] as const;
const MODES = ["planned", "unplanned"] as const;

function stackConfig(stack: string): Config {
  const values = readStackConfig(findProjectDir(), stack).values;
  return loadConfig((k) => values[`coldstart:${k}`], { COLDSTART_WINDOW: "w" });
}

const plans = new Map<string, Plan>();
beforeAll(async () => {
  for (const stack of STACKS)
    for (const mode of MODES) {
      plans.set(`${stack} ${mode}`, await makePlan({ stack, mode }));
      plans.set(
        `${stack} ${mode} keyholders`,
        await makePlan({ stack, mode, overrides: { "coldstart:vaultUnsealBy": "keyholders" } }),
      );
    }
}, 60_000);

function manualOf(key: string, step: string): ManualProcedure {
  const s = plans.get(key)!.steps.find((x) => x.name === step);
  if (!s) throw new Error(`${key}: no step ${step}`);
  return s.manual;
}

const commands = (m: ManualProcedure) => m.blocks.flatMap((b) => b.commands);

describe.each(STACKS.flatMap((stack) => MODES.flatMap((mode) => [`${stack} ${mode}`, `${stack} ${mode} keyholders`])))(
  "%s",
  (key) => {
    const stack = key.split(" ")[0];
    const config = stackConfig(stack);
    const model = config.jujuModel;
    const app = config.apps.vault;

    it("vault-unseal: CHECK each unit's status, RUN the hidden-prompt loop on stdin, CHECK sealed=false; section Stage 3", () => {
      const m = manualOf(key, "vault-unseal");
      expect(m.section).toMatch(/^ops-restart-procedure\.md: Stage 3 -- Vault unseal/);
      expect(m.blocks.map((b) => b.label)).toEqual(["CHECK", "RUN", "CHECK"]);
      const status = `juju exec -m ${model} --unit "$UNIT" --format=json -- 'VAULT_ADDR=${VAULT_ADDR} vault status -format=json' </dev/null | jq -r --arg u "$UNIT" '.[$u].results.stdout'`;
      const units = `juju status -m ${model} ${app} --format=json </dev/null | jq -r --arg a ${app} '.applications[$a].units | keys[]'`;
      expect(m.blocks[0].commands).toEqual([
        `for U in $(${units}); do echo "$U $(${status.replace(/"\$UNIT"/g, '"$U"')} | jq -c '{initialized, sealed, t, n, progress}')"; done`,
      ]);
      const run = m.blocks[1].commands;
      expect(run).toHaveLength(1);
      // Vault's own threshold and progress from the unit's status, never a hard-coded 3
      expect(run[0]).toContain(`( S=$(${status}); T=$(jq -r .t <<<"$S"); P=$(jq -r .progress <<<"$S");`);
      expect(run[0]).toContain(
        `for ((i = P + 1; i <= T; i++)); do read -r -s -p "Unseal key $i of $T for $UNIT: " K; echo;`,
      );
      expect(run[0]).not.toMatch(/for i in 1 2 3|\b3\b/);
      // the key: typed at read -s, in the body by the printf builtin, on stdin of juju ssh, then unset
      expect(run[0]).toContain(
        `printf '{"key":"%s"}' "$K" | juju ssh -m ${model} "$UNIT" -- ${UNSEAL_COMMAND.join(" ")} | jq -c`,
      );
      expect(run[0]).toContain("unset K; done )");
      expect(m.blocks[2].commands).toEqual([`${status} | jq -e '.sealed == false'`]);
    });

    it("vault-unsealed: GATE Sealed=false on every unit, repeated at the stack's vault gate timing", () => {
      const m = manualOf(key, "vault-unsealed");
      expect(m.blocks).toHaveLength(1);
      const gate = m.blocks[0];
      expect(gate.label).toBe("GATE");
      expect(gate.says).toMatch(/^Sealed=false on every/);
      const t = config.gates.vaultUnsealed;
      expect(gate.repeat).toBe(`every ${t.interval / 1000}s, up to ${t.timeout / 60_000}m`);
      expect(gate.commands[0]).toMatch(new RegExp(`^for U in \\$\\(juju status -m ${model} ${app} `));
      expect(gate.commands[0]).toContain(`| jq -r .sealed)"; done`);
    });

    it("every command parses, uses only its declared placeholders, and each placeholder is used", () => {
      for (const step of ["vault-unseal", "vault-unsealed"]) {
        const m = manualOf(key, step);
        for (const c of commands(m)) {
          const r = spawnSync("bash", ["-n", "-c", c], { encoding: "utf8" });
          expect({ c, status: r.status, stderr: r.stderr }).toEqual({ c, status: 0, stderr: "" });
        }
        const declared = (m.placeholders ?? []).map((p) => p.name).sort();
        const all = commands(m).join("\n");
        // "$X" uses other than the loop's own shell variables (U, S, T, P, K, i)
        const used = [...new Set([...all.matchAll(/"\$([A-Z_]{2,})"/g)].map((x) => x[1]))].sort();
        expect(used).toEqual(declared);
        for (const p of m.placeholders ?? []) {
          expect(spawnSync("bash", ["-n", "-c", p.findWith]).status).toBe(0);
          expect(p.findWith).not.toMatch(/curl|unseal|read /); // read-only
        }
      }
    });

    it("no key in any argv: no `vault operator unseal`, no $K outside the printf builtin, the runbook's 8200 not used", () => {
      const all = [...commands(manualOf(key, "vault-unseal")), ...commands(manualOf(key, "vault-unsealed"))].join("\n");
      expect(all).not.toMatch(/vault operator unseal/);
      expect(all.match(/\$K\b/g)).toHaveLength(1);
      expect(all).toContain(`printf '{"key":"%s"}' "$K" |`);
      expect(all).not.toContain("127.0.0.1:8200");
      expect(all).not.toMatch(/ -P /);
    });
  },
);

describe("the RUN loop, run against a fake juju (argv and stdin recorded)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vault-manual-"));
  const bin = path.join(dir, "bin");
  const keys = ["a2V5LW9uZS1vZi1maXZlLXNoYXJlcy1hYWFhYWFhYWFh", "a2V5LXR3by1vZi1maXZlLXNoYXJlcy1iYmJiYmJiYmJi"];
  beforeAll(() => {
    fs.mkdirSync(bin);
    // exec: a sealed unit at progress 1 of threshold 3 (someone gave one share already); ssh: Vault's answer
    fs.writeFileSync(
      path.join(bin, "juju"),
      `#!/bin/bash
n=$(ls "${dir}"/call-* 2>/dev/null | wc -l)
printf '%s\\n' "$@" > "${dir}/call-$n.argv"
cat > "${dir}/call-$n.stdin"
case "$1" in
  exec) echo '{"vault/1":{"results":{"return-code":2,"stdout":"{\\"initialized\\":true,\\"sealed\\":true,\\"t\\":3,\\"n\\":5,\\"progress\\":1}"},"status":"completed"}}' ;;
  ssh) echo '{"sealed":true,"t":3,"n":5,"progress":2,"nonce":"x"}' ;;
esac
`,
      { mode: 0o755 },
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('asks t - progress keys, each sent as {"key": ...} on stdin of juju ssh to that unit, no key in any argv', () => {
    const run = manualOf("roosevelt planned", "vault-unseal").blocks[1].commands[0];
    const r = spawnSync("bash", ["-c", run], {
      encoding: "utf8",
      input: keys.join("\n") + "\n",
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: dir, UNIT: "vault/1" },
    });
    expect(r.status).toBe(0);
    const calls = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".argv"))
      .sort()
      .map((f) => ({
        argv: fs.readFileSync(path.join(dir, f), "utf8").trim().split("\n"),
        stdin: fs.readFileSync(path.join(dir, f.replace(".argv", ".stdin")), "utf8"),
      }));
    const model = stackConfig("roosevelt").jujuModel;
    expect(calls.map((c) => c.argv.slice(0, 4))).toEqual([
      ["exec", "-m", model, "--unit"],
      ["ssh", "-m", model, "vault/1"],
      ["ssh", "-m", model, "vault/1"],
    ]);
    expect(calls.slice(1).map((c) => c.stdin)).toEqual(keys.map((k) => JSON.stringify({ key: k })));
    expect(
      calls.slice(1).every((c) => c.argv.join(" ") === `ssh -m ${model} vault/1 -- ${UNSEAL_COMMAND.join(" ")}`),
    ).toBe(true);
    for (const k of keys) {
      expect(calls.map((c) => c.argv.join(" ")).join("\n")).not.toContain(k);
      expect(r.stdout + r.stderr).not.toContain(k);
    }
    // (read -p prompts only at a terminal: the prompt text is asserted on the command above)
    expect(r.stdout).toContain('{"sealed":true,"t":3,"progress":2}');
  });

  it("renders as text with the UNIT placeholder and the hidden-prompt RUN (what the keyholders are handed)", () => {
    const step = plans.get("roosevelt planned keyholders")!.steps.find((s) => s.name === "vault-unseal")!;
    const text = renderProcedure(step, "text").join("\n");
    expect(text).toContain("UNIT = a sealed unit of vault");
    expect(text).toContain("RUN -- jumphost -- keyholders, for each sealed unit");
  });
});
