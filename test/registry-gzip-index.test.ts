/**
 * gzip layers of a registry read lazily through a gzip index (OCI-22, with OCI-19..21 underneath),
 * against a real registry (Debian's docker-registry) filled by skopeo: the fixtures'
 * oci-archive-gzip.tar images as they are, and one image with a large layer that skopeo
 * compresses itself. Ground truth: the fixtures' truth manifests (podman), the bytes the test
 * wrote, and the registry's stored blobs (their sizes) for what a read may fetch.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine, View } from '../src/index.js';
import { parseGzipIndex } from '../src/archive/gzip-index.js';
import { OpenCache } from '../src/image/cache/open-cache.js';
import { loadLazy } from '../src/registry/lazy.js';
import { killAt as killChild } from './helpers/child.js';
import { FIXTURES, steps, truth } from './helpers/fixtures.js';
import { registryMissing, skopeoCopy, startRegistry, type Registry } from './helpers/registry.js';

const missing = registryMissing();
if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPING test/registry-gzip-index.test.ts: ${missing} ***\n\n`);
const rtest = missing && process.env.CI !== 'true' ? test.skip : test.serial;

const IMAGES = process.env.LAYERFS_COMMIT_ALL === '1' ? ['names', 'layers', 'whiteouts', 'links', 'gnutar', 'umoci', 'volumes'] : ['names', 'layers', 'whiteouts', 'links'];
const GZIP = /^application\/vnd\.(oci\.image\.layer\.v1\.tar\+gzip|docker\.image\.rootfs\.diff\.tar\.gzip)$/;
const CHILD = fileURLToPath(new URL('./helpers/gzi-child.ts', import.meta.url));

let reg: Registry;
let work: string;
/** The large layer's files, as written. */
const big = {
  a: Buffer.from(randomBytes(6 << 20).toString('base64')),
  b: Buffer.from(randomBytes(6 << 20).toString('base64')),
  small: Buffer.from('a small file between two large ones\n'),
};

interface Layer {
  mediaType: string;
  digest: string;
  size: number;
}

test.before(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`the registry tests need ${missing}`);
    return;
  }
  work = mkdtempSync(join(tmpdir(), 'layerfs-gzi-registry-'));
  reg = await startRegistry();
  const engine = await Engine.open({ home: join(work, 'build') });
  const rec = await engine.create(join(FIXTURES, 'layers/docker-archive.tar'), { name: 'big' });
  const c = await engine.open(rec.id);
  c.fs.mkdirSync('/big');
  c.fs.writeFileSync('/big/a.txt', big.a);
  c.fs.writeFileSync('/big/m-small.txt', big.small);
  c.fs.writeFileSync('/big/z.txt', big.b);
  const archive = join(work, 'big.tar');
  await c.view.commit(archive);
  await c.close();
  await Promise.all([
    ...IMAGES.map((image) => skopeoCopy(`oci-archive:${join(FIXTURES, image, 'oci-archive-gzip.tar')}`, `docker://${reg.host}/${image}:gzip`)),
    skopeoCopy(`docker-archive:${archive}`, `docker://${reg.host}/big:gzip`, ['--dest-compress-format', 'gzip']),
  ]);
});

