/**
 * Where the recorded outputs live: test/recorded/ (a byte-for-byte copy of the team's
 * shared/fixtures, provenance in its README.md, so a clean clone is self-contained), or the
 * folder named by COLDSTART_FIXTURES (e.g. a newer or private fixture set).
 */
import * as fs from "fs";
import * as path from "path";

export function fixturesDir(): string {
  const fromEnv = process.env.COLDSTART_FIXTURES;
  if (fromEnv !== undefined && fromEnv !== "") return path.resolve(fromEnv);
  return path.resolve(__dirname, "recorded");
}

export function fixturePath(relative: string): string {
  return path.join(fixturesDir(), relative);
}

/** The fixture's exact text (trailing newlines as recorded). */
export function readFixture(relative: string): string {
  return fs.readFileSync(fixturePath(relative), "utf8");
}

/** Unwrap a parse result in a test: a fixture that does not parse fails the test with its named error. */
export function mustParse<T>(parsed: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}
