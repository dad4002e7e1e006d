/** Build the driver a power step's flags describe; a missing driver flag is a usage error naming it. */
import type { z } from "zod";
import { UsageError } from "../config/errors";
import { powerFlagShape } from "../cli/step-flags";
import type { StepContext } from "../runtime/step-context";
import type { PowerDriver } from "./driver";
import { VirshDriver } from "./virsh";
import { IpmiDriver } from "./ipmi";
import { MaasDriver } from "./maas";

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
    case "ipmi": {
      const secret = oneOf(flags, "password-file", "password-env");
      return new IpmiDriver(
        {
          host: flags.host,
          bmc: need(flags, "bmc", flags.bmc),
          port: need(flags, "port", flags.port),
          user: need(flags, "user", flags.user),
          cipherSuite: need(flags, "cipher-suite", flags["cipher-suite"]),
          passwordFile: secret.file,
          passwordEnv: secret.env,
        },
        ctx,
      );
    }
    case "maas": {
      const secret = oneOf(flags, "api-key-file", "api-key-env");
      return new MaasDriver(
        {
          host: flags.host,
          url: maasUrl(flags, need(flags, "maas-url", flags["maas-url"])),
          systemId: need(flags, "system-id", flags["system-id"]),
          apiKeyFile: secret.file,
          apiKeyEnv: secret.env,
        },
        ctx,
      );
    }
  }
}

/** Where the secret is: exactly one of a file flag and a variable flag (never the secret itself). */
function oneOf(
  flags: PowerFlags,
  fileFlag: "password-file" | "api-key-file",
  envFlag: "password-env" | "api-key-env",
): { file?: string; env?: string } {
  const file = flags[fileFlag];
  const env = flags[envFlag];
  if (file === undefined && env === undefined)
    throw new UsageError(
      `--${fileFlag} or --${envFlag}: one is required with --driver ${flags.driver} (host ${flags.host})`,
    );
  if (file !== undefined && env !== undefined)
    throw new UsageError(
      `--${fileFlag} and --${envFlag}: give only one with --driver ${flags.driver} (host ${flags.host})`,
    );
  return { file, env };
}

function maasUrl(flags: PowerFlags, url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--maas-url: ${JSON.stringify(url)} is not a URL (host ${flags.host}), e.g. http://maas:5240/MAAS`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new UsageError(
      `--maas-url: expected an http(s) URL ending in /MAAS, found ${JSON.stringify(url)} (host ${flags.host})`,
    );
  return url;
}