test.after.always(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const home = () => mkdtempSync(join(work, 'home-'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function manifestOf(repo: string, tag: string): Promise<{ bytes: number; config: Layer; layers: Layer[] }> {
  const res = await fetch(`http://${reg.host}/v2/${repo}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
  });
  const body = Buffer.from(await res.arrayBuffer());
  const m = JSON.parse(body.toString()) as { config: Layer; layers: Layer[] };
  return { bytes: body.length, config: m.config, layers: m.layers };
}

/**
 * What the first open fetches: manifest, config, and per layer (a layer listed twice is fetched
 * once) a 512-byte probe and the blob by one GET; a blob of 512 bytes or less is all in its probe.
 */
const firstOpen = (m: { bytes: number; config: Layer; layers: Layer[] }): number =>
  m.bytes + m.config.size + [...new Map(m.layers.map((l) => [l.digest, l.size])).values()].reduce((s, size) => s + size + (size > 512 ? 512 : 0), 0);

const cacheFiles = (h: string): string[] => (existsSync(join(h, 'cache', 'layers')) ? readdirSync(join(h, 'cache', 'layers')).sort() : []);

for (const image of IMAGES) {
  rtest(`OCI-22 gzip: ${image} read lazily flattens to the fixture's truth; one GET a layer, its index kept, not the blob`, async (t) => {
    const m = await manifestOf(image, 'gzip');
    t.true(m.layers.every((l) => GZIP.test(l.mediaType)));
    const h = home();
    const lazy = await loadLazy(`docker://${reg.host}/${image}:gzip`, { home: h });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      t.is(lazy.transfer.fetchedBytes, firstOpen(m), 'manifest, config, each layer once (and its probe)');
      const streamed = new Set(m.layers.filter((l) => l.size > 512).map((l) => l.digest)).size;
      t.is(lazy.rangeRequests, streamed, 'one GET for each layer its probe did not hold whole');
      t.is(view.manifest(), truth(image, 'rootfs.manifest'));
      for (let i = 1; i <= steps(image); i++) t.is(view.atLayer(i).manifest(), truth(image, `step-${i}.manifest`));
      t.is(lazy.transfer.fetchedBytes, firstOpen(m), 'files read in this process come from the spill');
    } finally {
      view.close();
    }
    const files = cacheFiles(h);
    for (const l of m.layers) {
      const hex = l.digest.slice(7);
      t.true(files.includes(`${hex}.idx`) && files.includes(`${hex}.gzi`), `record and index of ${l.digest}`);
      t.false(files.includes(`${hex}.tar`), 'no tar kept');
      t.false(existsSync(join(h, 'blobs', 'sha256', hex)), 'no blob stored');
    }
    // A second open with the same state: the layers from the cache, the files by ranges of their spans.
    const again = await loadLazy(`docker://${reg.host}/${image}:gzip`, { home: h });
    const v2 = View.fromImage(again.image, { readOnly: true });
    try {
      const opened = again.transfer.fetchedBytes;
      t.true(opened <= m.bytes + m.config.size, `no layer bytes to open: ${opened}`);
      t.is(v2.manifest(), truth(image, 'rootfs.manifest'), 'every file read through the index');
      t.true(again.transfer.fetchedBytes - opened <= m.layers.reduce((s, l) => s + l.size, 0), 'each span once at most');
    } finally {
      v2.close();
    }
  });
}

rtest('OCI-22 gzip: a second open lists with no layer bytes and a cat fetches the spans of that file only', async (t) => {
  const m = await manifestOf('big', 'gzip');
  const top = m.layers[m.layers.length - 1]!;
  t.true(
    m.layers.every((l) => GZIP.test(l.mediaType)),
    'skopeo compressed the layers with gzip',
  );
  t.true(top.size > 12 << 20, `the large layer: ${top.size} bytes`);
  const h = home();
  const first = await loadLazy(`docker://${reg.host}/big:gzip`, { home: h });
  t.is(first.transfer.fetchedBytes, firstOpen(m));
  t.is(first.rangeRequests, new Set(m.layers.filter((l) => l.size > 512).map((l) => l.digest)).size, 'one GET a layer, the 16 MiB one too');
  first.image.close();

  const lazy = await loadLazy(`docker://${reg.host}/big:gzip`, { home: h });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    const opened = lazy.transfer.fetchedBytes;
    t.true(opened <= m.bytes + m.config.size, `opened from the cache: ${opened} bytes`);
    t.deepEqual(view.fs.readdirSync('/big').sort(), ['a.txt', 'm-small.txt', 'z.txt']);
    t.is(view.fs.statSync('/big/z.txt').size, big.b.length);
    t.is(lazy.transfer.fetchedBytes, opened, 'listing and stat fetch nothing');
    const requests = lazy.rangeRequests;
    t.is(sha(view.fs.readFileSync('/big/m-small.txt')), sha(big.small));
    const cat = lazy.transfer.fetchedBytes - opened;
    // The spans' compressed sizes, from the index the first open kept (the ground truth of where
    // the checkpoints fell): a small file lies in one span, or two at an edge.
    const index = parseGzipIndex(readFileSync(join(h, 'cache', 'layers', `${top.digest.slice(7)}.gzi`)), top.digest);
    const ends = [...index.points.map((p) => p.in), index.blobSize];
    const widest = Math.max(...ends.slice(1).map((e, i) => e - ends[i]! + 1));
    t.true(cat > 0 && cat <= 2 * widest && cat < top.size, `a cat of a small file: ${cat} bytes of the ${top.size}-byte layer (widest span ${widest})`);
    t.true(lazy.rangeRequests - requests <= 2, 'one request a span (two at a span edge)');
    t.log(`cat of a 36-byte file: ${cat} bytes (${((100 * cat) / top.size).toFixed(1)}% of its layer) in ${lazy.rangeRequests - requests} requests`);
    t.is(sha(view.fs.readFileSync('/big/z.txt')), sha(big.b), 'a large file through its spans');
    t.is(sha(view.fs.readFileSync('/big/a.txt')), sha(big.a));
    // Only the last two spans are kept: a span that two files share may be fetched for each.
    t.true(lazy.transfer.fetchedBytes - opened <= top.size * 1.5, `all of it: ${lazy.transfer.fetchedBytes - opened} bytes`);
  } finally {
    view.close();
  }
});

