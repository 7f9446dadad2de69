/**
 * zstd:chunked layers read lazily through their tables of contents (OCI-16..OCI-18), against a real
 * registry (Debian's docker-registry, distribution 2.8) filled with the fixtures' zstd:chunked
 * archives (made by `skopeo copy --dest-compress-format zstd:chunked`, scripts/fixtures/build.py)
 * and one image compressed so here. Ground truth: the fixtures' truth/
 * manifests (podman), and the registry's own stored blobs, whose TOCs the test decodes itself (the
 * zstd CLI) to know which bytes a read must fetch.
 *
 * Tampered blobs are served by a second registry whose stored blobs the test rewrites (same size):
 * the lazy view's Range reads block the thread that asks (range-source.ts), so a server in this
 * thread, as test/registry-bad.test.ts has, could never answer them.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ArchiveError, Engine, View } from '../src/index.js';
import { readAll } from '../src/source.js';
import { tocPosition } from '../src/archive/zstd-chunked.js';
import { loadLazy } from '../src/registry/lazy.js';
import { humanSize } from '../src/cli/output.js';
import { FIXTURES, steps, truth, REGISTRY_IMAGES } from './helpers/fixtures.js';
import { blobFile, manifestOf, registryMissing, skopeoCopy, startRegistry, storedBlob, type Descriptor, type Registry } from './helpers/registry.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
// The test decodes the stored TOCs with the zstd CLI, its own ground truth for byte counts.
const missing = registryMissing() ?? (existsSync('/usr/bin/zstd') ? undefined : '/usr/bin/zstd is not installed (apt-get install zstd)');
if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPING test/registry-zstd-chunked.test.ts: ${missing} ***\n\n`);
const rtest = missing && process.env.CI !== 'true' ? test.skip : test.serial;

const IMAGES = REGISTRY_IMAGES;
const CHECKSUM = 'io.containers.zstd-chunked.manifest-checksum';
const POSITION = 'io.containers.zstd-chunked.manifest-position';

let reg: Registry;
let bad: Registry;
let work: string;

type Layer = Descriptor;
interface TocEntry {
  type: string;
  name: string;
  size?: number;
  offset?: number;
  endOffset?: number;
  digest?: string;
}

test.before(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`the registry tests need ${missing}`);
    return;
  }
  work = mkdtempSync(join(tmpdir(), 'layerfs-zchunked-test-'));
  [reg, bad] = await Promise.all([startRegistry(), startRegistry()]);
  await Promise.all([
    // The fixtures' zstd:chunked archives (scripts/fixtures/build.py: skopeo made them), copied as
    // they are: compressing them here would cost skopeo about 2 s of CPU each.
    ...IMAGES.map((image) => skopeoCopy(`oci-archive:${join(FIXTURES, image, 'oci-archive-zstd-chunked.tar')}`, `docker://${reg.host}/${image}:chunked`)),
    // A zstd layer without the TOC annotations (skopeo copies the zstd fixture's blobs as they are).
    skopeoCopy(`oci-archive:${join(FIXTURES, 'layers/oci-archive-zstd.tar')}`, `docker://${reg.host}/plainzstd:v1`),
    skopeoCopy(`oci-archive:${join(FIXTURES, 'layers/oci-archive-zstd-chunked.tar')}`, `docker://${bad.host}/layers:chunked`),
    skopeoCopy(`oci-archive:${join(FIXTURES, 'names/oci-archive-zstd-chunked.tar')}`, `docker://${bad.host}/names:chunked`),
  ]);
});

test.after.always(async () => {
  await reg?.stop();
  await bad?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const home = () => mkdtempSync(join(work, 'home-'));

/** [offset, length] of a layer's TOC, from its annotation. */
const tocAt = (l: Layer): [number, number] => l.annotations![POSITION]!.split(':').map(Number) as [number, number];

/** The TOC as the zstd CLI decodes it from the registry's stored blob. */
function tocOf(r: Registry, l: Layer): TocEntry[] {
  const [off, len] = tocAt(l);
  const json = execFileSync('/usr/bin/zstd', ['-d', '-c', '-q'], { input: storedBlob(r, l.digest).subarray(off, off + len) });
  return (JSON.parse(json.toString()) as { entries: TocEntry[] | null }).entries ?? [];
}

