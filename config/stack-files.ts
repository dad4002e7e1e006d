/**
 * Offline reading of Pulumi.yaml + stacks/Pulumi.<stack>.yaml into the string map the Pulumi
 * runtime hands a program (objects as JSON), so plan and drill see what `pulumi preview` would.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { UsageError } from "./errors";
import { NAMESPACE } from "./load";

export interface StackConfig {
  project: string;
  stack: string;
  file: string;
  /** `coldstart:<key>` -> text, exactly as PULUMI_CONFIG would carry it. */
  values: Record<string, string>;
  /** Keys whose value is `secure:` (cannot be decrypted offline; shown as a placeholder). */
  secretKeys: string[];
}

/** The folder holding Pulumi.yaml, searched upwards from `start` (works from src and dist). */
export function findProjectDir(start: string = __dirname): string {
  let dir = path.resolve(start);
  for (;;) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new UsageError(`cannot find Pulumi.yaml above ${start}`);
    dir = parent;
  }
}

interface ProjectFile {
  name: string;
  stackConfigDir?: string;
}

function readYaml(file: string): unknown {
  try {
    return parseYaml(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: not readable YAML (${(err as Error).message.split("\n")[0]})`);
  }
}

export function stacksDir(projectDir: string): string {
  const project = readYaml(path.join(projectDir, "Pulumi.yaml")) as ProjectFile;
  return path.join(projectDir, project.stackConfigDir ?? ".");
}

export function listStacks(projectDir: string): string[] {
  return fs
    .readdirSync(stacksDir(projectDir))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function readStackConfig(projectDir: string, stack: string): StackConfig {
  const project = readYaml(path.join(projectDir, "Pulumi.yaml")) as ProjectFile;
  const file = path.join(stacksDir(projectDir), `Pulumi.${stack}.yaml`);
  if (!/^[A-Za-z0-9._-]+$/.test(stack) || !fs.existsSync(file)) {
    throw new UsageError(`--stack: no stack named "${stack}" (known: ${listStacks(projectDir).join(", ")})`);
  }
  const doc = (readYaml(file) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
    if (!key.startsWith(`${NAMESPACE}:`)) continue; // other providers' namespaces are not ours
    if (value && typeof value === "object" && "secure" in value) {
      values[key] = "[secure value: not decrypted offline]";
      secretKeys.push(key);
    } else {
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { project: project.name, stack, file, values, secretKeys };
}
