/**
 * Questions at a terminal (maintenance: the approval, Stage 3's missing unseal keys): y/N and a
 * hidden prompt (no echo, like `read -s`). Nothing is logged.
 *
 * The terminal is given back as it was on every path: Enter, Ctrl-D (end of input), Ctrl-C (exit
 * 130, nothing has run yet), the input closing or failing, and the process exiting from elsewhere
 * while the prompt is open (a signal handler, a timer): raw mode is switched off again before the
 * process ends. test/runtime/terminal-pty.test.ts drives each path through a pseudo-terminal.
 */
import * as readline from "node:readline";

/** What the prompts read from and write to (a test passes its own; the CLI uses stdin / stderr). */
export interface PromptIO {
  input: NodeJS.ReadStream;
  output: NodeJS.WritableStream;
}

const stdio = (): PromptIO => ({ input: process.stdin, output: process.stderr });

/** Ctrl-C at a prompt: stop here (EXIT.cancelled; runtime/exit-codes.ts is not imported to keep this leaf small). */
const CANCELLED_EXIT = 130;

/**
 * `question` [y/N]: true only for y / yes. Ctrl-C exits 130; the input ending without an answer is a
 * no. readline puts a TTY into raw mode itself and restores it on close (node:readline).
 */
export function confirm(question: string, io: PromptIO = stdio()): Promise<boolean> {
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: io.input.isTTY === true });
  return new Promise((resolve) => {
    let answered = false;
    // without a 'SIGINT' listener readline only pauses the input on Ctrl-C and the question hangs
    rl.once("SIGINT", () => {
      answered = true;
      rl.close();
      io.output.write("\n");
      process.exit(CANCELLED_EXIT);
    });
    rl.once("close", () => {
      if (!answered) {
        io.output.write("\n");
        resolve(false); // end of input: declined
      }
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

/**
 * A hidden prompt: the characters typed are not echoed, Backspace removes the last one, Enter or
 * Ctrl-D ends the value. Rejects when the input closes before Enter or fails (the terminal is
 * restored first).
 */
export function promptSecret(label: string, io: PromptIO = stdio()): Promise<string> {
  const { input, output } = io;
  return new Promise((resolve, reject) => {
    const tty = input.isTTY === true;
    const wasRaw = tty && input.isRaw;
    let value = "";
    let done = false;
    const restore = () => {
      if (tty && input.isRaw !== wasRaw) input.setRawMode(wasRaw);
    };
    const finish = (then: () => void) => {
      if (done) return;
      done = true;
      input.off("data", onData);
      input.off("end", onEnd);
      input.off("error", onError);
      process.off("exit", restore);
      restore();
      input.pause();
      output.write("\n");
      then();
    };
    const onData = (chunk: string | Buffer) => {
      for (const ch of chunk.toString()) {
        if (ch === "\r" || ch === "\n" || ch === "\u0004") return finish(() => resolve(value));
        // Ctrl-C at the prompt: stop here, nothing has run yet
        if (ch === "\u0003") return finish(() => process.exit(CANCELLED_EXIT));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    const onEnd = () => finish(() => reject(new Error("the input closed before the value was entered")));
    const onError = (err: Error) =>
      finish(() => reject(new Error(`cannot read the terminal: ${err.message}`, { cause: err })));
    output.write(label);
    // the process may end while the prompt is open (a signal handler calls process.exit): give
    // the terminal back on the way out, never leave it without echo (Node resets a TTY it put in
    // raw mode at a normal exit too, as test/runtime/terminal-pty.test.ts sees; this keeps it explicit)
    process.on("exit", restore);
    if (tty) input.setRawMode(true);
    input.setEncoding("utf8");
    input.on("data", onData);
    input.once("end", onEnd);
    input.once("error", onError);
    input.resume();
  });
}
