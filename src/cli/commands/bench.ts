/**
 * `layerfs bench IMAGE [PATH...]`: the copy-up cost of the user's own image (src/bench/copyup.ts):
 * for each path (default: the 10 largest regular files), each strategy and each operation, the
 * median and range of the first change, the bytes the writable layer then holds and the memory
 * added; with --kernel (root), the kernel's overlayfs on the same files. A progress bar on a TTY, a
 * table, --json for scripts, --svg FILE for a chart. Rules: a path not in the image or not a regular
 * file is a usage error naming it; --kernel without root says so and runs the rest.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { BenchRow } from '../../bench/copyup.js';
import { BENCH_OPS, BENCH_STRATEGIES, type BenchOp } from '../../bench/names.js';
import type { CopyUpStrategy } from '../../union/state.js';
import { humanSize, printJson, UsageError } from '../output.js';
import { globals, openStack } from './explore-common.js';
import { printTable } from './lifecycle-table.js';
import { io } from '../io.js';

function listArg<T extends string>(text: string | undefined, all: readonly T[], name: string): readonly T[] {
  if (text === undefined) return all;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = items.filter((s) => !all.includes(s as T));
  if (bad.length || items.length === 0) throw new UsageError(`${name} takes a comma-separated list of ${all.join(', ')}; got ${JSON.stringify(text)}`);
  return items as T[];
}

const ms = (v: number): string => (v < 1 ? `${(v * 1000).toFixed(1)} µs` : `${v.toFixed(2)} ms`);

async function chart(rows: BenchRow[]): Promise<string> {
  const { barChart } = await import('../../bench/svg.js');
  return barChart(
    'layerfs bench: first change of a file (median, min–max)',
    'ms',
    rows.map((r) => ({
      label: `${r.path.split('/').pop()} ${r.op} ${r.how}`,
      value: r.ms.median,
      min: r.ms.min,
      max: r.ms.max,
      group: r.how,
    })),
    true,
  );
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('copy-up cost of your image: first write, chmod, append and truncate of its files under each strategy (and the kernel with --kernel)')
    .argument('<image>', 'an image archive or a stored image')
    .argument('[paths...]', 'regular files of the image (default: the 10 largest)')
    .option('--tag <tag>', 'which image, when the archive holds several')
    .option('--strategy <list>', `copy-up strategies, comma-separated (${BENCH_STRATEGIES.join(',')})`)
    .option('--ops <list>', `operations, comma-separated (${BENCH_OPS.join(',')})`)
    .option('--repeat <n>', 'timed trials per row (after one untimed)', '5')
    .option('--kernel', "also the kernel's overlayfs, default and volatile,metacopy=on (needs root)")
    .option('--svg <file>', 'write a chart of the medians to FILE')
    .action(async (ref: string, paths: string[], opts: { tag?: string; strategy?: string; ops?: string; repeat: string; kernel?: boolean; svg?: string }, cmd: Command) => {
      const g = globals(cmd);
      const strategies = listArg<CopyUpStrategy>(opts.strategy, BENCH_STRATEGIES, '--strategy');
      const ops = listArg<BenchOp>(opts.ops, BENCH_OPS, '--ops');
      const repeat = Number(opts.repeat);
      if (!/^\d+$/.test(opts.repeat) || repeat < 1 || repeat > 1000) throw new UsageError(`--repeat must be a whole number 1..1000, got ${JSON.stringify(opts.repeat)}`);
      // The engine, the benchmark and the bar load when the command runs, not for --help (CLI-7).
      const { copyUpBench, largestFiles, pathProblem } = await import('../../bench/copyup.js');
      const { default: cliProgress } = await import('cli-progress');
      const stack = await openStack(ref, cmd, { tag: opts.tag });
      const image = stack.image;
      try {
        const wanted = paths.length
          ? paths.map(
              (p) =>
                '/'
                + p
                  .split('/')
                  .filter((x) => x !== '' && x !== '.')
                  .join('/'),
            )
          : largestFiles(image, 10);
        const problems = wanted.map((p) => pathProblem(image, p)).filter((p): p is string => p !== undefined);
        if (problems.length) throw new UsageError(problems.join('; '));
        if (wanted.length === 0) throw new UsageError(`${ref} holds no regular file to benchmark`);
        const bar = io().stderr.isTTY
          ? new cliProgress.SingleBar({ format: 'bench {bar} {value}/{total} trials', hideCursor: true, clearOnComplete: true, stream: io().stderr }, cliProgress.Presets.shades_classic)
          : undefined;
        let started = false;
        const res = await copyUpBench(image, {
          paths: wanted,
          strategies,
          ops,
          repeat,
          kernel: !!opts.kernel,
          onProgress: (done, total) => {
            if (!bar) return;
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        }).finally(() => bar?.stop());
        if (res.kernelSkipped) io().stderr.write(`layerfs: --kernel: ${res.kernelSkipped}\n`);
        if (opts.svg) writeFileSync(opts.svg, await chart(res.rows));
        if (g.json) return printJson({ image: ref, repeat, rows: res.rows, ...(res.kernelSkipped ? { kernelSkipped: res.kernelSkipped } : {}) });
        printTable(
          g.out,
          ['PATH', 'SIZE', 'HOW', 'OP', 'MEDIAN', 'RANGE', 'COPIED', 'MEMORY'],
          res.rows.map((r) => [
            r.path,
            humanSize(r.size),
            r.how,
            r.op,
            ms(r.ms.median),
            `${ms(r.ms.min)}–${ms(r.ms.max)}`,
            humanSize(r.bytesCopied),
            r.memoryAdded === undefined ? 'n/a' : humanSize(r.memoryAdded),
          ]),
        );
      } finally {
        image.close();
      }
    });
}
