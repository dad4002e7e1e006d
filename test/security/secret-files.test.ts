/**
 * Issue #21: a file holding a secret (COLDSTART_UNSEAL_KEYS_FILE, a BMC passwordFile, a MAAS
 * apiKeyFile) is refused when its group or others may access it, as ssh refuses a private key;
 * FIFOs, devices and process substitution stay allowed. A reader that only counts keys never
 * opens a FIFO. Maintenance's key FIFO serves every reader and leaves nothing behind.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../../config/errors";
import { readSecret } from "../../power/credentials";
import { readSecretFile, secretFileProblem } from "../../runtime/secret-file";
import { readUnsealKeys } from "../../runtime/unseal-keys";
import { serveKeys } from "../../automation/key-fifo";
import { runCommand } from "../../drill/executor";

const ROOT = path.resolve(__dirname, "../..");
const KEYS = ["a2V5LW9uZQ==", "a2V5LXR3bw==", "a2V5LXRocmVl"];

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-secret-files-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, text: string, mode: number): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode); // whatever the umask
  return file;
}

function mkfifo(name: string, mode = "600"): string {
  const file = path.join(dir, name);
  execFileSync("/usr/bin/mkfifo", ["-m", mode, file]);
  return file;
}

/** Another process writes `text` into the FIFO once (this one may block in a synchronous open). */
function writeOnce(fifo: string, text: string): Promise<unknown> {
  const source = fileWith(`${path.basename(fifo)}.source`, text, 0o600);
  const writer = spawn("/bin/sh", ["-c", 'cat "$1" > "$2"', "sh", source, fifo], { stdio: "ignore" });
  return new Promise((resolve) => writer.on("exit", resolve));
}

describe("secretFileProblem: the mode rule", () => {
  const regular = (mode: number) => ({
    mode: 0o100000 | mode,
    isFile: () => true,
    isFIFO: () => false,
    isCharacterDevice: () => false,
    isSocket: () => false,
  });

  it.each(["0600", "0400", "0700", "0200"])("a regular file with mode %s is accepted", (octal) => {
    expect(secretFileProblem("the key file", "/k", regular(parseInt(octal, 8)))).toBeUndefined();
  });

  it.each(["0644", "0640", "0604", "0660", "0620", "0602", "0610", "0601", "0777"])(
    "a regular file with mode %s is refused in one line with the fix",
    (octal) => {
      expect(secretFileProblem("the key file", "/k", regular(parseInt(octal, 8)))).toBe(
        `the key file /k has mode ${octal}: group or others may access it; refused (run: chmod 600 /k)`,
      );
    },
  );

  it("a FIFO, a character device or a pipe is accepted whatever its mode", () => {
    expect(secretFileProblem("the key file", "/f", fs.statSync(mkfifo("open-fifo", "666")))).toBeUndefined();
    expect(secretFileProblem("the key file", "/dev/null", fs.statSync("/dev/null"))).toBeUndefined();
  });

  it("readSecretFile checks the file it opened and never puts content or length in a message", () => {
    const file = fileWith("k", "s3cr3t-value\n", 0o644);
    const read = readSecretFile("the key file", file);
    expect(read).toEqual({
      ok: false,
      code: "EMODE",
      problem: `the key file ${file} has mode 0644: group or others may access it; refused (run: chmod 600 ${file})`,
    });
    expect(JSON.stringify(read)).not.toMatch(/s3cr3t|\b13\b/);
    fs.chmodSync(file, 0o600);
    expect(readSecretFile("the key file", file)).toEqual({ ok: true, text: "s3cr3t-value\n" });
  });
});

