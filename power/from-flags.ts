/** Build the driver a power step's flags describe; a missing driver flag is a usage error naming it. */
import type { z } from "zod";
import { UsageError } from "../config/errors";
import { powerFlagShape } from "../cli/step-flags";
import type { StepContext } from "../runtime/step-context";
import type { PowerDriver } from "./driver";
import { VirshDriver } from "./virsh";

type PowerFlags = z.infer<z.ZodObject<typeof powerFlagShape>>;

function need<T>(flags: PowerFlags, name: keyof PowerFlags, value: T | undefined): T {
  if (value === undefined)
    throw new UsageError(`--${name}: required with --driver ${flags.driver} (host ${flags.host})`);
  return value;
}

export function driverFromFlags(flags: PowerFlags, ctx: StepContext): PowerDriver {
  switch (flags.driver) {
    case "virsh":
      return new VirshDriver(
        { host: flags.host, uri: need(flags, "uri", flags.uri), domain: need(flags, "domain", flags.domain) },
        ctx,
      );
    case "ipmi":
    case "maas":
      throw new UsageError(`--driver ${flags.driver}: not available yet (issue #5); host ${flags.host}`);
  }
}
