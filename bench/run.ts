/**
 * `npm run bench` (quick) / `npm run bench -- --full`: every figure a median with min–max, and a
 * ratio to a baseline measured in the same run. `--only lookup,copy,load` runs a subset.
 *   1. lookup (bench/peers.ts): stat of a path only in the bottom layer, stat of a missing path and
 *      readdir of a directory spread over every layer, at depth 1, 4, 16, 64 and 128, for layerfs,
 *      a flat memfs Volume (the baseline), the kernel's overlayfs, unionfs over memfs, zenfs CoW;
 *   2. copy-up: the first 1-byte write into the middle of a lower file of 4 KiB … 128 MiB, and a
 *      chmod of it, for each strategy, against a Buffer copy of the same bytes (Buffer.from:
 *      allocate and copy) and a bare memcpy into memory already touched (the floor); peers
 *      (bench/copyup-peers.ts): the kernel's overlayfs, zenfs CoW, unionfs+memfs, a flat memfs.
 *      Bytes copied are measured from what the writable layer holds for the file afterwards
 *      (layerfs: its upper inode's data; the kernel: the upper file's extents; zenfs: the file
 *      in its writable layer), with layerfs's own counter beside them (counterBytes).
 *   3. load (bench/load.ts): open and list a synthetic image layer as tar, gzip and zstd in a child
 *      process (time, first readdir of /, peak RSS) against a header walk, `tar -tf`, zlib gunzip.
 *   4. cli (bench/cli.ts): saving a small change in a container with a big layer (journal sync)
 *      against rewriting the whole layer; `layerfs --help` start-up against `node -e 0`.
 *   5. cache (bench/cache.ts): the second `layerfs ls` of a stored multi-layer gzip image in a fresh
 *      process (from the open cache) against the first (cache pruned) and the CLI's start-up.
 *   6. page (bench/page.ts): the web page in Chromium: navigation to the layer list and to the first
 *      tree level on the bench image, a 20,000-entry directory shown and scrolled; baselines: the
 *      API's answers fetched from Node and the page's DOMContentLoaded.
 *   7. registry (bench/registry.ts): pull from a loopback docker-registry against `skopeo copy`,
 *      and bytes fetched by `image inspect` and by one lazy `cat`, as a share of the image.
 *   8. concurrent (bench/concurrent.ts): loadImage of figure 5's 4-layer gzip image, one layer at a
 *      time and a few at once, verify false and true, against the sum of its layers' gunzipSync times.
 *   9. scale (bench/scale.ts): a layer of 1,000,000 small files and one of 200,000 directories,
 *      opened, listed and flattened in a fresh process: time and peak RSS per entry.
 * Results: bench/results/latest.{json,md} and *.svg (latest-full.*, full-*.svg with --full;
 * with --only, partial-<figure>.{json,md} per figure asked for and partial-*.svg), and a target
 * summary on stdout; then the README's benchmark block is rendered again from bench/results/*.json
 * (bench/readme.ts; not after --smoke or --out). `--smoke` runs every figure on tiny
 * inputs (test/slow/bench-smoke.test.ts: the benchmark works end to end) and `--out DIR` writes elsewhere.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CopyUpStrategy } from '../src/union/state.js';
import { dir, file, patternSource } from './layers.js';
import { peerLookups, type PeerRow } from './peers.js';
import { loadFigure, type LoadResult, type Mode } from './load.js';
import { summaryMarkdown, targets, writeCharts, lookupMarkdown, loadMarkdown, copyMarkdown, type CopyResult, type CopyRow } from './report.js';
import { layerfsTrial, measure, peerCopyUps, peerNotes, setWarmupMs, type PeerCopyRow } from './copyup-peers.js';
import { writeTar } from '../src/out/tar-write.js';
import { figure, timeRuns } from './stats.js';
import { cliFigure, cliMarkdown, cliTargets, type CliResult } from './cli.js';
import { cacheFigure, cacheMarkdown, cacheTargets, type CacheResult } from './cache.js';
import { pageChart, pageFigure, pageMarkdown, pageTargets, type PageResult } from './page.js';
import { registryFigure, registryMarkdown, type RegistryResult } from './registry.js';
import { concurrentFigure, concurrentMarkdown, concurrentTargets, type ConcurrentResult } from './concurrent.js';
import { scaleFigure, scaleMarkdown, scaleTargets, type ScaleResult } from './scale.js';
import { BenchArgumentError, FIGURES, figureOfTarget, parseOnly, type FigureName } from './figures.js';
import { writeReadme, type RunResults } from './readme.js';

const onlyArg = process.argv.find((a, i) => a.startsWith('--only=') || process.argv[i - 1] === '--only');
let only: FigureName[] | undefined;
try {
  only = onlyArg === undefined ? undefined : parseOnly(onlyArg.replace('--only=', ''));
} catch (e) {
  if (!(e instanceof BenchArgumentError)) throw e;
  process.stderr.write(`bench: ${e.message}\n`);
  process.exit(2);
}
const want = (part: FigureName) => !only || only.includes(part);
const log = (s: string) => process.stderr.write(s + '\n');

const full = process.argv.includes('--full');
const smoke = process.argv.includes('--smoke');
const mode: Mode = full ? 'full' : smoke ? 'smoke' : 'quick';
const outArg = process.argv.find((a, i) => a.startsWith('--out=') || process.argv[i - 1] === '--out');
const REPEATS = full ? 15 : smoke ? 3 : 7;
const DEPTHS = smoke ? [1, 4] : [1, 4, 16, 64, 128];
const SIZES = smoke ? [4 << 10, 1 << 20] : [4 << 10, 1 << 20, 16 << 20, 128 << 20];
if (smoke) setWarmupMs(0);
const STRATEGIES: CopyUpStrategy[] = ['full', 'metadata', 'chunked'];

async function copyUps(scratch: string): Promise<CopyResult> {
  const rows: CopyRow[] = [];
  const peers: PeerCopyRow[] = [];
  const baselines: CopyResult['baselines'] = {};
  // A discarded first pass over layerfs's smallest rows: the first row of a process would otherwise
  // be timed on colder code than the rows after it (they share most of it).
  const warmPath = join(scratch, 'warm.tar');
  await writeTar([dir('data'), file('data/big', patternSource(SIZES[0]))], warmPath);
  for (const strategy of STRATEGIES) for (const change of ['write', 'chmod'] as const) await measure(REPEATS, SIZES[0], change, layerfsTrial(warmPath, strategy));
  rmSync(warmPath);
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
        const { ms, bytesCopied, counted, memoryAdded } = await measure(REPEATS, size, change, layerfsTrial(layerPath, strategy));
        rows.push({ size, strategy, change, ms, bytesCopied, counterBytes: counted!, memoryAdded, vsBufferCopy: ms.median / bufferCopy.median, vsMemcpy: ms.median / memcpy.median });
      }
    }
    rmSync(layerPath);
    peers.push(...(await peerCopyUps(REPEATS, size, src, baselines[size], log)));
  }
  return { rows, baselines, peers, peerNotes: peerNotes() };
}

const scratch = mkdtempSync(join(tmpdir(), 'layerfs-bench-'));
try {
  const t0 = Date.now();
  let lookup: PeerRow[] | undefined;
  let copy: CopyResult | undefined;
  let load: LoadResult | undefined;
  let cache: CacheResult | undefined;
  let page: PageResult | undefined;
  if (want('lookup')) {
    log('lookup (figure 1): layerfs and peers');
    lookup = await peerLookups(DEPTHS, full ? 9 : smoke ? 3 : 5, full ? 50 : smoke ? 2 : 20, log);
  }
  if (want('copy')) {
    log('copy-up (figure 2)');
    copy = await copyUps(scratch);
  }
  if (want('load')) {
    log('load (figure 3)');
    load = await loadFigure(mode, full ? 5 : smoke ? 1 : 3, log);
  }
  let cli: CliResult | undefined;
  if (want('cli')) {
    log('command line (figure 4)');
    cli = await cliFigure(mode, full ? 15 : smoke ? 1 : 9, log);
  }
  if (want('cache')) {
    log('open cache (figure 5)');
    cache = await cacheFigure(mode, full ? 5 : smoke ? 1 : 3, log);
  }
  if (want('page')) {
    log('page (figure 6): the web page in Chromium');
    page = await pageFigure(mode, full ? 7 : smoke ? 1 : 5, log);
  }
  let registry: RegistryResult | undefined;
  if (want('registry')) {
    log('registry (figure 7): pull against skopeo copy, bytes fetched by image inspect and cat');
    registry = await registryFigure(mode, smoke ? 1 : REPEATS, scratch, log);
  }
  let concurrent: ConcurrentResult | undefined;
  if (want('concurrent')) {
    log("concurrent open (figure 8): a 4-layer gzip image against its layers' gunzip times");
    concurrent = await concurrentFigure(mode, full ? 9 : smoke ? 1 : 5, log);
  }
  let scale: ScaleResult | undefined;
  if (want('scale')) {
    log('scale (figure 9): a million small files, 200,000 directories');
    scale = await scaleFigure(mode, full ? 3 : smoke ? 1 : 2, log);
  }
  const results = [
    ...targets(lookup, load, copy),
    ...(cli ? cliTargets(cli) : []),
    ...(cache ? cacheTargets(cache) : []),
    ...pageTargets(page),
    ...(concurrent ? concurrentTargets(concurrent) : []),
    ...(scale ? scaleTargets(scale) : []),
  ];
  // Issue 12's goal: a pull at least as fast as skopeo copy of the same image.
  if (registry)
    results.push({
      figure: 'registry',
      target: 'pull ≤ 1× skopeo copy',
      value: registry.pull.ratio,
      limit: 1,
      op: 'le',
      pass: registry.pull.ratio <= 1,
      detail: `${registry.pull.layerfs.median.toFixed(0)} ms vs ${registry.pull.skopeo.median.toFixed(0)} ms`,
    });
  const date = new Date().toISOString();
  const seconds = Math.round((Date.now() - t0) / 1000);
  const sections: Array<[FigureName, string]> = [];
  if (lookup) sections.push(['lookup', lookupMarkdown(lookup)]);
  if (copy) sections.push(['copy', copyMarkdown(copy)]);
  if (load) sections.push(['load', loadMarkdown(load)]);
  if (cli) sections.push(['cli', cliMarkdown(cli)]);
  if (cache) sections.push(['cache', cacheMarkdown(cache)]);
  if (page) sections.push(['page', pageMarkdown(page)]);
  if (registry) sections.push(['registry', registryMarkdown(registry)]);
  if (concurrent) sections.push(['concurrent', concurrentMarkdown(concurrent)]);
  if (scale) sections.push(['scale', scaleMarkdown(scale)]);
  const outDir = outArg ? pathToFileURL(outArg.replace('--out=', '') + '/') : new URL('./results/', import.meta.url);
  mkdirSync(outDir, { recursive: true });
  const prefix = full && !only ? 'full-' : only ? 'partial-' : smoke ? 'smoke-' : '';
  const charts = writeCharts(outDir, lookup, copy, load, prefix);
  const pageSvg = page && pageChart(page);
  if (pageSvg) {
    writeFileSync(new URL(`${prefix}page.svg`, outDir), pageSvg);
    charts.push(`${prefix}page.svg`);
  }
  const chartFigure = (c: string): FigureName => {
    const n = c.slice(prefix.length);
    return n.startsWith('lookup-') ? 'lookup' : n.startsWith('copyup-') ? 'copy' : n.startsWith('load-') ? 'load' : 'page';
  };
  const data = { lookup, copyUp: copy, load, cli, cache, page, registry, concurrent, scale };
  /** The results of the figures `figs` of this run (every figure: undefined) as `name`.{json,md}; answers the Markdown. */
  const write = (name: string, figs?: FigureName[]): string => {
    const inIt = (f: FigureName) => !figs || figs.includes(f);
    const ts = results.filter((t) => inIt(figureOfTarget(t.figure)!.name));
    let md = `# layerfs benchmark (${mode}${only ? `, --only ${only.join(',')}` : ''}, ${date}, ${seconds} s)\n\n`;
    md += summaryMarkdown(ts) + '\n';
    for (const [f, section] of sections) if (inIt(f)) md += section + '\n';
    const own = charts.filter((c) => inIt(chartFigure(c)));
    if (own.length) md += `Charts: ${own.map((c) => `[${c}](${c})`).join(', ')}\n`;
    const json: RunResults = { mode, repeats: REPEATS, date, seconds, ...(only ? { only } : {}), targets: ts };
    for (const f of FIGURES) if (inIt(f.name)) Object.assign(json, { [f.key]: data[f.key] });
    writeFileSync(new URL(`${name}.json`, outDir), JSON.stringify(json, null, 2) + '\n');
    writeFileSync(new URL(`${name}.md`, outDir), md);
    return md;
  };
  if (only) {
    // A subset (--only) does not replace the complete results, and each figure's partial results
    // are its own (partial-<figure>.*): a run of one figure leaves another's as they were, and a
    // figure the run could not measure (skipped) leaves its earlier results too.
    for (const f of only) {
      const v = data[FIGURES.find((x) => x.name === f)!.key];
      if (v === undefined || (f === 'page' && page?.skipped)) {
        log(`${f}: not measured in this run; partial-${f}.* left as they were`);
        continue;
      }
      process.stdout.write(write(`partial-${f}`, [f]));
    }
  } else {
    process.stdout.write(write(full ? 'latest-full' : smoke ? 'latest-smoke' : 'latest'));
  }
  // The README's benchmark block follows the committed results (bench/readme.ts), not a smoke run
  // or results written elsewhere.
  if (!outArg && !smoke) log(`README.md: benchmark block ${writeReadme() ? 'rewritten' : 'unchanged'} from bench/results/*.json`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
