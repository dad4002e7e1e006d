/**
 * A strict check of the Mermaid flowchart subset coldstart emits (Mermaid's own parser needs a
 * browser DOM). Anything outside the subset is an error, so a malformed line cannot slip through.
 */
const ID = "[A-Za-z][A-Za-z0-9_]*";
const LABEL = '"[^"]*"';
const RESERVED = new Set([
  "end",
  "graph",
  "subgraph",
  "flowchart",
  "style",
  "class",
  "classDef",
  "click",
  "linkStyle",
  "direction",
]);

export function checkMermaidFlowchart(text: string): string[] {
  const errors: string[] = [];
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines[0] !== "flowchart TD") errors.push(`line 1: expected "flowchart TD", found ${JSON.stringify(lines[0])}`);
  const nodes = new Set<string>();
  const classes = new Set<string>();
  const edges: [string, string][] = [];
  let depth = 0;
  const patterns: [RegExp, (m: RegExpExecArray) => void][] = [
    [
      new RegExp(`^subgraph (${ID})\\[(${LABEL})\\]$`),
      (m) => {
        depth++;
        checkId(m[1]);
      },
    ],
    [
      /^end$/,
      () => {
        depth--;
      },
    ],
    [
      new RegExp(`^(${ID})(?:\\[(${LABEL})\\]|\\{\\{(${LABEL})\\}\\})$`),
      (m) => {
        checkId(m[1]);
        nodes.add(m[1]);
      },
    ],
    [new RegExp(`^(${ID}) --> (${ID})$`), (m) => edges.push([m[1], m[2]])],
    [new RegExp(`^classDef (${ID}) ([a-z-]+:[#A-Za-z0-9]+)(,[a-z-]+:[#A-Za-z0-9]+)*$`), (m) => classes.add(m[1])],
    [
      new RegExp(`^class (${ID}(?:,${ID})*) (${ID})$`),
      (m) => {
        for (const id of m[1].split(",")) if (!nodes.has(id)) errors.push(`class names undeclared node ${id}`);
        if (!classes.has(m[2])) errors.push(`class ${m[2]} used before classDef`);
      },
    ],
  ];
  const checkId = (id: string) => {
    if (RESERVED.has(id)) errors.push(`reserved word used as id: ${id}`);
  };
  lines.slice(1).forEach((raw, i) => {
    const line = raw.trim();
    const hit = patterns.find(([re]) => re.test(line));
    if (!hit) errors.push(`line ${i + 2}: not valid in coldstart's flowchart subset: ${JSON.stringify(line)}`);
    else hit[1](hit[0].exec(line)!);
    if (depth < 0) errors.push(`line ${i + 2}: "end" without subgraph`);
  });
  if (depth !== 0) errors.push(`unbalanced subgraph/end (depth ${depth} at the end)`);
  for (const [a, b] of edges) {
    if (!nodes.has(a)) errors.push(`edge from undeclared node ${a}`);
    if (!nodes.has(b)) errors.push(`edge to undeclared node ${b}`);
  }
  return errors;
}
