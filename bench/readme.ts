/**
 * The README's benchmark figures, generated from the results files (issue 13: never copied by
 * hand). `renderBlock` turns bench/results/*.json into the Markdown between the README's
 * `<!-- bench:begin -->` and `<!-- bench:end -->` markers: the targets with pass/miss, and per
 * figure its measurements with the baseline or peer of the same run and the ratio, each naming
 * the results file it came from. `npm run bench` rewrites the block after a run;
 * `npm run bench:readme` (this file run directly) rewrites it from the committed results;
 * test/bench-readme.test.ts fails when the README's block is not what the results render.
 *
 * Which results a figure is taken from: the newest run of `--full` mode that measured it, else the
 * newest quick run (a whole run or an `--only` one); smoke runs never (tiny inputs, not figures).
 * A figure a run skipped (the page without a browser) does not replace one measured.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CacheResult } from './cache.js';
import type { ConcurrentResult } from './concurrent.js';
import type { CliResult } from './cli.js';
import type { LoadResult, Mode } from './load.js';
import { WIDE, type PageResult } from './page.js';
import type { PeerRow } from './peers.js';
import type { RegistryResult } from './registry.js';
import type { ScaleResult } from './scale.js';
import type { CopyResult, CopyRow, Target } from './report.js';
import { FIGURES, type FigureInfo, type FigureName } from './figures.js';
import { fmtBytes, fmtFigure, type Figure } from './stats.js';

export const BEGIN = '<!-- bench:begin -->';
export const END = '<!-- bench:end -->';

/** What bench/run.ts writes as JSON (a figure it did not run is absent). */
export interface RunResults {
  mode: Mode;
  repeats: number;
  date: string;
  /** The run's wall time (absent in results written before it was recorded). */
  seconds?: number;
  /** The figures an `--only` run was asked for (absent: a whole run). */
  only?: string[];
  targets: Target[];
  lookup?: PeerRow[];
  copyUp?: CopyResult;
  load?: LoadResult;
  cli?: CliResult;
  cache?: CacheResult;
  page?: PageResult;
  registry?: RegistryResult;
  concurrent?: ConcurrentResult;
  scale?: ScaleResult;
}

/** One results file: its path relative to the repository (as the README links it) and its content. */
export interface ResultsFile {
  file: string;
  results: RunResults;
}

/** A results file or a README that cannot be used as asked; names the file. */
export class BenchReadmeError extends Error {
  override readonly name = 'BenchReadmeError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
export const README = join(ROOT, 'README.md');

/** Every results file in `dir` (smoke runs left out), its path given relative to `root`. */
export function readResults(dir = RESULTS_DIR, root = ROOT): ResultsFile[] {
  const out: ResultsFile[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const path = join(dir, name);
    const file = relative(root, path);
    let results: RunResults;
    try {
      results = JSON.parse(readFileSync(path, 'utf8')) as RunResults;
    } catch (e) {
      throw new BenchReadmeError(file, `not JSON: ${(e as Error).message}`);
    }
    if (!results || typeof results !== 'object' || typeof results.mode !== 'string' || typeof results.date !== 'string' || !Array.isArray(results.targets)) {
      throw new BenchReadmeError(file, 'not the results of a benchmark run (mode, date and targets expected)');
    }
    if (Number.isNaN(Date.parse(results.date))) throw new BenchReadmeError(file, `date ${JSON.stringify(results.date)} is not a date`);
    if (results.mode === 'smoke') continue;
    out.push({ file, results });
  }
  return out;
}

/** Whether the run measured the figure (a page the run skipped is not a measurement). */
function measured(r: RunResults, f: FigureInfo): boolean {
  const v = r[f.key];
  if (v === undefined || v === null) return false;
  if (f.name === 'page') return !(v as PageResult).skipped && (v as PageResult).layerList !== undefined;
  return true;
}

/** Per figure, the results it is taken from (see the file's comment); a figure no file measured is absent. */
export function pick(files: ResultsFile[]): Map<FigureName, ResultsFile> {
  const out = new Map<FigureName, ResultsFile>();
  const rank = (f: ResultsFile): [number, number] => [f.results.mode === 'full' ? 1 : 0, Date.parse(f.results.date)];
  for (const fig of FIGURES) {
    for (const f of files) {
      if (f.results.mode !== 'full' && f.results.mode !== 'quick') continue;
      if (!measured(f.results, fig)) continue;
      const best = out.get(fig.name);
      const [m, d] = rank(f);
      if (!best || m > rank(best)[0] || (m === rank(best)[0] && d > rank(best)[1])) out.set(fig.name, f);
    }
  }
  return out;
}

// ---- formatting ----

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (x >= 100) return `${Math.round(x).toLocaleString('en-US')}×`;
  if (x >= 10) return `${x.toFixed(1)}×`;
  if (x >= 0.01) return `${x.toFixed(2)}×`;
  return `${x.toPrecision(2)}×`;
}
const ns = (f: Figure): Figure => ({ median: f.median / 1e6, min: f.min / 1e6, max: f.max / 1e6 });
const link = (f: ResultsFile): string => {
  const md = f.file.replace(/\.json$/, '.md');
  return `[${basename(md, '.md')}](${md})`;
};
const table = (head: string[], rows: string[][]): string => `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`;
const opOf = (t: Target): string => (t.op === 'le' ? '≤' : t.op === 'ge' ? '≥' : '<');
const runOf = (f: ResultsFile): string => {
  const r = f.results;
  const mode = r.mode === 'full' ? '`--full`' : 'quick';
  const only = r.only ? ` (\`--only ${r.only.join(',')}\`)` : '';
  return `${mode}${only}, ${r.date.slice(0, 10)}${r.seconds !== undefined ? `, ${r.seconds} s` : ''}`;
};
const caption = (fig: FigureInfo, f: ResultsFile, what: string): string => `**${fig.title}**, from ${link(f)} (${runOf(f)}): ${what}\n\n`;

