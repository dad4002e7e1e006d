/**
 * `juju status <app> --format=json` for any application (Stages 2-4 read it): the parse that
 * names a missing `applications.<app>.units`, and the unit names an application has.
 */
import * as z from "zod";
import { JujuStatusDocSchema, type JujuStatusDoc } from "./juju-schemas";
import { parseJson, parseWith, type Parsed } from "./parse";

/**
 * The status coldstart gives a unit (or one status object) that Juju could not read.
 *
 * Juju prints `{"status-error": "<error>"}` IN PLACE OF a whole unit when it could not read the
 * unit's workload status, and in place of one status object (`juju-status`, `application-status`,
 * a machine) when only that one failed: juju/juju `cmd/juju/status/formatted.go` (`errorStatus`,
 * `unitStatus.MarshalJSON`, `statusInfoContents.MarshalJSON`, `machineStatus.MarshalJSON`) as stored
 * at manadart/juju @ 1d4846f2d9cc260f278cfc5b7d4e8bc14a242e99. The error is the controller's
 * (`apiserver/facades/client/client/status.go` `populateStatusFromStatusInfoAndErr`), e.g.
 * `status not found` (juju `state/status.go` `getStatus`: `errors.NotFoundf("status")`). jubilant
 * reads the same key and calls it `failed` (canonical/jubilant @ 06572b53744911b6be6313eb77e65b891daef081
 * `jubilant/statustypes.py`, `UnitStatus._from_dict`: `if 'status-error' in d`).
 *
 * We keep such a unit as a unit whose workload and agent are `status-error` with Juju's message,
 * so one unreadable unit is a named state the classifiers route (gates/mysql.ts), never a parse
 * failure that hides every other unit.
 */
export const STATUS_ERROR = "status-error";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const errorOf = (v: Json): string | undefined =>
  typeof v["status-error"] === "string" ? (v["status-error"] as string) : undefined;

/** `{"status-error": msg}` in place of a status object -> `{current: "status-error", message: msg}`. */
function statusObject(v: unknown): unknown {
  if (!isObject(v)) return v;
  const err = errorOf(v);
  return err === undefined ? v : { current: STATUS_ERROR, message: err };
}

function unit(v: unknown): unknown {
  if (!isObject(v)) return v;
  const err = errorOf(v);
  if (err !== undefined && v["workload-status"] === undefined) {
    // the whole unit replaced: nothing else about it was printed (no machine, no address)
    const s = { current: STATUS_ERROR, message: err };
    return { ...v, "workload-status": s, "juju-status": s };
  }
  const out: Json = {
    ...v,
    "workload-status": statusObject(v["workload-status"]),
    "juju-status": statusObject(v["juju-status"]),
  };
  if (isObject(v.subordinates)) {
    out.subordinates = Object.fromEntries(Object.entries(v.subordinates).map(([k, s]) => [k, unit(s)]));
  }
  return out;
}

function machine(v: unknown): unknown {
  if (!isObject(v)) return v;
  const err = errorOf(v);
  if (err !== undefined && v["juju-status"] === undefined)
    return { ...v, "juju-status": { current: STATUS_ERROR, message: err } };
  const out: Json = { ...v, "juju-status": statusObject(v["juju-status"]) };
  if (isObject(v.containers)) {
    out.containers = Object.fromEntries(Object.entries(v.containers).map(([k, c]) => [k, machine(c)]));
  }
  return out;
}

/** Rewrites every `status-error` of a `juju status --format=json` document as a named status. */
export function normaliseStatusErrors(doc: unknown): unknown {
  if (!isObject(doc)) return doc;
  const out: Json = { ...doc };
  if (isObject(doc.machines)) {
    out.machines = Object.fromEntries(Object.entries(doc.machines).map(([k, m]) => [k, machine(m)]));
  }
  if (isObject(doc.applications)) {
    out.applications = Object.fromEntries(
      Object.entries(doc.applications).map(([name, app]) => {
        if (!isObject(app) || errorOf(app) !== undefined) return [name, app];
        const a: Json = { ...app };
        if (app["application-status"] !== undefined) a["application-status"] = statusObject(app["application-status"]);
        if (isObject(app.units)) a.units = Object.fromEntries(Object.entries(app.units).map(([k, u]) => [k, unit(u)]));
        return [name, a];
      }),
    );
  }
  return out;
}

/** `juju status <app> --format=json`; with `app`, also requires `applications.<app>.units`. */
export function parseAppStatus(text: string, app?: string): Parsed<JujuStatusDoc> {
  const tool = "juju status";
  const decoded = parseJson(tool, z.unknown(), text);
  if (!decoded.ok) return decoded;
  const data = decoded.value;
  const raw = isObject(data) && isObject(data.applications) && app !== undefined ? data.applications[app] : undefined;
  if (isObject(raw) && errorOf(raw) !== undefined) {
    // the whole application could not be read: there are no units to classify
    return { ok: false, error: `${tool}: juju could not read application ${app}: ${errorOf(raw)}` };
  }
  const doc = parseWith(tool, JujuStatusDocSchema, normaliseStatusErrors(data));
  if (!doc.ok || app === undefined) return doc;
  const needsUnits = z.looseObject({
    applications: z.looseObject({ [app]: z.looseObject({ units: z.record(z.string(), z.unknown()) }) }),
  });
  const check = parseWith(tool, needsUnits, doc.value);
  return check.ok ? doc : check;
}

/** The application's unit names, sorted (e.g. vault/0, neutron-api/0). */
export function appUnitNames(doc: JujuStatusDoc, app: string): string[] {
  return Object.keys(doc.applications[app]?.units ?? {}).sort();
}
