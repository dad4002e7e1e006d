import { parseJujuConfig, resumeFlag, resumeFlagVerdict, RESUME_OPTION } from "../../gates/nova-config";
import type { JujuConfigDoc } from "../../gates/juju-schemas";
import { mustParse, readFixture } from "../fixtures";

const recorded = (): JujuConfigDoc =>
  mustParse(parseJujuConfig(readFixture("juju/nova-compute.config.resume-enabled.juju3.json")));

function withOption(change: (o: JujuConfigDoc["settings"][string]) => void): JujuConfigDoc {
  const doc = recorded();
  change(doc.settings[RESUME_OPTION]);
  return doc;
}

describe("reading resume-guests-state-on-host-boot", () => {
  it("reads the recorded user-set true", () => {
    expect(resumeFlag(recorded())).toEqual({ enabled: true, source: "user", explicit: true });
  });

  it("falls back to the charm default false when the value is absent", () => {
    const doc = withOption((o) => {
      delete o.value;
      o.source = "unset";
    });
    expect(resumeFlag(doc)).toEqual({ enabled: false, source: "unset", explicit: false });
  });

  it("reads a value equal to the default as not explicit", () => {
    const doc = withOption((o) => {
      o.value = false;
      o.source = "default";
    });
    expect(resumeFlag(doc)).toEqual({ enabled: false, source: "default", explicit: false });
  });

  it("treats a charm without the option as disabled", () => {
    const doc = recorded();
    delete doc.settings[RESUME_OPTION];
    expect(resumeFlag(doc)).toEqual({ enabled: false, source: "absent", explicit: false });
  });

  it("names what is missing when the output has no settings", () => {
    const r = parseJujuConfig(JSON.stringify({ application: "nova-compute", charm: "nova-compute" }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/^juju config: expected settings .*found nothing$/);
  });

  it("says when juju config printed only a single value instead of the JSON document", () => {
    expect(parseJujuConfig("true\n").ok).toBe(false);
  });
});

describe("Stage 5 check: the resume flag", () => {
  it("is fine when the flag is enabled", () => {
    const v = resumeFlagVerdict(resumeFlag(recorded()));
    expect(v).toMatchObject({ ok: true, state: "enabled" });
    expect(v.route).toBeUndefined();
  });

  it("warns, but does not stop, when the flag has regressed, and says to start guests manually now", () => {
    const v = resumeFlagVerdict(resumeFlag(withOption((o) => delete o.value)));
    expect(v).toMatchObject({ ok: true, state: "regressed", route: "guests-shutoff" });
    expect(v.summary).toMatch(/WARNING/);
    expect(v.summary).toMatch(/only on the NEXT boot/);
    expect(v.summary).toMatch(/start .*manually now/);
  });
});
