/**
 * A file that is whole or absent, never seen half-written: its text goes to a private temporary
 * file beside it (0600, created exclusively), which then becomes the file by link(2) (exclusive:
 * EEXIST like open(O_EXCL), for claims and the MySQL marker) or by rename(2) (replace). node:fs
 * only: every step loads this through runtime/step-claim.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A new temporary name beside `file`; it does not end like `file`, so no reader of `file`'s kind takes it. */
export function tempBeside(file: string): string {
  // the Web Crypto global, not node:crypto: loading that costs each step's start (run-lock.ts)
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomUUID()}.tmp`);
}

/**
 * Write `text` to a new temporary file beside `file` and return its name. `durable`: flushed to
 * disk before it is returned (a power loss then leaves `file` whole or absent). On a failure (a
 * full disk) the temporary file is removed: nothing is left behind.
 */
export function writeTempBeside(file: string, text: string, opts: { durable?: boolean } = {}): string {
  const tmp = tempBeside(file);
  const fd = fs.openSync(tmp, "wx", 0o600);
  let whole = false;
  try {
    const data = Buffer.from(text);
    for (let done = 0; done < data.length;) done += fs.writeSync(fd, data, done);
    if (opts.durable) fs.fsyncSync(fd);
    whole = true;
  } finally {
    fs.closeSync(fd);
    if (!whole) fs.rmSync(tmp, { force: true });
  }
  return tmp;
}

/** Create `file` with `text`, whole, or throw link(2)'s error (EEXIST when it exists already). */
export function createWhole(file: string, text: string, opts: { durable?: boolean } = {}): void {
  const tmp = writeTempBeside(file, text, opts);
  try {
    fs.linkSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
