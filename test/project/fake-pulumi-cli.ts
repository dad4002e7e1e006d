/**
 * A fake `pulumi` for the CI helper's tests: appends its arguments to $FAKE_PULUMI_LOG and answers
 * `login`, `stack select` and `stack ls` as the FAKE_* variables say (an error text makes it fail
 * with exit 255, as the CLI does); anything else exits 3.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function writeFakePulumi(dir: string): string {
  const file = path.join(dir, "pulumi");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    file,
    [
      "#!/bin/sh",
      'echo "$*" >> "$FAKE_PULUMI_LOG"',
      'case "$1 $2" in',
      '  "login "*) if [ -n "${FAKE_LOGIN_ERROR:-}" ]; then echo "error: $FAKE_LOGIN_ERROR" >&2; exit 255; fi; echo "Logged in" ;;',
      '  "stack select") if [ -n "${FAKE_SELECT_ERROR:-}" ]; then echo "error: $FAKE_SELECT_ERROR" >&2; exit 255; fi ;;',
      '  "stack ls") if [ -n "${FAKE_LS_ERROR:-}" ]; then echo "error: $FAKE_LS_ERROR" >&2; exit 255; fi; printf "%s\\n" "$FAKE_LS_JSON" ;;',
      "  *) exit 3 ;;",
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return file;
}
