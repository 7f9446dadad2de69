/**
 * One content-addressed blob store for every stored image (issue 12, rules STATE-1..5): a loaded,
 * pulled or committed image is a directory of hard links to `<home>/blobs/sha256/<hex>`, so an image
 * that has a blob another image has shares it (one inode); a load killed at any step leaves no torn
 * blob and no half image; a pull fetches only what the store lacks; removing the last image that
 * links a blob removes the blob; a state written before the blob store still works.
 * Ground truth: the digests podman, skopeo and umoci named the fixtures' blobs by (their file
 * names, their manifests), the fixtures' truth manifests, skopeo (which verifies every blob it
 * copies out of a stored layout), a real docker-registry filled by skopeo, find(1) for sizes.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/engine/engine.js';
import { State } from '../src/engine/state.js';
import { openImage } from '../src/index.js';
import { layerfsIn } from './helpers/cli.js';
import { killAtMarker } from './helpers/child.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { registryMissing, skopeoCopy, startRegistry } from './helpers/registry.js';
import { requireOrSkip } from './helpers/require.js';
import { run } from './helpers/tools.js';

const CHILD = fileURLToPath(new URL('./helpers/state-blobs-child.ts', import.meta.url));
const MULTI = join(FIXTURES, 'umoci/oci-layout-multi.tar');
const DOCKER = join(FIXTURES, 'layers/docker-archive.tar');
const GZIP = join(FIXTURES, 'layers/oci-archive-gzip.tar');

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-blobs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ino = (p: string) => statSync(p).ino;
const nlink = (p: string) => statSync(p).nlink;
const blob = (home: string, digest: string) => join(home, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
const layoutOf = (home: string, id: string) => join(home, 'images', id, 'layout');
const storeNames = (home: string) => (existsSync(join(home, 'blobs', 'sha256')) ? readdirSync(join(home, 'blobs', 'sha256')).sort() : []);

/** A fixture archive's member (tar -xO, so GNU tar reads it, not the code under test). */
async function member(archive: string, name: string): Promise<string> {
  return run('tar', ['-xOf', archive, name]);
}

/** The layer digests and config digest of `ref` in the umoci layout (its index and manifests, as umoci wrote them). */
async function umociImage(ref: string): Promise<{ manifest: string; config: string; layers: string[] }> {
  const index = JSON.parse(await member(MULTI, './index.json')) as { manifests: Array<{ digest: string; annotations: Record<string, string> }> };
  const manifest = index.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === ref)!.digest;
  const doc = JSON.parse(await member(MULTI, `./blobs/sha256/${manifest.slice(7)}`)) as { config: { digest: string }; layers: Array<{ digest: string }> };
  return { manifest, config: doc.config.digest, layers: doc.layers.map((l) => l.digest) };
}

/** Every regular file under `dir` with its inode and size, as find(1) prints them. */
async function findFiles(dir: string): Promise<Array<{ ino: number; size: number; path: string }>> {
  const out = await run('find', [dir, '-type', 'f', '-printf', '%i %s %p\\n']);
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [i, s, ...p] = l.split(' ');
      return { ino: Number(i), size: Number(s), path: p.join(' ') };
    });
}