// ---- the figures ----

const OPS = [
  ['statNs', 'stat (bottom layer)'],
  ['missingNs', 'stat (missing)'],
  ['readdirNs', 'readdir (merged dir)'],
] as const;

function lookupTable(fig: FigureInfo, f: ResultsFile): string {
  const rows = f.results.lookup!;
  const depths = [...new Set(rows.map((r) => r.depth))].sort((a, b) => a - b);
  const lo = depths[0];
  const hi = depths[depths.length - 1];
  const peers = [...new Set(rows.map((r) => r.peer))];
  const at = (peer: string, d: number) => rows.find((r) => r.peer === peer && r.depth === d);
  const out: string[][] = [];
  for (const [op, name] of OPS) {
    for (const p of peers.filter((p) => rows.some((x) => x.peer === p && (x[op] || x.skipped)))) {
      const cell = (d: number): string => {
        const r = at(p, d);
        return r?.[op] ? fmtFigure(ns(r[op]!)) : `skipped${r?.skipped ? ` (${r.skipped.slice(0, 60)})` : ''}`;
      };
      const ratio = (other: string, d: number): string => {
        const a = at(p, d)?.[op]?.median;
        const b = at(other, d)?.[op]?.median;
        return a !== undefined && b !== undefined ? fmtRatio(a / b) : '';
      };
      out.push([name, p, cell(lo), cell(hi), p === 'memfs (flat)' ? 'baseline' : ratio('memfs (flat)', hi), p === 'layerfs' ? '' : `${ratio('layerfs', lo)} / ${ratio('layerfs', hi)}`]);
    }
  }
  const entries = rows.find((r) => r.entries)?.entries;
  return (
    caption(
      fig,
      f,
      `${lo} to ${hi} lower layers over an empty upper; the stat target is only in the bottom layer, the merged directory spreads ${entries ?? '?'} entries over every layer. Time per call, median (min–max); × flat memfs: over the flat memfs Volume at depth ${hi}; × layerfs: the peer's time over layerfs's at depth ${lo} / ${hi}.`,
    ) + table(['operation', 'who', `depth ${lo}`, `depth ${hi}`, `× flat memfs (depth ${hi})`, `× layerfs (depth ${lo} / ${hi})`], out)
  );
}

