/**
 * runtime/safe-text.ts: what a tenant-chosen name may still do on a terminal and in Markdown.
 */
import { forConsole, forMarkdown } from "../../runtime/safe-text";

describe("forConsole: no terminal control, printable Unicode kept", () => {
  it("removes an OSC (window title) sequence whole, with its BEL or ST terminator", () => {
    expect(forConsole("\u001b]0;pwned\u0007evil")).toBe("evil");
    expect(forConsole("a\u001b]52;c;Y3VybA==\u001b\\b")).toBe("ab"); // OSC 52 writes the clipboard
    expect(forConsole("a\u001b]0;never ends")).toBe("a"); // unterminated: a terminal would swallow the rest too
  });

  it("removes CSI sequences (colour, cursor moves, erase) and two-byte escapes", () => {
    expect(forConsole("\u001b[31mred\u001b[0m \u001b[2J\u001b[1;1Hx")).toBe("red x");
    expect(forConsole("a\u001bcb\u001b(Bc")).toBe("abc");
  });

  it("removes the 8-bit C1 forms, every other C0/C1 control, DEL and the bidi overrides", () => {
    expect(forConsole("a\u009b31mb\u009d0;t\u009cc")).toBe("abc");
    expect(forConsole("a\u0000b\u0007c\nd\re\tf\u007fg\u0085h")).toBe("abcdefgh");
    expect(forConsole("invoice\u202egpj.exe\u2066x\u2069")).toBe("invoicegpj.exex");
  });

  it("keeps printable Unicode and plain text as it is", () => {
    expect(forConsole("web-1 (0a1b) сервер 🚀 café")).toBe("web-1 (0a1b) сервер 🚀 café");
  });
});

describe("forMarkdown: the name as text in Markdown and HTML", () => {
  it("entities for HTML, backslashes for Markdown, after forConsole", () => {
    expect(forMarkdown("\u001b]0;pwned\u0007evil<script>*x*|")).toBe("evil&lt;script&gt;\\*x\\*\\|");
    expect(forMarkdown("[a](http://x) _b_ `c` # d ~e~ \\ & f")).toBe(
      "\\[a\\]\\(http://x\\) \\_b\\_ \\`c\\` \\# d \\~e\\~ \\\\ &amp; f",
    );
  });
});
