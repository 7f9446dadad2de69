/**
 * DA-4: the layers of an image are opened a few at a time (src/image/concurrent.ts), and what the
 * open gives is what opening them one at a time gives (`concurrency: 1`): the same layers and
 * entries, warnings in layer order, the lowest bad layer's error, the limits over all layers
 * counted in layer order, progress that only grows, and nothing left open when it fails.
 *
 * The hostile images here make the layers finish out of order (a big slow bottom layer, small
 * quick ones above it), so an open that took results as they came would differ.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { archives } from './helpers/fixtures.js';
import { requireOrSkip } from './helpers/require.js';
import { tarOf } from './helpers/tar.js';
import { ArchiveError } from '../src/core/errors.js';
import { Budget, DEFAULT_LIMITS } from '../src/archive/limits.js';
import { openLayers } from '../src/image/concurrent.js';
import type { LayerData } from '../src/image/layers.js';
import { Resources } from '../src/image/store.js';
import { loadImage, loadLayers, type LoadedImage, type LoadOptions } from '../src/image/index.js';
import { OpenCache } from '../src/image/cache/open-cache.js';
import type { Entry } from '../src/entry.js';
import { BufferSource, type ByteSource } from '../src/source.js';

type Ctx = import('ava').ExecutionContext;

const WIDE = 4;

/** An entry as plain data: its fields, and its content's sha256 instead of the source. */
function shape(e: Entry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'content') out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
  if (e.content) {
    const buf = Buffer.alloc(e.content.size);
    e.content.read(buf, 0, buf.length, 0);
    out.content = createHash('sha256').update(buf).digest('hex');
  }
  return out;
}

/** What an image open gave, as plain data (its descriptors closed). */
function result(img: LoadedImage): unknown {
  const r = {
    config: img.config,
    warnings: img.warnings,
    layers: img.layers.map((l) => ({
      index: l.index,
      digest: l.digest,
      diffId: l.diffId,
      mediaType: l.mediaType,
      size: l.size,
      warnings: l.warnings,
      history: l.history,
      entries: l.entries.map(shape),
    })),
  };
  img.close();
  return r;
}

/** The outcome of an open (its result or its error), and every warning the callback saw, in order. */
async function outcome(open: (o: LoadOptions) => Promise<LoadedImage>, opts: LoadOptions): Promise<{ ok?: unknown; error?: { code: string; file: string; message: string }; seen: string[] }> {
  const seen: string[] = [];
  try {
    return { ok: result(await open({ ...opts, onWarning: (m) => seen.push(m) })), seen };
  } catch (e) {
    if (!(e instanceof ArchiveError)) throw e;
    return { error: { code: e.code, file: e.file, message: e.message }, seen };
  }
}

