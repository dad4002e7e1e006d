import * as z from "zod";
import { parseJson } from "../../gates/parse";

describe("parseJson", () => {
  const schema = z.object({
    applications: z.object({ mysql: z.object({ units: z.record(z.string(), z.unknown()) }) }),
  });

  it("names the tool, the missing path and what it found when the shape is wrong", () => {
    const r = parseJson("juju status", schema, JSON.stringify({ applications: { mysql: {} } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^juju status: expected applications\.mysql\.units .*found nothing$/);
  });

  it("says when the output is not JSON at all", () => {
    const r = parseJson("juju status", schema, "ERROR cannot connect to controller\n");
    expect(r).toEqual({
      ok: false,
      error: 'juju status: expected JSON output, found "ERROR cannot connect to controller"',
    });
  });

  it("returns the typed value when the shape matches", () => {
    const r = parseJson(
      "juju status",
      schema,
      JSON.stringify({ applications: { mysql: { units: { "mysql/0": {} } } } }),
    );
    expect(r.ok && Object.keys(r.value.applications.mysql.units)).toEqual(["mysql/0"]);
  });
});
