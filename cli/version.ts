/** coldstart's own version, for `--version` and the headers of what it generates. */
import * as fs from "node:fs";
import * as path from "node:path";
import * as z from "zod";

/** package.json's version: the nearest package.json named coldstart above this file (src or dist/). */
export function version(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (fs.existsSync(file)) {
      const pkg = z
        .object({ name: z.string(), version: z.string() })
        .safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
      if (pkg.success && pkg.data.name === "coldstart") return pkg.data.version;
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json of coldstart above ${__dirname}`);
  }
}
