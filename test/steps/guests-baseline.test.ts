/**
 * Stage 5 against a baseline (steps/guests.ts with --mode): which baseline is read (this window's
 * for a planned window, the newest for an unplanned one), that only guests ACTIVE in it are
 * started and counted, the BLOCKER when there is none, and startGuests. The openstack CLI is a
 * fake; the baseline folders are real files in a temp dir.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestsActive, startShutoffGuests } from "../../steps/guests";
import { baselineCapture, BASELINE_META } from "../../steps/baseline";
import { EXIT } from "../../runtime/exit-codes";
import { readFixture } from "../fixtures";
import { fakeExec, OPENRC_CALL, openrcReply, testContext, type FakeExec } from "../support/fake-exec";

const OPENRC = "~/admin-openrc";
// hold-guests and start-shutoff-guests list with --long (Task State); the gate without
const SERVER_LIST = /^openstack server list --all-projects (--long )?-f json$/;
const SERVER_START = /^openstack server start (\S+)$/;
const NOW = Date.UTC(2026, 11, 5, 9, 0, 0);

interface Row {
  ID: string;
  Name: string;
  Status: string;
}
const id = (n: number) => `0a1b2c3d-000${n}-4000-8000-00000000000${n}`;
const row = (n: number, Name: string, Status: string): Row => ({ ID: id(n), Name, Status });

/** The cloud now: three SHUTOFF guests with different pasts, one SHELVED, one ERROR, one ACTIVE. */
const NOW_LIST: Row[] = [
  row(1, "web-1", "SHUTOFF"),
  row(2, "app-2", "ACTIVE"),
  row(3, "tenant-stopped", "SHUTOFF"),
  row(4, "shelved-1", "SHELVED"),
  row(5, "paused-1", "SHUTOFF"),
  row(6, "broken-1", "ERROR"),
  row(7, "created-later", "SHUTOFF"),
];
/** Before the window: web-1 and app-2 ran; the others did not (created-later did not exist). */
const BEFORE: Row[] = [
  row(1, "web-1", "ACTIVE"),
  row(2, "app-2", "ACTIVE"),
  row(3, "tenant-stopped", "SHUTOFF"),
  row(4, "shelved-1", "SHELVED"),
  row(5, "paused-1", "PAUSED"),
  row(6, "broken-1", "ERROR"),
];

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-guests-baseline-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeBaseline(folder: string, servers: Row[], window?: string): string {
  const d = path.join(dir, folder);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, "servers.json"), JSON.stringify(servers, null, 2));
  const [, y, mo, day, h, mi] = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})/.exec(folder)!;
  const capturedAt = `${y}-${mo}-${day}T${h}:${mi}:00.000Z`;
  if (window !== undefined)
    fs.writeFileSync(
      path.join(d, BASELINE_META),
      JSON.stringify({ window, stack: "roosevelt", model: "c:openstack", capturedAt }),
    );
  return d;
}

function cloud(list: Row[] | ((n: number) => Row[]) = NOW_LIST): FakeExec {
  return fakeExec()
    .on(OPENRC_CALL, openrcReply())
    .on(SERVER_LIST, (_c, n) => JSON.stringify(typeof list === "function" ? list(n) : list))
    .on(SERVER_START, "");
}

const ctxFor = (fake: FakeExec, window = "2026-12-05-roosevelt") =>
  testContext(fake, { env: { HOME: "/home/operator", COLDSTART_WINDOW: window }, start: NOW });
const startFlags = (mode: "planned" | "unplanned", extra: Record<string, unknown> = {}) => ({
  openrc: OPENRC,
  hold: [] as string[],
  parallel: 4,
  mode,
  "baseline-dir": dir,
  ...extra,
});
const started = (fake: FakeExec) => fake.lines(SERVER_START).map((l) => l.split(" ").pop());

