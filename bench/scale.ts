/**
 * Figure 9, scale: a synthetic layer of 1,000,000 small files (1,000 directories of 1,000) and
 * one of 200,000 directories (200 of 1,000 empty ones), each opened, listed and flattened in a
 * fresh process with the default limits (bench/scale-child.mjs). Time per entry and peak RSS per
 * entry (over a child that only loads the package) are the figures; their targets were set from
 * the first measurement (README, "Scale"). The layers are generated once under os.tmpdir().
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Entry } from '../src/entry.js';
import { writeTar } from '../src/out/tar-write.js';
import { BufferSource } from '../src/source.js';
import { dir, file } from './layers.js';
import type { Mode } from './load.js';
import type { Target } from './report.js';
import { figure, fmtBytes, fmtFigure, type Figure } from './stats.js';

const CHILD = fileURLToPath(new URL('./scale-child.mjs', import.meta.url));
const PER_DIR = 1000;
const COUNTS: Record<Mode, { files: number; dirs: number }> = {
  smoke: { files: 2_000, dirs: 2_000 },
  quick: { files: 1_000_000, dirs: 200_000 },
  full: { files: 1_000_000, dirs: 200_000 },
};

/** `n` files of 8 to 14 bytes ("file N\n"), PER_DIR to a directory. */
function* manyFiles(n: number): Generator<Entry> {
  for (let d = 0; d * PER_DIR < n; d++) {
    const dn = `d${String(d).padStart(4, '0')}`;
    yield dir(dn);
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < n; f++) yield file(`${dn}/f${String(f).padStart(3, '0')}`, new BufferSource(Buffer.from(`file ${d * PER_DIR + f}\n`)));
  }
}

/** `n` empty directories, PER_DIR to a parent. */
function* manyDirs(n: number): Generator<Entry> {
  for (let d = 0; d * PER_DIR < n; d++) {
    const dn = `t${String(d).padStart(3, '0')}`;
    yield dir(dn);
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < n; f++) yield dir(`${dn}/s${String(f).padStart(3, '0')}`);
  }
}

export interface ScaleRun {
  openMs: number;
  firstMs: number;
  listMs: number;
  flattenMs: number;
  entries: number;
  tarBytes: number;
  maxRssKiB: number;
}

export interface ScaleLayer {
  what: 'files' | 'dirs';
  /** Tar members (the parent directories included). */
  members: number;
  tarBytes: number;
  openMs: Figure;
  firstMs: Figure;
  listMs: Figure;
  flattenMs: Figure;
  maxRssMiB: Figure;
  /** Per entry: µs to open, to list, to flatten; bytes of peak RSS over the baseline child. */
  perEntry: { openUs: number; listUs: number; flattenUs: number; rssBytes: number };
}

export interface ScaleResult {
  baselineRssMiB: number;
  layers: ScaleLayer[];
}

async function layerTar(mode: Mode, what: 'files' | 'dirs', log: (s: string) => void): Promise<string> {
  const d = join(tmpdir(), 'layerfs-bench-scale-v1', mode);
  const n = COUNTS[mode][what];
  const tar = join(d, `${what}-${n}.tar`);
  if (!existsSync(tar)) {
    mkdirSync(d, { recursive: true });
    log(`  generating a layer of ${n.toLocaleString('en-US')} ${what === 'files' ? 'small files' : 'directories'} ...`);
    await writeTar(what === 'files' ? manyFiles(n) : manyDirs(n), `${tar}.part`);
    renameSync(`${tar}.part`, tar);
  }
  return tar;
}

