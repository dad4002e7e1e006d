/**
 * Simulated cloud -- where the project lives: the nearest folder above this module with a
 * package.json (works from sim/ under ts-jest and from dist/sim/ when compiled).
 */
import * as fs from "node:fs";
import * as path from "node:path";

export function projectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`coldstart sim: no package.json above ${from}`);
  }
}
