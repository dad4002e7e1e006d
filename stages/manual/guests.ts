/**
 * Stage 5's manual procedures (issue #24). Which guests coldstart starts and waits for
 * (steps/guests.ts, gates/guests.ts guestPlan): SHUTOFF now, ACTIVE in the baseline (this window's
 * capture when planned, the newest when unplanned) or named in startGuests, and never a held one
 * (holdGuests, by name or ID). A guest whose Task State is set is not sent a start (nova refuses
 * it; powering-on is an earlier start under way: gates/guests.ts powerMove).
 */
import { ref, shellWord, type ManualBlock, type ManualPlaceholder } from "../manual";
import { sourceOpenrc } from "./cloud-assert";

export const SECTION = "ops-restart-procedure.md, Stage 5 -- guests";
export const RESUME_OPTION = "resume-guests-state-on-host-boot";

export interface GuestFlags {
  openrc: string;
  hold?: string[];
  mode?: string;
  "baseline-dir"?: string;
  start?: string[];
  "start-named"?: "yes";
}

export const BASELINE = "BASELINE";
export const GUEST_ID = "GUEST_ID";

export function resumeFlagCheck(f: { model: string; app: string }): ManualBlock[] {
  return [
    {
      label: "CHECK",
      says: `read-only: must print true (D-043); false = regressed: it takes effect only on the NEXT boot, so start the guests by hand now (next step) and restore the bundle's value after the window`,
      where: "jumphost",
      commands: [`juju config -m ${shellWord(f.model)} ${shellWord(f.app)} ${RESUME_OPTION}`],
    },
  ];
}

const json = (values: readonly string[]): string => shellWord(JSON.stringify(values));
const byBaseline = (f: GuestFlags): boolean => f.mode !== undefined;

/** `openstack server list --all-projects --long -f json` through jq: the guests the rule counts, one line each. */
function counted(f: GuestFlags, then: string): string {
  const held = `((.Name | IN($hold[])) or (.ID | IN($hold[])))`;
  const args = [`--argjson hold ${json(f.hold ?? [])}`];
  let program: string;
  if (byBaseline(f)) {
    args.unshift(`--slurpfile before ${ref(BASELINE)}/servers.json`);
    args.push(`--argjson start ${json(f.start ?? [])}`);
    program =
      `($before[0] | map(select(.Status == "ACTIVE"))) as $ran | .[] | select(${held} | not) | . as $s` +
      ` | select(any($ran[]; if .ID != null and $s.ID != null then .ID == $s.ID else .Name == $s.Name end) or (.Name | IN($start[])) or (.ID | IN($start[])))` +
      ` | ${then}`;
  } else {
    program = `.[] | select(${held} | not) | ${then}`;
  }
  return `openstack server list --all-projects --long -f json </dev/null | jq -r ${args.join(" ")} ${shellWord(program)}`;
}

/** The guests to start: counted, SHUTOFF, no task under way. */
export function toStart(f: GuestFlags): string {
  return counted(f, `select(.Status == "SHUTOFF" and ((."Task State" // "") == "")) | "\\(.ID)  \\(.Name)"`);
}

/** Counted guests that are not ACTIVE yet (the gate holds when this prints nothing). */
export function notActive(f: GuestFlags): string {
  return counted(
    f,
    `select(.Status != "ACTIVE") | "\\(.ID)  \\(.Name)  \\(.Status)  task_state=\\(."Task State" // "-")"`,
  );
}

function baselinePlaceholder(f: GuestFlags): ManualPlaceholder {
  const dir = shellWord(f["baseline-dir"] ?? "~/openstack-baseline");
  const which =
    f.mode === "planned"
      ? "the folder this window's baseline-capture wrote (its coldstart-baseline.json names this window)"
      : "the newest folder there (the last one listed), whatever window made it";
  return {
    name: BASELINE,
    means: `the baseline folder in ${f["baseline-dir"] ?? "~/openstack-baseline"} that says which guests ran before the window: ${which}`,
    findWith: `for d in ${dir}/*-pre-maintenance; do [ -f "$d/servers.json" ] && echo "$d  $(jq -r '"window=\\(.window) captured=\\(.capturedAt)"' "$d/coldstart-baseline.json" 2>/dev/null)"; done`,
  };
}

function ruleSays(f: GuestFlags): string {
  const held = (f.hold ?? []).length === 0 ? "no held guests" : `held guests excluded: ${(f.hold ?? []).join(", ")}`;
  if (!byBaseline(f)) return `every SHUTOFF guest that is not held (no baseline rule); ${held}`;
  const named =
    f["start-named"] === undefined
      ? "(no baseline folder: a BLOCKER; name the guests in startGuests, never guess)"
      : `plus startGuests (${(f.start ?? []).length === 0 ? "none" : (f.start ?? []).join(", ")})`;
  return `guests ACTIVE in the baseline ${named}; ${held}`;
}

export function startBlocks(f: GuestFlags): ManualBlock[] {
  return [
    {
      label: "CHECK",
      says: "read-only: every guest, with its status and task state",
      where: "jumphost",
      commands: [
        ...sourceOpenrc(f.openrc),
        "openstack server list --all-projects --long -c ID -c Name -c Status -c 'Task State' </dev/null",
      ],
    },
    {
      label: "CHECK",
      says: `read-only: the unexpectedly SHUTOFF guests to start: ${ruleSays(f)}; a guest with a task state set gets no start`,
      where: "jumphost",
      commands: [toStart(f)],
    },
    {
      label: "RUN",
      says: `for each guest listed above, never a held one ("$${GUEST_ID}" = its ID)`,
      where: "jumphost",
      commands: [`openstack server start ${ref(GUEST_ID)}`],
    },
  ];
}

export function startPlaceholders(f: GuestFlags): ManualPlaceholder[] {
  return [
    ...(byBaseline(f) ? [baselinePlaceholder(f)] : []),
    { name: GUEST_ID, means: "the ID of one guest to start (each in turn)", findWith: toStart(f) },
  ];
}

export function activeGate(f: GuestFlags & { timeout: string; interval: string }): ManualBlock[] {
  return [
    {
      label: "GATE",
      says: `every guest that ran before the window (${ruleSays(f)}) is ACTIVE: the last command prints nothing; one in ERROR routes to hypervisor-down`,
      where: "jumphost",
      commands: [
        ...sourceOpenrc(f.openrc),
        "openstack server list --all-projects -c Name -c Status </dev/null",
        notActive(f),
      ],
      repeat: `every ${f.interval}, up to ${f.timeout}`,
    },
  ];
}

export function activePlaceholders(f: GuestFlags): ManualPlaceholder[] {
  return byBaseline(f) ? [baselinePlaceholder(f)] : [];
}
