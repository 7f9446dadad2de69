/**
 * Image level: every fixture format gives the config of `truth/config.json`, layer data equal to
 * `truth/step-1.manifest`, and the layouts the fixtures do not ship (OCI layout directory,
 * Docker 25+ archive, legacy `<id>/layer.tar` links) are built here from the fixtures with GNU tar.
 */
import test from 'ava';
import { esc } from '../src/out/manifest.js';
import { FIXTURES, FORMATS, IMAGES } from './helpers/fixtures.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../src/entry.js';
import { BufferSource, readAll } from '../src/source.js';
import { nameBytes } from '../src/archive/tar-header.js';
import { indexTar } from '../src/archive/tar-index.js';
import { loadImage, loadLayers, type LoadedImage } from '../src/image/index.js';

interface TruthConfig {
  config: { Env?: string[]; WorkingDir?: string; Volumes?: Record<string, object>; Cmd?: string[]; Entrypoint?: string[]; User?: string; Labels?: Record<string, string> };
  rootfs: { type: string; diff_ids: string[] };
  history: Array<Record<string, unknown>>;
}

const truthConfig = (image: string): TruthConfig => JSON.parse(readFileSync(join(FIXTURES, image, 'truth/config.json'), 'utf8'));

function tempDir(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** OCI-3 / OCI-4 / OCI-15: layer count, diff_ids, history and the config fields equal the truth. */
function checkConfig(t: import('ava').ExecutionContext, img: LoadedImage, image: string): void {
  const truth = truthConfig(image);
  t.deepEqual(
    img.layers.map((l) => l.diffId),
    truth.rootfs.diff_ids,
    'diff_ids, in order',
  );
  t.deepEqual(img.config.rootfs.diff_ids, truth.rootfs.diff_ids);
  t.deepEqual(img.history, truth.history, 'history');
  t.deepEqual(
    img.layers.map((l) => l.history),
    truth.history.filter((h) => h.empty_layer !== true),
    'OCI-4 one history entry per layer',
  );
  for (const k of ['Env', 'WorkingDir', 'Volumes', 'Cmd', 'Entrypoint', 'User', 'Labels'] as const) {
    t.deepEqual(img.config.config[k], truth.config[k], `config.${k}`);
  }
}

/** `truth/step-1.manifest` is the first layer alone: its files must be what layer 1's entries hold. */
function checkFirstLayerData(t: import('ava').ExecutionContext, img: LoadedImage, image: string): void {
  const entries = img.layers[0].entries;
  const byPath = new Map<string, Entry>();
  for (const e of entries) if (e.type !== 'whiteout' && e.type !== 'opaque') byPath.set(e.path, e);
  const rows = readFileSync(join(FIXTURES, image, 'truth/step-1.manifest'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('/'));
  const byEscaped = new Map([...byPath.values()].map((e) => [esc(nameBytes(`/${e.path}`)), e]));
  let files = 0;
  for (const r of rows) {
    const [path, type, mode, uid, gid, size, hash, target, , xattrs] = r.split('\t');
    let e = byEscaped.get(path);
    t.truthy(e, `${image}: ${path} is an entry of layer 1`);
    if (!e) continue;
    t.is(e.mode.toString(8).padStart(4, '0'), mode, `${path} mode`);
    t.is(`${e.uid}:${e.gid}`, `${uid}:${gid}`, `${path} owner`);
    // A hard link shares its target's inode (links/data/symh-hardlink links to a symlink).
    if (e.type === 'hardlink') e = byPath.get(e.linkname!);
    if (type === 'f') {
      t.is(e?.type, 'file', `${path} is a file`);
      t.is(String(e!.size), size, `${path} size`);
      t.is(sha256(readAll(e!.content!)), hash, `${path} content`);
      const x = Object.entries(e!.xattrs ?? {})
        .map(([k, v]) => `${k}=0x${v.toString('hex')}`)
        .sort()
        .join(',');
      t.is(x || '-', xattrs, `${path} xattrs`);
      files++;
    } else if (type === 'l') {
      t.is(e?.type, 'symlink');
      t.is(sha256(nameBytes(e!.linkname!)), hash, `${path} target ${target}`);
    } else if (type === 'd') {
      t.is(e?.type, 'dir');
    }
  }
  t.true(files > 0, 'some files were compared');
}

for (const image of IMAGES) {
  for (const format of FORMATS) {
    test(`OCI-3/OCI-4 ${image}/${format}: diff_ids, history, Env/WorkingDir/Volumes equal truth/config.json; layer 1 data equals step-1.manifest`, async (t) => {
      const img = await loadImage(join(FIXTURES, image, format));
      t.teardown(() => img.close());
      t.is(img.format, format.startsWith('docker') ? 'docker-archive' : 'oci-archive');
      t.deepEqual(img.tags, [`localhost/${image}:latest`]);
      checkConfig(t, img, image);
      checkFirstLayerData(t, img, image);
    });
  }
}

test('DA-1 docker-archive-multi.tar: each tag gives its own image', async (t) => {
  const file = join(FIXTURES, 'multi-image/docker-archive-multi.tar');
  for (const [tag, image] of [
    ['localhost/layers:latest', 'layers'],
    ['layers:latest', 'layers'],
    ['volumes', 'volumes'],
  ]) {
    const img = await loadImage(file, { tag });
    checkConfig(t, img, image);
    t.deepEqual(img.tags, [`localhost/${image}:latest`]);
    img.close();
  }
});

test('DA-1 oci-layout-multi.tar: ref name "latest" picks the umoci image (GNU tar "./" names)', async (t) => {
  const img = await loadImage(join(FIXTURES, 'umoci/oci-layout-multi.tar'), { tag: 'latest' });
  t.teardown(() => img.close());
  t.is(img.format, 'oci-archive');
  t.deepEqual(img.tags, ['latest']);
  checkConfig(t, img, 'umoci');
  checkFirstLayerData(t, img, 'umoci');
});

test('OCI layout DIRECTORY (extracted oci-archive-gzip.tar) loads like the archive', async (t) => {
  const dir = tempDir(t);
  execFileSync('tar', ['-xf', join(FIXTURES, 'layers/oci-archive-gzip.tar'), '-C', dir]);
  const img = await loadImage(dir);
  t.teardown(() => img.close());
  t.is(img.format, 'oci-layout');
  checkConfig(t, img, 'layers');
  checkFirstLayerData(t, img, 'layers');
  t.true(
    img.layers.every((l) => l.mediaType.endsWith('+gzip') && l.digest !== l.diffId),
    'DA-2 compressed: blob digest differs from diff_id',
  );
});

/** A Docker 25+ save: the OCI layout plus a moby manifest.json whose Layers are blobs/sha256/<hex>. */
test('DA-1/DA-2 Docker 25+ archive (OCI layout + manifest.json with blobs/sha256 paths, gzip blobs)', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  execFileSync('mkdir', [root]);
  execFileSync('tar', ['-xf', join(FIXTURES, 'layers/oci-archive-gzip.tar'), '-C', root]);
  const index = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8'));
  const hex = (d: string): string => d.replace('sha256:', '');
  const manifest = JSON.parse(readFileSync(join(root, 'blobs/sha256', hex(index.manifests[0].digest)), 'utf8'));
  const layerDigests: string[] = manifest.layers.map((l: { digest: string }) => l.digest);
  writeFileSync(
    join(root, 'manifest.json'),
    JSON.stringify([
      {
        Config: `blobs/sha256/${hex(manifest.config.digest)}`,
        RepoTags: ['localhost/layers:latest'],
        Layers: layerDigests.map((d) => `blobs/sha256/${hex(d)}`),
      },
    ]),
  );
  writeFileSync(join(root, 'repositories'), JSON.stringify({ 'localhost/layers': { latest: hex(manifest.config.digest) } }));
  const out = join(dir, 'docker25.tar');
  execFileSync('tar', ['-cf', out, '-C', root, 'blobs', 'index.json', 'manifest.json', 'oci-layout', 'repositories']);
  const img = await loadImage(out);
  t.teardown(() => img.close());
  t.is(img.format, 'docker-archive');
  t.deepEqual(img.tags, ['localhost/layers:latest']);
  t.deepEqual(
    img.layers.map((l) => l.digest),
    layerDigests,
    'DA-2 blob digests are the compressed ones',
  );
  t.is(img.configDigest, manifest.config.digest);
  checkConfig(t, img, 'layers');
  checkFirstLayerData(t, img, 'layers');
});

test('DA-1 legacy <id>/layer.tar symlinks and hard links inside the outer tar are followed', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  execFileSync('mkdir', [root]);
  execFileSync('tar', ['-xf', join(FIXTURES, 'whiteouts/docker-archive.tar'), '-C', root]);
  const ids = readdirSync(root).filter((n) => /^[0-9a-f]{64}$/.test(n));
  // Map each diff_id file to the <id>/layer.tar symlink pointing at it.
  const linkFor = new Map(ids.map((id) => [readlinkSync(join(root, id, 'layer.tar')).replace('../', ''), `${id}/layer.tar`]));
  const mf = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
  mf[0].Layers = mf[0].Layers.map((p: string) => linkFor.get(p));
  // Make the first one a hard link instead of a symlink.
  const first = mf[0].Layers[0];
  unlinkSync(join(root, first));
  linkSync(join(root, [...linkFor.entries()].find(([, v]) => v === first)![0]), join(root, first));
  writeFileSync(join(root, 'manifest.json'), JSON.stringify(mf));
  const out = join(dir, 'legacy.tar');
  execFileSync('tar', ['-cf', out, '-C', root, '.']);
  const types = indexTar(new BufferSource(readFileSync(out)), { file: out })
    .filter((m) => m.name.endsWith('/layer.tar'))
    .map((m) => m.typeflag)
    .sort();
  t.deepEqual(types, ['1', '2', '2'], 'one hard link, two symlinks');
  const img = await loadImage(out);
  t.teardown(() => img.close());
  checkConfig(t, img, 'whiteouts');
  checkFirstLayerData(t, img, 'whiteouts');
});

