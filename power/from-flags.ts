/** Shutdown sequence / Power-on: the driver a power step's flags describe (checked by the config's rules: stages/power-flags.ts). */
import type { StepContext } from "../runtime/step-context";
import { powerSpecFromFlags, type PowerFlags } from "../stages/power-flags";
import type { PowerDriver } from "./driver";
import type { PowerSpec } from "../config/schema";
import { VirshDriver } from "./virsh";
import { IpmiDriver } from "./ipmi";
import { MaasDriver } from "./maas";

export { powerSpecFromFlags, type PowerFlags } from "../stages/power-flags";

export function driverFromFlags(flags: PowerFlags, ctx: StepContext): PowerDriver {
  return driverFor(flags.host, powerSpecFromFlags(flags), ctx);
}

/** The driver of one host's power settings (a step's flags, or preflight's stack config). */
export function driverFor(host: string, spec: PowerSpec, ctx: StepContext): PowerDriver {
  switch (spec.driver) {
    case "virsh":
      return new VirshDriver({ host, uri: spec.uri, domain: spec.domain }, ctx);
    case "ipmi":
      return new IpmiDriver(
        {
          host,
          bmc: spec.bmc,
          port: spec.port,
          user: spec.user,
          cipherSuite: spec.cipherSuite,
          passwordFile: spec.passwordFile,
          passwordEnv: spec.passwordEnv,
        },
        ctx,
      );
    case "maas":
      return new MaasDriver(
        {
          host,
          url: spec.url,
          systemId: spec.systemId,
          apiKeyFile: spec.apiKeyFile,
          apiKeyEnv: spec.apiKeyEnv,
          caFile: spec.caFile,
        },
        ctx,
      );
  }
}
