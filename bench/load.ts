/**
 * Figure 3, load: open and list a synthetic image layer (tar, tar+gzip, tar+zstd) in a child
 * process (time, time to the first readdir of `/`, peak RSS), against limits measured in the same
 * run: a bare header-seek walk of the tar, GNU `tar -tf`, Node zlib gunzip, `zstd -dc`.
 *
 * The image is generated once under os.tmpdir() (never in the repository) and cached between runs:
 * ~100 MiB in quick mode, ~500 MiB with --full. File sizes follow a skewed mix (most files small,
 * a few large) and the content compresses about 2:1, like a rootfs.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, linkSync, mkdirSync, openSync, closeSync, renameSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Entry } from '../src/entry.js';
import type { ByteSource } from '../src/source.js';
import { writeTar } from '../src/out/tar-write.js';
import { dir, file } from './layers.js';
import { figure, type Figure } from './stats.js';
import { headerWalk } from './header-walk.mjs';

const POOL = 8 << 20;
let pool: Buffer | undefined;
/** 8 MiB of content: each 4 KiB block is 2 KiB of pseudo-random bytes and 2 KiB of text. */
function contentPool(): Buffer {
  if (pool) return pool;
  pool = Buffer.alloc(POOL);
  let x = 0x9e3779b9;
  const text = Buffer.from('usr/lib/x86_64-linux-gnu/libexample.so.1 GLIBC_2.34 __cxa_finalize _ITM_registerTMCloneTable\n');
  for (let b = 0; b < POOL; b += 4096) {
    for (let i = 0; i < 2048; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      pool.writeInt32LE(x | 0, b + i);
    }
    for (let i = 2048; i < 4096; i++) pool[b + i] = text[(i + b / 4096) % text.length];
  }
  return pool;
}

function poolSource(size: number, seed: number): ByteSource {
  const p = contentPool();
  const start = (seed * 7919 * 512) % POOL;
  return {
    size,
    read(buf, off, len, pos) {
      const n = Math.max(0, Math.min(len, size - pos));
      for (let done = 0; done < n; ) {
        const at = (start + pos + done) % POOL;
        const k = Math.min(n - done, POOL - at);
        buf.set(p.subarray(at, at + k), off + done);
        done += k;
      }
      return n;
    },
  };
}

/** The entries of a synthetic rootfs of about `target` bytes of file data. */
export function* syntheticEntries(target: number): Generator<Entry> {
  let x = 12345;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  let total = 0;
  let n = 0;
  for (let a = 0; total < target; a++) {
    yield dir(`d${a}`);
    for (let b = 0; b < 16 && total < target; b++) {
      yield dir(`d${a}/s${b}`);
      for (let f = 0; f < 24 && total < target; f++) {
        const r = rnd();
        const size = Math.floor(r < 0.7 ? rnd() * 4096 : r < 0.95 ? 4096 + rnd() * 28672 : r < 0.995 ? 32768 + rnd() * 491520 : 524288 + rnd() * 3670016);
        total += size;
        yield file(`d${a}/s${b}/file-${n}.bin`, poolSource(size, n++));
      }
    }
  }
}

export interface ImageForms {
  tar: string;
  gz: string;
  zst: string;
  bytes: number;
  source: string;
}

/** How big the run is: `smoke` (a few MiB, for the test that checks the benchmark works), quick, full. */
export type Mode = 'smoke' | 'quick' | 'full';
const SYNTHETIC_BYTES: Record<Mode, number> = { smoke: 4 << 20, quick: 100 << 20, full: 500 << 20 };

