/**
 * The one rule for a file that holds a secret (the unseal keys file, a BMC password file, a MAAS
 * API key file): a regular file that its group or others may read or write is refused, as OpenSSH
 * refuses a private key (openssh-portable authfile.c `sshkey_perm_ok`: `(st.st_mode & 077) != 0`
 * -> "Permissions 0644 for '<file>' are too open ... This private key will be ignored"). A FIFO, a
 * character device or a pipe (`<(...)`, /dev/fd/N, /proc/self/fd/N, /dev/stdin) holds nothing at
 * rest and is allowed. The mode is read from the open descriptor (fstat), so what is checked is
 * what is read. Messages name the file and its mode, never its content or its length.
 */
import * as fs from "node:fs";

/** What stat says, as far as this rule cares (fs.Stats fits). */
export interface FileKind {
  mode: number;
  isFile(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isSocket(): boolean;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`;

/**
 * Why `file` may not hold a secret, in one line with the fix; undefined when it may. `what` says
 * what the file is for and where it was named, e.g. "the unseal keys file in COLDSTART_UNSEAL_KEYS_FILE".
 */
export function secretFileProblem(what: string, file: string, st: FileKind): string | undefined {
  if (!st.isFile()) return undefined; // a FIFO, device or pipe: nothing at rest to protect
  if ((st.mode & 0o077) === 0) return undefined;
  return `${what} ${file} has mode ${octal(st.mode)}: group or others may access it; refused (run: chmod 600 ${file})`;
}

/** A pipe-like file: opening it to read takes what its writer sends (the one reader it is meant for). */
export function isPipeLike(st: FileKind): boolean {
  return st.isFIFO() || st.isCharacterDevice() || st.isSocket();
}

export type SecretFileRead = { ok: true; text: string } | { ok: false; problem: string; code?: string };

/**
 * Open, check the open file's mode, then read it: the whole content as text. Errors are one line
 * naming `what` and the file (ENOENT, EACCES, ... as their code).
 */
export function readSecretFile(what: string, file: string): SecretFileRead {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return { ok: false, code, problem: `${what} ${file} cannot be read (${code})` };
  }
  try {
    const problem = secretFileProblem(what, file, fs.fstatSync(fd));
    if (problem) return { ok: false, code: "EMODE", problem };
    return { ok: true, text: fs.readFileSync(fd, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    return { ok: false, code, problem: `${what} ${file} cannot be read (${code})` };
  } finally {
    fs.closeSync(fd);
  }
}