function child(args: string[]): Record<string, number> {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench/scale-child.mjs ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

export async function scaleFigure(mode: Mode, repeats: number, log: (s: string) => void): Promise<ScaleResult> {
  const baseline = figure(Array.from({ length: 3 }, () => child(['--baseline']).maxRssKiB / 1024)).median;
  const layers: ScaleLayer[] = [];
  for (const what of ['files', 'dirs'] as const) {
    const tar = await layerTar(mode, what, log);
    const deep = what === 'files' ? '/d0000/f999' : '/t000/s999';
    const runs: ScaleRun[] = [];
    for (let r = 0; r < repeats; r++) runs.push(child([tar, COUNTS[mode][what] >= PER_DIR ? deep : '/']) as unknown as ScaleRun);
    const members = runs[0].entries;
    const f = (k: keyof ScaleRun) => figure(runs.map((x) => x[k]));
    const l: ScaleLayer = {
      what,
      members,
      tarBytes: statSync(tar).size,
      openMs: f('openMs'),
      firstMs: f('firstMs'),
      listMs: f('listMs'),
      flattenMs: f('flattenMs'),
      maxRssMiB: figure(runs.map((x) => x.maxRssKiB / 1024)),
      perEntry: { openUs: 0, listUs: 0, flattenUs: 0, rssBytes: 0 },
    };
    l.perEntry = {
      openUs: (l.openMs.median * 1000) / members,
      listUs: (l.listMs.median * 1000) / members,
      flattenUs: (l.flattenMs.median * 1000) / members,
      rssBytes: ((l.maxRssMiB.median - baseline) * 2 ** 20) / members,
    };
    log(
      `  ${members.toLocaleString('en-US')} entries (${what}): open ${fmtFigure(l.openMs)}, list ${fmtFigure(l.listMs)}, flatten ${fmtFigure(l.flattenMs)}, peak RSS ${l.maxRssMiB.median.toFixed(0)} MiB`,
    );
    layers.push(l);
  }
  return { baselineRssMiB: baseline, layers };
}

/**
 * The targets, set from the first measurement (2026-12-03, quick, this 2-core machine busy with
 * other work: files open 5.5 µs, list 0.33 µs, flatten 6.2 µs (29 µs before the tar writer
 * gathered its pieces and small reads were read ahead), peak RSS 646 B per entry; directories
 * open 6.3 µs, list 2.1 µs, flatten 5.0 µs, 1.27 KB), with room for a busier machine.
 */
const LIMITS = {
  files: { openUs: 8, listUs: 1, flattenUs: 8, rssBytes: 800 },
  dirs: { openUs: 10, listUs: 3, flattenUs: 8, rssBytes: 1600 },
};

export function scaleTargets(s: ScaleResult): Target[] {
  const out: Target[] = [];
  for (const l of s.layers) {
    const lim = LIMITS[l.what];
    const n = `${l.members.toLocaleString('en-US')} ${l.what === 'files' ? 'small files' : 'directories'}`;
    const t = (what: string, value: number, limit: number, detail: string): Target => ({ figure: 'scale', target: `${n}: ${what}`, value, limit, op: 'le', pass: value <= limit, detail });
    out.push(
      t(`open, µs per entry ≤ ${lim.openUs}`, l.perEntry.openUs, lim.openUs, `open ${fmtFigure(l.openMs)}; first readdir of / and a deep stat ${fmtFigure(l.firstMs)} from the start`),
      t(`list every directory, µs per entry ≤ ${lim.listUs}`, l.perEntry.listUs, lim.listUs, `readdir of every directory ${fmtFigure(l.listMs)}`),
      t(`flatten (export as one tar), µs per entry ≤ ${lim.flattenUs}`, l.perEntry.flattenUs, lim.flattenUs, `export ${fmtFigure(l.flattenMs)}, ${fmtBytes(l.tarBytes)} written`),
      t(
        `peak RSS, bytes per entry ≤ ${lim.rssBytes}`,
        l.perEntry.rssBytes,
        lim.rssBytes,
        `peak ${l.maxRssMiB.median.toFixed(0)} MiB, a child that only loads the package ${s.baselineRssMiB.toFixed(0)} MiB`,
      ),
    );
  }
  return out;
}

export function scaleMarkdown(s: ScaleResult): string {
  let md = `## Scale (figure 9)\n\nOne layer per row, opened (verify: false, default limits), listed through the fs API and flattened (\`view.export\` to /dev/null) in a fresh process; peak RSS per entry over a child that only loads the package (${s.baselineRssMiB.toFixed(0)} MiB).\n\n`;
  md += '| layer | entries | tar | open | list | flatten | peak RSS | per entry: open, list, flatten, RSS |\n|---|---|---|---|---|---|---|---|\n';
  for (const l of s.layers) {
    const p = l.perEntry;
    md += `| ${l.what} | ${l.members.toLocaleString('en-US')} | ${fmtBytes(l.tarBytes)} | ${fmtFigure(l.openMs)} | ${fmtFigure(l.listMs)} | ${fmtFigure(l.flattenMs)} | ${l.maxRssMiB.median.toFixed(0)} MiB | ${p.openUs.toFixed(2)} µs, ${p.listUs.toFixed(2)} µs, ${p.flattenUs.toFixed(2)} µs, ${p.rssBytes.toFixed(0)} B |\n`;
  }
  return md;
}