/** Builds (or reuses) the synthetic layer and its gzip and zstd forms. */
export async function syntheticImage(mode: Mode, log: (s: string) => void): Promise<ImageForms> {
  const full = mode === 'full';
  const d = join(tmpdir(), 'layerfs-bench-image-v2');
  mkdirSync(d, { recursive: true });
  const base = join(d, mode);
  const forms = { tar: `${base}.tar`, gz: `${base}.tar.gz`, zst: `${base}.tar.zst` };
  // --full: a real Debian rootfs made with debootstrap where it can be (bench/debian-rootfs.sh),
  // else the synthetic layer. The choice is cached with the image.
  const sourceFile = `${base}.source`;
  if (!existsSync(forms.tar)) {
    let source = 'synthetic';
    if (full) {
      log('  debootstrap a Debian rootfs (bench/debian-rootfs.sh) ...');
      const script = new URL('./debian-rootfs.sh', import.meta.url).pathname;
      const r = spawnSync('bash', [script, forms.tar], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status === 0) source = 'Debian bookworm rootfs (debootstrap)';
      else log('  debootstrap unavailable here: a synthetic layer instead');
    }
    if (source === 'synthetic') {
      log(`  generating ${forms.tar} ...`);
      await writeTar(syntheticEntries(SYNTHETIC_BYTES[mode]), forms.tar + '.part');
      renameSync(forms.tar + '.part', forms.tar);
    }
    writeFileSync(sourceFile, source);
  }
  if (!existsSync(forms.gz)) {
    log(`  gzip -6 ...`);
    const fd = openSync(forms.gz + '.part', 'w');
    const r = spawnSync('gzip', ['-6', '-c', forms.tar], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    if (r.status !== 0) throw new Error('gzip failed');
    renameSync(forms.gz + '.part', forms.gz);
  }
  if (!existsSync(forms.zst)) {
    log(`  zstd -3 ...`);
    const r = spawnSync('zstd', ['-3', '-q', '-f', forms.tar, '-o', forms.zst + '.part'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('zstd failed');
    renameSync(forms.zst + '.part', forms.zst);
  }
  const source = existsSync(sourceFile) ? readFileSync(sourceFile, 'utf8') : 'synthetic';
  return { ...forms, bytes: statSync(forms.tar).size, source };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return 'sha256:' + h.digest('hex');
}

/**
 * An OCI layout directory per form whose layer blob is a hard link to the cached file, so that
 * `openImage(dir, { verify: false })` knows both digests and can skip hashing (the indexing floor).
 */
export async function ociLayouts(img: ImageForms): Promise<Record<'tar' | 'gzip' | 'zstd', string>> {
  const diffId = await sha256File(img.tar);
  const out = {} as Record<'tar' | 'gzip' | 'zstd', string>;
  const types = { tar: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' };
  for (const [form, path] of [
    ['tar', img.tar],
    ['gzip', img.gz],
    ['zstd', img.zst],
  ] as const) {
    const d = `${path}.oci`;
    out[form] = d;
    if (existsSync(join(d, 'index.json'))) continue;
    rmSync(d, { recursive: true, force: true });
    const blobs = join(d, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const digest = await sha256File(path);
    linkSync(path, join(blobs, digest.slice(7)));
    const put = (obj: unknown) => {
      const b = Buffer.from(JSON.stringify(obj));
      const dg = createHash('sha256').update(b).digest('hex');
      writeFileSync(join(blobs, dg), b);
      return { digest: 'sha256:' + dg, size: b.length };
    };
    const config = put({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created_by: 'bench synthetic layer' }] });
    const manifest = put({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: types[form], digest, size: statSync(path).size }],
    });
    writeFileSync(join(d, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(d, 'index.json'),
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }),
    );
  }
  return out;
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function timeMsAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

interface ChildResult {
  openMs: number;
  firstReaddirMs: number;
  listMs: number;
  entries: number;
  maxRssKiB: number;
  againMs?: number;
  walkMs?: number;
}

/** Plain node over the compiled package (dist/, built first), as a user runs it: no TypeScript loader. */
const CHILD = fileURLToPath(new URL('./load-child.mjs', import.meta.url));
function child(...args: string[]): ChildResult {
  const arg = args.join(' ');
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`load child failed on ${arg}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

export interface LoadRow {
  form: 'tar' | 'gzip' | 'zstd';
  /** openLayers (always hashes: no digests to trust), or an OCI layout opened with or without verify. */
  how: 'openLayers' | 'oci verify' | 'oci no-verify';
  storedBytes: number;
  openMs: Figure;
  firstReaddirMs: Figure;
  listMs: Figure;
  entries: number;
  peakRssMiB: Figure;
  mibPerS: number; // uncompressed bytes per second of open, median
  /** The plain tar opened without hashing: a second open in the same process (warm code). */
  againMs?: Figure;
}

export interface LoadResult {
  /** What the image is: a synthetic layer, or a Debian rootfs made with debootstrap. */
  source: string;
  imageBytes: number;
  entries: number;
  baselineRssMiB: number;
  rows: LoadRow[];
  /**
   * headerWalkMs: in this process, repeated (warm code); headerWalkColdMs: in a fresh process like
   * layerfs's own open (cold code, page cache warm), timed from after the imports alike.
   */
  limits: { headerWalkMs: Figure; headerWalkColdMs: Figure; tarTfMs: Figure; gunzipMs: Figure; zstdDcMs: Figure };
}

export async function loadFigure(mode: Mode, repeats: number, log: (s: string) => void): Promise<LoadResult> {
  const img = await syntheticImage(mode, log);
  let entries = headerWalk(img.tar); // also warms the page cache
  const limits = {
    headerWalkMs: figure(
      Array.from({ length: repeats }, () =>
        timeMs(() => {
          entries = headerWalk(img.tar);
        }),
      ),
    ),
    headerWalkColdMs: figure(Array.from({ length: repeats }, () => child('--walk', img.tar).walkMs!)),
    tarTfMs: figure(
      Array.from({ length: repeats }, () =>
        timeMs(() => {
          spawnSync('tar', ['-tf', img.tar], { stdio: ['ignore', 'ignore', 'inherit'] });
        }),
      ),
    ),
    gunzipMs: figure(
      await Promise.all([] as Promise<number>[]).then(async () => {
        const out: number[] = [];
        for (let r = 0; r < repeats; r++) {
          out.push(await timeMsAsync(() => pipeline(createReadStream(img.gz, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), new Writable({ write: (_c, _e, cb) => cb() }))));
        }
        return out;
      }),
    ),
    zstdDcMs: figure(
      Array.from({ length: repeats }, () =>
        timeMs(() => {
          spawnSync('zstd', ['-dc', '-q', img.zst], { stdio: ['ignore', 'ignore', 'inherit'] });
        }),
      ),
    ),
  };
  log(
    `  limits: header walk ${limits.headerWalkMs.median.toFixed(1)} ms warm, ${limits.headerWalkColdMs.median.toFixed(1)} ms in a fresh process (${entries} headers), tar -tf ${limits.tarTfMs.median.toFixed(1)} ms, gunzip ${limits.gunzipMs.median.toFixed(0)} ms, zstd -dc ${limits.zstdDcMs.median.toFixed(0)} ms`,
  );
  const baselineRssMiB = child('--baseline').maxRssKiB / 1024;
  const oci = await ociLayouts(img);
  const rows: LoadRow[] = [];
  const cases: Array<[LoadRow['form'], LoadRow['how'], string, string[]]> = [];
  for (const [form, path] of [
    ['tar', img.tar],
    ['gzip', img.gz],
    ['zstd', img.zst],
  ] as const) {
    cases.push([form, 'openLayers', path, [path]]);
    cases.push([form, 'oci verify', path, ['--oci', oci[form]]]);
    cases.push([form, 'oci no-verify', path, ['--oci-no-verify', oci[form], ...(form === 'tar' ? ['--again'] : [])]]);
  }
  for (const [form, how, path, args] of cases) {
    const runs = Array.from({ length: repeats }, () => child(...args));
    const openMs = figure(runs.map((r) => r.openMs));
    rows.push({
      form,
      how,
      storedBytes: statSync(path).size,
      openMs,
      firstReaddirMs: figure(runs.map((r) => r.firstReaddirMs)),
      listMs: figure(runs.map((r) => r.listMs)),
      entries: runs[0].entries,
      peakRssMiB: figure(runs.map((r) => r.maxRssKiB / 1024)),
      mibPerS: img.bytes / (1 << 20) / (openMs.median / 1000),
      ...(runs[0].againMs !== undefined ? { againMs: figure(runs.map((r) => r.againMs!)) } : {}),
    });
    log(`  ${form} (${how}): open ${openMs.median.toFixed(0)} ms, first readdir ${rows.at(-1)!.firstReaddirMs.median.toFixed(0)} ms, peak RSS ${rows.at(-1)!.peakRssMiB.median.toFixed(0)} MiB`);
  }
  return { source: img.source, imageBytes: img.bytes, entries, baselineRssMiB, rows, limits };
}
