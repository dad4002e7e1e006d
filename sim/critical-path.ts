/**
 * Simulated cloud -- the scenario's own critical path: the sum, along the runbook's chain, of
 * the waits the cloud itself imposes (hosts shutting down, agents starting, MySQL reassessing,
 * chassis reconnecting, guests resuming, LBs recovering), in sim seconds. A drill can never be
 * faster than this; the bench compares the drill's wall time with it.
 */
import type { Mode, Scenario } from "./scenario";

export interface PathPart {
  stage: string;
  seconds: number;
}

export function criticalPath(sc: Scenario, mode: Mode): { seconds: number; parts: PathPart[] } {
  const parts: PathPart[] = [];
  if (mode === "planned") {
    const holds = sc.guests.some((g) => g.held && g.statusBefore === "ACTIVE");
    parts.push({ stage: "pre-shutdown (hold guests)", seconds: holds ? sc.nova.stopSeconds : 0 });
    parts.push({ stage: "shutdown", seconds: sc.hosts.shutdownSeconds });
  }
  const machineDelays = [sc.agents.startSeconds, ...Object.values(sc.agents.byMachine)];
  parts.push({
    stage: "power-on + stage 1 (agents)",
    seconds: Math.max(...machineDelays) + sc.agents.containerExtraSeconds,
  });
  parts.push({
    stage: "stage 2 (mysql)",
    seconds: sc.mysql.afterBoot === "complete-outage" ? sc.mysql.staleSeconds : 0,
  });
  parts.push({
    stage: "stage 4 (ovn)",
    seconds: sc.ovn.notConnectedAfterBoot.length && sc.ovn.restartFixes ? sc.ovn.restartSeconds : 0,
  });
  const guestWaits = [
    ...(sc.guests.some((g) => g.resumes) ? [sc.nova.resumeSeconds] : []),
    ...(sc.guests.some((g) => !g.resumes && !g.held) ? [sc.nova.startSeconds] : []),
  ];
  parts.push({ stage: "stage 5 (guests)", seconds: guestWaits.length ? Math.max(...guestWaits) : 0 });
  const lbWaits = sc.loadBalancers.map((l) =>
    l.afterBoot === "ERROR" ? (l.recoversAfterSeconds ?? l.failoverSeconds) : (l.recoversAfterSeconds ?? 0),
  );
  parts.push({ stage: "stage 6 (octavia)", seconds: lbWaits.length ? Math.max(...lbWaits) : 0 });
  return { seconds: parts.reduce((n, p) => n + p.seconds, 0), parts };
}
