/**
 * `npm run bench`: copy-up cost and lookup depth, as ratios to baselines measured in the same run.
 *   1. lookup: stat of a path only in the bottom layer, at depth 1, 4, 16, 64 and 128;
 *   2. copy-up: the first 1-byte write into the middle of a lower file of 4 KiB … 128 MiB, and a
 *      chmod of it, for each strategy, against a Buffer copy of the same bytes (Buffer.from:
 *      allocate and copy) and a bare memcpy into memory already touched (the floor).
 * Results: bench/results/latest.json and latest.md, and a summary on stdout.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayers } from '../src/index.js';
import type { CopyUpStrategy } from '../src/union/state.js';
import { dir, file, lookupLayers, patternSource } from './layers.js';
import { writeTar } from '../src/out/tar-write.js';
import { figure, fmtBytes, fmtFigure, timeRuns, type Figure } from './stats.js';

const full = process.argv.includes('--full');
const REPEATS = full ? 15 : 7;
const DEPTHS = [1, 4, 16, 64, 128];
const SIZES = [4 << 10, 1 << 20, 16 << 20, 128 << 20];
const STRATEGIES: CopyUpStrategy[] = ['full', 'metadata', 'chunked'];

interface LookupRow { depth: number; statNs: Figure; missingNs: Figure }
interface CopyRow { size: number; strategy: CopyUpStrategy; change: 'write' | 'chmod'; ms: Figure; bytesCopied: number; memoryAdded: number; vsBufferCopy: number; vsMemcpy: number }

async function lookups(): Promise<LookupRow[]> {
  const rows: LookupRow[] = [];
  const OPS = 20_000;
  for (const depth of DEPTHS) {
    const view = await openLayers(await lookupLayers(depth));
    const fs = view.fs;
    const per = (fn: () => void) => figure(timeRuns(REPEATS, () => { for (let i = 0; i < OPS; i++) fn(); }).map((ms) => (ms * 1e6) / OPS));
    per(() => fs.statSync('/usr/share/pkg/bottom.txt')); // warm-up
    const statNs = per(() => fs.statSync('/usr/share/pkg/bottom.txt'));
    const missingNs = per(() => fs.statSync('/usr/share/pkg/missing', { throwIfNoEntry: false }));
    rows.push({ depth, statNs, missingNs });
    view.close();
  }
  return rows;
}

async function copyUps(scratch: string): Promise<{ rows: CopyRow[]; baselines: Record<number, { bufferCopy: Figure; memcpy: Figure }> }> {
  const rows: CopyRow[] = [];
  const baselines: Record<number, { bufferCopy: Figure; memcpy: Figure }> = {};
  for (const size of SIZES) {
    const layerPath = join(scratch, `big-${size}.tar`);
    await writeTar([dir('data'), file('data/big', patternSource(size))], layerPath);
    const src = Buffer.alloc(size);
    patternSource(size).read(src, 0, size, 0);
    const warm = Buffer.alloc(size, 1);
    const bufferCopy = figure(timeRuns(REPEATS, () => void Buffer.from(src)));
    const memcpy = figure(timeRuns(REPEATS, () => void src.copy(warm)));
    baselines[size] = { bufferCopy, memcpy };
    for (const strategy of STRATEGIES) {
      for (const change of ['write', 'chmod'] as const) {
        const samples: number[] = [];
        let bytesCopied = 0;
        let memoryAdded = 0;
        for (let r = 0; r < REPEATS; r++) {
          const view = await openLayers([layerPath], { copyUp: strategy });
          const fs = view.fs;
          global.gc?.();
          const mem0 = process.memoryUsage().arrayBuffers;
          const t0 = process.hrtime.bigint();
          if (change === 'chmod') {
            fs.chmodSync('/data/big', 0o600);
          } else {
            const fd = fs.openSync('/data/big', 'r+');
            fs.writeSync(fd, Buffer.from('x'), 0, 1, size >> 1);
            fs.closeSync(fd);
          }
          samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
          memoryAdded = Math.max(0, process.memoryUsage().arrayBuffers - mem0);
          bytesCopied = view.stats.copyUpBytes;
          view.close();
        }
        const ms = figure(samples);
        rows.push({ size, strategy, change, ms, bytesCopied, memoryAdded, vsBufferCopy: ms.median / bufferCopy.median, vsMemcpy: ms.median / memcpy.median });
      }
    }
    rmSync(layerPath);
  }
  return { rows, baselines };
}

function markdown(look: LookupRow[], copy: Awaited<ReturnType<typeof copyUps>>): string {
  const d1 = look[0].statNs.median;
  let md = `# layerfs benchmark (${full ? 'full' : 'quick'}, ${REPEATS} runs, ${new Date().toISOString()})\n\n`;
  md += '## Lookup: stat of a path only in the bottom layer\n\n| depth | stat | × depth 1 | stat of a missing path |\n|---|---|---|---|\n';
  for (const r of look) md += `| ${r.depth} | ${fmtFigure({ median: r.statNs.median / 1e6, min: r.statNs.min / 1e6, max: r.statNs.max / 1e6 })} | ${(r.statNs.median / d1).toFixed(2)}× | ${fmtFigure({ median: r.missingNs.median / 1e6, min: r.missingNs.min / 1e6, max: r.missingNs.max / 1e6 })} |\n`;
  md += '\n## Copy-up: the first 1-byte write into the middle of a lower file, or a chmod\n\n| size | strategy | change | time | × Buffer copy | × memcpy | bytes copied | memory added |\n|---|---|---|---|---|---|---|---|\n';
  for (const r of copy.rows) md += `| ${fmtBytes(r.size)} | ${r.strategy} | ${r.change} | ${fmtFigure(r.ms)} | ${r.vsBufferCopy.toFixed(2)}× | ${r.vsMemcpy.toFixed(2)}× | ${fmtBytes(r.bytesCopied)} | ${fmtBytes(r.memoryAdded)} |\n`;
  md += '\nBaselines (same run): ';
  md += Object.entries(copy.baselines).map(([s, b]) => `${fmtBytes(Number(s))}: Buffer copy ${fmtFigure(b.bufferCopy)}, memcpy ${fmtFigure(b.memcpy)}`).join('; ') + '\n';
  return md;
}

const scratch = mkdtempSync(join(tmpdir(), 'layerfs-bench-'));
try {
  const look = await lookups();
  const copy = await copyUps(scratch);
  const md = markdown(look, copy);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify({ mode: full ? 'full' : 'quick', repeats: REPEATS, lookup: look, copyUp: copy }, null, 2) + '\n');
  writeFileSync(new URL('./results/latest.md', import.meta.url), md);
  process.stdout.write(md);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
