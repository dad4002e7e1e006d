/**
 * Which IPMI completion codes refuse a soft (ACPI) power-off for good, and which a later try may
 * get past. Only a definitive refusal lets power-off cut power at once (steps/power.ts); every
 * other code takes the transient path: the soft-off is tried again within the graceful timeout,
 * exactly as when the BMC did not answer at all, and never becomes a hard off by itself.
 *
 * What ipmitool prints (ipmitool/ipmitool lib/ipmi_chassis.c `ipmi_chassis_power_control`): on a
 * completion code, stderr `Set Chassis Power Control to Soft failed: <text>`, where <text> is
 * `val2str(rsp->ccode, completion_code_vals)` -- the table in lib/ipmi_strings.c (ipmitool 1.8.19,
 * texts below verbatim, "firmeware" included) or, for a code not in it, lib/helper.c val2str's
 * fallback `Unknown (0x%02X)` (read at ipmitool/ipmitool@140add9d; not checked against the 1.8.19
 * tarball). Older ipmitool builds lack 0xD6 and spell 0xD4 "Insufficient priviledge level".
 *
 * Which codes retrying can change: IPMI v2.0 rev 1.1, section 5.2, table 5-2 (Generic Completion
 * Codes). Busy, timeout, in update / initialization, destination unavailable, response not
 * provided, duplicated request and unspecified are states of the BMC that pass; the rest say
 * the command itself is not implemented, malformed, not allowed for this user or disabled, which
 * no retry within a window changes. A code we cannot name (OEM 01h-7Eh, command-specific
 * 80h-BEh, or any text not in the table) is treated as transient: when unsure, never cut power.
 */

export type SoftRefusalClass = "definitive" | "transient";

export interface CompletionCode {
  code: number;
  /** ipmitool's text for it (lib/ipmi_strings.c completion_code_vals). */
  text: string;
  kind: SoftRefusalClass;
  /** Why, in the spec's terms. */
  why: string;
}

const def = (code: number, text: string, why: string): CompletionCode => ({ code, text, kind: "definitive", why });
const tra = (code: number, text: string, why: string): CompletionCode => ({ code, text, kind: "transient", why });

/** IPMI v2.0 table 5-2, with ipmitool 1.8.19's texts. */
export const COMPLETION_CODES: readonly CompletionCode[] = [
  tra(0xc0, "Node busy", "the BMC is out of resources for this command just now; the spec says to retry"),
  def(0xc1, "Invalid command", "the BMC does not implement Chassis Control (or this function of it)"),
  def(0xc2, "Invalid command on LUN", "the command is not implemented on this LUN"),
  tra(0xc3, "Timeout", "the BMC timed out while processing the command"),
  tra(0xc4, "Out of space", "the BMC is out of storage space just now"),
  tra(0xc5, "Reservation cancelled or invalid", "a reservation changed under the request; a new try gets a new one"),
  tra(0xc6, "Request data truncated", "the request arrived cut short (a lossy link); the next try is sent whole"),
  def(0xc7, "Request data length invalid", "the BMC rejects the request's shape: the same request fails again"),
  def(0xc8, "Request data field length limit exceeded", "the BMC rejects the request's shape"),
  def(0xc9, "Parameter out of range", "the BMC rejects the soft-off parameter itself"),
  tra(0xca, "Cannot return number of requested data bytes", "a read-size limit, not a refusal of the action"),
  tra(0xcb, "Requested sensor, data, or record not found", "not an answer to Chassis Control; not proof of a refusal"),
  def(0xcc, "Invalid data field in request", "the BMC does not accept control value 5 (soft-off): not supported"),
  def(0xcd, "Command illegal for specified sensor or record type", "not allowed for this target"),
  tra(0xce, "Command response could not be provided", "the BMC could not answer this time"),
  tra(0xcf, "Cannot execute duplicated request", "a duplicate of a request still in progress; a fresh one may pass"),
  tra(0xd0, "SDR Repository in update mode", "an update in progress ends"),
  tra(0xd1, "Device firmeware in update mode", "a firmware update in progress ends"),
  tra(0xd2, "BMC initialization in progress", "the BMC is still starting up"),
  tra(0xd3, "Destination unavailable", "the target the BMC forwards to is unavailable just now"),
  def(0xd4, "Insufficient privilege level", "the BMC user may not control power: fix the user, not the timing"),
  def(0xd5, "Command not supported in present state", "the BMC will not do a soft-off in this chassis state"),
  def(0xd6, "Cannot execute command, command disabled", "soft-off is disabled on this BMC"),
  tra(0xff, "Unspecified error", "no reason given: may pass on a later try"),
];

/** Texts other ipmitool builds print for the same codes. */
const ALIASES: Record<string, number> = { "Insufficient priviledge level": 0xd4 };

const BY_CODE = new Map(COMPLETION_CODES.map((c) => [c.code, c]));
const BY_TEXT = new Map(COMPLETION_CODES.map((c) => [c.text, c]));
for (const [alias, code] of Object.entries(ALIASES)) BY_TEXT.set(alias, BY_CODE.get(code)!);

/** lib/helper.c val2str's fallback for a code not in the table. */
const UNKNOWN_CODE = /^Unknown \(0x([0-9A-Fa-f]{1,2})\)$/;

export interface SoftRefusal {
  kind: SoftRefusalClass;
  /** The completion code, when the text names one. */
  code?: number;
  why: string;
}

/**
 * Classify the <text> of `Set Chassis Power Control to Soft failed: <text>`. A known code by its
 * text or its `Unknown (0xNN)` number (an ipmitool older than the BMC's code); anything else is
 * unknown, so transient.
 */
export function classifySoftRefusal(text: string): SoftRefusal {
  const said = text.trim();
  const byText = BY_TEXT.get(said);
  if (byText) return { kind: byText.kind, code: byText.code, why: byText.why };
  const unknown = UNKNOWN_CODE.exec(said);
  if (unknown) {
    const code = parseInt(unknown[1]!, 16);
    const known = BY_CODE.get(code);
    if (known) return { kind: known.kind, code, why: known.why };
    return { kind: "transient", code, why: "a completion code outside the generic table (OEM or command-specific)" };
  }
  return { kind: "transient", why: "not a completion code ipmitool names" };
}

/** `0xC0` */
export function formatCode(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(2, "0")}`;
}
