/**
 * Folders and files coldstart makes on its own (drills, maintenance drills, the preflight's sim,
 * the clock's socket): never at a name someone else can guess and claim first (issue #21). A new
 * folder is mkdtemp'd (0700) under $TMPDIR, or $XDG_RUNTIME_DIR when TMPDIR is not set; a folder
 * the operator names (--dir) or one found for --resume is used only when it is ours and only we
 * can write it, so no one else can plant a file, a symlink or a PATH in it. Files in it are
 * created exclusively and never through a symlink.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { UsageError } from "../config/errors";

const uid = (): number => process.getuid?.() ?? -1;

/** Group- or world-writable bits. */
const SHARED_WRITE = 0o022;

/** "0755"-style mode of a stat. */
function modeOf(st: fs.Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(4, "0");
}

/** uid and, where the system knows it, its name: "1001 (bob)". */
function ownerOf(owner: number): string {
  try {
    const line = fs
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.split(":")[2] === String(owner));
    return line ? `${owner} (${line.split(":")[0]})` : String(owner);
  } catch {
    return String(owner);
  }
}

/** Where new private folders go: $TMPDIR when set (the operator's choice), else $XDG_RUNTIME_DIR (per user), else /tmp. */
export function privateBase(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (!env.TMPDIR && xdg && path.isAbsolute(xdg) && privateDirProblem(xdg) === undefined) return xdg;
  return os.tmpdir();
}

/** A new folder only we can enter: `<base>/<prefix>XXXXXX`, mode 0700. */
export function makePrivateDir(prefix: string, env: NodeJS.ProcessEnv = process.env): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(privateBase(env), prefix)));
}

/**
 * Why `dir` is not a private folder of ours (undefined when it is): it must be a real folder (not
 * a symlink), owned by us, writable by no one else; every folder above it owned by us or root and,
 * if others may write it, sticky (as /tmp), so no one can swap it for their own.
 */
export function privateDirProblem(dir: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    return `cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`;
  }
  if (st.isSymbolicLink()) return "is a symlink (not followed)";
  if (!st.isDirectory()) return "is not a directory";
  if (st.uid !== uid() || (st.mode & SHARED_WRITE) !== 0)
    return `owned by uid ${ownerOf(st.uid)}, mode ${modeOf(st)} (needs: owned by uid ${ownerOf(uid())}, writable by no one else)`;
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    const above = fs.statSync(up);
    const sticky = (above.mode & 0o1000) !== 0;
    if ((above.uid !== uid() && above.uid !== 0) || ((above.mode & SHARED_WRITE) !== 0 && !sticky))
      return `sits in ${up}, owned by uid ${ownerOf(above.uid)}, mode ${modeOf(above)}: someone else could swap it`;
    if (path.dirname(up) === up) return undefined;
  }
}

/** `what` (e.g. "drill --dir"): a private folder of ours, or a one-line UsageError naming owner and mode. */
export function checkOwnedPrivateDir(dir: string, what: string): string {
  const abs = path.resolve(dir);
  let real = abs;
  try {
    // a symlink at the top is judged by what it names: --dir /tmp/mine -> ~/drills is fine
    real = fs.realpathSync(abs);
  } catch {
    // judged (and named) below
  }
  const problem = privateDirProblem(real);
  if (problem)
    throw new UsageError(
      `${what} ${dir}: ${problem}; give a directory of your own that only you can write (mkdir -m 700), or leave it out for a new private one`,
    );
  return real;
}

/**
 * --dir: ours if it exists (checkOwnedPrivateDir), else created 0700 by us (then it is ours).
 * `mustExist` (a resume): a missing folder is a UsageError.
 */
export function usePrivateDir(dir: string, what: string, mustExist = false): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs)) {
    if (mustExist)
      throw new UsageError(
        `${what} ${dir}: it does not exist; give the directory of the earlier run, or run it once without --resume`,
      );
    const cannot = (err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      return new UsageError(
        `${what} ${dir}: cannot create it (${e.code ?? e.message}); give a directory you can write`,
      );
    };
    try {
      fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw cannot(err);
    }
    try {
      fs.mkdirSync(abs, { mode: 0o700 }); // not recursive: EEXIST if someone made it meanwhile, judged below
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw cannot(err);
    }
  }
  return checkOwnedPrivateDir(abs, what);
}

/** A sub-folder of a private folder: made 0700, or an existing real folder; a symlink is refused, not followed. */
export function privateSubdir(parent: string, ...names: string[]): string {
  let dir = parent;
  for (const name of names) {
    dir = path.join(dir, name);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = fs.lstatSync(dir);
      if (!st.isDirectory())
        throw new UsageError(
          `${dir}: ${st.isSymbolicLink() ? "is a symlink" : "is not a folder"}; coldstart does not follow it. Remove it, or use a new folder`,
        );
    }
  }
  return dir;
}

const NEW_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Create `file` exclusively (never through a symlink, never over anything): EEXIST is a one-line UsageError. */
export function createPrivateFile(file: string, data: string, mode = 0o600): void {
  let fd: number;
  try {
    fd = fs.openSync(file, NEW_FILE, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new UsageError(`${file}: already there (a file or a symlink coldstart did not make); remove it`);
    throw err;
  }
  try {
    fs.fchmodSync(fd, mode); // the umask may have taken bits off (a script must stay executable)
    fs.writeSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Write `file` whole: a new temp file beside it (exclusive, no symlink), renamed over it. A
 * symlink at `file` is replaced, never followed; readers see the old file or the new one.
 */
export function writePrivateFile(file: string, data: string, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  createPrivateFile(tmp, data, mode);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
