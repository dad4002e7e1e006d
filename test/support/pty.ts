/**
 * A program at a real terminal: a tmux pane (its own server on a private socket), where Ctrl-C is
 * the terminal driver's SIGINT to the pane's foreground process group, as at an operator's
 * jumphost. The pane stays after the program ends (remain-on-exit) so its exit status and whole
 * screen history can be read.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Is tmux installed? In CI (CI=true) a missing tmux is a failure, never a silent skip. */
export function tmuxAvailable(): boolean {
  const found = spawnSync("tmux", ["-V"], { encoding: "utf8" }).status === 0;
  if (!found && process.env.CI)
    throw new Error("tmux is not installed: the pseudo-terminal tests need it in CI (apt-get install tmux)");
  return found;
}

export class Pty {
  private constructor(
    private readonly socket: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly exitFile: string,
  ) {}

  /** Start `argv` (run directly, no shell) in a new 200x50 pane with `env` and `cwd`. */
  static start(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Pty {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "coldstart-pty-"));
    const conf = path.join(dir, "tmux.conf");
    fs.writeFileSync(conf, "set -g remain-on-exit on\nset -g history-limit 100000\n");
    const pty = new Pty(path.join(dir, "sock"), env, path.join(dir, "exit"));
    // The program runs under a shell that writes its exit status to a file: tmux 3.3a sometimes
    // marks the pane dead with neither pane_dead_status nor pane_dead_signal filled (seen for
    // programs that exited 130 by themselves, one run in three). The shell traps SIGINT (the
    // terminal's Ctrl-C reaches the whole foreground group) so it outlives the program; a trapped
    // signal is reset to its default in the program, which sees Ctrl-C exactly as without it.
    const wrapped = ["/bin/sh", "-c", `trap : INT; "$0" "$@"; echo $? > "${path.join(dir, "exit")}"`, ...argv];
    pty.tmux(["-f", conf, "new-session", "-d", "-s", "t", "-x", "200", "-y", "50", "-c", cwd, "--", ...wrapped]);
    return pty;
  }

  private tmux(args: string[]): string {
    const r = spawnSync("tmux", ["-S", this.socket, ...args], { encoding: "utf8", env: this.env });
    if (r.status !== 0) throw new Error(`tmux ${args[0]}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** The pid of the pane's shell (its session leader), in the program's process group. */
  pid(): number {
    return Number(this.tmux(["display-message", "-p", "-t", "t", "#{pane_pid}"]).trim());
  }

  /** Ctrl-C typed at the terminal. */
  ctrlC(): void {
    this.tmux(["send-keys", "-t", "t", "C-c"]);
  }

  /** Everything the pane showed, lines joined as printed. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t"]);
  }

  /** The program's exit status once it has ended (written by the shell it runs under). */
  exitStatus(): number | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.exitFile, "utf8");
    } catch {
      return undefined;
    }
    return text.endsWith("\n") ? Number(text.trim()) : undefined; // whole once the line is
  }

  /** Poll until `what` is true (every 50 ms), or fail naming it and the screen. */
  async until(what: string, test: () => boolean, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!test()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Wait for the program to end; its exit status. */
  async exited(ms = 60_000): Promise<number> {
    await this.until("the program to exit", () => this.exitStatus() !== undefined, ms);
    return this.exitStatus()!;
  }

  close(): void {
    spawnSync("tmux", ["-S", this.socket, "kill-server"], { env: this.env });
  }
}
