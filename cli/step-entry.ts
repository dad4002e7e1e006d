/**
 * What bin/coldstart starts for a step (check, act, gate, kept) when the step bundle is fresh: it
 * runs dist/cli/step-bundle.js as the main module, with a V8 code cache of the bundle made AFTER a
 * step of the same kind ran (issue #14, per-step start).
 *
 * Why not only Node's compile cache (module.enableCompileCache, which the launcher also turns on):
 * Node makes that cache right after compiling a file (src/compile_cache.cc MaybeSaveImpl calls
 * ScriptCompiler::CreateCodeCacheForFunction at compile time), so it holds only what V8 compiles
 * eagerly, the bundle's top level; every function of zod and of the step path is compiled again
 * by every step. `script.createCachedData()` after the script ran holds every function compiled so
 * far (nodejs/node doc/api/vm.md, "script.createCachedData()": the `cacheWithAdd` example).
 *
 * One file per kind of step (`<verb>-<command>.v8`, one `kept.v8`) in `step-bundle-<id>/` where the
 * compile cache lives (NODE_COMPILE_CACHE, which the launcher sets to node_modules/.cache/coldstart);
 * <id> stands for the bundle's path, so that checkouts sharing one node_modules (git worktrees)
 * never take turns overwriting each other's files.
 * It starts with the bundle text it was made from, and is used only when that text is the bundle's
 * byte for byte: V8 itself checks only the source's length before it trusts a cache, never its text
 * (v8 src/snapshot/code-serializer.cc SerializedCodeData::SourceHash), and a byte compare costs
 * less than loading node:crypto for a hash. Written when missing, stale or rejected by V8 (another
 * Node), by rename so that parallel steps never read half a file; never for --help or a usage
 * error. NODE_DISABLE_COMPILE_CACHE=1 turns it off. A folder it cannot write only costs the
 * speed-up: nothing is said, the step runs.
 *
 * Only node: builtins here: this file is loaded by Node itself, before the bundle.
 */
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";

const BUNDLE = path.join(__dirname, "step-bundle.js");
/** A cache file: MAGIC, the bundle's length (uint32 LE), the bundle's bytes, then V8's data. */
const MAGIC = Buffer.from("coldstart-step-cache-1\n");
/** EXIT.usage (runtime/exit-codes.ts; not imported: only builtins load before the bundle). */
const EXIT_USAGE = 2;

/** The cache file for this kind of step, or undefined when the cache is off. */
export function cacheFileFor(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  root = path.join(__dirname, "..", ".."),
): string | undefined {
  if (env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const dir = env.NODE_COMPILE_CACHE || path.join(root, "node_modules", ".cache", "coldstart");
  const [verb = "", command = ""] = argv;
  // one file per step: `kept` runs the same code for every step, a verb's steps differ by handler
  const kind = verb === "kept" || !/^[a-z0-9-]+$/.test(command) ? verb : `${verb}-${command}`;
  if (!/^[a-z0-9-]+$/.test(kind)) return undefined;
  return path.join(path.resolve(dir), `step-bundle-${pathId(BUNDLE)}`, `${kind}.v8`);
}

/** A short name for a path: 32-bit FNV-1a of its characters, in hex (a few dozen characters: no need for node:crypto). */
export function pathId(file: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < file.length; i++) hash = Math.imul(hash ^ file.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** V8's data in `cache` if it was made from exactly `source`. */
export function cachedDataFor(cache: Buffer | undefined, source: Buffer): Buffer | undefined {
  if (cache === undefined || cache.length < MAGIC.length + 4 || !cache.subarray(0, MAGIC.length).equals(MAGIC))
    return undefined;
  const start = MAGIC.length + 4;
  const length = cache.readUInt32LE(MAGIC.length);
  if (length !== source.length || cache.length <= start + length) return undefined;
  return cache.subarray(start, start + length).equals(source) ? cache.subarray(start + length) : undefined;
}

export function cacheContents(source: Buffer, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(source.length);
  return Buffer.concat([MAGIC, length, source, data]);
}

function readFile(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Written by rename (parallel steps read a whole file or none); every error is ignored. V8 is asked
 * for its data only once the file is open: a folder that cannot be written costs no serialization.
 */
function saveCache(file: string, contents: () => Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeFileSync(fd, contents());
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs the speed-up (see the file comment)
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // its folder cannot even be made: there is no file to remove
    }
  }
}

/** Runs the bundle as Node runs a main CommonJS module: its own require, module, __filename, __dirname. */
function runBundle(argv: readonly string[], env: NodeJS.ProcessEnv): void {
  const source = fs.readFileSync(BUNDLE);
  const cacheFile = cacheFileFor(argv, env);
  const cachedData = cachedDataFor(readFile(cacheFile), source);
  // the same wrapper as Node's CommonJS loader, on the bundle's first line so its lines keep their numbers
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source.toString()}\n})`,
    {
      filename: BUNDLE,
      cachedData,
    },
  );
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    process.once("exit", (code) => {
      if (code !== EXIT_USAGE && !argv.includes("--help") && !argv.includes("-h"))
        saveCache(cacheFile, () => cacheContents(source, script.createCachedData()));
    });
  }
  const bundleModule = { exports: {}, filename: BUNDLE, id: "." };
  const bundleRequire = createRequire(BUNDLE);
  // the bundle starts itself when it is the main module (cli/main.ts: require.main === module);
  // it reads nothing else of its module object
  bundleRequire.main = bundleModule as unknown as NodeJS.Module;
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(bundleModule.exports, bundleModule.exports, bundleRequire, bundleModule, BUNDLE, __dirname);
}

if (require.main === module) runBundle(process.argv.slice(2), process.env);
