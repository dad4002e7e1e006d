/**
 * Text a tenant chose (server and load-balancer names, and cloud error lines that echo them) made
 * safe to show: any project member can name a server `\x1b]0;pwned\x07` or `<script>`, and the
 * operator reads that name on the jumphost's terminal, in the record and in the Markdown report.
 *
 * - forConsole: no terminal control. ECMA-48 escape sequences are removed whole (CSI `ESC [ … final`,
 *   OSC `ESC ] … BEL|ST` which sets the window title or writes the clipboard, DCS/SOS/PM/APC
 *   strings, two-byte escapes, and their 8-bit C1 forms), then every remaining C0/C1 control
 *   character and DEL, and the bidirectional overrides that make a line read in another order
 *   than it is (Unicode UAX #9 explicit embeddings/isolates; CVE-2021-42574 "Trojan Source").
 *   Printable Unicode stays: a name in Cyrillic or with an emoji is still that name.
 * - forMarkdown: forConsole, then the HTML metacharacters as entities and the Markdown ones
 *   backslash-escaped (CommonMark 0.31 §2.4: any ASCII punctuation may be escaped), so a name
 *   can neither open a tag, nor emphasis, a link, a heading, code, nor a table cell.
 *
 * Both are for names and single lines: a newline is a control character too (it could forge a
 * line of the record's console output). Data stays data: JSON keeps the name, only forConsole'd.
 */

/** ECMA-48 escape sequences, 7-bit and 8-bit; an unterminated string sequence runs to the end. */
const ESCAPE_SEQUENCE = new RegExp(
  [
    // OSC, DCS, SOS, PM, APC: ESC ] / ESC P / ESC X / ESC ^ / ESC _ (or 0x9D 0x90 0x98 0x9E 0x9F) … BEL | ST (ESC \ or 0x9C)
    "(?:\\u001b[\\]PX^_]|[\\u009d\\u0090\\u0098\\u009e\\u009f])[\\s\\S]*?(?:\\u0007|\\u001b\\\\|\\u009c|$)",
    // CSI: ESC [ (or 0x9B), parameter bytes, intermediate bytes, one final byte
    "(?:\\u001b\\[|\\u009b)[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?",
    // any other escape: ESC, intermediate bytes, one final byte (ESC c, ESC ( B, ESC 7, ...)
    "\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]?",
  ].join("|"),
  "g",
);

/** C0 controls, DEL, C1 controls; LRE/RLE/PDF/LRO/RLO and LRI/RLI/FSI/PDI. */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Safe to print on a terminal and in a one-line record message. */
export function forConsole(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replace(CONTROL, "");
}

const HTML_ENTITY: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/** Safe inside Markdown (a table cell included) and the HTML it renders to. */
export function forMarkdown(text: string): string {
  return forConsole(text)
    .replace(/[&<>]/g, (c) => HTML_ENTITY[c]!)
    .replace(/[\\`*_[\]()#|~]/g, (c) => `\\${c}`);
}
