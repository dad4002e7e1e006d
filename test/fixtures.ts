/**
 * Where the recorded outputs live: /work/shared/fixtures (../../shared/fixtures from test/),
 * or the folder named by COLDSTART_FIXTURES (e.g. a private fixture set).
 */
import * as fs from "fs";
import * as path from "path";

export function fixturesDir(): string {
  const fromEnv = process.env.COLDSTART_FIXTURES;
  if (fromEnv !== undefined && fromEnv !== "") return path.resolve(fromEnv);
  return path.resolve(__dirname, "../../shared/fixtures");
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