/** Opens with `concurrency: 1` and `WIDE`, `runs` times, and checks every outcome is the one-at-a-time one; returns it. */
async function sameAsSequential(t: Ctx, open: (o: LoadOptions) => Promise<LoadedImage>, opts: LoadOptions = {}, runs = 3): ReturnType<typeof outcome> {
  const one = await outcome(open, { ...opts, concurrency: 1 });
  for (let r = 0; r < runs; r++) t.deepEqual(await outcome(open, { ...opts, concurrency: WIDE }), one);
  return one;
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

/** A gzip layer of `n` files of `bytes` random (incompressible, so slow to inflate) bytes each. */
async function randomLayer(prefix: string, n: number, bytes: number): Promise<Buffer> {
  return gzipSync(await tarOf(Array.from({ length: n }, (_, i) => ({ header: { name: `${prefix}/f${i}`, size: bytes }, body: randomBytes(bytes) }))));
}

/** A small gzip layer whose entries are absolute names: each one is a warning (OCI-12). */
async function warningLayer(name: string, n: number): Promise<Buffer> {
  return gzipSync(await tarOf(Array.from({ length: n }, (_, i) => ({ header: { name: `/${name}/w${i}`, size: 1 }, body: 'x' }))));
}

/** A gzip stream cut in the middle: TRUNCATED when inflated. */
const truncated = (gz: Buffer): Buffer => gz.subarray(0, gz.length >> 1);

test.serial('DA-4 every multi-layer fixture opens to the same layers, entries, warnings and progress as a one-at-a-time open', async (t) => {
  let multi = 0;
  for (const a of archives()) {
    const open = (o: LoadOptions) => loadImage(a.path, { tag: a.tag, ...o });
    const one = await sameAsSequential(t, open, {}, 1);
    if (one.error) continue;
    if ((one.ok as { layers: unknown[] }).layers.length > 1) multi++;
    // DA-4 progress: only grows, ends at the total, whatever order the layers finish in.
    // verify: false leaves uncompressed layers unread: they count when they are done.
    for (const verify of [true, false]) {
      const progress: Array<[number, number]> = [];
      (await loadImage(a.path, { tag: a.tag, verify, concurrency: WIDE, onProgress: (d, n) => progress.push([d, n]) })).close();
      const total = progress[0][1];
      for (let i = 1; i < progress.length; i++) t.true(progress[i][0] >= progress[i - 1][0] && progress[i][1] === total, `${a.label}: progress went ${progress[i - 1][0]} → ${progress[i][0]}`);
      t.is(progress.at(-1)![0], total, a.label);
    }
  }
  t.true(multi >= 10, `${multi} multi-layer fixtures`);
});

test.serial('DA-4 warnings come in layer order when the upper layers finish first', async (t) => {
  // The bottom layer's warnings come after 4 MiB of random data, layer 2's after 1 MiB, layers 3 and 4 are tiny.
  const layers = [await randomLayer('/zero', 8, 512 * 1024), await randomLayer('/one', 2, 512 * 1024), await warningLayer('two', 2), await warningLayer('three', 2)];
  const one = await sameAsSequential(t, (o) => loadLayers(layers, o));
  const names = one.seen.map((w) => /"\/(\w+)\//.exec(w)?.[1]);
  t.deepEqual(names, [...Array(8).fill('zero'), 'one', 'one', 'two', 'two', 'three', 'three']);
});

test.serial('DA-4 a limit crossed across layers is the same error every time: the layer where the total in layer order crosses it', async (t) => {
  // Bytes: the bottom layer (slow, 2 MiB) and the second (quick, 1 MiB) cross 2.5 MiB at layer 2,
  // though layers 2–4 (quick) finish first and together cross it without layer 1.
  const quick = gzipSync(await tarOf([{ header: { name: 'q', size: 1 << 20 }, body: Buffer.alloc(1 << 20, 7) }]));
  const bytes = [await randomLayer('big', 4, 512 * 1024), quick, quick, quick];
  const b = await sameAsSequential(t, (o) => loadLayers(bytes, o), { limits: { maxUncompressedBytes: 2.5 * 1024 * 1024 } }, 5);
  t.is(b.error?.code, 'LIMIT');
  t.regex(b.error!.message, /^<buffer 2>: layer 2\/4: uncompressed size exceeds the limit of 2\.5 MiB \(all layers together\)/);
  // Entries: 6 in the slow bottom layer, 3 in each quick one; the limit of 8 is crossed at layer 2.
  const few = gzipSync(await tarOf(Array.from({ length: 3 }, (_, i) => ({ header: { name: `e${i}`, size: 0 } }))));
  const entries = [await randomLayer('big', 6, 512 * 1024), few, few, few];
  const e = await sameAsSequential(t, (o) => loadLayers(entries, o), { limits: { maxEntries: 8 } }, 5);
  t.is(e.error?.code, 'LIMIT');
  t.regex(e.error!.message, /^<buffer 2>: layer 2\/4: member at offset \d+ is entry number 9; the limit is 8 entries \(all layers together\)/);
});

test.serial('DA-4 a layer bad on its own but over the total first gives the limit error, as in layer order', async (t) => {
  // Layer 2 is truncated after ~1.5 MiB of output; with layer 1's 1 MiB the total crosses 2 MiB
  // before the cut: one at a time that is a LIMIT, though layer 2 alone fails TRUNCATED.
  const first = gzipSync(await tarOf([{ header: { name: 'a', size: 1 << 20 }, body: Buffer.alloc(1 << 20, 1) }]));
  const cut = truncated(await randomLayer('cut', 6, 512 * 1024));
  const r = await sameAsSequential(t, (o) => loadLayers([first, cut], o), { limits: { maxUncompressedBytes: 2 << 20 } });
  t.is(r.error?.code, 'LIMIT');
  t.regex(r.error!.message, /^<buffer 2>: layer 2\/2: uncompressed size exceeds the limit of 2 MiB \(all layers together\)/);
  t.is((await outcome((o) => loadLayers([cut], o), { concurrency: WIDE })).error?.code, 'TRUNCATED');
});

test.serial('DA-4 the lowest bad layer gives the error, even when a layer above it is big and slow (and is stopped) and another above fails at once', async (t) => {
  const big = await randomLayer('big', 48, 512 * 1024); // 24 MiB of random data: slow to inflate
  const bad = truncated(await randomLayer('bad', 4, 256 * 1024));
  const junk = Buffer.from('not a layer at all, and longer than one tar header block '.repeat(20));
  const layers = [await warningLayer('base', 2), bad, big, junk];
  const r = await sameAsSequential(t, (o) => loadLayers(layers, o));
  t.is(r.error?.code, 'TRUNCATED');
  t.regex(r.error!.message, /^<buffer 2>: layer 2\/4: gzip data cannot be decompressed/);
  // The big layer above the bad one is stopped, not inflated to its end: it is read far less than whole.
  const src = new BufferSource(big);
  let read = 0;
  const counting: ByteSource = {
    size: src.size,
    read: (buf, off, len, pos) => {
      const n = src.read(buf, off, len, pos);
      read += n;
      return n;
    },
  };
  const sources = layers.map((l, i) => (i === 2 ? { label: '<big>', source: counting } : l));
  await t.throwsAsync(loadLayers(sources, { concurrency: WIDE }));
  t.true(read < big.length / 2, `${read} of ${big.length} bytes of the big layer read`);
  // The base layer's warnings are seen, those above the bad layer never.
  t.deepEqual(
    r.seen.map((w) => /"\/(\w+)\//.exec(w)?.[1]),
    ['base', 'base'],
  );
});

test.serial('DA-4 a failed open leaves no descriptor, spill or cache scratch file open, whichever layer fails', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-conc-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const big = await randomLayer('big', 16, 512 * 1024);
  const ok = await warningLayer('ok', 1);
  const bad = truncated(await randomLayer('bad', 4, 256 * 1024));
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-conc-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cases = [
    [ok, big, bad, big, big],
    [bad, big, big, ok],
    [big, ok, big, bad],
    [ok, big, ok, 'missing'],
  ];
  const before = openFds();
  for (const [n, layers] of cases.entries()) {
    // Paths, so the layers themselves are descriptors opened by the load.
    const paths = layers.map((l, i) => {
      const path = join(dir, typeof l === 'string' ? `${n}-absent` : `${n}-${i}`);
      if (typeof l !== 'string') writeFileSync(path, l);
      return path;
    });
    for (const cache of [undefined, new OpenCache(join(home, `cache-${n}`))]) {
      const r = await outcome((o) => loadLayers(paths, o), { concurrency: WIDE, cache });
      t.truthy(r.error, `case ${n}`);
      t.is(openFds(), before, `case ${n}${cache ? ' with a cache' : ''}: descriptors left open`);
      if (cache)
        t.deepEqual(
          readdirSync(cache.layersDir).filter((f) => f.startsWith('.')),
          [],
          `case ${n}: scratch files left in the cache`,
        );
    }
  }
  // And an image that opens: every descriptor is closed by close().
  const img = await loadLayers([big, ok, big], { concurrency: WIDE });
  t.true(openFds() >= before);
  img.close();
  t.is(openFds(), before);
});

test.serial('DA-4 with an open cache: each layer is written once, and the next open answers every layer from it, the same', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-conc-cache-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const a = archives().find((x) => x.label === 'layers/oci-archive-gzip.tar')!;
  const plain = await outcome((o) => loadImage(a.path, o), { concurrency: 1 });
  const cache = new OpenCache(join(home, 'cache'));
  const first = await outcome((o) => loadImage(a.path, o), { concurrency: WIDE, cache });
  const layers = (plain.ok as { layers: unknown[] }).layers.length;
  t.is(cache.stats.built, layers);
  const again = new OpenCache(join(home, 'cache'));
  const second = await outcome((o) => loadImage(a.path, o), { concurrency: WIDE, cache: again });
  t.is(again.stats.hits, layers);
  t.deepEqual(first, plain);
  t.deepEqual(second, plain);
});

test.serial('DA-4 layers opened at once spill no more than the byte limit together: on a disk with room for the limit, four bombs give LIMIT, not ENOSPC', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-shared-use-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Room for the 48 MiB limit (and the layer that crosses it) and no more: four 40 MiB layers
  // inflated alone at once would need 160 MiB of spill.
  const mounted = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=72m', 'tmpfs', dir]).status === 0;
  if (!requireOrSkip(t, !mounted && 'cannot mount a tmpfs here (needs root)')) return;
  t.teardown(() => void spawnSync('umount', ['-l', dir]));
  const bomb = gzipSync(await tarOf([{ header: { name: 'zeros', size: 40 << 20 }, body: Buffer.alloc(40 << 20) }]));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir; // os.tmpdir(), where the spill files go
  try {
    const fds = openFds();
    const limits = { maxUncompressedBytes: 48 << 20 };
    for (const concurrency of [1, WIDE]) {
      const err = await t.throwsAsync(loadLayers([bomb, bomb, bomb, bomb], { limits, concurrency }), { instanceOf: ArchiveError }, `concurrency ${concurrency}`);
      t.is((err as ArchiveError).code, 'LIMIT', `concurrency ${concurrency}: ${err?.message}`);
      t.regex(err!.message, /^<buffer 2>: layer 2\/4: uncompressed size exceeds the limit of 48 MiB \(all layers together\)/);
    }
    t.is(openFds(), fds, 'every spill file closed');
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});

test('DA-4 a layer stopped by what the others used together is opened again one at a time, the bottom one too', async (t) => {
  const budget = new Budget({ ...DEFAULT_LIMITS, maxUncompressedBytes: 100 });
  const res = new Resources();
  const seen: string[] = [];
  let uppers = 0;
  let uppersDone!: () => void;
  const allUppers = new Promise<void>((resolve) => (uppersDone = resolve));
  const layers = await openLayers(4, { concurrency: 4, budget, res, warn: () => undefined }, async (i, ctx) => {
    const alone = ctx.budget !== budget;
    seen.push(`${i} ${alone ? 'alone' : 'in order'}`);
    if (alone && i > 0) {
      // The upper layers take 30 of the 100 bytes each, and finish first.
      ctx.budget.shared!.addBytes(30);
      ctx.budget.bytes += 30;
      if (++uppers === 3) uppersDone();
    }
    if (alone && i === 0) {
      await allUppers;
      ctx.budget.shared!.addBytes(20); // 90 + 20 > 100: stopped, though alone it fits
    }
    if (!alone) ctx.budget.bytes += 20; // one at a time, every layer fits
    return { index: i } as LayerData;
  });
  t.deepEqual(
    layers.map((l) => l.index),
    [0, 1, 2, 3],
  );
  t.deepEqual(seen.slice(4), ['0 in order', '1 in order', '2 in order', '3 in order']);
});