describe("planned: this window's baseline", () => {
  it("starts only the guests ACTIVE in this window's capture; tenant-stopped, paused, shelved, ERROR and new guests are left alone", async () => {
    writeBaseline("20261205-060000-pre-maintenance", BEFORE, "2026-12-05-roosevelt");
    const fake = cloud();
    const ctx = ctxFor(fake);
    const o = await startShutoffGuests(startFlags("planned"), ctx);
    expect(started(fake)).toEqual([id(1)]);
    expect(o).toMatchObject({ exitCode: EXIT.ok, outcome: "pass", verdict: { state: "started" } });
    expect(o.verdict.summary).toMatch(
      /^started 1 of 1 SHUTOFF guest\(s\) that ran before the window: web-1; baseline /,
    );
    expect(o.verdict.summary).toContain("this window's, captured 2026-12-05T06:00:00.000Z, 3h 0m ago");
    // every guest, before and now, in the record
    expect(o.verdict.details).toEqual([
      `web-1 (${id(1)}): before ACTIVE, now SHUTOFF -> start sent: counted`,
      `app-2 (${id(2)}): before ACTIVE, now ACTIVE: counted`,
      `tenant-stopped (${id(3)}): before SHUTOFF, now SHUTOFF: not ACTIVE before the window: left as it was, not counted`,
      `shelved-1 (${id(4)}): before SHELVED, now SHELVED: not ACTIVE before the window: left as it was, not counted`,
      `paused-1 (${id(5)}): before PAUSED, now SHUTOFF: not ACTIVE before the window: left as it was, not counted`,
      `broken-1 (${id(6)}): before ERROR, now ERROR: not ACTIVE before the window: left as it was, not counted`,
      `created-later (${id(7)}): before -, now SHUTOFF: not in the baseline: left as it is, not counted`,
    ]);
    expect(ctx.out.lines[0]).toContain(`baseline ${path.join(dir, "20261205-060000-pre-maintenance")}`);
  });

  it("never takes another window's capture, nor one without coldstart-baseline.json, even if newer", async () => {
    writeBaseline("20261205-060000-pre-maintenance", BEFORE, "2026-12-05-roosevelt");
    writeBaseline(
      "20261205-070000-pre-maintenance",
      NOW_LIST.map((r) => ({ ...r, Status: "ACTIVE" })),
      "other-window",
    );
    writeBaseline(
      "20261205-080000-pre-maintenance",
      NOW_LIST.map((r) => ({ ...r, Status: "ACTIVE" })),
    );
    const fake = cloud();
    const o = await startShutoffGuests(startFlags("planned"), ctxFor(fake));
    expect(started(fake)).toEqual([id(1)]);
    expect(o.verdict.summary).toContain("20261205-060000-pre-maintenance");
  });

  it("no capture of this window: BLOCKER listing the SHUTOFF guests and how to name them; nothing started", async () => {
    writeBaseline("20261205-070000-pre-maintenance", BEFORE, "other-window");
    const fake = cloud();
    const o = await startShutoffGuests(startFlags("planned"), ctxFor(fake));
    expect(o).toMatchObject({ exitCode: EXIT.blocker, outcome: "blocker", verdict: { state: "no-baseline" } });
    expect(fake.count(SERVER_START)).toBe(0);
    expect(o.verdict.summary).toMatch(
      /no baseline \(looked for a capture of window 2026-12-05-roosevelt in .*\): cannot tell which of 4 SHUTOFF guest\(s\)/,
    );
    expect(o.verdict.details.slice(0, 4)).toEqual([
      `SHUTOFF: web-1 (${id(1)})`,
      `SHUTOFF: tenant-stopped (${id(3)})`,
      `SHUTOFF: paused-1 (${id(5)})`,
      `SHUTOFF: created-later (${id(7)})`,
    ]);
    expect(o.verdict.details.join("\n")).toContain("pulumi config set --path 'coldstart:startGuests[0]' web-1");
    expect(o.verdict.details.join("\n")).toContain("pulumi config set coldstart:startGuests '[]'");
  });

  it("a servers.json that does not parse stops the step naming the file", async () => {
    const d = writeBaseline("20261205-060000-pre-maintenance", BEFORE, "2026-12-05-roosevelt");
    fs.writeFileSync(path.join(d, "servers.json"), "+----+\n| ID |\n");
    const fake = cloud();
    const o = await startShutoffGuests(startFlags("planned"), ctxFor(fake));
    expect(o.outcome).toBe("fail");
    expect(o.verdict.summary).toContain(path.join(d, "servers.json"));
    expect(fake.count(SERVER_START)).toBe(0);
  });
});

