/**
 * Figure 4, cache: "every command after the first is instant". A multi-layer gzip image (4 layers
 * of the synthetic rootfs, ~400 MiB uncompressed in quick mode) is stored with `layerfs load`;
 * then `layerfs ls IMAGE /usr/bin` runs in fresh processes (plain node over dist/, as a user runs
 * it): the first with the open cache pruned (inflate, hash, index every layer), the second on
 * the cache the first wrote. The floor is the CLI's start-up alone (`layerfs --version`).
 * The image is generated once under os.tmpdir() and reused between runs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Entry } from '../src/entry.js';
import { writeTar } from '../src/out/tar-write.js';
import { BufferSource, FileRegion } from '../src/source.js';
import { dir, file } from './layers.js';
import { syntheticEntries, type Mode } from './load.js';
import { figure, type Figure } from './stats.js';

const LAYER_BYTES: Record<Mode, number> = { smoke: 1 << 20, quick: 100 << 20, full: 100 << 20 };
const LAYERS = 4;
export const CACHE_TAG = 'bench/cache:latest';

function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (let pos = 0, n; (n = readSync(fd, buf, 0, buf.length, pos)) > 0; pos += n) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Layer i: the synthetic rootfs under usr/lib/part<i>; the top layer also holds usr/bin. */
function* layerEntries(i: number, bytes: number): Generator<Entry> {
  yield dir('usr');
  yield dir('usr/lib');
  yield dir(`usr/lib/part${i}`);
  for (const e of syntheticEntries(bytes)) yield { ...e, path: `usr/lib/part${i}/${e.path}` };
  if (i === LAYERS - 1) {
    yield dir('usr/bin');
    for (let k = 0; k < 200; k++) yield file(`usr/bin/tool-${k}`, new BufferSource(Buffer.from(`#!/bin/sh\necho tool ${k}\n`)));
  }
}

/** Builds (or reuses) the docker-archive: blobs/sha256/<hex> gzip layers, config, manifest.json. */
export async function cacheImage(mode: Mode, log: (s: string) => void): Promise<{ archive: string; bytes: number; storedBytes: number }> {
  const d = join(tmpdir(), 'layerfs-bench-cache-image-v1', mode);
  const archive = join(d, 'image.tar');
  if (!existsSync(archive)) {
    mkdirSync(d, { recursive: true });
    const diffIds: string[] = [];
    const blobs: string[] = [];
    let bytes = 0;
    for (let i = 0; i < LAYERS; i++) {
      const tar = join(d, `layer${i}.tar`);
      log(`  generating layer ${i + 1}/${LAYERS} (${LAYER_BYTES[mode] >> 20} MiB) and gzip -6 ...`);
      await writeTar(layerEntries(i, LAYER_BYTES[mode]), tar);
      bytes += statSync(tar).size;
      diffIds.push(`sha256:${sha256File(tar)}`);
      const fd = openSync(`${tar}.gz`, 'w');
      const r = spawnSync('gzip', ['-6', '-c', tar], { stdio: ['ignore', fd, 'inherit'] });
      closeSync(fd);
      if (r.status !== 0) throw new Error('gzip failed');
      rmSync(tar);
      blobs.push(`${tar}.gz`);
    }
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: diffIds }, history: diffIds.map(() => ({ created_by: 'bench cache layer' })) }));
    const configHex = createHash('sha256').update(config).digest('hex');
    const entries: Entry[] = [dir('blobs'), dir('blobs/sha256'), file(`blobs/sha256/${configHex}`, new BufferSource(config))];
    const layerPaths: string[] = [];
    const fds: number[] = [];
    for (const b of blobs) {
      const hex = sha256File(b);
      const fd = openSync(b, 'r');
      fds.push(fd);
      entries.push(file(`blobs/sha256/${hex}`, new FileRegion(fd, 0, fstatSync(fd).size)));
      layerPaths.push(`blobs/sha256/${hex}`);
    }
    entries.push(file('manifest.json', new BufferSource(Buffer.from(JSON.stringify([{ Config: `blobs/sha256/${configHex}`, RepoTags: [CACHE_TAG], Layers: layerPaths }])))));
    try {
      await writeTar(entries, `${archive}.part`);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    for (const b of blobs) rmSync(b);
    renameSync(`${archive}.part`, archive);
    writeFileSync(join(d, 'bytes.json'), JSON.stringify({ bytes }));
  }
  return { archive, bytes: JSON.parse(readFileSync(join(d, 'bytes.json'), 'utf8')).bytes, storedBytes: statSync(archive).size };
}

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));

/** One `layerfs` command in a fresh process; its wall time in ms (and its stdout). */
function cli(home: string, args: string[]): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, '--home', home, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`layerfs ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

export interface CacheResult {
  imageBytes: number;
  storedBytes: number;
  layers: number;
  startupMs: Figure;
  firstMs: Figure;
  secondMs: Figure;
  /** What the cache holds after the first command (system df --json). */
  cacheBytes: number;
}

export async function cacheFigure(mode: Mode, repeats: number, log: (s: string) => void): Promise<CacheResult> {
  const img = await cacheImage(mode, log);
  const home = mkdtempSync(join(tmpdir(), 'layerfs-bench-cache-home-'));
  try {
    cli(home, ['load', img.archive]);
    const startup: number[] = [];
    const first: number[] = [];
    const second: number[] = [];
    let cacheBytes = 0;
    for (let r = 0; r < repeats; r++) {
      startup.push(cli(home, ['--version']).ms);
      cli(home, ['system', 'prune']);
      const a = cli(home, ['ls', CACHE_TAG, '/usr/bin']);
      first.push(a.ms);
      const b = cli(home, ['ls', CACHE_TAG, '/usr/bin']);
      second.push(b.ms);
      if (a.stdout !== b.stdout) throw new Error('the cached ls printed something else than the uncached one');
      cacheBytes = (JSON.parse(cli(home, ['--json', 'system', 'df']).stdout) as { bytes: number }).bytes;
    }
    const res = { imageBytes: img.bytes, storedBytes: img.storedBytes, layers: LAYERS, startupMs: figure(startup), firstMs: figure(first), secondMs: figure(second), cacheBytes };
    log(`  ls ${CACHE_TAG} /usr/bin: first ${res.firstMs.median.toFixed(0)} ms, second ${res.secondMs.median.toFixed(0)} ms (CLI start-up ${res.startupMs.median.toFixed(0)} ms)`);
    return res;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
