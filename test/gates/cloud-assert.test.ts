import { cloudAssertVerdict } from "../../gates/cloud-assert";

const lines = (...l: string[]): string => `${l.join("\n")}\n`;

describe("cloudAssertVerdict", () => {
  it("passes on exit 0 with an exact CLOUD-ASSERT: PASS line", () => {
    const v = cloudAssertVerdict(0, lines("A1 keystone token: ok", "A4 chassis connected: ok", "CLOUD-ASSERT: PASS"));
    expect(v).toEqual({ ok: true, state: "pass", summary: "cloud-assert: CLOUD-ASSERT: PASS", details: [] });
  });

  it("tolerates surrounding whitespace and CRLF line ends on the PASS line", () => {
    expect(cloudAssertVerdict(0, "A1 ok\r\n   CLOUD-ASSERT: PASS  \r\n").ok).toBe(true);
  });

  it("fails with every FAIL line as a detail, routed to cloud-assert-fail", () => {
    const v = cloudAssertVerdict(
      1,
      lines(
        "A1 keystone token: ok",
        "A4 FAIL: chassis openstack2 not connected",
        "A6 FAIL: lb k8s-api-lb ERROR",
        "CLOUD-ASSERT: FAIL",
      ),
    );
    expect(v).toMatchObject({ ok: false, state: "fail", route: "cloud-assert-fail" });
    expect(v.summary).toBe("cloud-assert: CLOUD-ASSERT: FAIL (3 FAIL line(s), exit 1)");
    expect(v.details).toEqual([
      "A4 FAIL: chassis openstack2 not connected",
      "A6 FAIL: lb k8s-api-lb ERROR",
      "CLOUD-ASSERT: FAIL",
    ]);
  });

  it("is not a pass when a FAIL verdict line appears next to a PASS line, even with exit 0", () => {
    const v = cloudAssertVerdict(0, lines("CLOUD-ASSERT: PASS", "CLOUD-ASSERT: FAIL"));
    expect(v).toMatchObject({ ok: false, state: "fail" });
  });

  it("is not a pass when an assertion line says FAIL, even next to a PASS line", () => {
    const v = cloudAssertVerdict(0, lines("A2 FAIL: nova-compute down on openstack3", "CLOUD-ASSERT: PASS"));
    expect(v).toMatchObject({ ok: false, state: "fail", route: "cloud-assert-fail" });
    expect(v.details).toEqual(["A2 FAIL: nova-compute down on openstack3"]);
  });

  it("does not count CLOUD-ASSERT: PASS inside a longer line", () => {
    const v = cloudAssertVerdict(0, lines("expected CLOUD-ASSERT: PASS but the script stopped early"));
    expect(v).toMatchObject({ ok: false, state: "unknown" });
    expect(v.summary).toBe('cloud-assert: no "CLOUD-ASSERT: PASS" line, exit 0');
  });

  it("does not call a nonzero exit with a PASS line a pass", () => {
    const v = cloudAssertVerdict(2, lines("CLOUD-ASSERT: PASS"));
    expect(v).toMatchObject({ ok: false, state: "unknown", route: "tool-unavailable" });
    expect(v.summary).toBe('cloud-assert: a "CLOUD-ASSERT: PASS" line but exit 2: not a pass');
  });

  it("is unknown, showing the last line, when the script died without a verdict", () => {
    const v = cloudAssertVerdict(127, "bash: scripts/cloud-assert.sh: No such file or directory\n");
    expect(v).toMatchObject({ ok: false, state: "unknown" });
    expect(v.details).toEqual(["last output line: bash: scripts/cloud-assert.sh: No such file or directory"]);
  });

  it("is unknown on empty output and on a killed run", () => {
    expect(cloudAssertVerdict(0, "")).toMatchObject({ ok: false, state: "unknown", details: ["no output"] });
    expect(cloudAssertVerdict(null, lines("CLOUD-ASSERT: PASS")).ok).toBe(false);
  });

  it("fails on FAIL lines even when the script never printed its verdict line", () => {
    const v = cloudAssertVerdict(1, lines("FAIL: switch to the openstack model first"));
    expect(v).toMatchObject({ ok: false, state: "fail", details: ["FAIL: switch to the openstack model first"] });
    expect(v.summary).toBe("cloud-assert: FAIL lines without a verdict line (1 FAIL line(s), exit 1)");
  });
});
