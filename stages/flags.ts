/**
 * Flag schemas several steps share (the stage files build each step's schema from these). Every
 * flag says what it means (`.describe()`: `coldstart <verb> <step> --help` prints it) and which
 * config key the graph fills it from. The graph writes numbers; the CLI reads text: counts accept
 * both.
 */
import * as z from "zod";
import { durationMs } from "../config/duration";

export const text = z.string().min(1, "expected a non-empty value");
export const count = z.coerce.number<number | string>().int().min(1);

export const model = z
  .string()
  .regex(/^[A-Za-z0-9._-]+:[A-Za-z0-9._/-]+$/, "expected controller:model")
  .describe("the juju model, as controller:model (coldstart:jujuModel); juju switch is never relied on");

export const openrc = text.describe("the admin openrc sourced before every openstack call (coldstart:openrc)");

export const parallel = count.describe("at most this many at once (coldstart:parallelism)");

/** A gate's polling: both are written in the create line (`--timeout 15m --interval 15s`). */
export const timing = {
  timeout: duration("how long the gate polls before it fails, e.g. 15m (coldstart:gates.<gate>.timeout)"),
  interval: duration("the pause between two polls, e.g. 15s (coldstart:gates.<gate>.interval)"),
};

/** A duration flag ("90s", "10m"): the handler gets milliseconds. */
export function duration(what: string) {
  return durationMs.meta({ description: what, placeholder: "duration" });
}

/** A juju application name. */
export function app(what: string): z.ZodString {
  return text.describe(what);
}

/** A repeatable flag (`--hold a --hold b`); none given is an empty list. */
export function list(what: string) {
  return z.array(text).default([]).describe(`${what}; repeat the flag for each`);
}
