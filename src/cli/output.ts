/**
 * How the command talks: colour only on a TTY and never with NO_COLOR; sizes for humans; `--json`
 * for scripts; one clear line for an error (a stack only with --debug).
 */
import { styleText } from 'node:util';
import { StateError, type StateErrorCode } from '../core/errors.js';
import { io } from './io.js';

export interface Out {
  json: boolean;
  debug: boolean;
  color: boolean;
}

export function makeOut(opts: { json?: boolean; debug?: boolean }, stream: { isTTY?: boolean } = io().stdout): Out {
  return { json: !!opts.json, debug: !!opts.debug, color: !!stream.isTTY && !io().env.NO_COLOR && io().env.TERM !== 'dumb' };
}

type Style = Parameters<typeof styleText>[0];

export function paint(out: Out, style: Style, text: string): string {
  return out.color ? styleText(style, text) : text;
}

export function humanSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Parses sizes like `10M`, `1.5GiB`, `2048`. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`not a size: ${JSON.stringify(text)} (try 10M, 1.5G, 2048)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

/**
 * Rule: output into a closed pipe (`layerfs cat IMG F | head -c 10`, `layerfs demo | head`) ends
 * quietly. The first EPIPE on the stream marks it closed; from then on writes are dropped (their
 * callbacks called without an error) and the stream's 'error' event is swallowed, so the command
 * runs to its end unseen, cleaning up as it would (`run --rm` still removes its container), and
 * exits with its own status. Installed once, by main.ts, on stdout.
 */
export function quietWhenPipeCloses(stream: NodeJS.WriteStream): { closed: () => boolean } {
  let closed = false;
  const isPipe = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === 'EPIPE';
  stream.on('error', (e) => {
    if (isPipe(e)) closed = true;
    else throw e;
  });
  const write = stream.write.bind(stream) as (chunk: unknown, enc?: unknown, cb?: unknown) => boolean;
  stream.write = ((chunk: unknown, enc?: unknown, cb?: unknown) => {
    const done = (typeof enc === 'function' ? enc : cb) as ((e?: Error | null) => void) | undefined;
    if (closed) {
      if (done) process.nextTick(done);
      return true;
    }
    const after = (e?: Error | null) => {
      if (isPipe(e)) closed = true;
      done?.(isPipe(e) ? null : e);
    };
    return typeof enc === 'function' || enc === undefined ? write(chunk, after) : write(chunk, enc, after);
  }) as typeof stream.write;
  return { closed: () => closed };
}

export function printJson(value: unknown): void {
  io().stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Exit codes, as podman has them where scripts tell refusals apart (README, "Exit codes"):
 * 0 done; 1 failed (not found, bad input, a failed call); 2 a usage error (bad option, name or
 * mount spec) or a refusal because something is in use (`volume rm` of a mounted volume);
 * 126 a container whose mounts cannot be made over its image (podman's code for a run the OCI
 * runtime refuses); anything else a shell status of the container's shell.
 */
const EXIT: Partial<Record<StateErrorCode, number>> = { BAD_NAME: 2, IN_USE: 2, MOUNT_REFUSED: 126 };
/** Codes whose problem names the user's argument; the file is the store's own (not shown). */
const PROBLEM_ONLY = new Set<StateErrorCode>(['BAD_NAME', 'NOT_FOUND', 'EXISTS', 'IN_USE', 'AMBIGUOUS', 'MOUNT_REFUSED']);

/** How a person says what an errno means, where Node's wording is not it. */
const PLAIN: Record<string, string> = { EISDIR: 'is a directory', ENOTDIR: 'not a directory', EEXIST: 'already exists' };

/** The one line (without `layerfs: `) and the exit code an error leaves the command with. */
export function errorReport(e: unknown): { text: string; code: number } {
  if (e instanceof UsageError) return { text: e.message, code: 2 };
  if (e instanceof StateError) {
    const hint = e.code === 'BAD_NAME' ? " (a name is letters, digits, '_', '.' and '-', starting with a letter or digit)" : '';
    return { text: (PROBLEM_ONLY.has(e.code) ? e.problem : e.message) + (e.code === 'BAD_NAME' && !/must start/.test(e.problem) ? hint : ''), code: EXIT[e.code] ?? 1 };
  }
  const err = e as NodeJS.ErrnoException | undefined;
  if (typeof err?.code === 'string' && /^E[A-Z]+$/.test(err.code) && err.path !== undefined) {
    // Node's own and the view's errors: "PATH: what (CODE)".
    const what = PLAIN[err.code] ?? err.message.replace(/^E[A-Z]+: /, '').split(', ')[0];
    return { text: `${err.path}: ${what} (${err.code})`, code: 1 };
  }
  return { text: err?.message ?? String(e), code: 1 };
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