test('STATE-1 a loaded image is a directory of hard links into the blob store: docker-archive and OCI layout, blobs shared between images (one inode)', async (t) => {
  const home = scratch(t);
  const engine = await Engine.open({ home });
  const docker = await engine.load(DOCKER);
  const step2 = await engine.load(MULTI, { tag: 'step2' });
  const step3 = await engine.load(MULTI, { tag: 'step3' });
  t.false(existsSync(join(home, 'images', docker.id, 'archive.tar')), 'no byte copy of the archive');

  // docker-archive: podman named each layer and the config after its sha256 (uncompressed layers).
  const manifest = JSON.parse(await member(DOCKER, 'manifest.json')) as Array<{ Config: string; Layers: string[] }>;
  for (const name of [manifest[0]!.Config, ...manifest[0]!.Layers]) {
    const file = join(layoutOf(home, docker.id), name);
    t.is(ino(file), ino(blob(home, basename(name).replace(/\.(tar|json)$/, ''))), name);
    t.is(nlink(file), 2, `${name}: the store and this image`);
  }
  // OCI: umoci's manifests name the blobs; step2 and step3 share their first two layers.
  const [m2, m3] = [await umociImage('step2'), await umociImage('step3')];
  t.deepEqual(m3.layers.slice(0, 2), m2.layers, 'ground truth: step3 is step2 plus one layer');
  for (const d of m2.layers) {
    const path = `blobs/sha256/${d.slice(7)}`;
    t.is(ino(join(layoutOf(home, step2.id), path)), ino(blob(home, d)));
    t.is(ino(join(layoutOf(home, step3.id), path)), ino(blob(home, d)));
    t.is(nlink(blob(home, d)), 3, `${d}: the store, step2 and step3`);
  }
  for (const d of [m3.manifest, m3.config, m3.layers[2]!]) t.is(nlink(blob(home, d)), 2, `${d}: the store and step3`);

  // What a user sees of the stored images: the truth trees, the archive's config and tags.
  const views: Array<[string, string, string, string | undefined]> = [
    [docker.id, DOCKER, truth('layers', 'rootfs.manifest'), undefined],
    [step2.id, MULTI, truth('umoci', 'step-2.manifest'), 'step2'],
    [step3.id, MULTI, truth('umoci', 'step-3.manifest'), 'step3'],
  ];
  for (const [id, archive, want, tag] of views) {
    const stored = await openImage(engine.state.imageSource((await engine.state.getImage(id))!).path, { tag });
    const original = await openImage(archive, { tag });
    try {
      t.is(stored.manifest(), want);
      t.deepEqual(stored.image.config, original.image.config);
      t.deepEqual(stored.image.tags, original.image.tags);
      t.deepEqual(
        stored.image.layers.map((l) => [l.digest, l.diffId, l.mediaType, l.compressedSize]),
        original.image.layers.map((l) => [l.digest, l.diffId, l.mediaType, l.compressedSize]),
      );
      t.is(stored.image.format, original.image.format === 'oci-archive' ? 'oci-layout' : original.image.format);
    } finally {
      stored.close();
      original.close();
    }
  }
  // The open cache keys layers by digest and location: the stored image's second open is all hits,
  // found by the location of its blobs in the store (no hashing).
  const { OpenCache } = await import('../src/image/cache/open-cache.js');
  for (const round of [1, 2]) {
    const cache = OpenCache.ofHome(home);
    const view = await openImage(layoutOf(home, step3.id), { cache });
    view.close();
    t.is(cache.stats.hits, 3, `open ${round}: every layer from the cache the load wrote`);
    if (round === 2) t.is(cache.stats.locationHits, 3, 'open 2: by location');
  }
  // skopeo reads the stored OCI layout and checks every digest while copying it.
  await run('skopeo', ['copy', '-q', `oci:${layoutOf(home, step3.id)}:step3`, `oci:${join(home, 'out')}:x`]);
  t.pass();
});

test('STATE-1 a docker save naming its layers by their legacy <id>/layer.tar links is stored with those links, and reads as the archive does', async (t) => {
  const home = scratch(t);
  const dir = join(home, 'save');
  mkdirSync(dir);
  await run('tar', ['-xf', DOCKER, '-C', dir]);
  // docker save <= 24 names the layer links in manifest.json; podman's archive has the links too.
  const links = (await run('tar', ['-tvf', DOCKER]))
    .split('\n')
    .filter((l) => l.includes(' -> '))
    .map((l) => {
      const [from, to] = l.slice(l.indexOf('0:00 ') + 5).split(' -> ');
      return { from: from!, to: to! };
    });
  t.is(links.length, 4);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
  manifest[0]!.Layers = manifest[0]!.Layers.map((name) => links.find((l) => l.to === `../${name}`)!.from);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(home, 'legacy.tar');
  await run('tar', ['-cf', archive, '-C', dir, '.']);
  const engine = await Engine.open({ home: join(home, 'state') });
  const img = await engine.load(archive);
  const layout = layoutOf(join(home, 'state'), img.id);
  for (const l of links) t.is(readlinkSync(join(layout, l.from)), l.to, `${l.from} is the link it was`);
  const stored = await openImage(layout);
  const original = await openImage(archive);
  try {
    t.is(stored.manifest(), truth('layers', 'rootfs.manifest'));
    t.deepEqual(stored.image.warnings, original.image.warnings);
    t.deepEqual(
      stored.image.layers.map((l) => l.digest),
      original.image.layers.map((l) => l.digest),
    );
  } finally {
    stored.close();
    original.close();
  }
});

