/**
 * The open cache survives a kill at any moment: a child writing a cache entry is killed with
 * SIGKILL at a point chosen from the writer's own progress (test/helpers/open-cache-child.ts: in
 * the middle of decompressing into the kept tar, or right after each step of placing the entry),
 * and the next opens give what an uncached open gives and end with a usable entry.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openImage } from '../src/index.js';
import { OpenCache } from '../src/image/cache/open-cache.js';
import { FIXTURES, steps, truth } from './helpers/fixtures.js';
import { gzipImage } from './helpers/cache-image.js';
import { killAt as killChild } from './helpers/child.js';

const CHILD = fileURLToPath(new URL('./helpers/open-cache-child.ts', import.meta.url));

/** Runs the child until it says it is at `point`, then SIGKILLs it. */
const killAt = (dir: string, point: string, image: string): Promise<void> => killChild(CHILD, [dir, point, image], point);

async function reopenTwice(t: import('ava').ExecutionContext, dir: string, image: string, want: string, layers: number): Promise<void> {
  const first = new OpenCache(dir);
  const a = await openImage(image, { cache: first });
  t.is(a.manifest(), want, 'the open after the kill');
  a.close();
  t.is(first.stats.corrupt, 0, 'nothing torn was found: only whole entries are ever in place');
  const second = new OpenCache(dir);
  const b = await openImage(image, { cache: second });
  t.is(b.manifest(), want, 'the open after that');
  b.close();
  t.is(second.stats.hits, layers, 'the cache is usable');
  // Scratch files of the dead writer are gone once a writer ran after it.
  t.deepEqual(
    readdirSync(join(dir, 'layers')).filter((n) => n.startsWith('.')),
    [],
  );
}

const scratch = (): string => mkdtempSync(join(tmpdir(), 'layerfs-open-cache-crash-'));

test('cache: kill -9 in the middle of decompressing a layer into the cache leaves a usable cache', async (t) => {
  const dir = scratch();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'image.tar');
  await gzipImage(image, 2, 8, 400_000);
  const plain = await openImage(image);
  const want = plain.manifest();
  plain.close();
  await killAt(join(dir, 'c'), 'mid-spill', image);
  t.true(
    readdirSync(join(dir, 'c', 'layers')).some((n) => n.startsWith('.tmp-')),
    'the kill left a half-written scratch file',
  );
  await reopenTwice(t, join(dir, 'c'), image, want, 2);
});

for (const point of ['spill-synced', 'spill-renamed', 'record-written', 'location-written']) {
  test(`cache: kill -9 right after ${point} leaves a usable cache (layers/oci-archive-gzip.tar = rootfs.manifest)`, async (t) => {
    const dir = scratch();
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const image = join(FIXTURES, 'layers/oci-archive-gzip.tar');
    await killAt(dir, point, image);
    await reopenTwice(t, dir, image, truth('layers', 'rootfs.manifest'), steps('layers'));
  });
}
