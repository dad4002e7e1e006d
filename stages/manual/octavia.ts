/**
 * Stage 6's manual procedures (issue #24), as steps/octavia.ts does them: the LBs listed with
 * `openstack loadbalancer list`, only provisioning_status ERROR is failed over (gates/octavia.ts
 * failoverMove: PENDING_* is a failover or update under way, never sent again), then polled to
 * ACTIVE. `--provisioning-status` is python-octaviaclient's server-side filter of the same field.
 */
import { ref, type ManualBlock, type ManualPlaceholder } from "../manual";
import { sourceOpenrc } from "./cloud-assert";

export const SECTION = "ops-restart-procedure.md, Stage 6 -- Octavia LBs";
export const LB_ID = "LB_ID";

const LIST = "openstack loadbalancer list -c id -c name -c provisioning_status -c operating_status </dev/null";
export const IN_ERROR = "openstack loadbalancer list --provisioning-status ERROR -c id -c name -f value </dev/null";

export function graceBlocks(f: { openrc: string; grace: string; interval: string }): ManualBlock[] {
  return [
    {
      label: "CHECK",
      says: `read-only: LBs recover on their own once amphorae resume; look every ${f.interval} and stop waiting when none is in ERROR, at most ${f.grace}; after that the ones still in ERROR get a failover (next step)`,
      where: "jumphost",
      commands: [...sourceOpenrc(f.openrc), LIST, IN_ERROR],
      repeat: `every ${f.interval}, up to ${f.grace}`,
    },
  ];
}

export function failoverBlocks(f: { openrc: string }): ManualBlock[] {
  return [
    {
      label: "CHECK",
      says: "read-only: only if an LB is still provisioning_status ERROR after the grace; an LB in PENDING_* already has a failover or update under way: never send another",
      where: "jumphost",
      commands: [...sourceOpenrc(f.openrc), IN_ERROR],
    },
    {
      label: "RUN",
      says: `for each LB in ERROR listed above ("$${LB_ID}" = its id), never another LB; VIP and FIP are preserved; then poll it to ACTIVE`,
      where: "jumphost",
      commands: [
        `openstack loadbalancer failover ${ref(LB_ID)}`,
        `openstack loadbalancer show ${ref(LB_ID)} -c provisioning_status -f value`,
      ],
    },
  ];
}

export const failoverPlaceholders = (): ManualPlaceholder[] => [
  { name: LB_ID, means: "the id of one LB still in provisioning_status ERROR (each in turn)", findWith: IN_ERROR },
];

export function activeGate(f: { openrc: string; timeout: string; interval: string }): ManualBlock[] {
  return [
    {
      label: "GATE",
      says: "every LB is provisioning_status ACTIVE (the last command prints true)",
      where: "jumphost",
      commands: [
        ...sourceOpenrc(f.openrc),
        LIST,
        `openstack loadbalancer list -f json </dev/null | jq -e 'all(.[]; .provisioning_status == "ACTIVE")'`,
      ],
      repeat: `every ${f.interval}, up to ${f.timeout}`,
    },
  ];
}