for (const image of IMAGES) {
  rtest(`OCI-16 zstd:chunked: ${image} read through its TOCs flattens to the fixture's truth (and every step)`, async (t) => {
    const m = await manifestOf(reg, image, 'chunked');
    t.true(
      m.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+zstd' && l.annotations?.[CHECKSUM]),
      'skopeo wrote zstd:chunked layers',
    );
    const lazy = await loadLazy(`docker://${reg.host}/${image}:chunked`, { home: home() });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      // The manifest hashes every file: each is fetched by its frames and checked.
      t.is(view.manifest(), truth(image, 'rootfs.manifest'));
      for (let i = 1; i <= steps(image); i++) t.is(view.atLayer(i).manifest(), truth(image, `step-${i}.manifest`));
      // Frames are disjoint; a layer read whole (names: a non-UTF-8 name) costs its TOC and its blob, plus the 512-byte head the opener sniffs.
      const tocs = m.layers.reduce((s, l) => s + tocAt(l)[1], 0);
      t.true(lazy.transfer.fetchedBytes <= lazy.transfer.imageBytes + tocs + 512, 'never more than each byte once');
    } finally {
      view.close();
    }
  });
}

rtest('OCI-16 zstd:chunked: a TOC that names a file with U+FFFD (its tar name is not UTF-8) makes that layer read whole and verified', async (t) => {
  const m = await manifestOf(reg, 'names', 'chunked');
  const lossy = m.layers.filter((l) => tocOf(reg, l).some((e) => e.name.includes('\ufffd')));
  t.is(lossy.length, 1, 'skopeo wrote latin1-\\xe9.txt as latin1-\\ufffd.txt in one TOC');
  const lazy = await loadLazy(`docker://${reg.host}/names:chunked`, { home: home() });
  try {
    t.true(lazy.image.warnings.some((w) => /names "names\/latin1-\ufffd\.txt" with U\+FFFD .* read whole instead/.test(w)));
    const others = m.layers.filter((l) => l !== lossy[0]).reduce((s, l) => s + tocAt(l)[1], 0);
    const whole = m.bytes + m.config.size + others + tocAt(lossy[0]!)[1] + lossy[0]!.size;
    // (and the 512-byte head the layer opener sniffs for the compression before its pass)
    t.true(lazy.transfer.fetchedBytes >= whole && lazy.transfer.fetchedBytes <= whole + 512, `the TOCs, and that blob whole: ${lazy.transfer.fetchedBytes} for ${whole}`);
  } finally {
    lazy.image.close();
  }
});

rtest('OCI-16 zstd:chunked: a layer read whole because of its TOC is verified: a blob that does not hash to its digest is DIGEST_MISMATCH', async (t) => {
  const m = await manifestOf(bad, 'names', 'chunked');
  const l = m.layers.find((x) => tocOf(bad, x).some((e) => e.name.includes('\ufffd')))!;
  const file = blobFile(bad, l.digest);
  const blob = readFileSync(file);
  const original = Buffer.from(blob);
  t.teardown(() => writeFileSync(file, original));
  // The last byte is in the footer, a skippable frame: the blob still decompresses, to the same tar.
  blob[blob.length - 1]! ^= 0xff;
  writeFileSync(file, blob);
  const e = await t.throwsAsync(loadLazy(`docker://${bad.host}/names:chunked`, { home: home() }), { instanceOf: ArchiveError });
  t.is(e!.code, 'DIGEST_MISMATCH');
  t.regex(e!.message, new RegExp(`blob sha256 is sha256:[0-9a-f]{64}, expected ${l.digest}`));
  writeFileSync(file, original);
});

