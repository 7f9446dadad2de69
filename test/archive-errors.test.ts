/**
 * Typed errors: each bad input gives its ArchiveError code, and the message names the file.
 * Damaged inputs are copies of fixtures (cut, one byte flipped, a blob removed); hostile layer
 * tars are built with tar-stream's pack().
 */
import test from 'ava';
import { FIXTURES } from './helpers/fixtures.js';
import { tarOf } from './helpers/tar.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveError, type ArchiveErrorCode } from '../src/core/errors.js';
import { loadImage, loadLayers } from '../src/image/index.js';

type Ctx = import('ava').ExecutionContext;

function tempDir(t: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts the promise fails with `code` and a message naming `file`; returns the error. */
async function failsWith(t: Ctx, p: Promise<unknown>, code: ArchiveErrorCode, file: string): Promise<ArchiveError> {
  const err = await t.throwsAsync(p, { instanceOf: ArchiveError });
  t.is(err!.code, code, err!.message);
  t.is(err!.file, file);
  t.true(err!.message.includes(file), `message names ${file}: ${err!.message}`);
  return err!;
}

/** The OCI layout of a fixture, extracted; returns the dir and its layer blob paths. */
function ociDir(t: Ctx, archive: string): { dir: string; layers: string[]; digests: string[] } {
  const dir = join(tempDir(t), 'layout');
  mkdirSync(dir);
  execFileSync('tar', ['-xf', join(FIXTURES, archive), '-C', dir]);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(join(dir, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8'));
  const digests: string[] = manifest.layers.map((l: { digest: string }) => l.digest);
  return { dir, layers: digests.map((d) => join(dir, 'blobs/sha256', d.slice(7))), digests };
}

function writeTemp(t: Ctx, name: string, data: Uint8Array): string {
  const file = join(tempDir(t), name);
  writeFileSync(file, data);
  return file;
}

test('TRUNCATED: a layer cut inside a header, member data or padding', async (t) => {
  const { layers } = ociDir(t, 'layers/oci-archive.tar');
  const layer = readFileSync(layers[0]); // 96256 bytes, ends with zero blocks
  for (const cut of [100, 700, 3000, 30001, 60001]) {
    const file = writeTemp(t, `cut-${cut}.tar`, layer.subarray(0, cut));
    const err = await failsWith(t, loadLayers([file]), 'TRUNCATED', file);
    t.regex(err.message, /layer 1\/1/);
  }
});

test('TRUNCATED: a gzip or zstd layer cut short', async (t) => {
  for (const archive of ['layers/oci-archive-gzip.tar', 'layers/oci-archive-zstd.tar']) {
    const { layers } = ociDir(t, archive);
    const blob = readFileSync(layers[0]);
    const file = writeTemp(t, 'cut.blob', blob.subarray(0, Math.floor(blob.length / 2)));
    await failsWith(t, loadLayers([file]), 'TRUNCATED', file);
  }
});

test('BAD_CHECKSUM: one flipped byte in a header', async (t) => {
  const { layers } = ociDir(t, 'layers/oci-archive.tar');
  const layer = Buffer.from(readFileSync(layers[0]));
  layer[512 + 3] ^= 0x20; // the second header's name
  const file = writeTemp(t, 'flipped.tar', layer);
  const err = await failsWith(t, loadLayers([file]), 'BAD_CHECKSUM', file);
  t.regex(err.message, /header at offset 512: header checksum is \d+ \(octal\), the header bytes sum to \d+/);
});

test('BAD_HEADER: a PAX path or linkpath holding a NUL byte is refused, as a name with NUL is', async (t) => {
  for (const [what, item] of [
    ['path', { header: { name: 'f', size: 1, pax: { path: 'a\0b' } }, body: 'x' }],
    ['linkpath', { header: { name: 'l', type: 'symlink', linkname: 'x', pax: { linkpath: 'x\0/../../etc/passwd' } } }],
    ['linkpath', { header: { name: 'h', type: 'link', linkname: 'f', pax: { linkpath: 'f\0' } } }],
  ] as const) {
    const file = writeTemp(t, `nul-${what}.tar`, await tarOf([{ header: { name: 'f', size: 1 }, body: 'x' }, item as never]));
    const err = await failsWith(t, loadLayers([file]), 'BAD_HEADER', file);
    t.regex(err.message, new RegExp(`PAX ${what} holds a NUL byte at offset \\d+: names cannot contain NUL`));
  }
});

test('BAD_HEADER: a negative GNU base-256 size', async (t) => {
  const tar = await tarOf([{ header: { name: 'f', size: 1 }, body: 'x' }]);
  tar.fill(0xff, 124, 136); // size -1
  tar.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[i];
  tar.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const file = writeTemp(t, 'negative.tar', tar);
  const err = await failsWith(t, loadLayers([file]), 'BAD_HEADER', file);
  t.regex(err.message, /size is negative/);
});

test('OCI-3 DIGEST_MISMATCH: one altered byte in a layer blob of an OCI layout directory', async (t) => {
  const { dir, layers, digests } = ociDir(t, 'layers/oci-archive.tar');
  const blob = Buffer.from(readFileSync(layers[1]));
  blob[blob.length - 1] ^= 1; // inside the end-of-archive blocks: still a readable tar
  writeFileSync(layers[1], blob);
  const err = await failsWith(t, loadImage(dir), 'DIGEST_MISMATCH', dir);
  t.true(err.message.includes(`layer 2/4 (blobs/sha256/${digests[1].slice(7)})`), err.message);
  t.true(err.message.includes(`expected ${digests[1]}`), err.message);
  // verify: false reads it anyway.
  const img = await loadImage(dir, { verify: false });
  t.is(img.layers.length, 4);
  img.close();
});

test('OCI-3 DIGEST_MISMATCH: uncompressed bytes differing from config.rootfs.diff_ids (layer path names no digest)', async (t) => {
  const dir = join(tempDir(t), 'docker');
  mkdirSync(dir);
  execFileSync('tar', ['-xf', join(FIXTURES, 'volumes/docker-archive.tar'), '-C', dir]);
  const mf = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const diffIds: string[] = JSON.parse(readFileSync(join(dir, mf[0].Config), 'utf8')).rootfs.diff_ids;
  mf[0].Layers = mf[0].Layers.map((p: string, i: number) => {
    renameSync(join(dir, p), join(dir, `layer${i}.tar`));
    return `layer${i}.tar`;
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(mf));
  const blob = Buffer.from(readFileSync(join(dir, 'layer0.tar')));
  blob[blob.length - 1] ^= 1;
  writeFileSync(join(dir, 'layer0.tar'), blob);
  const err = await failsWith(t, loadImage(dir), 'DIGEST_MISMATCH', dir);
  t.true(err.message.includes('layer 1/2 (layer0.tar)'), err.message);
  t.true(err.message.includes(`config.rootfs.diff_ids[0] is ${diffIds[0]}`), err.message);
});

test('OCI-2 UNKNOWN_COMPRESSION: a bzip2 blob and random bytes', async (t) => {
  const bz = writeTemp(t, 'layer.tar.bz2', Buffer.concat([Buffer.from('BZh91AY&SY'), randomBytes(700)]));
  const err = await failsWith(t, loadLayers([bz]), 'UNKNOWN_COMPRESSION', bz);
  t.regex(err.message, /expected a tar, gzip \(1f 8b\) or zstd \(28 b5 2f fd\) layer, found bzip2 data/);
  const rnd = writeTemp(t, 'random.bin', Buffer.concat([Buffer.from([0x00, 0x01]), randomBytes(2000)]));
  await failsWith(t, loadLayers([rnd]), 'UNKNOWN_COMPRESSION', rnd);
});

test('MISSING_BLOB: a layer blob removed from an OCI layout directory', async (t) => {
  const { dir, layers, digests } = ociDir(t, 'whiteouts/oci-archive-gzip.tar');
  unlinkSync(layers[2]);
  const err = await failsWith(t, loadImage(dir), 'MISSING_BLOB', dir);
  t.true(err.message.includes(`layer 3/3: blob ${digests[2]} (blobs/sha256/${digests[2].slice(7)}) is not in the archive`), err.message);
});

test('OCI-12 UNSAFE_PATH: entries and hard links climbing out with ../', async (t) => {
  for (const header of [
    { name: '../evil', size: 0 },
    { name: 'a/../../evil', size: 0 },
    { name: 'ok', type: 'link', linkname: '../../etc/shadow' },
  ]) {
    const file = writeTemp(t, 'escape.tar', await tarOf([{ header }]));
    const err = await failsWith(t, loadLayers([file]), 'UNSAFE_PATH', file);
    t.regex(err.message, /climbs out of the layer root/);
  }
});

test('OCI-12 an absolute entry path is read as relative, with a warning naming the file', async (t) => {
  const file = writeTemp(t, 'abs.tar', await tarOf([{ header: { name: '/etc/abs', size: 2 }, body: 'hi' }]));
  const seen: string[] = [];
  const img = await loadLayers([file], { onWarning: (m) => seen.push(m) });
  t.teardown(() => img.close());
  t.deepEqual(
    img.layers[0].entries.map((e) => [e.path, e.type, e.size]),
    [['etc/abs', 'file', 2]],
  );
  t.is(seen.length, 1);
  t.true(seen[0].startsWith(`${file}: layer 1/1`), seen[0]);
  t.regex(seen[0], /"\/etc\/abs" is absolute; read as "etc\/abs"/);
  t.deepEqual(img.warnings, seen);
  t.deepEqual(img.layers[0].warnings, seen);
});

test('OCI-5 BAD_WHITEOUT: a bare .wh. names nothing', async (t) => {
  const file = writeTemp(t, 'bare.tar', await tarOf([{ header: { name: 'etc/', type: 'directory' } }, { header: { name: 'etc/.wh.', size: 0 } }]));
  const err = await failsWith(t, loadLayers([file]), 'BAD_WHITEOUT', file);
  t.regex(err.message, /"etc\/\.wh\." names no file/);
});

test('DA-1 AMBIGUOUS_IMAGE: several images and no tag; the message lists the tags', async (t) => {
  const multi = join(FIXTURES, 'multi-image/docker-archive-multi.tar');
  const err = await failsWith(t, loadImage(multi), 'AMBIGUOUS_IMAGE', multi);
  t.true(err.message.includes('localhost/layers:latest, localhost/volumes:latest'), err.message);
  const refs = join(FIXTURES, 'umoci/oci-layout-multi.tar');
  const err2 = await failsWith(t, loadImage(refs), 'AMBIGUOUS_IMAGE', refs);
  t.true(err2.message.includes('empty, step1, step2, step3, latest'), err2.message);
});

test('DA-1 NO_SUCH_IMAGE: an unknown tag; the message lists the tags', async (t) => {
  const multi = join(FIXTURES, 'multi-image/docker-archive-multi.tar');
  const err = await failsWith(t, loadImage(multi, { tag: 'localhost/nope:latest' }), 'NO_SUCH_IMAGE', multi);
  t.true(err.message.includes('"localhost/nope:latest"'), err.message);
  t.true(err.message.includes('localhost/layers:latest, localhost/volumes:latest'), err.message);
  const single = join(FIXTURES, 'links/oci-archive.tar');
  await failsWith(t, loadImage(single, { tag: 'other' }), 'NO_SUCH_IMAGE', single);
});

test('OCI-3 BAD_MANIFEST: diff_ids and layers differ in number; rootfs.type is not "layers"', async (t) => {
  const dir = join(tempDir(t), 'docker');
  mkdirSync(dir);
  execFileSync('tar', ['-xf', join(FIXTURES, 'volumes/docker-archive.tar'), '-C', dir]);
  const mf = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(dir, mf[0].Config), 'utf8'));
  mf[0].Config = 'config.json'; // a name that claims no digest, so the edit is not a DIGEST_MISMATCH
  mf[0].Layers = mf[0].Layers.slice(0, 1);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(mf));
  const err = await failsWith(t, loadImage(dir), 'BAD_MANIFEST', dir);
  t.regex(err.message, /the manifest lists 1 layer\(s\) but config\.rootfs\.diff_ids has 2/);
  config.rootfs.type = 'tarballs';
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const err2 = await failsWith(t, loadImage(dir), 'BAD_MANIFEST', dir);
  t.regex(err2.message, /rootfs\.type is "tarballs", expected "layers"/);
});

test('NOT_AN_IMAGE: a plain layer tar, random bytes, an empty directory', async (t) => {
  const { layers } = ociDir(t, 'volumes/oci-archive.tar');
  const err = await failsWith(t, loadImage(layers[0]), 'NOT_AN_IMAGE', layers[0]);
  t.regex(err.message, /loadLayers/);
  const rnd = writeTemp(t, 'random.bin', Buffer.concat([Buffer.from('junk'), randomBytes(1000)]));
  await failsWith(t, loadImage(rnd), 'NOT_AN_IMAGE', rnd);
  const empty = tempDir(t);
  await failsWith(t, loadImage(empty), 'NOT_AN_IMAGE', empty);
});

const openFds = (): number => readdirSync('/proc/self/fd').length;

test.serial('close() closes every descriptor; a failed load leaves none open', async (t) => {
  const before = openFds();
  const img = await loadImage(join(FIXTURES, 'layers/oci-archive-zstd.tar'));
  t.true(openFds() > before, 'archive and spill files are open while the image is');
  img.close();
  t.is(openFds(), before);
  await t.throwsAsync(loadImage(join(FIXTURES, 'multi-image/docker-archive-multi.tar')));
  const { dir, layers } = ociDir(t, 'layers/oci-archive-gzip.tar');
  writeFileSync(layers[3], Buffer.from(readFileSync(layers[3])).subarray(0, 10));
  await t.throwsAsync(loadImage(dir));
  t.is(openFds(), before);
});