test('STATE-1 DKR-12 commit stores the new image over the blob store: base layers linked as the base stored them (gzip), never copied', async (t) => {
  const home = scratch(t);
  const engine = await Engine.open({ home });
  const base = await engine.load(GZIP);
  const rec = await engine.create(base.id, { name: 'c' });
  const c = await engine.open(rec.id);
  c.fs.writeFileSync('/committed.txt', 'in the new layer\n');
  await c.close();
  const before = storeNames(home);
  const r = await layerfsIn(home, ['commit', 'c', 'localhost/c:1']);
  t.is(r.code, 0, r.stderr);
  const id = r.stdout.trim().replace(/^sha256:/, '');
  const img = (await engine.state.getImage(id))!;
  t.deepEqual(img.tags, ['localhost/c:1']);

  // The base's layers as skopeo wrote them (gzip), from the fixture's own manifest.
  const index = JSON.parse(await member(GZIP, 'index.json')) as { manifests: Array<{ digest: string }> };
  const baseManifest = JSON.parse(await member(GZIP, `blobs/sha256/${index.manifests[0]!.digest.slice(7)}`)) as { layers: Array<{ digest: string; mediaType: string }> };
  const layout = layoutOf(home, id);
  const committedIndex = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const committed = JSON.parse(readFileSync(join(layout, 'blobs/sha256', committedIndex.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string; mediaType: string }> };
  t.deepEqual(
    committed.layers.slice(0, -1),
    baseManifest.layers.map((l) => ({ ...l, size: statSync(blob(home, l.digest)).size })).map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
  );
  for (const l of baseManifest.layers) {
    t.is(ino(join(layout, 'blobs/sha256', l.digest.slice(7))), ino(blob(home, l.digest)));
    t.is(nlink(blob(home, l.digest)), 3, `${l.digest}: the store, the base and the commit`);
  }
  const added = storeNames(home).filter((n) => !before.includes(n));
  t.is(added.length, 3, 'the store gained the new layer, config and manifest only');
  // skopeo verifies every blob of the stored layout; the committed image holds the new file.
  await run('skopeo', ['copy', '-q', `oci:${layout}`, `oci:${join(home, 'out')}:x`]);
  const view = await openImage(layout);
  try {
    t.is(view.fs.readFileSync('/committed.txt', 'utf8'), 'in the new layer\n');
    t.is(view.image.layers.length, baseManifest.layers.length + 1);
  } finally {
    view.close();
  }
});

/** Runs the child until it stops at step `n` (then SIGKILLs it); false when the load finished first. */
async function killAt(home: string, n: number, image: string): Promise<boolean> {
  return (await killAtMarker(CHILD, [home, String(n), image], `at ${n} `)) === 'killed';
}

test('STATE-2 a load killed at any step of storing leaves no torn blob and no half image; system prune removes the verified blobs it left', async (t) => {
  const root = scratch(t);
  const steps: string[] = [];
  for (let n = 1; ; n++) {
    const home = join(root, String(n));
    if (!(await killAt(home, n, DOCKER))) break;
    steps.push(n === 1 ? 'first' : String(n));
    const state = await State.open(home);
    t.deepEqual(
      readdirSync(join(home, 'blobs')).filter((x) => x.startsWith('.')),
      [],
      `step ${n}: the dead writer's scratch copy is gone`,
    );
    for (const name of storeNames(home)) {
      t.is(
        createHash('sha256')
          .update(readFileSync(blob(home, name)))
          .digest('hex'),
        name,
        `step ${n}: ${name} is whole`,
      );
    }
    t.deepEqual(readdirSync(join(home, 'images')), [], `step ${n}: no image, not half of one`);
    t.deepEqual(await state.listImages(), []);
    const pruned = await state.pruneBlobs();
    t.deepEqual(storeNames(home), [], `step ${n}: prune removed the ${pruned.count} blob(s) no image links`);
    const engine = await Engine.open({ home });
    const img = await engine.load(DOCKER);
    const view = await openImage(engine.state.imageArchive(img.id));
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'), `step ${n}: the load after the kill`);
    view.close();
    t.true(
      storeNames(home).every((name) => nlink(blob(home, name)) === 2),
      `step ${n}: every blob linked once by the image`,
    );
  }
  // config + 4 layers, each fsynced in scratch then placed, then the layout: 11 steps.
  t.is(steps.length, 11);
});

test('STATE-2 an invalid archive is refused before anything is stored', async (t) => {
  const home = scratch(t);
  const dir = join(home, 'bad');
  mkdirSync(dir);
  await run('tar', ['-xf', join(FIXTURES, 'layers/oci-archive.tar'), '-C', dir]);
  // The base layer blob, one byte of a file in it changed: its sha256 is no longer its name.
  const bad = join(dir, 'blobs/sha256', '91c8e597994ccf759a98c17d50d9a9b119aaa77b121746bc369a37a650274c8f');
  const bytes = readFileSync(bad);
  bytes[bytes.length - 2048] ^= 1;
  writeFileSync(bad, bytes);
  const engine = await Engine.open({ home: join(home, 'state') });
  const err = await t.throwsAsync(engine.load(dir));
  t.is((err as { code?: string }).code, 'DIGEST_MISMATCH');
  t.deepEqual(readdirSync(join(home, 'state', 'images')), []);
  t.deepEqual(storeNames(join(home, 'state')), []);
});

test('STATE-4 rmi removes the blobs only that image linked; system df counts a shared blob once', async (t) => {
  const home = scratch(t);
  const engine = await Engine.open({ home });
  const step2 = await engine.load(MULTI, { tag: 'step2' });
  const step3 = await engine.load(MULTI, { tag: 'step3' });
  const [m2, m3] = [await umociImage('step2'), await umociImage('step3')];

  const files = await findFiles(join(home, 'images'));
  const unique = new Map(files.filter((f) => f.path.includes('/layout/')).map((f) => [f.ino, f.size]));
  const df = JSON.parse((await layerfsIn(home, ['--json', 'system', 'df'])).stdout) as { images: { count: number; bytes: number } };
  t.deepEqual(df.images, { count: 2, bytes: [...unique.values()].reduce((a, b) => a + b, 0) });
  const images = JSON.parse((await layerfsIn(home, ['--json', 'images'])).stdout) as Array<{ id: string; size: number }>;
  const own = (id: string) => files.filter((f) => f.path.includes(`/${id}/layout/`)).reduce((a, f) => a + f.size, 0);
  t.deepEqual(images.map((i) => [i.id, i.size]).sort(), [step2.id, step3.id].map((id) => [id, own(id)]).sort());
  t.true(df.images.bytes < own(step2.id) + own(step3.id), 'the shared layers are counted once');

  await engine.rmi('localhost/step3:latest');
  const left = [m2.manifest, m2.config, ...m2.layers].map((d) => d.slice(7)).sort();
  t.deepEqual(storeNames(home), left, 'step3 alone had its manifest, config and third layer');
  for (const d of m2.layers) t.is(nlink(blob(home, d)), 2);
  t.false(m3.layers.slice(2).some((d) => existsSync(blob(home, d))));
  await engine.rmi('localhost/step2:latest');
  t.deepEqual(storeNames(home), []);
});

test('STATE-5 a state written before the blob store (images kept as archive.tar) opens, runs, commits and removes its images', async (t) => {
  const home = scratch(t);
  const old = await State.open(home);
  const id = createHash('sha256')
    .update(await member(DOCKER, 'a5080bea8e2c553f5d211af460917319937416aa2ff65f5339547b23b84e2380.json'))
    .digest('hex');
  // What main's `load` wrote: the record and a byte copy of the archive.
  await old.putImage({ id, tags: ['localhost/layers:latest'], source: DOCKER, format: 'docker-archive', configDigest: `sha256:${id}`, created: new Date().toISOString() }, DOCKER);
  t.deepEqual(readdirSync(join(home, 'images', id)).sort(), ['archive.tar', 'image.json']);
  const engine = await Engine.open({ home });
  const images = JSON.parse((await layerfsIn(home, ['--json', 'images'])).stdout) as Array<{ id: string; size: number }>;
  t.deepEqual(
    images.map((i) => [i.id, i.size]),
    [[id, statSync(DOCKER).size]],
  );
  const rec = await engine.create('localhost/layers:latest', { name: 'old' });
  const c = await engine.open(rec.id);
  t.is(c.view.manifest(), truth('layers', 'rootfs.manifest'));
  c.fs.writeFileSync('/x', 'x\n');
  await c.close();
  const r = await layerfsIn(home, ['commit', 'old', 'localhost/old:1']);
  t.is(r.code, 0, r.stderr);
  const committed = r.stdout.trim().replace(/^sha256:/, '');
  const view = await openImage(layoutOf(home, committed));
  t.is(view.fs.readFileSync('/x', 'utf8'), 'x\n');
  view.close();
  await engine.rm('old');
  await engine.rmi('localhost/layers:latest');
  t.false(existsSync(join(home, 'images', id)));
});

const missing = registryMissing();

test.serial('STATE-3 a pull fetches none of the blobs a load stored, and shares them (umoci step2 loaded, step2 and step3 pulled)', async (t) => {
  if (!requireOrSkip(t, missing)) return;
  const home = scratch(t);
  const reg = await startRegistry();
  t.teardown(() => reg.stop());
  await skopeoCopy(`oci-archive:${MULTI}:step2`, `docker://${reg.host}/multi:step2`);
  await skopeoCopy(`oci-archive:${MULTI}:step3`, `docker://${reg.host}/multi:step3`);
  const engine = await Engine.open({ home });
  const loaded = await engine.load(MULTI, { tag: 'step2' });
  const [m2, m3] = [await umociImage('step2'), await umociImage('step3')];

  // What the registry serves, as skopeo reads it: the manifests' bytes.
  const raw = async (tag: string) => Buffer.from(await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/multi:${tag}`]));
  const [raw2, raw3] = [await raw('step2'), await raw('step3')];
  const size = (d: string) =>
    (JSON.parse(raw3.toString()) as { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> }).layers
      .concat([JSON.parse(raw3.toString()).config])
      .find((x) => x.digest === d)!.size;

  const p3 = await engine.pull(`docker://${reg.host}/multi:step3`);
  t.is(p3.fetchedBytes, raw3.length + size(m3.config) + size(m3.layers[2]!), 'the manifest, the config and the one layer the load did not have');
  for (const d of m2.layers) {
    t.is(ino(join(layoutOf(home, p3.image.id), 'blobs/sha256', d.slice(7))), ino(join(layoutOf(home, loaded.id), 'blobs/sha256', d.slice(7))));
    t.is(nlink(blob(home, d)), 3, `${d}: the store, the loaded step2 and the pulled step3`);
  }
  const view = await openImage(layoutOf(home, p3.image.id));
  t.is(view.manifest(), truth('umoci', 'step-3.manifest'));
  view.close();

  const p2 = await engine.pull(`docker://${reg.host}/multi:step2`);
  t.is(p2.fetchedBytes, raw2.length, 'the manifest only: every blob was there');
  t.is(p2.image.id, loaded.id, 'the same image: the pull adds its tag');
  t.deepEqual(p2.image.tags.sort(), [`${reg.host}/multi:step2`, 'localhost/step2:latest'].sort());
});
