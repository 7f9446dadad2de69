/**
 * What a shell command gets: the container, the working directory, the variables, its input and
 * where to write. A command's output goes to `out` (stdout, the next command of a pipe, or the file
 * of a redirection); its complaints go to `err` as `NAME: message`. Its input is what the command
 * before it in a pipe wrote (`stdin`, none at the start of a pipe: there a command that reads
 * standard input reads nothing). It returns its exit status (0 when it returns nothing).
 */
import { posix } from 'node:path';
import { decodePrinted } from '../../archive/names.js';
import type { Container } from '../../engine/container.js';
import type { VolumeOrigin } from '../../engine/volume-origin.js';

export interface ShellContext {
  container: Container;
  cwd: string;
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** Bytes copied up by earlier commands of this session, by path (for `where`). */
  costs: Map<string, number>;
  /** Shell variables (the image's Env to start with) and which of them are exported (`env`). */
  vars: Map<string, string>;
  exported: Set<string>;
  /** The status of the last pipeline (`$?`). */
  status: number;
  /** What the command before this one in a pipe wrote. */
  stdin?: Buffer;
  /** What the first mount of a volume copied into it from the image (for `where`). */
  volumeOrigin?: (volume: string) => VolumeOrigin | undefined;
}

/**
 * Runs `use` on each input of a command that reads FILE operands or standard input (`-`, or no
 * operand at all). A file that cannot be read is reported (`NAME: PATH: CODE: text`) and skipped,
 * as cat and wc do; the status is then 1.
 */
export function eachInput(ctx: ShellContext, name: string, files: string[], use: (data: Buffer, file: string) => void): number {
  let status = 0;
  for (const f of files.length === 0 ? ['-'] : files) {
    let data: Buffer;
    try {
      data = f === '-' ? (ctx.stdin ?? Buffer.alloc(0)) : (ctx.container.fs.readFileSync(abs(ctx, f)) as Buffer);
    } catch (e) {
      const d = describeError(e);
      ctx.err(`${name}: ${d.text}\n`);
      status = d.status;
      continue;
    }
    use(data, f);
  }
  return status;
}

/**
 * An error as a shell prints it after `NAME: `, and the status it gives: 2 for a misused command,
 * 1 for a failed call (`PATH: CODE: text`, or `PATH -> DEST: …` for two paths).
 */
export function describeError(e: unknown): { text: string; status: number } {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  if (e instanceof ShellUsage) return { text: err.message, status: 2 };
  if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
    const where = err.path !== undefined ? `${err.path}${err.dest !== undefined ? ` -> ${err.dest}` : ''}: ` : '';
    return { text: `${where}${err.message.split(', ')[0]}`, status: 1 };
  }
  return { text: err?.message ?? String(e), status: 1 };
}

/** A shell command: returns its status (0 when it returns nothing). */
// biome-ignore lint/suspicious/noConfusingVoidType: void on purpose: a builtin may be a one-line call that returns nothing (`(ctx) => ctx.out(text)`).
export type Builtin = (ctx: ShellContext, args: string[]) => number | void;

/** A path of the container, made absolute against the working directory. */
export function abs(ctx: ShellContext, path: string): string {
  const p = posix.resolve(ctx.cwd, path);
  // What ls and find print (`\xHH` for a byte that is not UTF-8) is accepted back: a path is
  // tried as typed first, then decoded from that printed form (archive/names.ts decodePrinted).
  if (!p.includes('\\') || ctx.container.fs.existsSync(p)) return p;
  const decoded = decodePrinted(p);
  return ctx.container.fs.existsSync(decoded) ? decoded : p;
}

/** A mistake in how a shell command was called: printed as `NAME: message`, status 2. */
export class ShellUsage extends Error {}

/**
 * Splits leading options (`-l`, `-rf`) from operands; `--` ends the options. Only the letters in
 * `allowed` are accepted.
 */
export function options(args: string[], allowed: string): { flags: Set<string>; rest: string[] } {
  const flags = new Set<string>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) break;
    for (const ch of a.slice(1)) {
      if (!allowed.includes(ch)) throw new ShellUsage(`unknown option -${ch}`);
      flags.add(ch);
    }
  }
  return { flags, rest: args.slice(i) };
}

/** Requires between `min` and `max` operands. */
export function operands(rest: string[], min: number, max: number, usage: string): string[] {
  if (rest.length < min || rest.length > max) throw new ShellUsage(`usage: ${usage}`);
  return rest;
}