describe("readUnsealKeys and COLDSTART_UNSEAL_KEYS_FILE", () => {
  it("a 0644 keys file is refused by the count and by the unseal step alike", () => {
    const file = fileWith("keys", KEYS.join("\n"), 0o644);
    const line = `COLDSTART_UNSEAL_KEYS_FILE: the unseal keys file ${file} has mode 0644: group or others may access it; refused (run: chmod 600 ${file})`;
    expect(readUnsealKeys({ COLDSTART_UNSEAL_KEYS_FILE: file })).toEqual({ ok: false, problem: line });
    expect(readUnsealKeys({ COLDSTART_UNSEAL_KEYS_FILE: file }, { openPipes: true })).toEqual({
      ok: false,
      problem: line,
    });
  });

  it("a ~/ keys file is checked where it really is", () => {
    fileWith("keys", KEYS.join("\n"), 0o640);
    const r = readUnsealKeys({ HOME: dir, COLDSTART_UNSEAL_KEYS_FILE: "~/keys" });
    expect(r).toMatchObject({ ok: false, problem: expect.stringContaining(`chmod 600 ${path.join(dir, "keys")}`) });
  });

  it("a count (the preflight) never opens a FIFO: it says so at once instead of taking the keys", () => {
    const fifo = mkfifo("keys");
    // in a child with a deadline: an open of a FIFO with no writer would block this process for good
    const r = spawnSync(
      process.execPath,
      [
        "-e",
        `const u = require(${JSON.stringify(path.join(ROOT, "dist/runtime/unseal-keys.js"))});
         process.stdout.write(JSON.stringify(u.readUnsealKeys({ COLDSTART_UNSEAL_KEYS_FILE: process.argv[1] })));`,
        fifo,
      ],
      { encoding: "utf8", timeout: 10_000 },
    );
    expect(r.signal).toBeNull();
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      problem: `COLDSTART_UNSEAL_KEYS_FILE: the unseal keys file ${fifo} is a FIFO or pipe: only the vault-unseal step opens it (a count would take the keys); to count them here, name a 0600 regular file`,
    });
  });

  it("the unseal step reads a FIFO (openPipes), even one with mode 0644", async () => {
    const fifo = mkfifo("keys", "644");
    const written = writeOnce(fifo, KEYS.join("\n") + "\n");
    expect(readUnsealKeys({ COLDSTART_UNSEAL_KEYS_FILE: fifo }, { openPipes: true })).toMatchObject({
      ok: true,
      keys: KEYS,
      from: "file",
    });
    await written;
  });

  // as an operator runs it: `COLDSTART_UNSEAL_KEYS_FILE=<(pass show vault/unseal) pulumi up`
  it.each([
    ["process substitution, /dev/fd/N", `COLDSTART_UNSEAL_KEYS_FILE=<(printf '%s\\n' "$@") exec`],
    ["/proc/self/fd/N", `exec 3< <(printf '%s\\n' "$@"); COLDSTART_UNSEAL_KEYS_FILE=/proc/self/fd/3 exec`],
  ])("%s works for the unseal step", (_name, prefix) => {
    const reader = `const u = require(process.argv[1]);
      process.stdout.write(JSON.stringify(u.readUnsealKeys(process.env, { openPipes: true })));`;
    const script = `${prefix} "${process.execPath}" -e '${reader}' "${path.join(ROOT, "dist/runtime/unseal-keys.js")}"`;
    const r = spawnSync("/bin/bash", ["-c", script, "bash", ...KEYS], { encoding: "utf8", timeout: 10_000 });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, keys: KEYS });
  });

  it("a key sent twice (a FIFO writer that served a slow reader twice) counts once", () => {
    const file = fileWith("keys", [...KEYS, ...KEYS].join("\n") + "\n", 0o600);
    expect(readUnsealKeys({ COLDSTART_UNSEAL_KEYS_FILE: file })).toMatchObject({ ok: true, keys: KEYS });
  });
});

