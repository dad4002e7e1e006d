/**
 * Runbook "Shutdown sequence" / "Power-on": power down and up via MAAS/IPMI/virsh. One interface,
 * one driver per host (stack config `hosts[].power.driver`). Credentials are read by the driver
 * from a file or environment variable at call time and never appear in argv, logs or records.
 */
import { ToolError } from "../runtime/tool-error";

export type PowerState = "on" | "off";

export interface PowerDriver {
  /** "openstack0 via virsh" -- used in every message about this host. */
  readonly label: string;
  state(): Promise<PowerState>;
  on(): Promise<void>;
  /**
   * `graceful`: ask the OS to shut down (ACPI soft-off); otherwise cut power. May return a note
   * the step prints (e.g. MAAS powers this power type off hard whatever stop_mode says).
   */
  off(graceful: boolean): Promise<string | void>;
}

/**
 * A power-control failure, already phrased for the operator (host and driver named): a ToolError
 * on the route "power-control", so every catch site that takes ToolError takes it too. Three kinds:
 * permanent (waiting cannot fix it: wrong credentials, no such machine or BMC, a name that does not
 * resolve, no hypervisor connection -- a gate stops at once), refused (a definitive "no" to a soft
 * power-off), and transient (everything else: an IPMI session hiccup, a MAAS 503 from a busy rack
 * controller, a call timeout -- retried while time remains).
 */
export class PowerError extends ToolError {
  override readonly name: string = "PowerError";
  constructor(
    message: string,
    /** Waiting cannot help (bad key, unknown machine, tool not installed): a gate stops at once. */
    permanent = false,
    /** The call was cut, or not made, at the step's or gate's deadline (runtime/deadline.ts). */
    cut = false,
    /**
     * The BMC / hypervisor answered that it will not do a soft (ACPI) power-off at all: a
     * definitive refusal, the only error after which power-off may cut power at once.
     */
    readonly refused = false,
    options?: ErrorOptions,
  ) {
    super(message, "power-control", permanent, cut, options);
  }
}