rtest('OCI-17 zstd:chunked: opening fetches the manifest, the config and each TOC; a cat fetches exactly that file’s frames', async (t) => {
  const m = await manifestOf(reg, 'layers', 'chunked');
  const tocBytes = m.layers.reduce((s, l) => s + tocAt(l)[1], 0);
  const lazy = await loadLazy(`docker://${reg.host}/layers:chunked`, { home: home() });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    const opened = lazy.transfer.fetchedBytes;
    t.is(opened, m.bytes + m.config.size + tocBytes, 'manifest + config + the TOCs, nothing else');
    t.log(`opening: ${opened} bytes (manifest ${m.bytes}, config ${m.config.size}, TOCs ${tocBytes}) of the image's ${lazy.transfer.imageBytes}`);
    t.deepEqual(view.fs.readdirSync('/opt/data').sort(), ['also-empty', 'blob.bin']);
    t.is(lazy.transfer.fetchedBytes, opened, 'listing reads the TOCs only');
    // blob.bin (64 KiB, split into chunks) as the base layer has it (later layers truncate it);
    // its frames as the stored TOC says.
    const base = m.layers[0]!;
    const entry = tocOf(reg, base).find((e) => e.name === 'opt/data/blob.bin' && e.type === 'reg')!;
    const step1 = view.atLayer(1);
    const data = step1.fs.readFileSync('/opt/data/blob.bin');
    t.is(`sha256:${createHash('sha256').update(data).digest('hex')}`, entry.digest!);
    const cat = lazy.transfer.fetchedBytes - opened;
    t.is(cat, entry.endOffset! - entry.offset!, "the file's frames [offset, endOffset), no more");
    t.log(`cat blob.bin (65536 bytes, chunked): ${cat} bytes of its ${base.size}-byte layer`);
    t.true(cat + tocAt(base)[1] < base.size, `TOC + frames (${tocAt(base)[1]} + ${cat}) are less than the ${base.size}-byte layer`);
    // A small file costs a small share of its layer.
    const before = lazy.transfer.fetchedBytes;
    const motd = tocOf(reg, base).find((e) => e.name === 'etc/motd')!;
    step1.fs.readFileSync('/etc/motd');
    t.is(lazy.transfer.fetchedBytes - before, motd.endOffset! - motd.offset!);
    t.true((motd.endOffset! - motd.offset! + tocAt(base)[1]) * 20 < base.size, 'a cat of /etc/motd fetches under 5% of its layer');
    step1.fs.readFileSync('/etc/motd');
    t.is(lazy.transfer.fetchedBytes - before, motd.endOffset! - motd.offset!, 'a file read again is not fetched again');
    // The layer's tar is the whole blob: not fetched behind the user's back, but refused with a hint.
    t.throws(() => readAll(lazy.image.layers[0]!.tar), { instanceOf: ArchiveError, message: /not fetched; `layerfs pull` the image first/ });
    t.is(lazy.transfer.fetchedBytes - before, motd.endOffset! - motd.offset!);
  } finally {
    view.close();
  }
});

rtest('OCI-17 zstd:chunked: a large file split into chunks is fetched by its frames once, checked, and kept in a spill file', async (t) => {
  const engine = await Engine.open({ home: home() });
  const rec = await engine.create(join(FIXTURES, 'layers/docker-archive.tar'), { name: 'big' });
  const c = await engine.open(rec.id);
  const big = randomBytes(6 << 20);
  c.fs.writeFileSync('/big.bin', big);
  const archive = join(work, 'big.tar');
  await c.view.commit(archive);
  await c.close();
  await skopeoCopy(`docker-archive:${archive}`, `docker://${reg.host}/big:chunked`, ['--dest-compress-format', 'zstd:chunked']);
  const m = await manifestOf(reg, 'big', 'chunked');
  const top = m.layers[m.layers.length - 1]!;
  const toc = tocOf(reg, top);
  const entry = toc.find((e) => e.name === 'big.bin' && e.type === 'reg')!;
  t.true(toc.filter((e) => e.name === 'big.bin' && e.type === 'chunk').length > 0, 'skopeo split it into chunks');
  const lazy = await loadLazy(`docker://${reg.host}/big:chunked`, { home: home() });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    const before = lazy.transfer.fetchedBytes;
    t.true(view.fs.readFileSync('/big.bin').equals(big), 'the bytes written');
    t.is(lazy.transfer.fetchedBytes - before, entry.endOffset! - entry.offset!, 'its frames, once');
    const piece = Buffer.alloc(4096);
    const fd = view.fs.openSync('/big.bin', 'r');
    view.fs.readSync(fd, piece, 0, piece.length, 5 << 20);
    view.fs.closeSync(fd);
    t.true(piece.equals(big.subarray(5 << 20, (5 << 20) + 4096)));
    t.is(lazy.transfer.fetchedBytes - before, entry.endOffset! - entry.offset!, 'a later read is served from the spill file');
    t.log(`big.bin: ${big.length} bytes, frames ${entry.endOffset! - entry.offset!} bytes of a ${top.size}-byte layer`);
  } finally {
    view.close();
  }
});