describe("power credential files (BMC passwordFile, MAAS apiKeyFile)", () => {
  const ref = (file: string) => ({ host: "openstack0", driver: "ipmi" as const, what: "BMC password", file });

  it("a password file others may read is a usage error (exit 2, as a missing one) in one line with the fix", () => {
    const file = fileWith("bmc-pw", "hunter2pw\n", 0o604);
    const read = () => readSecret(ref(file), {});
    expect(read).toThrow(UsageError);
    expect(read).toThrow(
      `openstack0 (ipmi): the BMC password file ${file} has mode 0604: group or others may access it; refused (run: chmod 600 ${file})`,
    );
  });

  it("a 0600 file and a FIFO are read", async () => {
    expect(readSecret(ref(fileWith("ok", "hunter2pw\n", 0o600)), {})).toBe("hunter2pw");
    const fifo = mkfifo("pw-fifo", "644");
    const written = writeOnce(fifo, "hunter2pw\n");
    expect(readSecret({ ...ref(fifo), driver: "maas", what: "MAAS API key" }, {})).toBe("hunter2pw");
    await written;
  });
});

describe("maintenance's key FIFO (automation/key-fifo.ts)", () => {
  it("lives in a 0700 folder under $XDG_RUNTIME_DIR, is a 0600 FIFO, serves every reader, and is gone after close", async () => {
    fs.chmodSync(dir, 0o700);
    const served = serveKeys(KEYS, { XDG_RUNTIME_DIR: dir });
    try {
      expect(path.dirname(served.dir)).toBe(dir);
      expect(fs.statSync(served.dir).mode & 0o777).toBe(0o700);
      const st = fs.statSync(served.path);
      expect(st.isFIFO()).toBe(true);
      expect(st.mode & 0o777).toBe(0o600);
      // a retried unseal step reads again: each reader gets the keys (another process each time)
      for (let i = 0; i < 2; i++) {
        const text = await new Promise<string>((resolve) => {
          const cat = spawn("cat", [served.path], { stdio: ["ignore", "pipe", "ignore"] });
          let out = "";
          cat.stdout.on("data", (d: Buffer) => (out += d.toString()));
          cat.on("close", () => resolve(out));
        });
        expect([...new Set(text.split("\n").filter(Boolean))]).toEqual(KEYS);
      }
      expect(served.served()).toBeGreaterThanOrEqual(2);
    } finally {
      served.close();
    }
    expect(fs.existsSync(served.dir)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
    served.close(); // twice is harmless
  });

  it("an $XDG_RUNTIME_DIR that others may write (or not a folder of ours) is passed over for the temp folder", () => {
    fs.chmodSync(dir, 0o777);
    const served = serveKeys(KEYS, { XDG_RUNTIME_DIR: dir });
    try {
      expect(path.dirname(served.dir)).toBe(os.tmpdir());
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      served.close();
      fs.chmodSync(dir, 0o700);
    }
  });

  it("without $XDG_RUNTIME_DIR it uses the temp folder", () => {
    const served = serveKeys(KEYS, {});
    try {
      expect(path.dirname(served.dir)).toBe(os.tmpdir());
    } finally {
      served.close();
    }
  });
});

describe("the drill's executor (drill/executor.ts)", () => {
  const env = { ...process.env, COLDSTART_UNSEAL_KEY_1: "cGxhbnRlZA==", COLDSTART_UNSEAL_KEYS_FILE: "/run/k" };
  const unsealNames = async (step: string) =>
    (await runCommand("env", { environment: { COLDSTART_STEP: step } }, env)).stdout
      .split("\n")
      .map((l) => l.slice(0, l.indexOf("=")))
      .filter((k) => k.startsWith("COLDSTART_UNSEAL_"))
      .sort();

  it("gives the key variables to the vault-unseal step's shell and to no other", async () => {
    expect(await unsealNames("vault-unseal")).toEqual(["COLDSTART_UNSEAL_KEYS_FILE", "COLDSTART_UNSEAL_KEY_1"]);
    expect(await unsealNames("vault-unsealed")).toEqual([]);
    expect(await unsealNames("mysql-check")).toEqual([]);
  });
});
