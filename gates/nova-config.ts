/**
 * Runbook Stage 5 -- guests. With D-043 in force resume-guests-state-on-host-boot is true; a
 * regressed flag is a WARNING (it takes effect only on the NEXT boot), not a stop.
 *
 * `juju config nova-compute --format=json`: `settings.<option>.value` is absent when unset, and
 * the charm default is `false` (fixtures/README S-nova, S-config).
 */
import { JujuConfigDocSchema, type JujuConfigDoc } from "./juju-schemas";
import { parseJson, type Parsed } from "./parse";
import type { Verdict } from "./verdict";

export const RESUME_OPTION = "resume-guests-state-on-host-boot";

export interface ResumeFlag {
  enabled: boolean;
  /** Juju's `source` (user | default | unset), or "absent" when the charm has no such option. */
  source: string;
  /** Set by the operator (source "user"), not inherited from the charm default. */
  explicit: boolean;
}

export type ResumeFlagState = "enabled" | "regressed";

export function parseJujuConfig(text: string): Parsed<JujuConfigDoc> {
  return parseJson("juju config", JujuConfigDocSchema, text);
}

function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "True") return true;
  if (v === "false" || v === "False") return false;
  return undefined;
}

export function resumeFlag(doc: JujuConfigDoc): ResumeFlag {
  const option = doc.settings[RESUME_OPTION];
  if (option === undefined) return { enabled: false, source: "absent", explicit: false };
  // value absent -> the charm default; the charm's default is false (S-nova).
  const enabled = asBoolean(option.value) ?? asBoolean(option.default) ?? false;
  return { enabled, source: option.source, explicit: option.source === "user" };
}

export function resumeFlagVerdict(flag: ResumeFlag): Verdict<ResumeFlagState> {
  const seen = `${RESUME_OPTION}=${flag.enabled} (source: ${flag.source})`;
  if (flag.enabled) {
    return { ok: true, state: "enabled", summary: `${seen}: running guests resume on host boot (D-043)`, details: [] };
  }
  return {
    ok: true,
    state: "regressed",
    summary:
      `WARNING: ${seen} -- regressed from D-043. A regressed flag takes effect only on the NEXT boot: ` +
      "start the unexpectedly SHUTOFF guests manually now (openstack server start <name>)",
    details: [
      `D-043 expects ${RESUME_OPTION}=true in the bundle; juju reports value ${flag.enabled}, source ${flag.source}`,
    ],
    route: "guests-shutoff",
  };
}