function copyTable(fig: FigureInfo, f: ResultsFile): string {
  const c = f.results.copyUp!;
  const sizes = Object.keys(c.baselines)
    .map(Number)
    .sort((a, b) => a - b);
  const lo = sizes[0];
  const hi = sizes[sizes.length - 1];
  const bytes = (r: { bytesCopied?: number; counterBytes?: number } | undefined): string => {
    if (r?.bytesCopied === undefined) return '';
    const counter = r.counterBytes !== undefined && r.counterBytes !== r.bytesCopied ? ` (counter ${fmtBytes(r.counterBytes)})` : '';
    return fmtBytes(r.bytesCopied) + counter;
  };
  type Row = { ms?: Figure; vsBufferCopy?: number; bytesCopied?: number; counterBytes?: number; memoryAdded?: number; where?: string; skipped?: string };
  const line = (who: string, change: string, get: (size: number) => Row | undefined): string[] => {
    const a = get(lo);
    const b = get(hi);
    const time = (r: Row | undefined) => (r?.ms ? fmtFigure(r.ms) : `skipped${r?.skipped ? ` (${r.skipped.slice(0, 60)})` : ''}`);
    return [
      who,
      change,
      time(a),
      a?.vsBufferCopy === undefined ? '' : fmtRatio(a.vsBufferCopy),
      time(b),
      b?.vsBufferCopy === undefined ? '' : fmtRatio(b.vsBufferCopy),
      a?.ms || b?.ms ? `${bytes(a)} / ${bytes(b)}` : '',
      b?.ms ? (b.memoryAdded === undefined ? 'n/a' : fmtBytes(b.memoryAdded)) : '',
      b?.where ?? a?.where ?? '',
    ];
  };
  const out: string[][] = [];
  const strategies = [...new Set(c.rows.map((r) => r.strategy))];
  for (const s of strategies) {
    for (const change of ['write', 'chmod'] as const) {
      out.push(
        line(`layerfs ${s}`, change, (size) => {
          const r: CopyRow | undefined = c.rows.find((x) => x.size === size && x.strategy === s && x.change === change);
          return r && { ...r, where: 'writable layer' };
        }),
      );
    }
  }
  for (const p of [...new Set(c.peers.map((r) => r.peer))]) {
    for (const change of ['write', 'chmod'] as const) out.push(line(p, change, (size) => c.peers.find((x) => x.peer === p && x.size === size && x.change === change)));
  }
  out.push(['Buffer copy (baseline)', '', fmtFigure(c.baselines[lo].bufferCopy), '1×', fmtFigure(c.baselines[hi].bufferCopy), '1×', '', '', '']);
  out.push([
    'memcpy into touched memory (floor)',
    '',
    fmtFigure(c.baselines[lo].memcpy),
    fmtRatio(c.baselines[lo].memcpy.median / c.baselines[lo].bufferCopy.median),
    fmtFigure(c.baselines[hi].memcpy),
    fmtRatio(c.baselines[hi].memcpy.median / c.baselines[hi].bufferCopy.median),
    '',
    '',
    '',
  ]);
  return (
    caption(
      fig,
      f,
      `the first 1-byte write into the middle of a lower file, or a chmod of it, at ${fmtBytes(lo)} and ${fmtBytes(hi)} (the sizes between: the targets and the results file). Bytes copied: what the writable layer holds for the file afterwards; memory added: ArrayBuffer growth across the change (n/a: the kernel's copy is in the page cache); where: where the change landed.`,
    )
    + table(
      [
        'who',
        'change',
        `time, ${fmtBytes(lo)}`,
        '× Buffer copy',
        `time, ${fmtBytes(hi)}`,
        '× Buffer copy',
        `bytes copied (${fmtBytes(lo)} / ${fmtBytes(hi)})`,
        `memory added (${fmtBytes(hi)})`,
        'where',
      ],
      out,
    )
  );
}