rtest('OCI-17 zstd:chunked: the CLI cat of one file reports TOCs + its frames as bytes fetched', async (t) => {
  const m = await manifestOf(reg, 'layers', 'chunked');
  const top = [...m.layers].reverse();
  let frames = 0;
  for (const l of top) {
    const e = tocOf(reg, l).find((x) => x.name === 'etc/motd' && x.type === 'reg');
    if (e) {
      frames = e.endOffset! - e.offset!;
      break;
    }
  }
  const expected = m.bytes + m.config.size + m.layers.reduce((s, l) => s + tocAt(l)[1], 0) + frames;
  const cli = await execFileP(process.execPath, [BIN, '--home', home(), 'cat', `docker://${reg.host}/layers:chunked`, '/etc/motd'], { encoding: 'utf8' });
  const motd = truth('layers', 'rootfs.manifest')
    .split('\n')
    .map((l) => l.split('\t'))
    .find((f) => f[0] === '/etc/motd')!;
  t.is(createHash('sha256').update(cli.stdout).digest('hex'), motd[6], "the file's bytes, as the truth hashes them");
  const line = /fetched (.+) of the image's (.+) \((\d+\.\d)%\)/.exec(cli.stderr);
  t.truthy(line, cli.stderr);
  t.is(line![1], humanSize(expected), `manifest + config + TOCs + the file's frames: ${expected} bytes`);
  t.true(Number(line![3]) < 10, `${line![3]}% of the image`);
  t.log(`CLI cat /etc/motd: ${expected} bytes fetched (${line![3]}% of the image)`);
});

rtest('OCI-18 zstd:chunked: a TOC that does not hash to its manifest-checksum is DIGEST_MISMATCH before any of it is used', async (t) => {
  const m = await manifestOf(bad, 'layers', 'chunked');
  const l = m.layers[1]!;
  const [off, len] = tocAt(l);
  const file = blobFile(bad, l.digest);
  const blob = readFileSync(file);
  const original = Buffer.from(blob);
  t.teardown(() => writeFileSync(file, original));
  blob[off + Math.floor(len / 2)]! ^= 0xff;
  writeFileSync(file, blob);
  const e = await t.throwsAsync(loadLazy(`docker://${bad.host}/layers:chunked`, { home: home() }), { instanceOf: ArchiveError });
  t.is(e!.code, 'DIGEST_MISMATCH');
  t.regex(e!.message, new RegExp(`zstd:chunked TOC at ${off}\\+${len}: sha256 is sha256:[0-9a-f]{64}, the manifest-checksum annotation is ${l.annotations![CHECKSUM]}`));
  writeFileSync(file, original);
});

/** A zstd frame of `size` copies of `byte` (one RLE block), then a skippable frame filling `total` bytes. */
function rleFrame(size: number, byte: number, total: number): Buffer {
  const fcs = Buffer.alloc(2);
  fcs.writeUInt16LE(size - 256);
  const v = 1 | (1 << 1) | (size << 3);
  const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x60]), fcs, Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, byte])]);
  const pad = Buffer.alloc(total - frame.length);
  pad.writeUInt32LE(0x184d2a50, 0);
  pad.writeUInt32LE(pad.length - 8, 4);
  return Buffer.concat([frame, pad]);
}

