/**
 * What every explore command shares: opening the IMAGE argument (with a progress bar on a TTY),
 * parsing layer numbers, and printing sizes. The image code is imported when a command runs, not
 * when the command line is set up, so `layerfs --help` starts fast (bench figure 4).
 */
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import type { Stack } from '../../explore/stack.js';
import type { View } from '../../view.js';
import { humanSize, makeOut, UsageError, type Out } from '../output.js';
import { remoteOptions, transferLine } from './registry.js';
import { io } from '../io.js';

export interface Globals {
  json?: boolean;
  debug?: boolean;
  home?: string;
}

export function globals(cmd: Command): Globals & { out: Out } {
  const g = cmd.optsWithGlobals() as Globals;
  return { ...g, out: makeOut(g) };
}

/** Rule: the bar shows on stderr only when stderr is a TTY, and only for archives over 64 MiB. */
const BAR_MIN_BYTES = 64 << 20;

export async function openStack(ref: string, cmd: Command, opts: { tag?: string } = {}): Promise<Stack> {
  const g = globals(cmd);
  // The progress bar's module only on a TTY, where a bar can be drawn.
  const [cliProgress, { loadRef }, { Stack }] = await Promise.all([
    io().stderr.isTTY ? import('cli-progress').then((m) => m.default) : undefined,
    import('../../explore/open.js'),
    import('../../explore/stack.js'),
  ]);
  let bar: SingleBar | undefined;
  const onProgress = cliProgress
    ? (done: number, total: number): void => {
        if (!bar && total >= BAR_MIN_BYTES) {
          bar = new cliProgress.SingleBar(
            {
              format: 'loading {bar} {percentage}% | {doneH} of {totalH}',
              hideCursor: true,
              clearOnComplete: true,
              stream: io().stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0, { doneH: humanSize(0), totalH: humanSize(total) });
        }
        bar?.update(done, { doneH: humanSize(done), totalH: humanSize(total) });
      }
    : undefined;
  try {
    const image = await loadRef(ref, {
      home: g.home,
      tag: opts.tag,
      onProgress,
      onWarning: (m) => io().stderr.write(`layerfs: warning: ${m}\n`),
      // A docker:// IMAGE: the registry options, and what it cost on stderr (stdout stays the command's).
      // The count grows as the command reads, so it is printed when the command is done.
      ...remoteOptions(cmd),
      onTransfer: (t) => io().atEnd(() => io().stderr.write(`layerfs: ${transferLine(t)}\n`)),
    });
    return new Stack(image);
  } finally {
    bar?.stop();
  }
}

/** A read-only View of the same image after `n` layers (for reading file data with symlinks); its module only when asked. */
export async function viewAt(stack: Stack, n: number): Promise<View> {
  const { View } = await import('../../view.js');
  return View.fromImage(stack.image, { readOnly: true }).atLayer(n);
}

/** Parses `--layer N` / `--changes N`: an integer in 0..count (1..count for --changes). */
export function layerArg(text: string | undefined, stack: Stack, name: string, min = 0): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > stack.count) {
    throw new UsageError(`${name} must be a layer number ${min}..${stack.count} (this image has ${stack.count} layer(s)), got ${JSON.stringify(text)}`);
  }
  return n;
}

export function sizeText(n: number): string {
  return n < 1024 ? `${n} B` : `${humanSize(n)} (${n} B)`;
}

export function shortDigest(d: string): string {
  return d.replace(/^sha256:/, '').slice(0, 12);
}
