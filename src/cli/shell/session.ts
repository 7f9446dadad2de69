/**
 * A shell session on a container's filesystem. Rules:
 * - it starts in the image's WorkingDir (`/` when the image names none, or it is no directory)
 *   with the image's Env as exported variables;
 * - a line is a list of pipelines (parse.ts): after `;` the next runs whatever happened, after
 *   `&&` only when the last status is 0, after `||` only when it is not (as sh); `$?` is the status
 *   of the last pipeline, which is that of its last command;
 * - in a pipe each command's output is the next one's input (the commands run one after the other);
 * - an error prints one line on stderr like a shell does (`rm: /x: ENOENT: no such file or
 *   directory`) and sets the status: 1 for a failed call, 2 for a misused command, 127 for an
 *   unknown one; a syntax error or a form the shell does not support refuses the whole line
 *   (status 2); the session goes on;
 * - a redirection (`>`, `>>`) writes the command's output to a file of the container, even when
 *   the command failed part way (as sh has opened it);
 * - after each command, what it did to the container layer is reported on stderr from the union's
 *   own record (src/union/events.ts): each copy-up with its bytes, each whiteout and each opaque
 *   directory (`copied up /etc/motd from image layer 2 (41 B)`); what a command made and removed
 *   again (the insides of a directory it removed) is summed up in the line of what removed it;
 * - `exit [N]` ends the session with status N (default: the last command's); end of input ends
 *   it too.
 */
import { createInterface, type Completer } from 'node:readline';
import type { Container } from '../../engine/container.js';
import type { VolumeOrigin } from '../../engine/volume-origin.js';
import { builtins } from './builtins.js';
import { abs, describeError, ShellUsage, type ShellContext } from './context.js';
import { expandOne, expandWords } from './expand.js';
import { describeEvent, summarize } from './layers.js';
import { parseLine, ShellSyntaxError, ShellUnsupported, type ListItem, type Pipeline, type ShellCommand } from './parse.js';

export interface SessionIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Paints a copy-up note (colour on a TTY). */
  note?: (text: string) => string;
  /** What the first mount of a volume copied into it (Engine.volumeOrigin), for `where`. */
  volumeOrigin?: (volume: string) => VolumeOrigin | undefined;
}

export class Session {
  status = 0;
  exited = false;
  readonly ctx: ShellContext;

  constructor(
    readonly container: Container,
    private readonly io: SessionIO,
  ) {
    const config = container.view.image.config.config;
    const vars = new Map<string, string>();
    for (const kv of config.Env ?? []) {
      const eq = kv.indexOf('=');
      if (eq > 0) vars.set(kv.slice(0, eq), kv.slice(eq + 1));
    }
    this.ctx = {
      container,
      cwd: '/',
      costs: new Map(),
      vars,
      exported: new Set(vars.keys()),
      status: 0,
      volumeOrigin: io.volumeOrigin,
      out: (text) => {
        io.stdout.write(text);
      },
      err: (text) => {
        io.stderr.write(text);
      },
    };
    const wd = config.WorkingDir ? abs(this.ctx, config.WorkingDir) : '/';
    if (container.fs.statSync(wd, { throwIfNoEntry: false })?.isDirectory()) this.ctx.cwd = wd;
  }

  /** Runs one line (or a `-c` script); returns false once `exit` ran. */
  runLine(line: string): boolean {
    let items: ListItem[];
    try {
      items = parseLine(line);
    } catch (e) {
      if (!(e instanceof ShellSyntaxError)) throw e;
      this.io.stderr.write(e instanceof ShellUnsupported ? `layerfs: ${e.message}\n` : `layerfs: syntax error: ${e.message}\n`);
      this.setStatus(2);
      return true;
    }
    for (const { op, pipeline } of items) {
      if (this.exited) break;
      if ((op === '&&' && this.status !== 0) || (op === '||' && this.status === 0)) continue;
      this.runPipeline(pipeline);
    }
    return !this.exited;
  }

  private setStatus(n: number): void {
    this.status = n;
    this.ctx.status = n;
  }

  /** Each command's output is the next one's input; the pipeline's status is the last command's. */
  private runPipeline(pipeline: Pipeline): void {
    let stdin: Buffer | undefined;
    for (const [i, cmd] of pipeline.entries()) {
      const chunks: Buffer[] | undefined = i < pipeline.length - 1 ? [] : undefined;
      this.ctx.stdin = stdin;
      // `exit` in a pipe ends only its own part (sh runs each part in a subshell).
      this.runCommand(cmd, chunks, pipeline.length > 1);
      stdin = chunks && Buffer.concat(chunks);
    }
    this.ctx.stdin = undefined;
    this.setStatus(this.status);
  }

