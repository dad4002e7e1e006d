/**
 * Simulated cloud -- how python-openstackclient (cliff) prints a listing: `-f json` (Python
 * json.dumps(indent=2), non-ASCII as \uXXXX), `-f value`, and the default prettytable
 * (fixtures/openstack/*.table.txt, fixtures/octavia/*.table.txt). `-c` keeps the listed columns in
 * the command's own column order.
 */
export type Cell = string | number | boolean | null | Record<string, string[]>;
export type Row = Record<string, Cell>;

export class ColumnError extends Error {}

/** Keep only the `-c` columns (in the listing's column order); none asked = all. */
export function selectColumns(columns: string[], wanted: string[]): string[] {
  if (wanted.length === 0) return columns;
  const kept = columns.filter((c) => wanted.includes(c));
  if (kept.length === 0) {
    throw new ColumnError(
      `No recognized column names in ${pyList(wanted)}. Recognized columns are ${pyTuple(columns)}.`,
    );
  }
  return kept;
}

const pyList = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(", ")}]`;
const pyTuple = (xs: string[]) => `(${xs.map((x) => `'${x}'`).join(", ")})`;

function asciiJson(text: string): string {
  return text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function jsonList(rows: Row[], columns: string[]): string {
  const picked = rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
  return asciiJson(JSON.stringify(picked, null, 2)) + "\n";
}

export function jsonObject(row: Row, columns: string[]): string {
  return asciiJson(JSON.stringify(Object.fromEntries(columns.map((c) => [c, row[c]])), null, 2)) + "\n";
}

/** A cell as the table shows it: Networks {net: [ips]} -> "net=ip1, ip2"; null -> "None". */
export function cellText(v: Cell): string {
  if (v === null) return "None";
  if (typeof v === "object") {
    return Object.entries(v)
      .map(([net, ips]) => `${net}=${ips.join(", ")}`)
      .join("; ");
  }
  return String(v);
}

export function table(rows: Row[], columns: string[]): string {
  if (rows.length === 0) return "";
  const cells = rows.map((r) => columns.map((c) => cellText(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const rule = "+" + widths.map((w) => "-".repeat(w + 2)).join("+") + "+";
  const line = (vals: string[]) => "| " + vals.map((v, i) => v.padEnd(widths[i])).join(" | ") + " |";
  return [rule, line(columns), rule, ...cells.map(line), rule].join("\n") + "\n";
}

export function valueLines(rows: Row[], columns: string[]): string {
  return rows.map((r) => columns.map((c) => cellText(r[c])).join(" ")).join("\n") + (rows.length ? "\n" : "");
}

/** Print a listing in the format asked for with -f (default table). */
export function listing(rows: Row[], allColumns: string[], format: string | undefined, wanted: string[]): string {
  const columns = selectColumns(allColumns, wanted);
  switch (format ?? "table") {
    case "json":
      return jsonList(rows, columns);
    case "value":
      return valueLines(rows, columns);
    default:
      return table(rows, columns);
  }
}
