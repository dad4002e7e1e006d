/**
 * Runbook Stages 1, 2, 4, 5 -- zod schemas of the juju outputs the gates read.
 *
 * Lenient on purpose: every object is loose (unknown keys pass through) and only the keys a
 * gate reads are required. Shapes follow Juju 3.x `--format=json` (fixtures/README S-juju-fmt,
 * S-machines, S-run3, S-config); the one verbatim capture is
 * fixtures/juju/reference.jubilant.juju-3.6.4.subordinates.status.json.
 */
import * as z from "zod";

/** A status object: `current` always, `message` omitted when empty (Go omitempty). */
export const StatusInfoSchema = z.looseObject({
  current: z.string(),
  message: z.string().optional(),
});
export type StatusInfo = z.infer<typeof StatusInfoSchema>;

/** A machine of `juju machines` / `juju status`; LXD containers nest under their host. */
export interface JujuMachine {
  "juju-status": StatusInfo;
  hostname?: string;
  "dns-name"?: string;
  "ip-addresses"?: string[];
  containers?: Record<string, JujuMachine>;
}

export const JujuMachineSchema: z.ZodType<JujuMachine> = z.looseObject({
  "juju-status": StatusInfoSchema,
  hostname: z.string().optional(),
  "dns-name": z.string().optional(),
  "ip-addresses": z.array(z.string()).optional(),
  get containers() {
    return z.record(z.string(), JujuMachineSchema).optional();
  },
});

const MachineMapSchema = z.record(z.string(), JujuMachineSchema);

/** `juju machines --format=json`: `model` is the model NAME here (an object in `juju status`). */
export const JujuMachinesDocSchema = z.looseObject({
  model: z.union([z.string(), z.looseObject({})]).optional(),
  machines: MachineMapSchema,
});
export type JujuMachinesDoc = z.infer<typeof JujuMachinesDocSchema>;

/** A subordinate unit: same as a unit but without `machine` (it lives in its principal's). */
export const JujuSubordinateUnitSchema = z.looseObject({
  "workload-status": StatusInfoSchema,
  "juju-status": StatusInfoSchema,
  leader: z.boolean().optional(),
  "public-address": z.string().optional(),
});
export type JujuSubordinateUnit = z.infer<typeof JujuSubordinateUnitSchema>;

/** A principal unit; `leader` is omitted when false. */
export const JujuUnitSchema = z.looseObject({
  "workload-status": StatusInfoSchema,
  "juju-status": StatusInfoSchema,
  leader: z.boolean().optional(),
  machine: z.string().optional(),
  "public-address": z.string().optional(),
  subordinates: z.record(z.string(), JujuSubordinateUnitSchema).optional(),
});
export type JujuUnit = z.infer<typeof JujuUnitSchema>;

/** A subordinate application (ovn-chassis) has `subordinate-to` and no `units`. */
export const JujuApplicationSchema = z.looseObject({
  "application-status": StatusInfoSchema.optional(),
  "subordinate-to": z.array(z.string()).optional(),
  units: z.record(z.string(), JujuUnitSchema).optional(),
});
export type JujuApplication = z.infer<typeof JujuApplicationSchema>;

/** `juju status [<app>] --format=json`. */
export const JujuStatusDocSchema = z.looseObject({
  machines: MachineMapSchema.optional(),
  applications: z.record(z.string(), JujuApplicationSchema),
});
export type JujuStatusDoc = z.infer<typeof JujuStatusDocSchema>;

/** One task of `juju run <unit> <action> --format=json` (Juju 3). */
export const JujuActionTaskSchema = z.looseObject({
  id: z.union([z.string(), z.number()]),
  status: z.string(),
  message: z.string().optional(),
  results: z
    .looseObject({
      outcome: z.string().optional(),
      output: z.string().optional(),
      // Both the charm (action-set, a string) and Juju (an int) may set it: never keyed on.
      "return-code": z.unknown().optional(),
    })
    .optional(),
  timing: z.looseObject({}).optional(),
  unit: z.string().optional(),
});
export type JujuActionTask = z.infer<typeof JujuActionTaskSchema>;

/** `juju run … --format=json` prints a map unit -> task. */
export const JujuRunDocSchema = z.record(z.string(), JujuActionTaskSchema);
export type JujuRunDoc = z.infer<typeof JujuRunDocSchema>;

/** One option of `juju config <app> --format=json`; `value` is absent when unset. */
export const JujuConfigOptionSchema = z.looseObject({
  default: z.unknown().optional(),
  description: z.string().optional(),
  source: z.string(),
  type: z.string(),
  value: z.unknown().optional(),
});
export type JujuConfigOption = z.infer<typeof JujuConfigOptionSchema>;

export const JujuConfigDocSchema = z.looseObject({
  application: z.string(),
  charm: z.string(),
  settings: z.record(z.string(), JujuConfigOptionSchema),
});
export type JujuConfigDoc = z.infer<typeof JujuConfigDocSchema>;
