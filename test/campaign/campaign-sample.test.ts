/**
 * A sample of `npm run campaign` in `npm test` (issue #23 item 2; the whole campaign is a CI step):
 * the reference drill of the planned scenario, its kill points (every call of every state-changing
 * step, not only the first), and two of them run as the campaign runs them: a kill -9 right after
 * hold-guests' `openstack server stop` and right after power-off's delivered soft-off (openstack1's
 * first one timed out on libvirt's lock), each then --resume: survived.
 */
import { campaignBase, reference, runPoint, SCENARIOS, type Reference } from "../../scripts/campaign/run";
import { summaryLine } from "../../scripts/fault-campaign";

const PLANNED = SCENARIOS.find((s) => s.scenario === "campaign-planned")!;
let ref: Reference;
const base = campaignBase();

beforeAll(async () => {
  ref = await reference(PLANNED, base);
}, 180_000);

it("has a kill point at every call of every state-changing step, by occurrence", () => {
  const steps = new Set(ref.points.map((p) => p.step));
  for (const s of [
    "hold-guests",
    "power-off-openstack1",
    "power-on-openstack1",
    "mysql-reboot-cluster",
    "vault-unseal",
    "ovn-tls-sweep",
    "start-shutoff-guests",
    "lb-failover",
  ])
    expect(steps).toContain(s);
  expect(ref.points.map((p) => p.atCall)).toEqual(
    expect.arrayContaining([
      "virsh -c test:///coldstart-sim shutdown openstack1#2",
      "juju ssh -m maas-controller:openstack vault/0 -- curl -sS --max-time 30 -X PUT --data-binary @- http://127.0.0.1:8220/v1/sys/unseal#3",
    ]),
  );
  expect(ref.points.length).toBeGreaterThan(3 * steps.size); // not one point per step: every call
});

it("two kill points, run as the campaign does: each survived", async () => {
  const pick = [
    "openstack server stop 3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f#1",
    "virsh -c test:///coldstart-sim shutdown openstack1#2",
  ];
  const points = ref.points.filter((p) => pick.includes(p.atCall));
  expect(points).toHaveLength(2);
  const results = await Promise.all(points.map((p) => runPoint(ref, p, base)));
  expect(results.flatMap((r) => r.problems)).toEqual([]);
  expect(summaryLine(results)).toBe("fault campaign: 2 kill points, 2 survived");
}, 240_000);
