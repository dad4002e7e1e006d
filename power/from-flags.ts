/** Shutdown sequence / Power-on: the driver a power step's flags describe (checked by the config's rules: stages/power-flags.ts). */
import type { StepContext } from "../runtime/step-context";
import { powerSpecFromFlags, type PowerFlags } from "../stages/power-flags";
import type { PowerDriver } from "./driver";
import { VirshDriver } from "./virsh";
import { IpmiDriver } from "./ipmi";
import { MaasDriver } from "./maas";

export { powerSpecFromFlags, type PowerFlags } from "../stages/power-flags";

export function driverFromFlags(flags: PowerFlags, ctx: StepContext): PowerDriver {
  const spec = powerSpecFromFlags(flags);
  switch (spec.driver) {
    case "virsh":
      return new VirshDriver({ host: flags.host, uri: spec.uri, domain: spec.domain }, ctx);
    case "ipmi":
      return new IpmiDriver(
        {
          host: flags.host,
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
          host: flags.host,
          url: spec.url,
          systemId: spec.systemId,
          apiKeyFile: spec.apiKeyFile,
          apiKeyEnv: spec.apiKeyEnv,
        },
        ctx,
      );
  }
}
