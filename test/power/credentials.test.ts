/**
 * Issue #22: power/credentials.ts -- where a power driver's secret comes from and what the
 * operator reads when it cannot be had (always WHERE it was looked for, never the value), and the
 * redaction of a secret from what a tool or MAAS said.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../config/errors";
import { readSecret, redact, secretFilePath, secretWhere, unreadable, type SecretRef } from "../../power/credentials";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-credentials-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const ipmi = (over: Partial<SecretRef>): SecretRef => ({
  host: "openstack2",
  driver: "ipmi",
  what: "BMC password",
  ...over,
});

function fileWith(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/** The UsageError `fn` throws. */
function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("secretWhere / secretFilePath", () => {
  it("names the file, else the variable, else says nothing is configured", () => {
    expect(secretWhere(ipmi({ file: "~/pw", env: "PW" }))).toBe("file ~/pw");
    expect(secretWhere(ipmi({ env: "IPMI_PW_OPENSTACK2" }))).toBe("environment variable IPMI_PW_OPENSTACK2");
    expect(secretWhere(ipmi({}))).toBe("nowhere (no file or variable configured)");
  });

  it("expands ~/ against the step's HOME; without a file it is a usage error naming the host", () => {
    expect(secretFilePath(ipmi({ file: "~/bmc/pw" }), { HOME: "/home/op" })).toBe("/home/op/bmc/pw");
    expect(secretFilePath(ipmi({ file: "/etc/pw" }), { HOME: "/home/op" })).toBe("/etc/pw");
    expect(usageError(() => secretFilePath(ipmi({ env: "PW" }), {})).message).toBe(
      "openstack2 (ipmi): the BMC password has no file configured",
    );
  });
});

describe("unreadable: why, in words", () => {
  it.each([
    ["ENOENT", "does not exist"],
    ["EACCES", "cannot be read (permission denied)"],
    ["EISDIR", "is a directory"],
    ["ELOOP", "cannot be read (ELOOP)"],
  ])("%s: %s", (code, words) => {
    expect(unreadable({ code })).toBe(words);
  });

  it("an error without a code", () => {
    expect(unreadable(new Error("odd"))).toBe("cannot be read (error)");
  });
});

describe("readSecret", () => {
  it("from a file: trailing newlines (LF or CRLF) dropped, anything else kept", () => {
    expect(readSecret(ipmi({ file: fileWith("a", "pw\n\n") }), {})).toBe("pw");
    expect(readSecret(ipmi({ file: fileWith("b", "pw\r\n") }), {})).toBe("pw");
    expect(readSecret(ipmi({ file: fileWith("c", " p w \t") }), {})).toBe(" p w \t");
    expect(readSecret(ipmi({ file: fileWith("d", "pw\r") }), {})).toBe("pw\r");
    expect(readSecret(ipmi({ file: fileWith("e", "p\nw\n") }), {})).toBe("p\nw");
  });

  it("the file is preferred over the variable when both are named", () => {
    expect(readSecret(ipmi({ file: fileWith("f", "from-file\n"), env: "PW" }), { PW: "from-env" })).toBe("from-file");
  });

  it("a file that is a directory, or unreadable, is named as configured and as expanded", () => {
    fs.mkdirSync(path.join(dir, "sub"));
    expect(usageError(() => readSecret(ipmi({ file: "~/sub" }), { HOME: dir })).message).toBe(
      `openstack2 (ipmi): the BMC password file ~/sub (${path.join(dir, "sub")}) is a directory`,
    );
    const abs = path.join(dir, "sub");
    expect(usageError(() => readSecret(ipmi({ file: abs }), {})).message).toBe(
      `openstack2 (ipmi): the BMC password file ${abs} is a directory`,
    );
  });

  it("a file others may read: the mode problem, in one line with the fix", () => {
    const file = fileWith("open", "pw\n");
    fs.chmodSync(file, 0o644);
    expect(usageError(() => readSecret(ipmi({ file }), {})).message).toBe(
      `openstack2 (ipmi): the BMC password file ${file} has mode 0644: group or others may access it; refused (run: chmod 600 ${file})`,
    );
  });

  it("from the variable; one not set, or neither configured, is a usage error naming what to set", () => {
    expect(readSecret(ipmi({ env: "PW" }), { PW: "pw\n" })).toBe("pw");
    expect(usageError(() => readSecret(ipmi({ env: "IPMI_PW_OPENSTACK2" }), {})).message).toBe(
      "openstack2 (ipmi): the BMC password variable IPMI_PW_OPENSTACK2 is not set in the environment of this run " +
        "(export it in the shell that runs pulumi up)",
    );
    expect(usageError(() => readSecret(ipmi({}), { PW: "pw" })).message).toBe(
      "openstack2 (ipmi): the BMC password has no source: set a file or an environment variable in the stack config",
    );
  });

  it("a secret of only blanks is empty; the message says where", () => {
    expect(usageError(() => readSecret(ipmi({ env: "PW" }), { PW: " \t \n" })).message).toBe(
      "openstack2 (ipmi): the BMC password in environment variable PW is empty",
    );
  });
});

describe("redact", () => {
  it("replaces every occurrence; no secret (undefined or empty) leaves the text as it is", () => {
    expect(redact("pw and pw again", "pw")).toBe("<redacted> and <redacted> again");
    expect(redact("text", undefined)).toBe("text");
    expect(redact("text", "")).toBe("text");
  });
});