function loadTable(fig: FigureInfo, f: ResultsFile): string {
  const l = f.results.load!;
  const mib = l.imageBytes / (1 << 20);
  const rate = (ms: number) => `${(mib / (ms / 1000)).toFixed(0)} MiB/s`;
  const walk = l.limits.headerWalkColdMs.median;
  const rows: string[][] = [];
  for (const r of l.rows) {
    const fast = l.rows.find((x) => x.form === r.form && x.how === 'oci no-verify');
    rows.push([
      `${r.form}, ${r.how}`,
      fmtFigure(r.openMs),
      fmtRatio(r.openMs.median / walk),
      fast && fast !== r ? fmtRatio(r.openMs.median / fast.openMs.median) : '',
      rate(r.openMs.median),
      `${r.peakRssMiB.median.toFixed(0)} MiB (${r.peakRssMiB.min.toFixed(0)}–${r.peakRssMiB.max.toFixed(0)})`,
    ]);
    if (r.againMs)
      rows.push([
        `${r.form}, ${r.how}: a second open in the same process (warm code)`,
        fmtFigure(r.againMs),
        `${fmtRatio(r.againMs.median / l.limits.headerWalkMs.median)} the walk repeated in process`,
        '',
        rate(r.againMs.median),
        '',
      ]);
  }
  const limit = (name: string, x: Figure): string[] => [name, fmtFigure(x), '', '', rate(x.median), ''];
  rows.push(
    limit('header walk, fresh process (baseline)', l.limits.headerWalkColdMs),
    limit('header walk, repeated in process', l.limits.headerWalkMs),
    limit('`tar -tf`', l.limits.tarTfMs),
    limit('zlib gunzip', l.limits.gunzipMs),
    limit('`zstd -dc`', l.limits.zstdDcMs),
  );
  rows.push(['node with the compiled modules only (baseline of RSS)', '', '', '', '', `${l.baselineRssMiB.toFixed(0)} MiB`]);
  return (
    caption(
      fig,
      f,
      `${l.source === 'synthetic' ? 'a synthetic layer' : `a ${l.source} layer`} of ${fmtBytes(l.imageBytes)}, ${l.entries.toLocaleString('en-US')} entries, opened and listed in a fresh child process per run (page cache warm). × header walk: over the bare header walk timed the same way; × no-verify: over the same form opened without hashing (the cost of hashing every byte).`,
    ) + table(['form, how', 'open', '× header walk', '× no-verify', 'uncompressed rate', 'peak RSS'], rows)
  );
}

function cliTable(fig: FigureInfo, f: ResultsFile): string {
  const c = f.results.cli!;
  return (
    caption(fig, f, `saving a small change in a container whose layer holds ${c.layer.files.toLocaleString('en-US')} files (${fmtBytes(c.layer.tarBytes)} as layer.tar), and start-up.`)
    + table(
      ['measure', 'time', 'baseline (same run)', 'ratio'],
      [
        [`sync (a journal frame, ${fmtBytes(c.syncBytes)} appended)`, fmtFigure(c.sync), `whole-layer save ${fmtFigure(c.fullSave)}`, fmtRatio(c.sync.median / c.fullSave.median)],
        ['`layerfs --help`, fresh process', fmtFigure(c.help), `\`node -e 0\` ${fmtFigure(c.node)}`, fmtRatio(c.help.median / c.node.median)],
      ],
    )
  );
}

function cacheTable(fig: FigureInfo, f: ResultsFile): string {
  const c = f.results.cache!;
  const cpu = (x: Figure | undefined) => (x ? fmtFigure(x) : 'n/a');
  return (
    caption(
      fig,
      f,
      `\`layerfs ls IMAGE /usr/bin\` of a stored ${c.layers}-layer gzip image (${fmtBytes(c.imageBytes)} uncompressed) in a fresh process; the cache holds ${fmtBytes(c.cacheBytes)} after the first.`,
    )
    + table(
      ['measure', 'wall time', 'CPU time', 'baseline (same run)', 'ratio'],
      [
        ['second `ls` (from the cache)', fmtFigure(c.secondMs), cpu(c.cpu?.secondMs), `first \`ls\` (cache empty) ${fmtFigure(c.firstMs)}`, fmtRatio(c.secondMs.median / c.firstMs.median)],
        ['second `ls` (from the cache)', '', '', `CLI start-up (\`--help\`) ${fmtFigure(c.startupMs)}`, fmtRatio(c.secondMs.median / c.startupMs.median)],
      ],
    )
  );
}

