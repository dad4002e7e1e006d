/**
 * The fault campaign's pure part (issue #23 item 2): which calls are kill points, which are
 * state-changing requests, and how a killed window's requests are compared with a run without a kill.
 */
import { occurrenceMatcher, parseAtCall } from "../../drill/at-call";
import { countRequests, killPoints, requestDiff, requestOf, type LoggedCall } from "../../scripts/campaign/points";
import { spread } from "../../scripts/fault-campaign";

const call = (step: string, tool: string, ...argv: string[]): LoggedCall => ({ step, tool, argv });
const DOMSTATE = ["-c", "test:///x", "domstate", "--reason", "openstack1"];

describe("--at-call <prefix>#N (drill/at-call.ts)", () => {
  it("reads an occurrence at the end, else the first", () => {
    expect(parseAtCall("juju run")).toEqual({ prefix: "juju run", nth: 1 });
    expect(parseAtCall("virsh domstate#3")).toEqual({ prefix: "virsh domstate", nth: 3 });
    expect(parseAtCall("a#0")).toEqual({ prefix: "a#0", nth: 1 }); // #0 is no occurrence: part of the text
  });

  it("fires once, at the N-th call that starts with the prefix", () => {
    const m = occurrenceMatcher("virsh -c test:///x domstate#2");
    const fired = [
      call("s", "virsh", ...DOMSTATE),
      call("s", "virsh", "-c", "test:///x", "shutdown", "openstack1"),
      call("s", "virsh", ...DOMSTATE),
      call("s", "virsh", ...DOMSTATE),
    ].map(m);
    expect(fired).toEqual([false, false, true, false]);
  });

  it("without --at-call: the step's first call", () => {
    const m = occurrenceMatcher(undefined);
    expect([m(call("s", "juju", "status")), m(call("s", "juju", "status"))]).toEqual([true, false]);
  });
});

describe("requestOf: state-changing requests and their targets", () => {
  it.each([
    [call("p", "virsh", "-c", "test:///x", "shutdown", "openstack1"), "virsh shutdown openstack1"],
    [call("p", "virsh", "-c", "test:///x", "start", "openstack1"), "virsh start openstack1"],
    [call("p", "virsh", ...DOMSTATE), undefined],
    [
      call("p", "ipmitool", "-I", "lanplus", "-H", "10.0.0.1", "chassis", "power", "soft"),
      "ipmitool power soft 10.0.0.1",
    ],
    [call("p", "ipmitool", "-H", "10.0.0.1", "chassis", "power", "status"), undefined],
    [call("g", "openstack", "server", "stop", "abc"), "server stop abc"],
    [call("g", "openstack", "server", "list", "--long"), undefined],
    [call("l", "openstack", "loadbalancer", "failover", "lb1"), "loadbalancer failover lb1"],
    [
      call(
        "m",
        "juju",
        "run",
        "-m",
        "c:m",
        "mysql-innodb-cluster/1",
        "reboot-cluster-from-complete-outage",
        "--wait=60s",
      ),
      "juju run mysql-innodb-cluster/1 reboot-cluster-from-complete-outage",
    ],
    [call("m", "juju", "show-task", "-m", "c:m", "12"), undefined],
    [
      call(
        "o",
        "juju",
        "exec",
        "-m",
        "c:m",
        "--unit",
        "ovn-chassis/2",
        "--format=json",
        "--",
        "systemctl",
        "restart",
        "ovs-vswitchd",
        "ovn-controller",
      ),
      "juju exec ovn-chassis/2 systemctl restart ovs-vswitchd ovn-controller",
    ],
    [
      call(
        "o",
        "juju",
        "exec",
        "-m",
        "c:m",
        "--unit",
        "ovn-chassis/2",
        "--",
        "systemctl",
        "show",
        "-p",
        "InvocationID",
      ),
      undefined,
    ],
    [
      call(
        "v",
        "juju",
        "ssh",
        "-m",
        "c:m",
        "vault/0",
        "--",
        "curl",
        "-X",
        "PUT",
        "http://127.0.0.1:8220/v1/sys/unseal",
      ),
      "vault unseal vault/0",
    ],
    [call("v", "juju", "exec", "-m", "c:m", "--unit", "vault/0", "--", "vault", "status"), undefined],
  ])("%j -> %s", (c, want) => expect(requestOf(c)).toBe(want));
});

describe("killPoints and requestDiff", () => {
  const log = [
    call("baseline-capture", "juju", "status"),
    call("power-off-openstack1", "virsh", ...DOMSTATE),
    call("power-off-openstack1", "virsh", "-c", "test:///x", "shutdown", "openstack1"),
    call("power-off-openstack1", "virsh", ...DOMSTATE),
  ];

  it("every call of a state-changing step, by its occurrence; other steps none", () => {
    expect(killPoints(log)).toEqual([
      { step: "power-off-openstack1", atCall: "virsh -c test:///x domstate --reason openstack1#1", request: false },
      { step: "power-off-openstack1", atCall: "virsh -c test:///x shutdown openstack1#1", request: true },
      { step: "power-off-openstack1", atCall: "virsh -c test:///x domstate --reason openstack1#2", request: false },
    ]);
  });

  it("a request sent again, or never, is named with both counts", () => {
    const ref = countRequests(log);
    expect(requestDiff(ref, countRequests(log))).toEqual([]);
    expect(requestDiff(ref, countRequests([...log, log[2]!]))).toEqual([
      "virsh shutdown openstack1: sent 2x, a run with no kill sends it 1x",
    ]);
    expect(requestDiff(ref, countRequests(log.slice(0, 2)))).toEqual([
      "virsh shutdown openstack1: sent 0x, a run with no kill sends it 1x",
    ]);
  });

  it("spread picks n points evenly, first and last included", () => {
    expect(spread([1, 2, 3, 4, 5], 3)).toEqual([1, 3, 5]);
    expect(spread([1, 2], 5)).toEqual([1, 2]);
    expect(spread([1, 2, 3], undefined)).toEqual([1, 2, 3]);
  });
});
