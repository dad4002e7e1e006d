/**
 * `juju status <app> --format=json` for any application (Stages 2-4 read it): the parse that
 * names a missing `applications.<app>.units`, and the unit names an application has.
 */
import { z } from "zod";
import { JujuStatusDocSchema, type JujuStatusDoc } from "./juju-schemas";
import { parseJson, parseWith, type Parsed } from "./parse";

/** `juju status <app> --format=json`; with `app`, also requires `applications.<app>.units`. */
export function parseAppStatus(text: string, app?: string): Parsed<JujuStatusDoc> {
  const doc = parseJson("juju status", JujuStatusDocSchema, text);
  if (!doc.ok || app === undefined) return doc;
  const needsUnits = z.looseObject({
    applications: z.looseObject({ [app]: z.looseObject({ units: z.record(z.string(), z.unknown()) }) }),
  });
  const check = parseWith("juju status", needsUnits, doc.value);
  return check.ok ? doc : check;
}

/** The application's unit names, sorted (e.g. vault/0, neutron-api/0). */
export function appUnitNames(doc: JujuStatusDoc, app: string): string[] {
  return Object.keys(doc.applications[app]?.units ?? {}).sort();
}