describe("unplanned: the newest baseline, or the operator's list", () => {
  it("uses the newest capture of any window (or none), and says how old it is", async () => {
    writeBaseline(
      "20261120-060000-pre-maintenance",
      NOW_LIST.map((r) => ({ ...r, Status: "ACTIVE" })),
      "old",
    );
    writeBaseline("20261201-060000-pre-maintenance", BEFORE); // made by hand: no window, time from its name
    const fake = cloud();
    const ctx = ctxFor(fake, "2026-12-05-unplanned");
    const o = await startShutoffGuests(startFlags("unplanned"), ctx);
    expect(started(fake)).toEqual([id(1)]);
    expect(o.verdict.summary).toContain(
      `baseline ${path.join(dir, "20261201-060000-pre-maintenance")} (the newest, made outside a window, captured 2026-12-01T06:00:00.000Z, 4d 3h ago)`,
    );
    expect(ctx.out.lines[0]).toContain("4d 3h ago");
  });

  it("none at all and SHUTOFF guests: BLOCKER; with startGuests: exactly those are started", async () => {
    const blocked = cloud();
    const o = await startShutoffGuests(startFlags("unplanned"), ctxFor(blocked));
    expect(o.outcome).toBe("blocker");
    expect(o.verdict.summary).toContain(`no baseline (looked for the newest capture in ${dir})`);
    expect(blocked.count(SERVER_START)).toBe(0);

    const named = cloud();
    const o2 = await startShutoffGuests(
      startFlags("unplanned", { start: ["web-1", id(7)], "start-named": "yes" }),
      ctxFor(named),
    );
    expect(started(named).sort()).toEqual([id(1), id(7)].sort());
    expect(o2.outcome).toBe("pass");
    expect(o2.verdict.details).toContain(
      `tenant-stopped (${id(3)}): before -, now SHUTOFF: no baseline, not named in startGuests: left as it is, not counted`,
    );
  });

  it("startGuests set to [] (start-named yes, no --start): starts none and passes", async () => {
    const fake = cloud();
    const o = await startShutoffGuests(startFlags("unplanned", { "start-named": "yes" }), ctxFor(fake));
    expect(o.outcome).toBe("skipped-by-guard");
    expect(fake.count(SERVER_START)).toBe(0);
  });

  it("a startGuests name that matches no server fails before anything is started", async () => {
    const fake = cloud();
    const o = await startShutoffGuests(
      startFlags("unplanned", { start: ["web-1", "wbe-1"], "start-named": "yes" }),
      ctxFor(fake),
    );
    expect(o.outcome).toBe("fail");
    expect(o.verdict.summary).toBe("startGuests names no such server: wbe-1; nothing was started");
    expect(fake.count(SERVER_START)).toBe(0);
  });

  it("no baseline and no SHUTOFF guest: nothing to decide, the step passes without a start", async () => {
    const fake = cloud(NOW_LIST.filter((r) => r.Status !== "SHUTOFF"));
    const o = await startShutoffGuests(startFlags("unplanned"), ctxFor(fake));
    expect(o.outcome).toBe("skipped-by-guard");
    expect(fake.count(SERVER_START)).toBe(0);
  });

  it("held guests are never started, even when ACTIVE in the baseline or named", async () => {
    writeBaseline("20261201-060000-pre-maintenance", BEFORE);
    const fake = cloud();
    const o = await startShutoffGuests(
      startFlags("unplanned", { hold: ["web-1"], start: [id(7)], "start-named": "yes" }),
      ctxFor(fake),
    );
    expect(started(fake)).toEqual([id(7)]);
    expect(o.verdict.details).toContain(
      `web-1 (${id(1)}): before ACTIVE, now SHUTOFF: held: never started, not counted`,
    );
  });
});

