/**
 * The open cache (src/image/cache/): a second open of the same image is answered from what the first
 * kept (asserted on the cache's own counters and files, never on time), gives what an uncached
 * open gives (the fixtures' truth/rootfs.manifest), and a cache entry that is truncated or has a
 * flipped byte is detected and rebuilt, never trusted.
 */
import test from 'ava';
import { copyFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, openImage, openLayers, StateError } from '../src/index.js';
import { OpenCache } from '../src/image/cache/open-cache.js';
import { FIXTURES, steps, truth } from './helpers/fixtures.js';
import { gzipImage } from './helpers/cache-image.js';

const scratch = (): string => mkdtempSync(join(tmpdir(), 'layerfs-open-cache-'));
const CASES = ['layers/docker-archive.tar', 'layers/oci-archive.tar', 'layers/oci-archive-gzip.tar', 'layers/oci-archive-zstd.tar', 'whiteouts/oci-archive-gzip.tar', 'links/oci-archive-zstd.tar'];

for (const c of CASES) {
  const image = c.split('/')[0];
  test(`cache: the second open of ${c} is read from the cache and equals rootfs.manifest`, async (t) => {
    const dir = scratch();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const first = new OpenCache(dir);
    const a = await openImage(join(FIXTURES, c), { cache: first });
    t.is(a.manifest(), truth(image, 'rootfs.manifest'));
    a.close();
    t.deepEqual(first.stats, { hits: 0, built: steps(image), corrupt: 0, locationHits: 0 });
    const second = new OpenCache(dir);
    const b = await openImage(join(FIXTURES, c), { cache: second });
    t.is(b.manifest(), truth(image, 'rootfs.manifest'));
    b.close();
    // Every layer from its record, found by the archive's stat key (no hashing, no inflating).
    t.deepEqual(second.stats, { hits: steps(image), built: 0, corrupt: 0, locationHits: steps(image) });
  });
}

test('cache: a copy of the archive (new inode) is found by its digests after hashing the stored blobs, and gets its own location', async (t) => {
  const dir = scratch();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'copy.tar');
  copyFileSync(join(FIXTURES, 'layers/oci-archive-gzip.tar'), copy);
  (await openImage(join(FIXTURES, 'layers/oci-archive-gzip.tar'), { cache: new OpenCache(join(dir, 'c')) })).close();
  const cache = new OpenCache(join(dir, 'c'));
  const v = await openImage(copy, { cache });
  t.is(v.manifest(), truth('layers', 'rootfs.manifest'));
  v.close();
  t.deepEqual(cache.stats, { hits: 4, built: 0, corrupt: 0, locationHits: 0 });
  t.is(readdirSync(join(dir, 'c', 'locations')).length, 8);
});

test('cache: a layer tarball rewritten in place (same size) is indexed again, not answered from the old record', async (t) => {
  const dir = scratch();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const layer = join(dir, 'layer.tar');
  const { tarBuffer } = await import('../bench/layers.js');
  const { BufferSource } = await import('../src/source.js');
  const make = (text: string) => tarBuffer([{ path: 'f', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 5, content: new BufferSource(Buffer.from(text)) }]);
  writeFileSync(layer, await make('aaaaa'));
  const v1 = await openLayers([layer], { cache: new OpenCache(join(dir, 'c')) });
  t.is(v1.fs.readFileSync('/f', 'utf8'), 'aaaaa');
  v1.close();
  const fd = openSync(layer, 'r+');
  writeSync(fd, await make('bbbbb'), 0, undefined, 0);
  closeSync(fd);
  const cache = new OpenCache(join(dir, 'c'));
  const v2 = await openLayers([layer], { cache });
  t.is(v2.fs.readFileSync('/f', 'utf8'), 'bbbbb');
  v2.close();
  t.is(cache.stats.built, 1);
  t.is(cache.stats.hits, 0);
});

/** The cache files of the one layer of a single-layer gzip image made for the test. */
async function oneLayer(t: import('ava').ExecutionContext): Promise<{ dir: string; image: string; idx: string; tar: string; want: string }> {
  const dir = scratch();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'image.tar');
  await gzipImage(image, 1, 4, 300_000);
  const plain = await openImage(image);
  const want = plain.manifest();
  plain.close();
  const v = await openImage(image, { cache: new OpenCache(join(dir, 'c')) });
  v.close();
  const names = readdirSync(join(dir, 'c', 'layers'));
  const hex = names.find((n) => n.endsWith('.idx'))!.slice(0, 64);
  return { dir, image, idx: join(dir, 'c', 'layers', `${hex}.idx`), tar: join(dir, 'c', 'layers', `${hex}.tar`), want };
}

function flip(path: string, at: number): void {
  const b = readFileSync(path);
  b[at] ^= 0x20;
  writeFileSync(path, b);
}

const damages: Array<[string, (f: { idx: string; tar: string }) => void]> = [
  ['a truncated record', (f) => truncateSync(f.idx, Math.floor(statSync(f.idx).size / 2))],
  ['a record with a flipped byte', (f) => flip(f.idx, statSync(f.idx).size - 10)],
  ['a record with a flipped byte in its header line', (f) => flip(f.idx, 3)],
  ['a truncated data file', (f) => truncateSync(f.tar, statSync(f.tar).size - 512)],
];
for (const [what, damage] of damages) {
  test(`cache: ${what} is detected and rebuilt`, async (t) => {
    const f = await oneLayer(t);
    damage(f);
    const cache = new OpenCache(join(f.dir, 'c'));
    const v = await openImage(f.image, { cache });
    t.is(v.manifest(), f.want);
    v.close();
    t.is(cache.stats.hits, 0);
    t.is(cache.stats.built, 1);
    const again = new OpenCache(join(f.dir, 'c'));
    (await openImage(f.image, { cache: again })).close();
    t.is(again.stats.hits, 1, 'the rebuilt entry is used by the next open');
  });
}

test('cache: a flipped byte in a cached tar is refused when read (StateError CORRUPT), the entry dropped and rebuilt by the next open', async (t) => {
  const f = await oneLayer(t);
  flip(f.tar, 700_000); // inside the third file's data
  const v = await openImage(f.image, { cache: new OpenCache(join(f.dir, 'c')) });
  t.is(v.fs.readFileSync('/dir0/f0').length, 300_000, 'chunks that are intact are read');
  const err = t.throws(() => v.manifest());
  t.true(err instanceof StateError && err.code === 'CORRUPT', String(err));
  v.close();
  const cache = new OpenCache(join(f.dir, 'c'));
  const again = await openImage(f.image, { cache });
  t.is(again.manifest(), f.want);
  again.close();
  t.is(cache.stats.built, 1);
});

test('cache: with verify, a blob whose digest the cache knows is still hashed when its location is new, and a changed blob is DIGEST_MISMATCH', async (t) => {
  const f = await oneLayer(t);
  // Flip a byte of the stored gzip blob inside a copy of the archive (the gzip member is the first big blob).
  const copy = join(f.dir, 'tampered.tar');
  const b = readFileSync(f.image);
  const at = b.length - 700_000;
  b[at] ^= 0x01;
  writeFileSync(copy, b);
  const cache = new OpenCache(join(f.dir, 'c'));
  const err = await t.throwsAsync(openImage(copy, { cache }));
  t.true(err instanceof ArchiveError && err.code === 'DIGEST_MISMATCH', String(err));
  t.regex(err!.message, /layer 1\/1 .*blob sha256 is sha256:[0-9a-f]{64}, expected sha256:/);
  t.is(cache.stats.hits, 0);
});