test('DA-1 a link cycle inside the outer tar is BAD_MANIFEST, not a hang', async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'root');
  execFileSync('mkdir', [root]);
  execFileSync('tar', ['-xf', join(FIXTURES, 'volumes/docker-archive.tar'), '-C', root]);
  symlinkSync('b.tar', join(root, 'a.tar'));
  symlinkSync('a.tar', join(root, 'b.tar'));
  const mf = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
  mf[0].Layers[0] = 'a.tar';
  writeFileSync(join(root, 'manifest.json'), JSON.stringify(mf));
  const out = join(dir, 'cycle.tar');
  execFileSync('tar', ['-cf', out, '-C', root, '.']);
  const err = await t.throwsAsync(loadImage(out));
  t.is((err as { code?: string }).code, 'BAD_MANIFEST');
  t.regex(err!.message, /cycle\.tar.*cycle: a\.tar -> b\.tar -> a\.tar/);
});

test('loadLayers: plain layer tarballs (tar, gzip, zstd; path or bytes) get computed digests and a synthesised config', async (t) => {
  const dir = tempDir(t);
  execFileSync('tar', ['-xf', join(FIXTURES, 'gnutar/oci-archive-zstd.tar'), '-C', dir]);
  const truth = truthConfig('gnutar');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const blobs: string[] = manifest.layers.map((l: { digest: string }) => join(dir, 'blobs/sha256', l.digest.slice(7)));
  const gz = join(dir, 'layer2.tar.gz');
  execFileSync('sh', ['-c', `zstd -dc '${blobs[1]}' | gzip -c > '${gz}'`]);
  const plain = execFileSync('zstd', ['-dc', blobs[2]]);
  const img = await loadLayers([blobs[0], gz, new Uint8Array(plain)]);
  t.teardown(() => img.close());
  t.is(img.format, 'layers');
  t.deepEqual(img.config.rootfs.diff_ids, truth.rootfs.diff_ids);
  t.deepEqual(
    img.layers.map((l) => l.diffId),
    truth.rootfs.diff_ids,
  );
  t.is(img.layers[0].digest, manifest.layers[0].digest);
  t.is(img.layers[1].digest, `sha256:${sha256(readFileSync(gz))}`);
  t.is(img.layers[2].digest, truth.rootfs.diff_ids[2], 'an uncompressed layer: digest = diff_id');
  t.deepEqual(
    img.layers.map((l) => l.mediaType.split('.').pop()),
    ['tar+zstd', 'tar+gzip', 'tar'],
  );
  checkFirstLayerData(t, img, 'gnutar');
});