describe("the guests gate against the baseline", () => {
  const gateFlags = (extra: Record<string, unknown> = {}) => ({
    ...startFlags("planned", extra),
    timeout: 60_000,
    interval: 20_000,
  });

  it("passes once the guests that ran before are ACTIVE; SHELVED, PAUSED->SHUTOFF, ERROR and tenant-stopped guests never hold it", async () => {
    writeBaseline("20261205-060000-pre-maintenance", BEFORE, "2026-12-05-roosevelt");
    // web-1 comes up on the second poll; the others stay as they are
    let polls = 0;
    const fake = cloud(() => {
      polls++;
      return NOW_LIST.map((r) => (r.Name === "web-1" && polls > 1 ? { ...r, Status: "ACTIVE" } : r));
    });
    const o = await guestsActive(gateFlags(), ctxFor(fake));
    expect(o).toMatchObject({ outcome: "pass", polls: 4, verdict: { state: "all-active" } }); // ok on poll 2, then 2 confirmations
    expect(o.verdict.summary).toMatch(/^guests: 2 of 2 expected guest\(s\) ACTIVE, 5 not counted; baseline /);
    expect(o.verdict.details[0]).toBe(`web-1 (${id(1)}): before ACTIVE, now ACTIVE: counted`);
    expect(o.verdict.details[4]).toBe(
      `paused-1 (${id(5)}): before PAUSED, now SHUTOFF: not ACTIVE before the window: left as it was, not counted`,
    );
  });

  it("a guest that ran before and is ERROR now fails the gate, routed to hypervisor-down", async () => {
    writeBaseline("20261205-060000-pre-maintenance", BEFORE, "2026-12-05-roosevelt");
    const fake = cloud(NOW_LIST.map((r) => (r.Name === "web-1" ? { ...r, Status: "ERROR" } : r)));
    const o = await guestsActive(gateFlags(), ctxFor(fake));
    expect(o.outcome).toBe("fail");
    expect(o.verdict).toMatchObject({ state: "error", route: "hypervisor-down" });
  });

  it("waits on a guest that ran before and is still SHUTOFF, naming it", async () => {
    writeBaseline("20261205-060000-pre-maintenance", BEFORE, "2026-12-05-roosevelt");
    const fake = cloud();
    const o = await guestsActive(gateFlags(), ctxFor(fake));
    expect(o.outcome).toBe("fail");
    expect(o.verdict.state).toBe("waiting");
    expect(o.verdict.summary).toContain("1 of 2 expected guest(s) ACTIVE, 1 not yet (SHUTOFF), 5 not counted");
  });
});

describe("without --mode (a step run by hand): the rule from before baselines, said out loud", () => {
  it("starts every SHUTOFF guest that is not held, and warns", async () => {
    const fake = cloud();
    const ctx = ctxFor(fake);
    await startShutoffGuests({ openrc: OPENRC, hold: [], parallel: 4 }, ctx);
    expect(started(fake).sort()).toEqual([id(1), id(3), id(5), id(7)].sort());
    expect(ctx.out.warnings[0]).toMatch(/no --mode given/);
  });
});

describe("the baseline capture names its window", () => {
  it("writes coldstart-baseline.json last, only inside a window", async () => {
    const MODEL = "c:openstack";
    const fake = fakeExec()
      .on(new RegExp(`^juju show-model ${MODEL} --format=json$`), "{}")
      .on(/^juju export-bundle/, "")
      .on(/^juju status -m c:openstack --format=yaml$/, "model: {}\n")
      .on(OPENRC_CALL, openrcReply())
      .on(/^openstack /, readFixture("openstack/server-list-all-projects.json"));
    const inWindow = testContext(fake, {
      env: { HOME: "/home/operator", COLDSTART_WINDOW: "w-1", COLDSTART_STACK: "roosevelt" },
      start: NOW,
    });
    const o = await baselineCapture({ model: MODEL, openrc: OPENRC, dir }, inWindow);
    expect(o.outcome).toBe("pass");
    const folder = path.join(dir, "20261205-090000-pre-maintenance");
    expect(JSON.parse(fs.readFileSync(path.join(folder, BASELINE_META), "utf8"))).toEqual({
      window: "w-1",
      stack: "roosevelt",
      model: MODEL,
      capturedAt: "2026-12-05T09:00:00.000Z",
    });
    expect(o.verdict.summary).toBe(`Pre-maintenance snapshot at ${folder} (window w-1)`);

    fs.rmSync(folder, { recursive: true });
    await baselineCapture({ model: MODEL, openrc: OPENRC, dir }, testContext(fake, { start: NOW }));
    expect(fs.existsSync(path.join(folder, BASELINE_META))).toBe(false);
  });
});