function pageTable(fig: FigureInfo, f: ResultsFile): string {
  const p = f.results.page!;
  const wide = WIDE.toLocaleString('en-US');
  const row = (what: string, x: Figure, baseName: string, base?: Figure): string[] => [
    what,
    fmtFigure(x),
    base ? `${baseName} ${fmtFigure(base)}` : baseName,
    base ? fmtRatio(x.median / base.median) : '',
  ];
  return (
    caption(
      fig,
      f,
      `${p.image}; a fresh browser context per repetition (${p.repeats} after one discarded), load average ${p.loadAverage?.toFixed(1)} when it started. "Shown": the frame after the rows entered the DOM, on the page's clock.`,
    )
    + table(
      ['measure', 'time', 'baseline (same run)', 'ratio'],
      [
        row('navigation → layer list shown', p.layerList!, 'DOMContentLoaded', p.domContentLoaded),
        row('navigation → layer list shown', p.layerList!, 'GET /api/images/ID from Node', p.apiImage),
        row('navigation → first tree level shown', p.firstLevel!, 'GET …/tree?path=/ from Node', p.apiTree),
        row(`click → the ${wide}-entry directory shown`, p.wideShown!, 'its first 1,000 entries from Node', p.apiWide),
        row('scrolling it two screens a frame: longest frame', p.scrollFrameMax!, 'the median frame', p.scrollFrameMedian),
        row('a jump to its end → the last row shown', p.wideEnd!, ''),
        ['rows in the DOM for it', String(p.wideRows), `${(WIDE + 2).toLocaleString('en-US')} in the list`, ''],
      ],
    )
  );
}

function registryTable(fig: FigureInfo, f: ResultsFile): string {
  const r = f.results.registry!;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  return (
    caption(fig, f, `a ${fmtBytes(r.imageBytes)} image (gzip layers) from a loopback docker-registry.`)
    + table(
      ['measure', 'value', 'baseline (same run)', 'ratio'],
      [
        ['`layerfs pull`', fmtFigure(r.pull.layerfs), `\`skopeo copy\` ${fmtFigure(r.pull.skopeo)}`, fmtRatio(r.pull.ratio)],
        ['`image inspect`: bytes fetched', pct(r.share.imageInspect), 'of the image', ''],
        ['`cat` of one file, uncompressed layers (Range): bytes fetched', pct(r.share.catLazy), 'of the image', ''],
        ['`cat` of one file, gzip layers (fetched whole, indexed): bytes fetched', pct(r.share.catGzip), 'of the image', ''],
        ...(r.share.catGzipIndexed !== undefined ? [['`cat` of one file, gzip, in a second command (index cached): bytes fetched', pct(r.share.catGzipIndexed), 'of the image', '']] : []),
        ...(r.share.catChunked !== undefined ? [['`cat` of one file, zstd:chunked layers (table of contents, then its frames): bytes fetched', pct(r.share.catChunked), 'of the image', '']] : []),
      ],
    )
  );
}

function concurrentTable(fig: FigureInfo, f: ResultsFile): string {
  const c = f.results.concurrent!;
  return (
    caption(
      fig,
      f,
      `loadImage of a ${c.layers}-layer gzip image (${fmtBytes(c.imageBytes)} uncompressed) in a fresh process, against the sum of its layers' single-threaded \`zlib.gunzipSync\` times in the same repetition (ratios per repetition, median); ${c.cores} cores, load average ${c.loadAverage.toFixed(1)}. The target is verify: false: with verify every byte is also hashed on the main thread, work added to inflating that alone needs both cores for 0.5×.`,
    )
    + table(
      ['open', 'time', 'baseline (same run)', 'ratio (min–max)', "CPU time (idle bound: over the cores, over the gunzips' CPU time)"],
      c.rows.map((r) => [
        `verify: ${r.verify}, ${r.concurrency === 1 ? 'one layer at a time' : `${r.concurrency} at a time`}`,
        fmtFigure(r.openMs),
        `gunzip sum ${fmtFigure(c.gunzipSumMs)}`,
        `${fmtRatio(r.ratio.median)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`,
        r.cpuMs && c.gunzipCpuSumMs ? `${fmtFigure(r.cpuMs)}; idle bound ${fmtRatio(r.cpuMs.median / c.cores / c.gunzipCpuSumMs.median)}` : 'n/a',
      ]),
    )
  );
}

