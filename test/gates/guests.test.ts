import {
  baselineVerdict,
  guestLine,
  guestPlan,
  guestsToStart,
  guestsVerdict,
  holdTargets,
  parseServerList,
  serverRef,
  type Server,
} from "../../gates/guests";
import { mustParse, readFixture } from "../fixtures";

const fixture = readFixture;

const servers = (rel: string): Server[] => mustParse(parseServerList(fixture(rel)));

const PLAIN = "openstack/server-list-all-projects.json";
const LONG = "openstack/server-list-all-projects-long.json";
const NAME_STATUS = "openstack/server-list-all-projects-name-status.json";
const DB_REPLICA_ID = "3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f";

const names = (list: readonly Server[]): string[] => list.map((s) => s.Name);

describe("parseServerList on the recorded outputs", () => {
  it.each([PLAIN, LONG, NAME_STATUS])("reads the four guests and their statuses from %s", (rel) => {
    expect(servers(rel).map((s) => [s.Name, s.Status])).toEqual([
      ["new-server-test", "ACTIVE"],
      ["capi-mgmt-v2", "ACTIVE"],
      ["db-replica", "SHUTOFF"],
      ["broken-build", "ERROR"],
    ]);
  });

  it("reads Power State as the integer the JSON format prints, and Networks as an object", () => {
    const long = servers(LONG);
    expect(long.map((s) => s["Power State"])).toEqual([1, 1, 4, 0]);
    expect(long[2].Networks).toEqual({ private: ["192.168.0.12"] });
    expect(long[3].Networks).toEqual({});
    expect(long[3].Host).toBeNull();
  });

  it("has IDs in the plain and --long shapes but not in the -c Name -c Status shape", () => {
    expect(servers(PLAIN)[2].ID).toBe(DB_REPLICA_ID);
    expect(servers(LONG)[2].ID).toBe(DB_REPLICA_ID);
    expect(servers(NAME_STATUS)[2].ID).toBeUndefined();
  });

  it.each(["openstack/server-list-all-projects.table.txt", "openstack/server-list-all-projects-name-status.table.txt"])(
    "refuses the table output %s with a named error",
    (rel) => {
      const r = parseServerList(fixture(rel));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^openstack server list: expected JSON output, found "\+-+/);
    },
  );

  it("refuses the raw Nova API body (what the CLI read) with a named error", () => {
    const r = parseServerList(fixture("openstack/api-bodies/servers-detail.stub-input.json"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^openstack server list: expected the document to match/);
  });

  it("names the server field that is missing", () => {
    const r = parseServerList(JSON.stringify([{ Name: "x" }]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^openstack server list: expected 0\.Status to match .*found nothing$/);
  });
});

describe("serverRef", () => {
  it("addresses a server by ID when listed (names need not be unique), else by name", () => {
    expect(serverRef(servers(PLAIN)[2])).toBe(DB_REPLICA_ID);
    expect(serverRef(servers(NAME_STATUS)[2])).toBe("db-replica");
  });
});

describe("guestsToStart", () => {
  it.each([PLAIN, LONG, NAME_STATUS])("starts the one unexpectedly SHUTOFF guest in %s", (rel) => {
    expect(names(guestsToStart(servers(rel), []))).toEqual(["db-replica"]);
  });

  it("leaves a held SHUTOFF guest out (held by name)", () => {
    expect(guestsToStart(servers(PLAIN), ["db-replica"])).toEqual([]);
  });

  it("leaves a held SHUTOFF guest out (held by ID)", () => {
    expect(guestsToStart(servers(LONG), [DB_REPLICA_ID])).toEqual([]);
  });

  it("never starts an ERROR guest (that is the hypervisor route, not a start)", () => {
    expect(names(guestsToStart(servers(PLAIN), []))).not.toContain("broken-build");
  });

  it("ignores blank hold entries and surrounding whitespace", () => {
    expect(guestsToStart(servers(PLAIN), ["", "  db-replica "])).toEqual([]);
  });
});

describe("holdTargets", () => {
  it("lists held guests that are still running, to stop before the window", () => {
    const t = holdTargets(servers(PLAIN), ["capi-mgmt-v2", "db-replica"]);
    expect(names(t.toStop)).toEqual(["capi-mgmt-v2"]);
    expect(t.unmatched).toEqual([]);
  });

  it("reports a hold name that matches no server, so an operator typo is visible", () => {
    const t = holdTargets(servers(PLAIN), ["db-replcia"]);
    expect(t.toStop).toEqual([]);
    expect(t.unmatched).toEqual(["db-replcia"]);
  });

  it("reports a hold ID as unmatched when the listing has no ID column", () => {
    expect(holdTargets(servers(NAME_STATUS), [DB_REPLICA_ID]).unmatched).toEqual([DB_REPLICA_ID]);
  });

  it("matches a hold ID against the listing that has IDs", () => {
    const t = holdTargets(servers(LONG), ["9e5476bd-a4ec-4653-93d6-72c93aa682ba"]);
    expect(names(t.toStop)).toEqual(["capi-mgmt-v2"]);
    expect(t.unmatched).toEqual([]);
  });
});

describe("guestsVerdict", () => {
  it("is an error routed to hypervisor-down when a non-held guest is in ERROR (recorded list)", () => {
    const v = guestsVerdict(servers(LONG), []);
    expect(v).toMatchObject({ ok: false, state: "error", route: "hypervisor-down" });
    expect(v.summary).toBe("guests: 2 of 4 guest(s) ACTIVE, 1 ERROR, 1 SHUTOFF");
    expect(v.details.some((d) => d.startsWith("broken-build (0b8d7c6e-5f4a-4321-8765-fedcba987654): ERROR"))).toBe(
      true,
    );
  });

  it("is waiting, routed to guests-shutoff, when only a non-held SHUTOFF guest remains", () => {
    const v = guestsVerdict(servers(PLAIN), ["broken-build"]);
    expect(v).toMatchObject({ ok: false, state: "waiting", route: "guests-shutoff" });
    expect(v.details).toContain("db-replica (3f4c2b9e-8a1d-4b6e-9c2f-1a2b3c4d5e6f): SHUTOFF (not held: start it)");
    expect(v.details).toContain("broken-build (0b8d7c6e-5f4a-4321-8765-fedcba987654): ERROR (held: ignored)");
  });

  it("passes when every non-held guest is ACTIVE, still reporting the held ones", () => {
    const v = guestsVerdict(servers(NAME_STATUS), ["db-replica", "broken-build"]);
    expect(v).toMatchObject({ ok: true, state: "all-active" });
    expect(v.route).toBeUndefined();
    expect(v.summary).toBe("guests: 2 of 2 guest(s) ACTIVE, 2 held");
    expect(v.details).toEqual(["db-replica: SHUTOFF (held: ignored)", "broken-build: ERROR (held: ignored)"]);
  });

  it("shows an unknown hold name in the details without failing the gate", () => {
    const v = guestsVerdict(servers(NAME_STATUS), ["db-replica", "broken-build", "db-replcia"]);
    expect(v.ok).toBe(true);
    expect(v.details).toContain('hold entry "db-replcia" matches no server');
  });

  it("keeps waiting on a guest that is still booting", () => {
    const v = guestsVerdict([{ Name: "web", Status: "BUILD" }], []);
    expect(v).toMatchObject({ ok: false, state: "waiting" });
    expect(v.details).toEqual(["web: BUILD (not ACTIVE yet)"]);
  });

  it("passes on a cloud with no guests", () => {
    expect(guestsVerdict([], [])).toMatchObject({ ok: true, state: "all-active" });
  });

  it("holds every server that shares a held name", () => {
    const twins: Server[] = [
      { ID: "a", Name: "scratch", Status: "SHUTOFF" },
      { ID: "b", Name: "scratch", Status: "SHUTOFF" },
    ];
    expect(guestsToStart(twins, ["scratch"])).toEqual([]);
    expect(guestsVerdict(twins, ["scratch"]).ok).toBe(true);
  });
});

describe("guestPlan and baselineVerdict: only guests that ran before the window count", () => {
  const before: Server[] = [
    { ID: "1", Name: "web", Status: "ACTIVE" },
    { ID: "2", Name: "stopped-by-tenant", Status: "SHUTOFF" },
    { ID: "3", Name: "shelved", Status: "SHELVED" },
    { ID: "4", Name: "paused", Status: "PAUSED" },
    { ID: "5", Name: "broken", Status: "ERROR" },
    { ID: "6", Name: "deleted-since", Status: "ACTIVE" },
  ];
  const now: Server[] = [
    { ID: "1", Name: "web", Status: "SHUTOFF" },
    { ID: "2", Name: "stopped-by-tenant", Status: "SHUTOFF" },
    { ID: "3", Name: "shelved", Status: "SHELVED" },
    { ID: "4", Name: "paused", Status: "SHUTOFF" },
    { ID: "5", Name: "broken", Status: "ERROR" },
    { ID: "7", Name: "new", Status: "SHUTOFF" },
  ];

  it("starts only what was ACTIVE before and is SHUTOFF now; names each guest's fate", () => {
    const plan = guestPlan(now, { baseline: before, hold: [] });
    expect(names(plan.toStart)).toEqual(["web"]);
    expect(plan.guests.map((g) => [g.server.Name, g.before, g.fate])).toEqual([
      ["web", "ACTIVE", "expected"],
      ["stopped-by-tenant", "SHUTOFF", "not-running-before"],
      ["shelved", "SHELVED", "not-running-before"],
      ["paused", "PAUSED", "not-running-before"],
      ["broken", "ERROR", "not-running-before"],
      ["new", undefined, "not-in-baseline"],
    ]);
    expect(names(plan.gone)).toEqual(["deleted-since"]);
  });

  it("matches by ID (a renamed guest is the same guest), by name only when a side has no ID", () => {
    const renamed = guestPlan([{ ID: "1", Name: "web-renamed", Status: "SHUTOFF" }], { baseline: before, hold: [] });
    expect(renamed.guests[0]).toMatchObject({ before: "ACTIVE", fate: "expected" });
    const noIds = guestPlan([{ Name: "web", Status: "SHUTOFF" }], {
      baseline: [{ Name: "web", Status: "ACTIVE" }],
      hold: [],
    });
    expect(names(noIds.toStart)).toEqual(["web"]);
  });

  it("hold wins over the baseline and startGuests; startGuests adds guests; unknown names are reported", () => {
    const plan = guestPlan(now, { baseline: before, hold: ["web"], named: ["new", "stopped-by-tenant", "nope"] });
    expect(names(plan.toStart)).toEqual(["stopped-by-tenant", "new"]);
    expect(plan.guests[0]?.fate).toBe("held");
    expect(plan.unmatchedNamed).toEqual(["nope"]);
  });

  it("without a baseline: only named guests are expected, the others are 'unknown'", () => {
    const plan = guestPlan(now, { hold: [], named: [] });
    expect(plan.toStart).toEqual([]);
    expect(new Set(plan.guests.map((g) => g.fate))).toEqual(new Set(["unknown"]));
  });

  it("the gate ignores SHELVED, PAUSED->SHUTOFF, ERROR and tenant-stopped guests; lists every guest before/now", () => {
    const up = now.map((s) => (s.Name === "web" ? { ...s, Status: "ACTIVE" } : s));
    const v = baselineVerdict(guestPlan(up, { baseline: before, hold: [] }), "baseline X");
    expect(v).toMatchObject({ ok: true, state: "all-active" });
    expect(v.summary).toBe("guests: 1 of 1 expected guest(s) ACTIVE, 5 not counted; baseline X");
    expect(v.details).toContain(
      "paused (4): before PAUSED, now SHUTOFF: not ACTIVE before the window: left as it was, not counted",
    );
    expect(v.details).toContain("deleted-since (6): before ACTIVE, now gone (deleted?): not counted");
    expect(v.details).toHaveLength(7);
  });

  it("an expected guest in ERROR is the hypervisor route; one still SHUTOFF is waiting", () => {
    expect(
      baselineVerdict(guestPlan([{ ID: "1", Name: "web", Status: "ERROR" }], { baseline: before, hold: [] }), "b"),
    ).toMatchObject({ ok: false, state: "error", route: "hypervisor-down" });
    expect(baselineVerdict(guestPlan(now, { baseline: before, hold: [] }), "b")).toMatchObject({
      ok: false,
      state: "waiting",
      route: "guests-shutoff",
    });
  });

  it("guestLine shows what the start step did", () => {
    const plan = guestPlan(now, { baseline: before, hold: [] });
    expect(guestLine(plan.guests[0]!, "SHUTOFF -> start sent")).toBe(
      "web (1): before ACTIVE, now SHUTOFF -> start sent: counted",
    );
  });
});
