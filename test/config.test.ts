import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_KEYS, loadConfig } from "../config/load";
import { readStackConfig } from "../config/stack-files";
import { parseDurationMs, formatDuration } from "../config/duration";

const ROOT = path.resolve(__dirname, "..");

describe("Pulumi.yaml and the zod schema", () => {
  const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

  it("declares only keys the schema knows, with types Pulumi's project schema accepts", () => {
    for (const [key, decl] of Object.entries(
      project.config as Record<string, { type: string; items?: { type: string } }>,
    )) {
      expect(CONFIG_KEYS).toContain(key);
      expect(["string", "integer", "boolean", "array"]).toContain(decl.type);
      if (decl.type === "array") expect(["string", "integer", "boolean"]).toContain(decl.items?.type);
    }
  });

  it.each(["roosevelt", "prior-build"])(
    "declares only keys that the %s stack sets (Pulumi requires a declared key without default)",
    (stack) => {
      const { values } = readStackConfig(ROOT, stack);
      for (const key of Object.keys(project.config)) expect(Object.keys(values)).toContain(`coldstart:${key}`);
    },
  );

  it("keeps defaults out of Pulumi.yaml, so they live only in the schema", () => {
    for (const [key, decl] of Object.entries(project.config))
      expect({ key, decl: Object.keys(decl as object).includes("default") }).toEqual({ key, decl: false });
  });

  it("puts stack files in stacks/ and names the project coldstart", () => {
    expect(project).toMatchObject({ name: "coldstart", stackConfigDir: "stacks", runtime: { name: "nodejs" } });
  });
});

describe.each(["roosevelt", "prior-build"])("the committed %s stack", (stack) => {
  const { values, secretKeys } = readStackConfig(ROOT, stack);
  const config = loadConfig((k) => values[`coldstart:${k}`], { COLDSTART_WINDOW: "w-1" });

  it("is valid and carries no window (each run brings its own)", () => {
    expect(values["coldstart:window"]).toBeUndefined();
    expect(config.window).toBe("w-1");
    expect(config.hosts.map((h) => h.name)).toEqual(["openstack0", "openstack1", "openstack2", "openstack3"]);
  });

  it("holds no secret values", () => {
    expect(secretKeys).toEqual([]);
  });
});

describe("per-run overrides from the environment", () => {
  const { values } = readStackConfig(ROOT, "roosevelt");
  it("lets COLDSTART_MODE and COLDSTART_WINDOW win over the stack file", () => {
    const config = loadConfig((k) => values[`coldstart:${k}`], {
      COLDSTART_WINDOW: "outage-2026-11-25",
      COLDSTART_MODE: "unplanned",
    });
    expect([config.mode, config.window]).toEqual(["unplanned", "outage-2026-11-25"]);
  });
  it("tells how to set the window when there is none", () => {
    expect(() => loadConfig((k) => values[`coldstart:${k}`], {})).toThrow(/coldstart:window: .*COLDSTART_WINDOW=<id>/s);
  });
});

describe("durations", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["500ms", 500],
    ["1.5m", 90_000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });
  it.each(["10", "m", "ten minutes", "-5s"])("rejects %j", (text) => expect(parseDurationMs(text)).toBeUndefined());
  it("writes the shortest exact form back", () => {
    expect([formatDuration(600_000), formatDuration(90_000), formatDuration(1500)]).toEqual(["10m", "90s", "1500ms"]);
  });
});

describe("what a stack may not say (issue #12)", () => {
  const { values } = readStackConfig(ROOT, "roosevelt");
  const load = (extra: Record<string, string>) => {
    const all = { ...values, ...extra };
    return () => loadConfig((k) => all[`coldstart:${k}`], { COLDSTART_WINDOW: "w-1" }, Object.keys(all));
  };

  it("rejects an unknown coldstart: key by name and names the near miss (a typo must not be ignored)", () => {
    expect(load({ "coldstart:holdGuest": '["forensics-db-01"]' })).toThrow(
      /coldstart:holdGuest: not a coldstart setting \(did you mean coldstart:holdGuests\?\)/,
    );
  });

  it("leaves other namespaces alone (aws:region belongs to another program)", () => {
    expect(load({ "aws:region": "eu-west-1" })().hosts).toHaveLength(4);
  });

  it("the program itself refuses the stack (pulumi preview under mocks), naming the key", async () => {
    const { makePlan } = await import("../plan/plan");
    await expect(makePlan({ stack: "roosevelt", overrides: { "coldstart:holdGuest": '["x"]' } })).rejects.toThrow(
      /coldstart:holdGuest: not a coldstart setting/,
    );
  });

  it("rejects a gate whose interval is longer than its timeout, naming the gate", () => {
    expect(load({ "coldstart:gates": JSON.stringify({ vaultUnsealed: { timeout: "5s", interval: "5m" } }) })).toThrow(
      /coldstart:gates\.vaultUnsealed\.interval: interval 5m is longer than timeout 5s: set interval below timeout/,
    );
  });

  it("rejects a host listed twice and two hosts on one power target", () => {
    const hosts = JSON.parse(values["coldstart:hosts"]) as { name: string; power: { systemId: string } }[];
    const twice = [...hosts, hosts[0]];
    expect(load({ "coldstart:hosts": JSON.stringify(twice) })).toThrow(
      /coldstart:hosts\[4\]\.name: host openstack0 is listed twice \(also hosts\[0\]\)/,
    );
    const sameTarget = hosts.map((h, i) =>
      i === 3 ? { ...h, power: { ...h.power, systemId: hosts[2].power.systemId } } : h,
    );
    expect(load({ "coldstart:hosts": JSON.stringify(sameTarget) })).toThrow(
      /coldstart:hosts\[3\]\.power: openstack3 and openstack2 both power MAAS machine r7tnhd/,
    );
  });
});
