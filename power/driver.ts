/**
 * Runbook "Shutdown sequence" / "Power-on": power down and up via MAAS/IPMI/virsh. One interface,
 * one driver per host (stack config `hosts[].power.driver`). Credentials are read by the driver
 * from a file or environment variable at call time and never appear in argv, logs or records.
 */
export type PowerState = "on" | "off";

export interface PowerDriver {
  /** "openstack0 via virsh" -- used in every message about this host. */
  readonly label: string;
  state(): Promise<PowerState>;
  on(): Promise<void>;
  /** `graceful`: ask the OS to shut down (ACPI soft-off); otherwise cut power. */
  off(graceful: boolean): Promise<void>;
}

/** A power-control failure, already phrased for the operator (host and driver named). */
export class PowerError extends Error {
  override readonly name = "PowerError";
  constructor(
    message: string,
    /** Waiting cannot help (bad key, unknown machine, tool not installed): a gate stops at once. */
    readonly permanent = false,
    /** The call was cut, or not made, at the step's or gate's deadline (runtime/deadline.ts). */
    readonly cut = false,
  ) {
    super(message);
  }
}