test('verify: false skips hashing of blobs whose digests the manifest already gives', async (t) => {
  const img = await loadImage(join(FIXTURES, 'links/oci-archive.tar'), { verify: false });
  t.teardown(() => img.close());
  checkConfig(t, img, 'links');
});

/** Writes a JSON blob into an OCI layout dir and returns its descriptor. */
function putBlob(dir: string, mediaType: string, doc: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const hex = sha256(bytes);
  writeFileSync(join(dir, 'blobs/sha256', hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length, ...extra };
}

/** One layout dir holding the blobs of two fixtures; returns their manifest descriptors. */
function twoImageLayout(t: import('ava').ExecutionContext): { dir: string; layers: Record<string, unknown>; volumes: Record<string, unknown> } {
  const dir = tempDir(t);
  const manifests: Record<string, Record<string, unknown>> = {};
  for (const image of ['volumes', 'layers']) {
    execFileSync('tar', ['-xf', join(FIXTURES, image, 'oci-archive.tar'), '-C', dir]);
    manifests[image] = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests[0];
  }
  return { dir, layers: manifests.layers, volumes: manifests.volumes };
}

const INDEX = 'application/vnd.oci.image.index.v1+json';
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const amd64 = { os: 'linux', architecture: 'amd64' };

test('DA-1 a nested index is followed and linux/amd64 is preferred; attestations are skipped', async (t) => {
  const { dir, layers, volumes } = twoImageLayout(t);
  const nested = putBlob(
    dir,
    INDEX,
    {
      schemaVersion: 2,
      mediaType: INDEX,
      manifests: [
        { ...volumes, platform: arm64 },
        { ...volumes, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
        { ...layers, platform: amd64 },
      ],
    },
    { annotations: { 'org.opencontainers.image.ref.name': 'multi' } },
  );
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [nested] }));
  const img = await loadImage(dir);
  t.teardown(() => img.close());
  t.deepEqual(img.tags, ['multi']);
  checkConfig(t, img, 'layers');
});

test('DA-1 one tag on several top-level platform entries picks linux/amd64', async (t) => {
  const { dir, layers, volumes } = twoImageLayout(t);
  const ann = { annotations: { 'org.opencontainers.image.ref.name': 'x' } };
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { ...volumes, ...ann, platform: arm64 },
        { ...layers, ...ann, platform: amd64 },
      ],
    }),
  );
  const img = await loadImage(dir, { tag: 'x' });
  t.teardown(() => img.close());
  checkConfig(t, img, 'layers');
});

test('a gzip-compressed docker save (docker save | gzip) is told by content and read', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'image.tgz.unusual-name');
  writeFileSync(out, execFileSync('gzip', ['-c', join(FIXTURES, 'names/docker-archive.tar')], { maxBuffer: 1 << 26 }));
  const img = await loadImage(out);
  t.teardown(() => img.close());
  t.is(img.format, 'docker-archive');
  checkConfig(t, img, 'names');
  checkFirstLayerData(t, img, 'names');
});
