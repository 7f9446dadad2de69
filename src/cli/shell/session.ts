/**
 * A shell session on a container's filesystem. Rules:
 * - a line holds commands separated by `;`; each runs in turn, whatever the one before did;
 * - an error prints one line on stderr like a shell does (`rm: /x: ENOENT: no such file or
 *   directory`) and sets the status: 1 for a failed call, 2 for a misused command, 127 for an
 *   unknown one; a syntax error refuses the whole line (status 2); the session goes on;
 * - a redirection (`>`, `>>`) writes the command's output to a file of the container, even when
 *   the command failed part way (as sh has opened it);
 * - after each command, the objects it copied up into the container layer are reported on stderr
 *   (`copied up /etc/motd (41 B)`), from the view's counters before and after;
 * - `exit [N]` ends the session with status N (default: the last command's); end of input ends
 *   it too.
 */
import { createInterface } from 'node:readline';
import type { Container } from '../../engine/container.js';
import { builtins } from './builtins.js';
import { abs, ShellUsage, type ShellContext } from './context.js';
import { copiedUpSince, describeCopyUp, upperInodes } from './layers.js';
import { parseLine, ShellSyntaxError, type ShellCommand } from './parse.js';

export interface SessionIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Paints a copy-up note (colour on a TTY). */
  note?: (text: string) => string;
}

export class Session {
  status = 0;
  exited = false;
  readonly ctx: ShellContext;

  constructor(readonly container: Container, private readonly io: SessionIO) {
    this.ctx = {
      container, cwd: '/', costs: new Map(),
      out: (text) => io.stdout.write(text),
      err: (text) => io.stderr.write(text),
    };
  }

  /** Runs one line (or a `-c` script); returns false once `exit` ran. */
  runLine(line: string): boolean {
    let cmds: ShellCommand[];
    try {
      cmds = parseLine(line);
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      this.io.stderr.write(`layerfs: syntax error: ${e.message}\n`);
      this.status = 2;
      return true;
    }
    for (const cmd of cmds) {
      if (this.exited) break;
      this.runCommand(cmd);
    }
    return !this.exited;
  }

  private runCommand({ argv, redirect }: ShellCommand): void {
    const [name, ...args] = argv as [string, ...string[]];
    if (name === 'exit') {
      if (args[0] !== undefined && !/^\d+$/.test(args[0])) this.fail(name, new ShellUsage(`${args[0]}: numeric argument required`));
      else this.status = args[0] !== undefined ? Number(args[0]) & 255 : this.status;
      this.exited = true;
      return;
    }
    const fn = builtins[name];
    if (!fn) {
      this.io.stderr.write(`${name}: command not found (try help)\n`);
      this.status = 127;
      return;
    }
    const s = this.container.view.core.s;
    const before = upperInodes(s);
    const bytesBefore = s.stats.copyUpBytes;
    const chunks: Buffer[] = [];
    const out = this.ctx.out;
    if (redirect) this.ctx.out = (text) => chunks.push(Buffer.from(text));
    try {
      this.status = fn(this.ctx, args) ?? 0;
    } catch (e) {
      this.fail(name, e);
    } finally {
      this.ctx.out = out;
    }
    if (redirect) {
      try {
        const path = abs(this.ctx, redirect.path);
        const data = Buffer.concat(chunks);
        if (redirect.append) this.container.fs.appendFileSync(path, data);
        else this.container.fs.writeFileSync(path, data);
      } catch (e) {
        this.fail(name, e);
      }
    }
    for (const c of copiedUpSince(s, before, s.stats.copyUpBytes - bytesBefore)) {
      this.ctx.costs.set(c.path, c.bytes);
      const text = describeCopyUp(c);
      this.io.stderr.write(`${this.io.note ? this.io.note(text) : text}\n`);
    }
  }

  /** Prints an error as a shell does and sets the status. */
  private fail(name: string, e: unknown): void {
    const err = e as NodeJS.ErrnoException & { dest?: string };
    if (e instanceof ShellUsage) {
      this.io.stderr.write(`${name}: ${err.message}\n`);
      this.status = 2;
    } else if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
      const where = err.path !== undefined ? `${err.path}${err.dest !== undefined ? ` -> ${err.dest}` : ''}: ` : '';
      this.io.stderr.write(`${name}: ${where}${err.message.split(', ')[0]}\n`);
      this.status = 1;
    } else {
      this.io.stderr.write(`${name}: ${err?.message ?? String(e)}\n`);
      this.status = 1;
    }
  }
}

/**
 * Reads commands from `input` until `exit` or the end of input: with a prompt on a TTY (Ctrl-C
 * drops the line, Ctrl-D ends), line by line without one otherwise.
 */
export async function readCommands(session: Session, input: NodeJS.ReadableStream & { isTTY?: boolean }, output: NodeJS.WritableStream, prompt: () => string, afterLine?: () => Promise<void>): Promise<void> {
  const tty = !!input.isTTY;
  const rl = createInterface({ input, output: tty ? output : undefined, terminal: tty, historySize: tty ? 200 : 0 });
  if (tty) {
    rl.on('SIGINT', () => {
      rl.write(null, { ctrl: true, name: 'u' });
      output.write('^C\n');
      rl.setPrompt(prompt());
      rl.prompt();
    });
    rl.setPrompt(prompt());
    rl.prompt();
  }
  try {
    for await (const line of rl) {
      if (!session.runLine(line)) break;
      // The hook (the container's sync) runs before the next prompt: what a prompt follows is saved.
      await afterLine?.();
      if (tty) {
        rl.setPrompt(prompt());
        rl.prompt();
      }
    }
  } finally {
    rl.close();
  }
  if (tty && !session.exited) output.write('\n');
}
