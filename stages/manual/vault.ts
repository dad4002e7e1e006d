/**
 * Stage 3's manual procedures (issue #24 item 1): the seed runbook's hidden-prompt unseal loop,
 * with this stack's model and vault application, coldstart's own calls and Vault's own threshold.
 *
 * - Status: what coldstart reads (steps/vault.ts unitStatus): `juju exec -m <model> --unit <unit>
 *   --format=json -- 'VAULT_ADDR=http://127.0.0.1:8220 vault status -format=json'`; the unit's stdout
 *   is `.[<unit>].results.stdout` of juju's answer (gates/juju-action.ts readExecResult).
 * - Address: the charm's own loopback listener 127.0.0.1:8220, plain HTTP whatever the TLS settings
 *   (gates/vault.ts VAULT_ADDR cites openstack/charm-vault); the runbook's 127.0.0.1:8200 answers
 *   `400 Client sent an HTTP request to an HTTPS server` once the charm has ssl-cert/ssl-key.
 * - Unseal: what coldstart sends (gates/vault.ts UNSEAL_COMMAND): the JSON body {"key": ...} of
 *   `PUT /v1/sys/unseal` on stdin of `juju ssh`, read by curl with `--data-binary @-`. The key is
 *   typed at `read -s` (no echo), put in the body by bash's builtin printf (a builtin: no process,
 *   so no argv holds it), and unset after each use. Never `vault operator unseal $K` (the key in
 *   the argv of the remote shell and of vault, and in `ps` on the unit).
 * - Not `vault operator unseal -`: hashicorp/vault @ 0b1da1037baed1f35c6a5cb385bdc094c4cef265
 *   command/operator_unseal.go takes the key as its one argument (argv), or with none prompts on a
 *   terminal (`password.Read(os.Stdin)`, an error when stdin is a pipe); "-" is not read as stdin.
 * - Threshold: read from the unit's status (`t`, less the `progress` Vault already holds: Vault
 *   ignores a share given twice), never the runbook's hard-coded 3.
 */
import { shellWord, type ManualBlock, type ManualPlaceholder, type ManualProcedure } from "../manual";
import { STATUS_COMMAND, UNSEAL_COMMAND } from "../../gates/vault";

export const STAGE3_SECTION = "ops-restart-procedure.md: Stage 3 -- Vault unseal (sealed-after-restart is BY DESIGN)";

interface Target {
  model: string;
  app: string;
}

/** Every unit of the vault application, one a line (what coldstart reads: `juju status -m M <app> --format=json`). */
export function unitsCommand(t: Target): string {
  return `juju status -m ${shellWord(t.model)} ${shellWord(t.app)} --format=json </dev/null | jq -r --arg a ${shellWord(t.app)} '.applications[$a].units | keys[]'`;
}

/**
 * One unit's `vault status -format=json`, as coldstart reads it, down to the unit's own stdout.
 * `</dev/null`, as the seed writes its status call: a juju call inside the prompt loop must not
 * read the keys typed for the next prompt.
 */
export function statusCommand(t: Target, unit: string): string {
  return `juju exec -m ${shellWord(t.model)} --unit ${unit} --format=json -- ${shellWord(STATUS_COMMAND)} </dev/null | jq -r --arg u ${unit} '.[$u].results.stdout'`;
}

/** The unseal request coldstart sends, its body on stdin. */
export function unsealRequest(t: Target, unit: string): string {
  return `juju ssh -m ${shellWord(t.model)} ${unit} -- ${UNSEAL_COMMAND.map(shellWord).join(" ")}`;
}

const UNIT = "UNIT";

const unitPlaceholder = (t: Target): ManualPlaceholder => ({
  name: UNIT,
  means: `a sealed unit of ${t.app} (do the RUN block once for each sealed unit)`,
  findWith: sealStatusLoop(t),
});

/** Each unit and its seal status (counts and booleans: Vault's status holds no key). */
function sealStatusLoop(t: Target): string {
  return `for U in $(${unitsCommand(t)}); do echo "$U $(${statusCommand(t, '"$U"')} | jq -c '{initialized, sealed, t, n, progress}')"; done`;
}

/**
 * The hidden-prompt loop for one unit: Vault's threshold and progress from its status, then one
 * prompt per key still needed, each key sent as the request body on stdin, Vault's answer reduced
 * to its seal progress (or its error list: Vault never echoes a key), the key unset.
 */
function unsealLoop(t: Target): string {
  const u = `"$${UNIT}"`;
  const body = `printf '{"key":"%s"}' "$K"`;
  const answer = `jq -c 'if .errors then {errors} else {sealed, t, progress} end'`;
  return [
    `( S=$(${statusCommand(t, u)})`,
    `T=$(jq -r .t <<<"$S")`,
    `P=$(jq -r .progress <<<"$S")`,
    `[ "$(jq -r .sealed <<<"$S")" = true ] || { echo "${"$"}${UNIT}: sealed=$(jq -r .sealed <<<"$S"), no key asked"; exit 0; }`,
    `for ((i = P + 1; i <= T; i++)); do read -r -s -p "Unseal key $i of $T for ${"$"}${UNIT}: " K; echo; ${body} | ${unsealRequest(t, u)} | ${answer}; unset K; done )`,
  ].join("; ");
}

/** VAULT_UNSEAL by hand: find the sealed units, unseal each at hidden prompts, check it. */
export function unsealProcedure(f: Target & { "unseal-by"?: string }): ManualProcedure {
  const u = `"$${UNIT}"`;
  const byKeyholders = f["unseal-by"] === "keyholders";
  const blocks: ManualBlock[] = [
    {
      label: "CHECK",
      says: `each ${f.app} unit's seal status: threshold t of n and the progress Vault holds; the sealed ones are the units to unseal (initialized=false or a non-shamir seal: BLOCKER, escalate, never init)`,
      where: "jumphost",
      commands: [sealStatusLoop(f)],
    },
    {
      label: "RUN",
      says: `${byKeyholders ? "keyholders, " : ""}for each sealed unit (UNIT=<unit>): type the keys still needed (t less progress) at the hidden prompt; each key goes to Vault on stdin, never in argv or history; missing keys = recovery BLOCKER: escalate, never improvise`,
      where: "jumphost",
      commands: [unsealLoop(f)],
    },
    {
      label: "CHECK",
      says: "the unit reports sealed=false",
      where: "jumphost",
      commands: [`${statusCommand(f, u)} | jq -e '.sealed == false'`],
    },
  ];
  return { section: STAGE3_SECTION, blocks, placeholders: [unitPlaceholder(f)] };
}

/** VAULT_UNSEALED by hand: every unit reports sealed=false (the runbook's "GATE: Sealed=false"). */
export function unsealedProcedure(f: Target & { timeout: string; interval: string }): ManualProcedure {
  return {
    section: STAGE3_SECTION,
    blocks: [
      {
        label: "GATE",
        says: `Sealed=false on every ${f.app} unit (each line ends sealed=false)`,
        where: "jumphost",
        commands: [
          `for U in $(${unitsCommand(f)}); do echo "$U sealed=$(${statusCommand(f, '"$U"')} | jq -r .sealed)"; done`,
        ],
        repeat: `every ${f.interval}, up to ${f.timeout}`,
      },
    ],
  };
}
