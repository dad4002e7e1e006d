/**
 * Issue #23: a start / stop is decided from the server as listed now (Status + Task State), so a
 * resume after a kill right after the call waits for the request already under way instead of
 * sending it again (nova's 409). Rows in the recorded `server list --all-projects --long -f json`
 * shape (test/recorded/openstack/server-list-all-projects-long.json), with the task states nova
 * sets (nova/compute/task_states.py).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseServerList, powerMove, powerMoveNote, type Server } from "../../gates/guests";
import { failoverMove, parseLoadBalancers } from "../../gates/octavia";

const recorded = (file: string) => fs.readFileSync(path.join(__dirname, "..", "recorded", file), "utf8");

function longRow(status: string, task: string | null): Server {
  const parsed = parseServerList(recorded("openstack/server-list-all-projects-long.json"));
  if (!parsed.ok) throw new Error(parsed.error);
  return { ...parsed.value[0], Status: status, "Task State": task };
}

describe("powerMove: send, wait for the request under way, or nothing", () => {
  it.each([
    ["stop", "ACTIVE", null, "send"],
    ["stop", "ACTIVE", "powering-off", "in-progress"],
    ["stop", "SHUTOFF", null, "done"],
    ["stop", "SHUTOFF", "powering-on", "busy"],
    ["stop", "ACTIVE", "rebooting", "busy"],
    ["start", "SHUTOFF", null, "send"],
    ["start", "SHUTOFF", "powering-on", "in-progress"],
    ["start", "ACTIVE", null, "done"],
    ["start", "ACTIVE", "powering-off", "busy"],
  ] as const)("%s of a server %s with task_state %s: %s", (verb, status, task, move) => {
    expect(powerMove(longRow(status, task), verb).move).toBe(move);
  });

  it("the recorded long listing (Task State null) sends a stop of an ACTIVE server", () => {
    expect(powerMove(longRow("ACTIVE", null), "stop")).toEqual({ move: "send" });
  });

  it("a listing without the Task State column decides by Status alone, as before", () => {
    const parsed = parseServerList(recorded("openstack/server-list-all-projects.json"));
    if (!parsed.ok) throw new Error(parsed.error);
    const active = parsed.value.find((s) => s.Status === "ACTIVE")!;
    expect(active["Task State"]).toBeUndefined();
    expect(powerMove(active, "stop").move).toBe("send");
    expect(powerMove(active, "start").move).toBe("done");
  });

  it("says what it found, for the console and the record", () => {
    expect(powerMoveNote("stop", powerMove(longRow("ACTIVE", "powering-off"), "stop"))).toBe(
      "stop already in progress (task_state powering-off): not sent again",
    );
    expect(powerMoveNote("start", powerMove(longRow("ACTIVE", "powering-off"), "start"))).toBe(
      "busy (task_state powering-off): nova refuses a start meanwhile",
    );
  });
});

describe("failoverMove: ERROR only; PENDING_* is a failover (or update) under way", () => {
  const lbs = parseLoadBalancers(recorded("octavia/loadbalancer-list.json"));
  if (!lbs.ok) throw new Error(lbs.error);
  const lb = lbs.value[0];
  it.each([
    ["ERROR", "failover"],
    ["PENDING_UPDATE", "in-progress"],
    ["PENDING_CREATE", "in-progress"],
    ["ACTIVE", "leave"],
  ] as const)("provisioning %s: %s", (status, move) => {
    expect(failoverMove({ ...lb, provisioning_status: status })).toBe(move);
  });
});