  private runCommand({ assigns, argv, redirect }: ShellCommand, capture: Buffer[] | undefined, inPipe: boolean): void {
    const words = expandWords(this.ctx, argv);
    if (words.length === 0) {
      // Only `NAME=value` words: they set shell variables (exported ones stay exported).
      for (const a of assigns) this.ctx.vars.set(a.name, expandOne(this.ctx, a.value));
      this.status = 0;
      return;
    }
    if (assigns.length > 0) {
      this.fail(words[0]!, new ShellUsage('NAME=value before a command is not supported (run NAME=value; export NAME first)'));
      return;
    }
    const [name, ...args] = words as [string, ...string[]];
    if (name === 'exit') {
      if (args[0] !== undefined && !/^\d+$/.test(args[0])) this.fail(name, new ShellUsage(`${args[0]}: numeric argument required`));
      else this.status = args[0] !== undefined ? Number(args[0]) & 255 : this.status;
      if (!inPipe) this.exited = true;
      return;
    }
    const fn = builtins[name];
    if (!fn) {
      this.io.stderr.write(`${name}: command not found (try help)\n`);
      this.status = 127;
      return;
    }
    const log = this.container.view.core.s.log;
    const mark = log.mark();
    const chunks: Buffer[] = [];
    const out = this.ctx.out;
    if (redirect || capture) {
      this.ctx.out = (text) => {
        (redirect ? chunks : capture!).push(Buffer.from(text));
      };
    }
    try {
      const r = fn(this.ctx, args);
      this.status = typeof r === 'number' ? r : 0;
    } catch (e) {
      this.fail(name, e);
    } finally {
      this.ctx.out = out;
    }
    if (redirect) {
      try {
        const path = abs(this.ctx, expandOne(this.ctx, redirect.path));
        const data = Buffer.concat(chunks);
        if (redirect.append) this.container.fs.appendFileSync(path, data);
        else this.container.fs.writeFileSync(path, data);
      } catch (e) {
        this.fail(name, e);
      }
    }
    const { events, missed } = log.since(mark);
    for (const e of summarize(events)) {
      if (e.kind === 'copy-up') this.ctx.costs.set(e.path, (this.ctx.costs.get(e.path) ?? 0) + e.bytes);
      const text = describeEvent(e);
      this.io.stderr.write(`${this.io.note ? this.io.note(text) : text}\n`);
    }
    if (missed > 0) this.io.stderr.write(`(${missed} earlier changes of this command are not shown)\n`);
  }

  /** Prints an error as a shell does and sets the status. */
  private fail(name: string, e: unknown): void {
    const d = describeError(e);
    this.io.stderr.write(`${name}: ${d.text}\n`);
    this.status = d.status;
  }
}

export interface ReadOptions {
  /** Tab completion (a TTY only). */
  completer?: Completer;
  /** Lines typed before, newest first, and where each new one is kept (a TTY only). */
  history?: { lines: string[]; add(line: string): void };
  /** Runs after each line, before the next prompt (the container's sync: what a prompt follows is saved). */
  afterLine?: () => Promise<void>;
}

/**
 * Reads commands from `input` until `exit` or the end of input: with a prompt, tab completion and
 * history on a TTY (Ctrl-C drops the line, Ctrl-D ends), line by line without them otherwise.
 */
export async function readCommands(session: Session, input: NodeJS.ReadableStream & { isTTY?: boolean }, output: NodeJS.WritableStream, prompt: () => string, opts: ReadOptions = {}): Promise<void> {
  const tty = !!input.isTTY;
  const rl = createInterface({
    input,
    output: tty ? output : undefined,
    terminal: tty,
    historySize: tty ? 1000 : 0,
    ...(tty && opts.completer ? { completer: opts.completer } : {}),
    ...(tty && opts.history ? { history: opts.history.lines } : {}),
  });
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
      if (tty && line.trim() !== '') opts.history?.add(line);
      if (!session.runLine(line)) break;
      // The hook (the container's sync) runs before the next prompt: what a prompt follows is saved.
      await opts.afterLine?.();
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
