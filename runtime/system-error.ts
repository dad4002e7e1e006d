import { types } from "node:util";

/** An error the OS raised for a file or process call (ENOENT, EACCES, ENOSPC): it has a string `code` and a `syscall`. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  // isNativeError, not instanceof: fs errors come from Node's own realm (a jest vm context differs)
  return types.isNativeError(err) && typeof (err as NodeJS.ErrnoException).code === "string" && "syscall" in err;
}
