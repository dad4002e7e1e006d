/**
 * The flags of every step subcommand: the contract between the graph (stages/*.ts writes these
 * command lines) and the CLI (which parses them). A test parses every create line of the plan
 * against these schemas, so the two cannot drift apart.
 */
import { z } from "zod";
import { durationMs } from "../config/duration";
import { hostName } from "../config/schema";

const text = z.string().min(1, "expected a non-empty value");
const count = z.coerce.number().int().min(1);
const model = z.string().regex(/^[A-Za-z0-9._-]+:[A-Za-z0-9._/-]+$/, "expected controller:model");
const list = z.array(text).default([]);

const timing = { timeout: durationMs, interval: durationMs };
const mysqlTarget = { model, app: text, units: count };
const vaultTarget = { model, app: text };
const ovnTarget = { model, app: text, "chassis-app": text };
/**
 * Stage 5 against a baseline (steps/guests.ts): all optional; without --mode a step keeps the
 * pre-baseline rule (every SHUTOFF guest that is not held). The graph always passes --mode.
 */
const guestBaseline = {
  mode: z.enum(["planned", "unplanned"]).optional(),
  "baseline-dir": text.optional(),
  /** The operator's startGuests (names or IDs), repeated. */
  start: z.array(text).optional(),
  /** `--start-named yes`: startGuests is set (possibly to an empty list). */
  "start-named": z.enum(["yes"]).optional(),
};

/** How to reach one host's power control; which flags apply depends on --driver (checked in power/). */
export const powerFlagShape = {
  host: hostName,
  driver: z.enum(["maas", "ipmi", "virsh"]),
  "maas-url": text.optional(),
  "system-id": text.optional(),
  "api-key-file": text.optional(),
  "api-key-env": text.optional(),
  bmc: text.optional(),
  port: z.coerce.number().int().min(1).max(65535).optional(),
  user: text.optional(),
  "cipher-suite": z.coerce.number().int().min(0).max(17).optional(),
  "password-file": text.optional(),
  "password-env": text.optional(),
  uri: text.optional(),
  domain: text.optional(),
};

export const STEP_FLAGS = {
  "act baseline-capture": z.object({ model, openrc: text, dir: text }).strict(),
  "act hold-guests": z.object({ openrc: text, guest: list, ...timing }).strict(),
  "act power-off": z.object({ ...powerFlagShape, "graceful-timeout": durationMs, interval: durationMs }).strict(),
  "act power-on": z.object(powerFlagShape).strict(),
  "gate power-state": z.object({ ...powerFlagShape, expect: z.enum(["on", "off"]), ...timing }).strict(),
  "gate machines-started": z.object({ model, ...timing }).strict(),
  "check mysql-cluster": z.object(mysqlTarget).strict(),
  "act mysql-reboot-cluster-from-complete-outage": z.object(mysqlTarget).strict(),
  "gate mysql-cluster-online": z.object({ ...mysqlTarget, ...timing }).strict(),
  "act vault-unseal": z.object(vaultTarget).strict(),
  "gate vault-unsealed": z.object({ ...vaultTarget, ...timing }).strict(),
  "check ovn-chassis": z.object(ovnTarget).strict(),
  "act ovn-tls-sweep": z.object({ ...ovnTarget, "neutron-app": text, parallel: count }).strict(),
  "gate ovn-chassis-connected": z.object({ ...ovnTarget, ...timing }).strict(),
  "check nova-resume-flag": z.object({ model, app: text }).strict(),
  "act start-shutoff-guests": z.object({ openrc: text, hold: list, parallel: count, ...guestBaseline }).strict(),
  "gate guests-active": z.object({ openrc: text, hold: list, ...timing, ...guestBaseline }).strict(),
  "act octavia-grace": z.object({ openrc: text, grace: durationMs, interval: durationMs }).strict(),
  "act lb-failover": z.object({ openrc: text, parallel: count }).strict(),
  "gate lbs-active": z.object({ openrc: text, ...timing }).strict(),
  "gate cloud-assert": z.object({ openrc: text, script: text, ...timing }).strict(),
} as const;

export type StepKey = keyof typeof STEP_FLAGS;
export type StepFlags<K extends StepKey> = z.infer<(typeof STEP_FLAGS)[K]>;

/** `--json`: one JSON object per line on stdout instead of human lines (for records and CI). */
export const STEP_SWITCHES = ["json"] as const;
