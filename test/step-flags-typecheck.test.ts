/**
 * A stage passing a wrong or missing flag to a step is a COMPILE error: `stage.step(name, DEF,
 * { flags })` takes exactly `z.input<typeof DEF.flags>` (stages/step-def.ts). Each
 * `@ts-expect-error` below must meet an error, or `tsc --noEmit` (npm run typecheck / build)
 * fails with "Unused '@ts-expect-error' directive": that is how this file fails when the typing
 * regresses. The runtime half checks the same flags against the same schemas.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StageBuilder, StepFlags } from "../stages/step-def";
import { MYSQL_CHECK, MYSQL_CLUSTER_ONLINE } from "../stages/mysql";
import { POWER_ON } from "../stages/power-on";
import { budget } from "../stages/budget";

const use = { budget: budget(), dependsOn: [] as pulumi.Resource[] };

/** Never called: only compiled. */
export function wiring(stage: StageBuilder): void {
  const target = { model: "c:m", app: "mysql-innodb-cluster", units: 3 };
  stage.step("ok", MYSQL_CHECK, { ...use, flags: target });
  stage.step("ok-gate", MYSQL_CLUSTER_ONLINE, { ...use, flags: { ...target, timeout: "30m", interval: "20s" } });

  // @ts-expect-error a mistyped flag name (`unit` for `units`)
  stage.step("typo", MYSQL_CHECK, { ...use, flags: { model: "c:m", app: "x", unit: 3 } });
  // @ts-expect-error a missing flag (the gate's --timeout / --interval)
  stage.step("missing", MYSQL_CLUSTER_ONLINE, { ...use, flags: target });
  // @ts-expect-error a flag of the wrong type
  stage.step("type", MYSQL_CHECK, { ...use, flags: { ...target, model: 42 } });
  // @ts-expect-error a value outside the step's choices
  stage.step("driver", POWER_ON, { ...use, flags: { host: "openstack0", driver: "ilo" } });
}

/** Never called: a handler's flags are the parsed ones (durations in ms). */
export function handlerTypes(flags: StepFlags<typeof MYSQL_CLUSTER_ONLINE>): number {
  // @ts-expect-error the handler gets numbers, not the create line's text
  const text: string = flags.timeout;
  return flags.timeout + flags.units + text.length;
}

describe("the flags the type checker accepts are the ones the CLI parses", () => {
  it("accepts the well-typed flags and refuses the ill-typed ones at run time too", () => {
    const target = { model: "c:m", app: "mysql-innodb-cluster", units: 3 };
    expect(MYSQL_CHECK.flags.safeParse(target).success).toBe(true);
    expect(MYSQL_CHECK.flags.safeParse({ model: "c:m", app: "x", unit: 3 }).success).toBe(false);
    expect(MYSQL_CLUSTER_ONLINE.flags.safeParse(target).success).toBe(false);
    expect(MYSQL_CLUSTER_ONLINE.flags.parse({ ...target, timeout: "30m", interval: "20s" }).timeout).toBe(1_800_000);
    expect(POWER_ON.flags.safeParse({ host: "openstack0", driver: "ilo" }).success).toBe(false);
  });
});
