/**
 * Issue #21: a BMC tool that prints without end is cut at runtime/exec.ts's cap and killed; the
 * power drivers name that (transient, like no answer: nothing it printed can be trusted) and
 * quote at most an excerpt of what a tool printed, never a 16 MiB line.
 */
import { IpmiDriver } from "../../power/ipmi";
import { VirshDriver } from "../../power/virsh";
import { PowerError } from "../../power/driver";
import { EXCERPT_BYTES } from "../../runtime/excerpt";
import { fakeExec, testContext, type Reply } from "../support/fake-exec";
import { failure } from "../support/failure";

const PW_VAR = "COLDSTART_TEST_BMC_PW";
const ipmiTarget = {
  host: "openstack0",
  bmc: "10.0.0.10",
  port: 623,
  user: "admin",
  cipherSuite: 3,
  passwordEnv: PW_VAR,
};
const virshTarget = { host: "openstack0", uri: "test:///default", domain: "test" };

/** What exec answers for a call it cut at the cap: killed, no exit code, the output up to the cap. */
const overflowed: Reply = { exitCode: null, stdout: "", stderr: "y\n".repeat(1000), overflow: "stderr" };
/** A failed call whose one stderr line is 5 MB. */
const hugeLine: Reply = { exitCode: 1, stdout: "", stderr: `error: ${"x".repeat(5_000_000)}\n` };

function ipmi(reply: Reply) {
  const ctx = testContext(fakeExec().on(/ipmitool/, reply), { env: { [PW_VAR]: "pw" } });
  return new IpmiDriver(ipmiTarget, ctx);
}
function virsh(reply: Reply) {
  return new VirshDriver(virshTarget, testContext(fakeExec().on(/virsh/, reply)));
}

describe("a power tool cut at the output cap", () => {
  it.each([
    ["ipmi", () => ipmi(overflowed).state()],
    ["virsh", () => virsh(overflowed).state()],
  ])("%s: a named, transient failure (cut, killed), not a parse of what it printed", async (_d, call) => {
    const err = await failure(call());
    expect(err).toBeInstanceOf(PowerError);
    expect(err).toMatchObject({ permanent: false, refused: false });
    expect(err.message).toMatch(/printed more than 16 MiB on stderr \(cut, killed\)/);
  });

  it.each([
    ["ipmi", () => ipmi(hugeLine).off(true)],
    ["virsh", () => virsh(hugeLine).off(true)],
  ])("%s: a 5 MB stderr line is quoted as an excerpt with its marker", async (_d, call) => {
    const err = await failure(call());
    expect(Buffer.byteLength(err.message)).toBeLessThan(EXCERPT_BYTES + 1024);
    expect(err.message).toMatch(/… \[cut: 4\.8 MiB more\]/);
  });
});