describe("the baseline capture refuses unseal keys of a form Vault refuses, before anything (#23)", () => {
  const MODEL = "c:openstack";
  const GOOD = Buffer.alloc(33, 7).toString("base64");
  const cloudFake = () =>
    fakeExec()
      .on(new RegExp(`^juju show-model ${MODEL} --format=json$`), "{}")
      .on(/^juju export-bundle/, "")
      .on(/^juju status -m c:openstack --format=yaml$/, "model: {}\n")
      .on(OPENRC_CALL, openrcReply())
      .on(/^openstack /, readFixture("openstack/server-list-all-projects.json"));

  it("a malformed key in the environment: BLOCKER naming it by position, no call made, no folder", async () => {
    const fake = cloudFake();
    const secret = "not-a-vault-key!";
    const env = { HOME: "/home/operator", COLDSTART_UNSEAL_KEY_1: GOOD, COLDSTART_UNSEAL_KEY_2: secret };
    const o = await baselineCapture({ model: MODEL, openrc: OPENRC, dir }, testContext(fake, { env, start: NOW }));
    expect(o.outcome).toBe("blocker");
    expect(o.exitCode).toBe(EXIT.blocker);
    expect(o.verdict.summary).toMatch(/^nothing captured, nothing shut down: unseal key 2 of 2 /);
    expect(o.verdict.summary).not.toContain(secret);
    expect(fake.calls).toHaveLength(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("keys of Vault's form, or none at all: the capture runs", async () => {
    for (const env of [{ HOME: "/home/operator", COLDSTART_UNSEAL_KEY_1: GOOD }, { HOME: "/home/operator" }]) {
      const o = await baselineCapture(
        { model: MODEL, openrc: OPENRC, dir },
        testContext(cloudFake(), { env, start: NOW }),
      );
      expect(o.outcome).toBe("pass");
      fs.rmSync(path.join(dir, "20261205-090000-pre-maintenance"), { recursive: true });
    }
  });
});

describe("a tenant's server name on the console and in commands the operator may paste (#21)", () => {
  const EVIL = "\u001b]0;pwned\u0007evil<script>*x*|; rm -rf ~";
  const PRINTED = "evil<script>*x*|; rm -rf ~";
  const hostile: Row[] = [row(1, EVIL, "SHUTOFF")];

  it("start: the console line, the summary and the details carry no ESC or BEL", async () => {
    writeBaseline("20261205-060000-pre-maintenance", [row(1, EVIL, "ACTIVE")], "2026-12-05-roosevelt");
    const fake = cloud(hostile);
    const ctx = ctxFor(fake);
    const o = await startShutoffGuests(startFlags("planned"), ctx);
    expect(started(fake)).toEqual([id(1)]);
    expect(ctx.out.lines).toContain(`RAN: openstack server start ${PRINTED} (${id(1)}): accepted`);
    expect(o.verdict.summary).toContain(`window: ${PRINTED}; baseline`);
    expect(o.verdict.details[0]).toBe(`${PRINTED} (${id(1)}): before ACTIVE, now SHUTOFF -> start sent: counted`);
    for (const text of [...ctx.out.lines, o.verdict.summary, ...o.verdict.details])
      expect([text.includes("\u001b"), text.includes("\u0007")]).toEqual([false, false]);
  });

  it("the BLOCKER's example commands shell-quote the name instead of splicing it", async () => {
    const o = await startShutoffGuests(startFlags("unplanned"), ctxFor(cloud(hostile)));
    expect(o.outcome).toBe("blocker");
    expect(o.verdict.details[0]).toBe(`SHUTOFF: ${PRINTED} (${id(1)})`);
    expect(o.verdict.details).toContain(
      `  pulumi config set --path 'coldstart:startGuests[0]' '${PRINTED}'   (one entry per guest: [1], [2], ...)`,
    );
    expect(o.verdict.details).toContain(
      `  in a drill: coldstart drill ... --resume --set 'startGuests=["${PRINTED}"]'`,
    );
  });
});
