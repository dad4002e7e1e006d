/**
 * Stage 4's manual procedures (issue #24). The chassis are what coldstart probes (steps/ovn.ts,
 * gates/ovn.ts): every unit of every application deployed from the ovn-chassis or
 * ovn-dedicated-chassis charm (octavia-ovn-chassis too), plus the stack's chassis app, each probed
 * with `juju exec --unit <u> -- ovn-appctl -t ovn-controller connection-status` and read by WHOLE
 * trimmed lines: "not connected" contains "connected", so a substring match would pass a chassis
 * that is down (gates/ovn.ts parseConnectionStatus).
 */
import { CHASSIS_CHARMS } from "../../gates/ovn";
import { ref, shellWord, type ManualBlock, type ManualPlaceholder } from "../manual";

export const SECTION = "ops-restart-procedure.md, Stage 4 -- OVN chassis";
export const SWEEP_SECTION = `${SECTION}; appendix-A post-vault TLS restart sweep`;
export const PROBE = "ovn-appctl -t ovn-controller connection-status";
/** What steps/ovn.ts restarts on a chassis that is not connected, in its order. */
export const CHASSIS_SERVICES = "ovs-vswitchd ovn-controller";

interface Target {
  model: string;
  "chassis-app": string;
}

/**
 * The chassis units, one a line: applications whose charm (`charm-name`, else `charm` without its
 * schema, path and revision: gates/ovn.ts charmOf) is a chassis charm, or the stack's chassis app;
 * their units as principals (ovn-dedicated-chassis) or as subordinates of any principal.
 */
export function chassisUnits(t: Target): string {
  const charms = CHASSIS_CHARMS.map((c) => JSON.stringify(c)).join(", ");
  const program =
    `[.applications | to_entries[] | select(((.value."charm-name" // "") as $n | if $n != "" then $n else (.value.charm // "" | sub("^[a-z]+:"; "") | sub(".*/"; "") | sub("-[0-9]+$"; "")) end | IN(${charms})) or .key == ${JSON.stringify(t["chassis-app"])}) | .key] as $apps` +
    ` | [.applications[] | .units // {} | to_entries[] | .key, (.value.subordinates // {} | keys[])] | map(select(split("/")[0] | IN($apps[]))) | unique | .[]`;
  return `juju status -m ${shellWord(t.model)} --format=json | jq -r ${shellWord(program)}`;
}

/** The probe on the unit in `$u`, read by whole trimmed lines: "<unit>: connected | not connected | UNRECOGNISED: ...". */
function probeLine(model: string): string {
  return (
    `out=$(juju exec -m ${shellWord(model)} --unit "$u" -- ${PROBE}); ` +
    `if grep -Eqx '[[:space:]]*not connected[[:space:]]*' <<<"$out"; then echo "$u: not connected"; ` +
    `elif grep -Eqx '[[:space:]]*connected[[:space:]]*' <<<"$out"; then echo "$u: connected"; ` +
    `else echo "$u: UNRECOGNISED: $out"; fi`
  );
}

/** Probe every chassis: one line per unit, with the whole-line reading. */
export function probeEvery(t: Target): string {
  return `for u in $(${chassisUnits(t)}); do ${probeLine(t.model)}; done`;
}

/** The chassis that are not connected (or whose answer is not recognised): the sweep's units. */
export function notConnected(t: Target): string {
  return `${probeEvery(t)} | grep -v ': connected$'`;
}

/** The gate's reading: every probe line, then `GATE NOT MET` (exit 1) unless there is one and each says connected. */
export function allConnected(t: Target): string {
  return `${probeEvery(t)} | awk '{ print } !/: connected$/ { bad = 1 } END { if (bad || NR == 0) { print "GATE NOT MET"; exit 1 } }'`;
}

export const CHASSIS_UNIT = "CHASSIS_UNIT";

export function checkBlocks(t: Target): ManualBlock[] {
  return [
    {
      label: "CHECK",
      says: "read-only: connection-status on every chassis, one line each (the probe, not the charm message; read by whole line: `not connected` contains `connected`)",
      where: "jumphost",
      commands: [probeEvery(t)],
    },
  ];
}

export function sweepBlocks(t: Target & { "neutron-app": string }): ManualBlock[] {
  const model = shellWord(t.model);
  const neutron = `.applications.${JSON.stringify(t["neutron-app"])}.units // {} | keys[]`;
  return [
    {
      label: "CHECK",
      says: "only if at least one chassis is not connected (re-probed just before acting): these are the affected units; none listed = nothing to sweep",
      where: "jumphost",
      commands: [notConnected(t)],
    },
    {
      label: "RUN",
      says: `on each affected chassis unit only (one at a time, "$${CHASSIS_UNIT}" = each unit listed above): restart ${CHASSIS_SERVICES}`,
      where: "jumphost",
      commands: [`juju exec -m ${model} --unit ${ref(CHASSIS_UNIT)} -- systemctl restart ${CHASSIS_SERVICES}`],
    },
    {
      label: "RUN",
      says: `then neutron-server on every ${t["neutron-app"]} unit, one after another`,
      where: "jumphost",
      commands: [
        `for u in $(juju status -m ${model} ${shellWord(t["neutron-app"])} --format=json | jq -r ${shellWord(neutron)}); do juju exec -m ${model} --unit "$u" -- systemctl restart neutron-server; done`,
      ],
    },
    {
      label: "CHECK",
      says: "re-probe every chassis",
      where: "jumphost",
      commands: [probeEvery(t)],
    },
  ];
}

export function sweepPlaceholders(t: Target): ManualPlaceholder[] {
  return [
    {
      name: CHASSIS_UNIT,
      means: "a chassis unit that reports not connected (each in turn)",
      findWith: notConnected(t),
    },
  ];
}

export function connectedGate(t: Target, timing: { timeout: string; interval: string }): ManualBlock[] {
  return [
    {
      label: "GATE",
      says: "every chassis reports connected: every line says `<unit>: connected`, at least one line, and no `GATE NOT MET`",
      where: "jumphost",
      commands: [allConnected(t)],
      repeat: `every ${timing.interval}, up to ${timing.timeout}`,
    },
  ];
}
