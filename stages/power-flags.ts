/** The command-line flags that tell the CLI how to reach one host's power control (no secrets: only where they are). */
import type { Host } from "../config/schema";
import type { FlagValue } from "./command-line";

export function powerFlags(host: Host): Record<string, FlagValue> {
  const p = host.power;
  switch (p.driver) {
    case "maas":
      return {
        host: host.name,
        driver: "maas",
        "maas-url": p.url,
        "system-id": p.systemId,
        "api-key-file": p.apiKeyFile,
        "api-key-env": p.apiKeyEnv,
      };
    case "ipmi":
      return {
        host: host.name,
        driver: "ipmi",
        bmc: p.bmc,
        port: p.port,
        user: p.user,
        "cipher-suite": p.cipherSuite,
        "password-file": p.passwordFile,
        "password-env": p.passwordEnv,
      };
    case "virsh":
      return { host: host.name, driver: "virsh", uri: p.uri, domain: p.domain };
  }
}