function scaleTable(fig: FigureInfo, f: ResultsFile): string {
  const s = f.results.scale!;
  return (
    caption(
      fig,
      f,
      `one layer per row, opened (verify: false, default limits), listed through the fs API and flattened (\`view.export\` to /dev/null) in a fresh process. RSS per entry: peak RSS over a child that only loads the package (${s.baselineRssMiB.toFixed(0)} MiB), per entry.`,
    )
    + table(
      ['layer', 'entries', 'open', 'list', 'flatten', 'peak RSS', 'per entry: open / list / flatten', 'RSS per entry'],
      s.layers.map((l) => [
        l.what === 'files' ? 'small files' : 'directories',
        l.members.toLocaleString('en-US'),
        fmtFigure(l.openMs),
        fmtFigure(l.listMs),
        fmtFigure(l.flattenMs),
        `${l.maxRssMiB.median.toFixed(0)} MiB`,
        `${l.perEntry.openUs.toFixed(2)} / ${l.perEntry.listUs.toFixed(2)} / ${l.perEntry.flattenUs.toFixed(2)} µs`,
        `${l.perEntry.rssBytes.toFixed(0)} B`,
      ]),
    )
  );
}

const TABLES: Record<FigureName, (fig: FigureInfo, f: ResultsFile) => string> = {
  lookup: lookupTable,
  copy: copyTable,
  load: loadTable,
  cli: cliTable,
  cache: cacheTable,
  page: pageTable,
  registry: registryTable,
  concurrent: concurrentTable,
  scale: scaleTable,
};

/** The block between the markers (markers included). */
export function renderBlock(files: ResultsFile[]): string {
  const picked = pick(files);
  let md = `${BEGIN}\n<!-- Generated from bench/results/*.json by \`npm run bench:readme\` (and by \`npm run bench\`): edit bench/readme.ts, not this block. -->\n\n`;
  // Which figure comes from which file, in the figures' order.
  const bySource = new Map<ResultsFile, string[]>();
  for (const fig of FIGURES) {
    const f = picked.get(fig.name);
    if (f) bySource.set(f, [...(bySource.get(f) ?? []), fig.target]);
  }
  const missing = FIGURES.filter((fig) => !picked.has(fig.name)).map((fig) => fig.target);
  const targets = FIGURES.flatMap((fig) => {
    const f = picked.get(fig.name);
    return f ? f.results.targets.filter((t) => t.figure === fig.target).map((t) => ({ t, f })) : [];
  });
  const pass = targets.filter((x) => x.t.pass).length;
  md += `Per figure, the newest \`--full\` results, else the newest quick ones. Targets: **${pass} pass, ${targets.length - pass} miss**.\n\n`;
  md += table(
    ['figures', 'results', 'run'],
    [...[...bySource].map(([f, figs]) => [figs.join(', '), link(f), runOf(f)]), ...(missing.length ? [[missing.join(', '), 'none in bench/results', '']] : [])],
  );
  md +=
    '\n'
    + table(
      ['', 'figure', 'target', 'measured', 'limit', 'detail', 'results'],
      targets.map(({ t, f }) => [t.pass ? 'pass' : '**MISS**', t.figure, t.target, t.value.toFixed(t.value >= 10 ? 1 : 3), `${opOf(t)} ${t.limit}`, t.detail, link(f)]),
    );
  for (const fig of FIGURES) {
    const f = picked.get(fig.name);
    if (f) md += '\n' + TABLES[fig.name](fig, f);
  }
  return `${md}${END}`;
}

/** `readme` with its block (from BEGIN to END) replaced by `block`; `file` names it in errors. */
export function replaceBlock(readme: string, block: string, file = 'README.md'): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < 0) throw new BenchReadmeError(file, `no benchmark block: the markers ${BEGIN} and ${END} are expected`);
  if (readme.indexOf(BEGIN, a + 1) >= 0 || readme.indexOf(END, b + 1) >= 0) throw new BenchReadmeError(file, 'the benchmark markers appear more than once');
  if (b < a) throw new BenchReadmeError(file, `${END} comes before ${BEGIN}`);
  return readme.slice(0, a) + block + readme.slice(b + END.length);
}

/** Rewrites the README's block from the results in `dir`; answers whether it changed. */
export function writeReadme(dir = RESULTS_DIR, readme = README): boolean {
  const before = readFileSync(readme, 'utf8');
  const after = replaceBlock(before, renderBlock(readResults(dir)), relative(ROOT, readme));
  if (after !== before) writeFileSync(readme, after);
  return after !== before;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  try {
    const changed = writeReadme();
    process.stdout.write(`README.md: benchmark block ${changed ? 'rewritten' : 'already up to date'} from bench/results/*.json\n`);
  } catch (e) {
    process.stderr.write(`bench:readme: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