rtest('OCI-22 gzip: a tampered cached .gzi is found, dropped and rebuilt from one more GET', async (t) => {
  const m = await manifestOf('layers', 'gzip');
  const h = home();
  (await loadLazy(`docker://${reg.host}/layers:gzip`, { home: h })).image.close();
  const l = m.layers[0]!;
  const gzi = join(h, 'cache', 'layers', `${l.digest.slice(7)}.gzi`);
  const bytes = readFileSync(gzi);
  bytes[bytes.length >> 1]! ^= 0x20;
  writeFileSync(gzi, bytes);
  const cache = OpenCache.ofHome(h);
  const lazy = await loadLazy(`docker://${reg.host}/layers:gzip`, { home: h, cache });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    t.is(cache.stats.corrupt, 1, 'the altered index was found');
    t.is(cache.stats.built, 1, 'and that layer rebuilt');
    t.is(cache.stats.hits, m.layers.length - 1);
    t.true(lazy.transfer.fetchedBytes >= l.size, 'its blob fetched again');
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
  } finally {
    view.close();
  }
  t.notThrows(() => parseGzipIndex(readFileSync(gzi), gzi), 'a whole index in its place again');
});

const killAt = (h: string, point: string, ref: string): Promise<void> => killChild(CHILD, [h, point, ref], point);

for (const point of ['mid-stream', 'index-written', 'record-written']) {
  rtest(`OCI-22 gzip: kill -9 ${point === 'mid-stream' ? 'in the middle of the streaming GET' : `right after ${point}`} leaves no torn .gzi and a usable cache`, async (t) => {
    const ref = `docker://${reg.host}/big:gzip`;
    const h = home();
    await killAt(h, point, ref);
    for (const name of cacheFiles(h).filter((n) => n.endsWith('.gzi'))) {
      const path = join(h, 'cache', 'layers', name);
      t.notThrows(() => parseGzipIndex(readFileSync(path), path), `${name} is whole`);
    }
    const cache = OpenCache.ofHome(h);
    const lazy = await loadLazy(ref, { home: h, cache });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      t.is(cache.stats.corrupt, 0, 'nothing torn was found');
      t.is(sha(view.fs.readFileSync('/big/z.txt')), sha(big.b));
    } finally {
      view.close();
    }
    const again = OpenCache.ofHome(h);
    const m = await manifestOf('big', 'gzip');
    (await loadLazy(ref, { home: h, cache: again })).image.close();
    t.is(again.stats.hits, m.layers.length, 'every layer from the cache after that');
    t.deepEqual(
      cacheFiles(h).filter((n) => n.startsWith('.')),
      [],
      'no scratch file left',
    );
  });
}
