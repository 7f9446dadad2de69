/**
 * How the command talks: colour only on a TTY and never with NO_COLOR; sizes for humans; `--json`
 * for scripts; one clear line for an error (a stack only with --debug).
 */
import { styleText } from 'node:util';

export interface Out {
  json: boolean;
  debug: boolean;
  color: boolean;
}

export function makeOut(opts: { json?: boolean; debug?: boolean }, stream: NodeJS.WriteStream = process.stdout): Out {
  return { json: !!opts.json, debug: !!opts.debug, color: !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb' };
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

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
