/**
 * What a shell command gets: the container, the working directory, and where to write.
 * A command's output goes to `out` (stdout, or the file of a redirection); its complaints go to
 * `err` as `NAME: message`. It returns its exit status (0 when it returns nothing).
 */
import { posix } from 'node:path';
import type { Container } from '../../engine/container.js';

export interface ShellContext {
  container: Container;
  cwd: string;
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** Bytes copied up by earlier commands of this session, by path (for `where`). */
  costs: Map<string, number>;
}

export type Builtin = (ctx: ShellContext, args: string[]) => number | void;

/** A path of the container, made absolute against the working directory. */
export function abs(ctx: ShellContext, path: string): string {
  return posix.resolve(ctx.cwd, path);
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
