/**
 * Runbook Stage 2 -- MySQL InnoDB cluster. Check FIRST; act only on a confirmed outage:
 * reboot-cluster-from-complete-outage is DESTRUCTIVE against an already-reformed cluster.
 * GATE: three units Cluster is ONLINE, exactly one Mode: R/W.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as z from "zod";
import type { Config } from "../config/schema";
import { budget, calls, gateWait } from "./budget";
import { app, count, model, timing } from "./flags";
import { defineStep, ON_FAILURE, type NewStage, type StepDef } from "./step-def";
import { timingFlags } from "./timing-flags";
import * as manual from "./manual/mysql";

const target = {
  model,
  app: app("the MySQL InnoDB cluster application (coldstart:apps.mysql)"),
  units: count.describe("how many cluster units there are (coldstart:mysqlUnits)"),
};

const mysqlCheckFlags = z.object(target).strict();
export const MYSQL_CHECK: StepDef<typeof mysqlCheckFlags> = defineStep({
  verb: "check",
  command: "mysql-cluster",
  flags: mysqlCheckFlags,
  summary:
    "read-only: classify the cluster (healthy / converging / complete outage); a partial outage or an unknown message stops here",
  expected: "a state the runbook knows how to continue from: healthy, converging, or a complete outage on every unit",
  onFailure: ON_FAILURE.check,
  manual: (f) => ({ section: `${manual.SECTION} (CHECK)`, blocks: manual.checkBlocks(f) }),
  handler: () => import("../steps/mysql").then((m) => m.mysqlCheck),
});

const mysqlRebootFlags = z.object(target).strict();
export const MYSQL_REBOOT: StepDef<typeof mysqlRebootFlags> = defineStep({
  verb: "act",
  command: "mysql-reboot-cluster-from-complete-outage",
  flags: mysqlRebootFlags,
  summary: "juju run reboot-cluster-from-complete-outage on the most up-to-date unit, at most once per window",
  guard: (f) =>
    `every one of the ${f.units} units shows the complete-outage signature (re-read just before acting); otherwise nothing runs`,
  destructive: true,
  expected:
    "every unit shows the complete-outage signature and no earlier attempt in this window; then the action succeeds on the most up-to-date unit",
  onFailure: ON_FAILURE.action,
  manual: (f) => ({
    section: `${manual.SECTION} (reboot-cluster-from-complete-outage; appendix-A mysql-innodb-cluster recovery)`,
    blocks: manual.rebootBlocks(f),
    placeholders: manual.rebootPlaceholders(f),
  }),
  handler: () => import("../steps/mysql").then((m) => m.mysqlReboot),
});

const mysqlClusterOnlineFlags = z.object({ ...target, ...timing }).strict();
export const MYSQL_CLUSTER_ONLINE: StepDef<typeof mysqlClusterOnlineFlags> = defineStep({
  verb: "gate",
  command: "mysql-cluster-online",
  flags: mysqlClusterOnlineFlags,
  summary: (f) => `waits until all ${f.units} units say Cluster is ONLINE and exactly one says Mode: R/W`,
  expected: "every unit says Cluster is ONLINE and exactly one says Mode: R/W",
  onFailure: ON_FAILURE.gate,
  manual: (f) => ({ section: `${manual.SECTION} (GATE)`, blocks: manual.onlineGate(f, f) }),
  handler: () => import("../steps/mysql").then((m) => m.mysqlClusterOnline),
});

export function mysql(config: Config, after: pulumi.Resource[], newStage: NewStage): pulumi.Resource[] {
  const stage = newStage("stage-2-mysql", {
    title: "Stage 2 -- MySQL InnoDB cluster",
    runbook: "ops-restart-procedure.md#stage-2----mysql-innodb-cluster",
    after,
  });
  const flags = { model: config.jujuModel, app: config.apps.mysql, units: config.mysqlUnits };
  const check = stage.step("mysql-check", MYSQL_CHECK, {
    flags,
    budget: budget(calls(config, 1, "juju status")),
    dependsOn: after,
  });
  const recover = stage.step("mysql-reboot-cluster", MYSQL_REBOOT, {
    flags,
    // juju status and juju operations, then one `juju run --wait=<what is left>` (juju show-task
    // polls when juju gives up first) on the leader and, when it names a more up-to-date member,
    // the same there with what is left (steps/mysql.ts): 10 x commandTimeout for the waits
    budget: budget(calls(config, 1, "juju status"), calls(config, 10, "juju run waits (2 attempts)")),
    dependsOn: [check],
  });
  const gate = stage.step("mysql-cluster-online", MYSQL_CLUSTER_ONLINE, {
    flags: { ...flags, ...timingFlags(config.gates.mysqlCluster) },
    budget: budget(gateWait(config.gates.mysqlCluster)),
    dependsOn: [recover],
  });
  stage.finish();
  return [gate];
}
