/**
 * Runbook Stage 2 -- MySQL InnoDB cluster. Check FIRST; act only on a confirmed outage:
 * reboot-cluster-from-complete-outage is DESTRUCTIVE against an already-reformed cluster.
 * GATE: three units Cluster is ONLINE, exactly one Mode: R/W.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Config } from "../config/schema";
import { budget, calls, gateWait } from "./budget";
import { RunbookStage } from "./stage";
import { timingFlags } from "./timing-flags";

export function mysql(config: Config, after: pulumi.Resource[]): pulumi.Resource[] {
  const stage = new RunbookStage(
    "stage-2-mysql",
    {
      title: "Stage 2 -- MySQL InnoDB cluster",
      runbook: "ops-restart-procedure.md#stage-2----mysql-innodb-cluster",
      after,
    },
    config,
  );
  const target = { model: config.jujuModel, app: config.apps.mysql, units: config.mysqlUnits };
  const check = stage.step("mysql-check", {
    verb: "check",
    command: "mysql-cluster",
    flags: target,
    summary:
      "read-only: classify the cluster (healthy / converging / complete outage); a partial outage or an unknown message stops here",
    budget: budget(calls(config, 1, "juju status")),
    dependsOn: after,
  });
  const recover = stage.step("mysql-reboot-cluster", {
    verb: "act",
    command: "mysql-reboot-cluster-from-complete-outage",
    flags: target,
    summary: "juju run reboot-cluster-from-complete-outage on the most up-to-date unit, at most once per window",
    guard: `every one of the ${config.mysqlUnits} units shows the complete-outage signature (re-read just before acting); otherwise nothing runs`,
    destructive: true,
    // juju status and juju operations, then one `juju run --wait=<what is left>` (juju show-task
    // polls when juju gives up first) on the leader and, when it names a more up-to-date member,
    // the same there with what is left (steps/mysql.ts): 10 x commandTimeout for the waits
    budget: budget(calls(config, 1, "juju status"), calls(config, 10, "juju run waits (2 attempts)")),
    dependsOn: [check],
  });
  const gate = stage.step("mysql-cluster-online", {
    verb: "gate",
    command: "mysql-cluster-online",
    flags: { ...target, ...timingFlags(config.gates.mysqlCluster) },
    summary: `waits until all ${config.mysqlUnits} units say Cluster is ONLINE and exactly one says Mode: R/W`,
    budget: budget(gateWait(config.gates.mysqlCluster)),
    dependsOn: [recover],
  });
  stage.finish();
  return [gate];
}
