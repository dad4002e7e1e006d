/**
 * The lint rules of eslint.config.js fire (README "Layout", Layers): a file below cli/ that imports
 * from cli/ is an error, gates/ may not run programs or touch files, and a promise nobody awaits is
 * an error (type-aware, typescript-eslint's projectService). Each case lints source text as if it
 * were a file at that path, through ESLint's Node API with the project's own config; nothing is
 * written into the tree.
 */
import * as path from "node:path";
import { ESLint, type Linter } from "eslint";

const ROOT = path.resolve(__dirname, "../..");
// eslint.config.js is CommonJS (require), an array of flat-config objects
// eslint-disable-next-line @typescript-eslint/no-require-imports
const CONFIG = require(path.join(ROOT, "eslint.config.js")) as Linter.Config[];

/** Lint `code` as `file` (relative to the repo) with the repository's config; the rule ids that fired. */
async function lint(
  file: string,
  code: string,
  typeAware = false,
): Promise<{ rule: string | null; message: string }[]> {
  const eslint = new ESLint({
    cwd: ROOT,
    // the project's own config, loaded here: ESLint's own loader uses a dynamic import(), which
    // jest's module sandbox does not allow
    overrideConfigFile: true,
    baseConfig: CONFIG,
    // the layer rules need no type information; without it a file that is not on disk can be linted
    overrideConfig: typeAware
      ? undefined
      : {
          languageOptions: { parserOptions: { projectService: false } },
          rules: {
            "@typescript-eslint/no-floating-promises": "off",
            "@typescript-eslint/no-misused-promises": "off",
            "@typescript-eslint/await-thenable": "off",
          },
        },
  });
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

const rules = (ms: { rule: string | null }[]) => ms.map((m) => m.rule);

describe("layers: cli/ is the top layer", () => {
  it.each([
    ["steps/fixture-layer.ts", 'import { parseFlags } from "../cli/args";\nexport const f = parseFlags;\n'],
    ["automation/fixture-layer.ts", 'import { main } from "../cli/main";\nexport const f = main;\n'],
    ["sim/tools/fixture-layer.ts", 'import type { X } from "../../cli/terminal";\nexport type Y = X;\n'],
    ["runtime/fixture-layer.ts", 'export { confirm } from "../cli/terminal";\n'],
  ])("%s importing from cli/ is an error naming the layer rule", async (file, code) => {
    const ms = await lint(file, code);
    expect(rules(ms)).toContain("no-restricted-imports");
    expect(ms.find((m) => m.rule === "no-restricted-imports")?.message).toMatch(/cli\/ is the top layer/);
  });

  it("cli/ may import from every layer below it", async () => {
    const ms = await lint(
      "cli/fixture-layer.ts",
      'import { toolVerdict } from "../steps/outcome";\nimport { EXIT } from "../runtime/exit-codes";\nexport const f = [toolVerdict, EXIT];\n',
    );
    expect(rules(ms)).not.toContain("no-restricted-imports");
  });

  it("a lower layer importing a sibling layer is fine (steps/ -> runtime/)", async () => {
    const ms = await lint(
      "steps/fixture-layer.ts",
      'import { EXIT } from "../runtime/exit-codes";\nexport const e = EXIT;\n',
    );
    expect(ms).toEqual([]);
  });
});

describe("layers: gates/ is pure", () => {
  it.each([
    ["node:fs", 'import * as fs from "node:fs";\nexport const f = fs;\n', /gates\/ is pure/],
    ["child_process", 'import { spawnSync } from "child_process";\nexport const f = spawnSync;\n', /gates\/ is pure/],
    ["runtime/exec", 'import { realExec } from "../runtime/exec";\nexport const f = realExec;\n', /gates\/ is pure/],
    ["cli/", 'import { main } from "../cli/main";\nexport const f = main;\n', /cli\/ is the top layer/],
  ])("an import of %s is refused in gates/", async (_what, code, why) => {
    const ms = await lint("gates/fixture-layer.ts", code);
    expect(rules(ms)).toContain("no-restricted-imports");
    expect(ms.map((m) => m.message).join("\n")).toMatch(why);
  });

  it("zod and a sibling gate are fine in gates/", async () => {
    const ms = await lint(
      "gates/fixture-layer.ts",
      'import * as z from "zod";\nimport type { Verdict } from "./verdict";\nexport const s = z.string();\nexport type V = Verdict;\n',
    );
    expect(ms).toEqual([]);
  });
});

describe("zod is imported as a namespace (the step bundle shakes it; issue #14)", () => {
  it.each(["cli/fixture-zod.ts", "stages/fixture-zod.ts", "gates/fixture-zod.ts", "test/fixture-zod.ts"])(
    'import { z } from "zod" in %s is refused, naming the namespace import',
    async (file) => {
      const ms = await lint(file, 'import { z } from "zod";\nexport const s = z.string();\n');
      expect(rules(ms)).toContain("no-restricted-syntax");
      expect(ms.map((m) => m.message).join("\n")).toMatch(/import \* as z from "zod"/);
    },
  );

  it('import * as z from "zod" is fine', async () => {
    expect(await lint("stages/fixture-zod.ts", 'import * as z from "zod";\nexport const s = z.string();\n')).toEqual(
      [],
    );
  });
});

describe("type-aware rules", () => {
  // an existing file's path, so the project service knows it; its text is the one given here
  const FILE = "runtime/bounded.ts";

  it("a promise nobody awaits is no-floating-promises; awaited or `void` is fine", async () => {
    const floating = await lint(
      FILE,
      "async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n",
      true,
    );
    expect(rules(floating)).toContain("@typescript-eslint/no-floating-promises");
    const handled = await lint(
      FILE,
      "async function f(): Promise<void> {}\nexport async function g(): Promise<void> {\n  await f();\n  void f();\n}\n",
      true,
    );
    expect(rules(handled)).toEqual([]);
  }, 60_000);

  it("an async function as a void callback (a signal handler) is no-misused-promises", async () => {
    const ms = await lint(
      FILE,
      'export function watch(): void {\n  process.on("SIGINT", async () => {\n    await Promise.resolve();\n  });\n}\n',
      true,
    );
    expect(rules(ms)).toContain("@typescript-eslint/no-misused-promises");
  }, 60_000);
});