rtest('OCI-18 zstd:chunked: a file whose frames decode to other bytes is DIGEST_MISMATCH naming it, and no byte of it is returned', async (t) => {
  const m = await manifestOf(bad, 'layers', 'chunked');
  const l = m.layers[0]!;
  const entry = tocOf(bad, l).find((e) => e.name === 'etc/sapp.conf')!;
  t.true(entry.size! >= 256 && entry.endOffset! - entry.offset! >= 19, 'room for an RLE frame and a skippable one');
  const file = blobFile(bad, l.digest);
  const blob = readFileSync(file);
  const original = Buffer.from(blob);
  t.teardown(() => writeFileSync(file, original));
  // Valid zstd of the right size, other bytes: only the digest can tell.
  rleFrame(entry.size!, 0x41, entry.endOffset! - entry.offset!).copy(blob, entry.offset!);
  writeFileSync(file, blob);
  const lazy = await loadLazy(`docker://${bad.host}/layers:chunked`, { home: home() });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    // The base layer's sapp.conf (a later layer replaces it).
    const step1 = view.atLayer(1);
    t.is(step1.fs.statSync('/etc/sapp.conf').size, entry.size!, 'the TOC (intact) still lists it');
    const buf = Buffer.alloc(entry.size!);
    const fd = step1.fs.openSync('/etc/sapp.conf', 'r');
    const e = t.throws(() => step1.fs.readSync(fd, buf, 0, buf.length, 0)) as Error & { code?: string };
    step1.fs.closeSync(fd);
    t.true(
      buf.every((b) => b === 0),
      'nothing was written into the buffer',
    );
    t.regex(String(e.message), /file "etc\/sapp\.conf": its data's sha256 is sha256:[0-9a-f]{64}, the TOC says sha256:[0-9a-f]{64}/);
    t.throws(() => step1.fs.readFileSync('/etc/sapp.conf'), { message: /its data's sha256 is/ }, 'a second read fails the same way');
    t.true(step1.fs.readFileSync('/etc/motd', 'utf8').length > 0, 'other files still read');
  } finally {
    view.close();
    writeFileSync(file, original);
  }
});

rtest('OCI-16 zstd:chunked: a zstd layer without the TOC annotations is fetched whole and verified, as before', async (t) => {
  const m = await manifestOf(reg, 'plainzstd', 'v1');
  t.true(m.layers.every((l) => l.mediaType.endsWith('+zstd') && !l.annotations?.[CHECKSUM]));
  const h = home();
  const lazy = await loadLazy(`docker://${reg.host}/plainzstd:v1`, { home: h });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
    t.is(lazy.rangeRequests, 0);
    t.is(lazy.transfer.fetchedBytes, lazy.transfer.imageBytes, 'every blob fetched whole');
  } finally {
    view.close();
  }
});

test('OCI-16 zstd:chunked: the TOC annotations are both there or neither, four numbers of type 1, inside the blob', (t) => {
  const sum = `sha256:${'a'.repeat(64)}`;
  const opts = { file: 'img', context: 'layer 1/1: ' };
  t.is(tocPosition(undefined, 100, opts), undefined);
  t.is(tocPosition({ other: 'x' }, 100, opts), undefined);
  t.deepEqual(tocPosition({ [CHECKSUM]: sum, [POSITION]: '10:20:30:1' }, 100, opts), { offset: 10, length: 20, uncompressedLength: 30, checksum: sum });
  t.deepEqual(tocPosition({ 'io.github.containers.zstd-chunked.manifest-checksum': sum, 'io.github.containers.zstd-chunked.manifest-position': '10:20:30:1' }, 100, opts)?.offset, 10);
  for (const [a, msg] of [
    [{ [CHECKSUM]: sum }, /manifest-checksum without the other/],
    [{ [POSITION]: '10:20:30:1' }, /manifest-position without the other/],
    [{ [CHECKSUM]: 'md5:00', [POSITION]: '10:20:30:1' }, /manifest-checksum is "md5:00"/],
    [{ [CHECKSUM]: sum, [POSITION]: '10:20:30' }, /expected offset:length:uncompressedLength:type/],
    [{ [CHECKSUM]: sum, [POSITION]: '10:20:30:2' }, /TOC type 2/],
    [{ [CHECKSUM]: sum, [POSITION]: '90:20:30:1' }, /not inside the 100-byte blob/],
  ] as const) {
    const e = t.throws(() => tocPosition(a, 100, opts), { instanceOf: ArchiveError, message: msg });
    t.is(e!.code, 'BAD_MANIFEST');
  }
});
