/**
 * eStargz layers read lazily from a registry through their tables of contents
 * (src/archive/estargz.ts, toc.ts, layer/chunked.ts, registry/lazy.ts), against Debian's
 * docker-registry filled by skopeo with the fixtures' eStargz archives (made by containerd's
 * `ctr-remote image convert --estargz`, scripts/fixtures/estargz.py). Expected trees are podman's
 * view of the same archives (truth/estargz-rootfs.manifest); expected TOCs are what GNU tar reads
 * from the stored blobs; byte counts are the registry's blob sizes.
 */
import test from 'ava';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ArchiveError, Engine, openImage, View } from '../src/index.js';
import { FOOTER_SIZE, footerOffset } from '../src/archive/estargz.js';
import { loadLazy } from '../src/registry/lazy.js';
import { humanSize } from '../src/cli/output.js';
import { FIXTURES, truth, REGISTRY_IMAGES } from './helpers/fixtures.js';
import { blobFile, manifestOf, registryMissing, skopeoCopy, startRegistry, storedBlob, type Descriptor, type Registry } from './helpers/registry.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const missing = registryMissing();
if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPING test/registry-estargz.test.ts: ${missing} ***\n\n`);
const rtest = missing && process.env.CI !== 'true' ? test.skip : test.serial;

const IMAGES = REGISTRY_IMAGES;
const TOC_DIGEST = 'containerd.io/snapshot/stargz/toc.digest';

let reg: Registry;
let bad: Registry;
let work: string;

type Layer = Descriptor;
interface TocEntry {
  type: string;
  name: string;
  size?: number;
  offset?: number;
  digest?: string;
}

test.before(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`the registry tests need ${missing}`);
    return;
  }
  work = mkdtempSync(join(tmpdir(), 'layerfs-estargz-test-'));
  [reg, bad] = await Promise.all([startRegistry(), startRegistry()]);
  await Promise.all([
    ...IMAGES.map((image) => skopeoCopy(`oci-archive:${join(FIXTURES, image, 'oci-archive-estargz.tar')}`, `docker://${reg.host}/${image}:esgz`)),
    skopeoCopy(`oci-archive:${join(FIXTURES, 'layers/oci-archive-estargz.tar')}`, `docker://${bad.host}/layers:esgz`),
  ]);
});

test.after.always(async () => {
  await reg?.stop();
  await bad?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const home = () => mkdtempSync(join(work, 'home-'));

/** Where the TOC member starts: the footer's 16 hex digits before "STARGZ". */
function tocOffset(blob: Buffer): number {
  const m = /([0-9a-f]{16})STARGZ/.exec(blob.subarray(blob.length - FOOTER_SIZE).toString('latin1'));
  return Number.parseInt(m![1]!, 16);
}

/** The TOC as GNU tar reads it from the registry's stored blob. */
function tocOf(r: Registry, l: Layer): TocEntry[] {
  const json = execFileSync('tar', ['-xzOf', '-', 'stargz.index.json'], { input: storedBlob(r, l.digest) });
  return (JSON.parse(json.toString()) as { entries: TocEntry[] }).entries;
}

/** A file's data in the blob: from its offset to the next data offset the TOC names (or the TOC). */
function dataRange(r: Registry, l: Layer, name: string): [number, number] {
  const toc = tocOf(r, l);
  const blob = storedBlob(r, l.digest);
  const offsets = toc.filter((e) => e.offset !== undefined && (e.type === 'reg' || e.type === 'chunk') && (e.size ?? 1) > 0).map((e) => e.offset!);
  const own = toc.filter((e) => e.name === name && (e.type === 'reg' || e.type === 'chunk')).map((e) => e.offset!);
  const last = Math.max(...own);
  const next = Math.min(tocOffset(blob), ...offsets.filter((o) => o > last));
  return [Math.min(...own), next];
}

/**
 * `plain` gzipped (GNU gzip -9) into exactly `length` bytes, its header's extra field taking up
 * the slack; undefined when gzip's output is not at least 2 bytes shorter.
 */
function repack(plain: Buffer, length: number): Buffer | undefined {
  const z = execFileSync('gzip', ['-c', '-n', '-9'], { input: plain });
  const slack = length - z.length - 2;
  if (slack < 0 || z[3] !== 0) return undefined;
  const head = Buffer.from(z.subarray(0, 10));
  head[3] = 4;
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(slack);
  return Buffer.concat([head, xlen, Buffer.alloc(slack, 0x20), z.subarray(10)]);
}

for (const image of IMAGES) {
  rtest(`OCI-23 eStargz: ${image} read through its TOCs flattens to what podman shows of it`, async (t) => {
    const m = await manifestOf(reg, image, 'esgz');
    t.true(
      m.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip' && l.annotations?.[TOC_DIGEST]),
      'ctr-remote wrote eStargz layers',
    );
    const lazy = await loadLazy(`docker://${reg.host}/${image}:esgz`, { home: home() });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      // The manifest hashes every file: each is fetched by its members and checked.
      t.is(view.manifest(), truth(image, 'estargz-rootfs.manifest'));
      // A layer read whole (names: a non-UTF-8 name) costs its footer and TOC and its blob, plus the 512-byte head the opener sniffs.
      const tocs = m.layers.reduce((s, l) => s + (l.size - tocOffset(storedBlob(reg, l.digest))), 0);
      t.true(lazy.transfer.fetchedBytes <= lazy.transfer.imageBytes + 512 + tocs, 'never more than each byte once');
    } finally {
      view.close();
    }
  });
}

rtest('OCI-23 eStargz: a pulled eStargz image (read whole, as gzip) shows what the lazy view and podman show', async (t) => {
  const engine = await Engine.open({ home: home() });
  const r = await engine.pull(`docker://${reg.host}/layers:esgz`);
  const { path, tag } = engine.state.imageSource(r.image);
  const view = await openImage(path, { tag });
  try {
    t.is(view.manifest(), truth('layers', 'estargz-rootfs.manifest'));
  } finally {
    view.close();
  }
});

rtest('OCI-23 eStargz: a TOC that names a file with U+FFFD (its tar name is not UTF-8) makes that layer read whole and verified', async (t) => {
  const m = await manifestOf(reg, 'names', 'esgz');
  const lossy = m.layers.filter((l) => tocOf(reg, l).some((e) => e.name.includes('\ufffd')));
  t.is(lossy.length, 1, 'the converter wrote latin1-\\xe9.txt as latin1-\\ufffd.txt in one TOC');
  const lazy = await loadLazy(`docker://${reg.host}/names:esgz`, { home: home() });
  try {
    t.true(lazy.image.warnings.some((w) => /eStargz TOC names "names\/latin1-\ufffd\.txt" with U\+FFFD .* read whole instead/.test(w)));
  } finally {
    lazy.image.close();
  }
});

rtest('OCI-24 eStargz: opening fetches the manifest, the config, each footer and TOC; a cat fetches that file’s members only', async (t) => {
  const m = await manifestOf(reg, 'layers', 'esgz');
  const tocBytes = m.layers.reduce((s, l) => s + (l.size - tocOffset(storedBlob(reg, l.digest))), 0);
  const lazy = await loadLazy(`docker://${reg.host}/layers:esgz`, { home: home() });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    const opened = lazy.transfer.fetchedBytes;
    t.is(opened, m.bytes + m.config.size + tocBytes, 'manifest + config + footers and TOC members, nothing else');
    t.deepEqual(view.fs.readdirSync('/opt/data').sort(), ['also-empty', 'blob.bin']);
    t.is(lazy.transfer.fetchedBytes, opened, 'listing reads the TOCs only');
    // blob.bin (64 KiB, in 16 KiB chunks) as the base layer has it.
    const base = m.layers[0]!;
    t.true(tocOf(reg, base).filter((e) => e.name === 'opt/data/blob.bin' && e.type === 'chunk').length >= 3, 'split into chunks');
    const entry = tocOf(reg, base).find((e) => e.name === 'opt/data/blob.bin' && e.type === 'reg')!;
    const data = view.atLayer(1).fs.readFileSync('/opt/data/blob.bin');
    t.is(`sha256:${createHash('sha256').update(data).digest('hex')}`, entry.digest!);
    const [from, to] = dataRange(reg, base, 'opt/data/blob.bin');
    t.is(lazy.transfer.fetchedBytes - opened, to - from, "the file's members, from its first chunk to the next data");
    const before = lazy.transfer.fetchedBytes;
    view.atLayer(1).fs.readFileSync('/etc/motd');
    const [a, b] = dataRange(reg, base, 'etc/motd');
    t.is(lazy.transfer.fetchedBytes - before, b - a);
    t.true((b - a) * 20 < base.size, 'a cat of /etc/motd fetches under 5% of its layer');
    t.throws(() => lazy.image.layers[0]!.tar.read(Buffer.alloc(1), 0, 1, 0), { instanceOf: ArchiveError, message: /eStargz layer .* not fetched; `layerfs pull` the image first/ });
  } finally {
    view.close();
  }
});

rtest('OCI-24 eStargz: the CLI cat of one file reports the TOCs and its members as bytes fetched', async (t) => {
  const m = await manifestOf(reg, 'layers', 'esgz');
  let members = 0;
  for (const l of [...m.layers].reverse()) {
    if (tocOf(reg, l).some((e) => e.name === 'etc/motd' && e.type === 'reg')) {
      const [a, b] = dataRange(reg, l, 'etc/motd');
      members = b - a;
      break;
    }
  }
  const expected = m.bytes + m.config.size + m.layers.reduce((s, l) => s + (l.size - tocOffset(storedBlob(reg, l.digest))), 0) + members;
  const cli = await execFileP(process.execPath, [BIN, '--home', home(), 'cat', `docker://${reg.host}/layers:esgz`, '/etc/motd'], { encoding: 'utf8' });
  const motd = truth('layers', 'estargz-rootfs.manifest')
    .split('\n')
    .map((l) => l.split('\t'))
    .find((f) => f[0] === '/etc/motd')!;
  t.is(createHash('sha256').update(cli.stdout).digest('hex'), motd[6]);
  const line = /fetched (.+) of the image's (.+) \((\d+\.\d)%\)/.exec(cli.stderr);
  t.truthy(line, cli.stderr);
  t.is(line![1], humanSize(expected));
});

rtest('OCI-25 eStargz: a TOC that does not hash to its annotation is DIGEST_MISMATCH before any of it is used', async (t) => {
  const m = await manifestOf(bad, 'layers', 'esgz');
  // A TOC of other content, the same length: a layer's TOC member re-gzipped with one entry's mode changed.
  for (const l of m.layers) {
    const file = blobFile(bad, l.digest);
    const blob = readFileSync(file);
    const off = tocOffset(blob);
    const tar = execFileSync('gzip', ['-dc'], { input: blob.subarray(off, blob.length - FOOTER_SIZE) });
    const at = tar.indexOf('"mode":');
    tar[at + 8] = tar[at + 8] === 0x31 ? 0x32 : 0x31;
    const member = repack(tar, blob.length - FOOTER_SIZE - off);
    if (!member) continue;
    const original = Buffer.from(blob);
    t.teardown(() => writeFileSync(file, original));
    member.copy(blob, off);
    writeFileSync(file, blob);
    const e = await t.throwsAsync(loadLazy(`docker://${bad.host}/layers:esgz`, { home: home() }), { instanceOf: ArchiveError });
    t.is(e!.code, 'DIGEST_MISMATCH');
    t.regex(e!.message, new RegExp(`eStargz TOC at ${off}: sha256 is sha256:[0-9a-f]{64}, the ${TOC_DIGEST.replace(/\./g, '\\.')} annotation is ${l.annotations![TOC_DIGEST]}`));
    writeFileSync(file, original);
    return;
  }
  t.fail('no layer whose TOC re-gzips shorter');
});

rtest('OCI-25 eStargz: a file whose members inflate to other bytes is DIGEST_MISMATCH naming it, and no byte of it is returned', async (t) => {
  const m = await manifestOf(bad, 'layers', 'esgz');
  const l = m.layers[0]!;
  const file = blobFile(bad, l.digest);
  const blob = readFileSync(file);
  // A file's member inflated, one byte of the file changed, gzipped again to the same length.
  for (const name of ['etc/motd', 'etc/passwd', 'etc/sapp.conf']) {
    const [from, to] = dataRange(bad, l, name);
    const plain = execFileSync('gzip', ['-dc'], { input: blob.subarray(from, to) });
    plain[10] ^= 0x20;
    const member = repack(plain, to - from);
    if (!member) continue;
    const original = Buffer.from(blob);
    t.teardown(() => writeFileSync(file, original));
    member.copy(blob, from);
    writeFileSync(file, blob);
    const lazy = await loadLazy(`docker://${bad.host}/layers:esgz`, { home: home() });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      const step1 = view.atLayer(1);
      const size = step1.fs.statSync(`/${name}`).size;
      const buf = Buffer.alloc(size);
      const fd = step1.fs.openSync(`/${name}`, 'r');
      const e = t.throws(() => step1.fs.readSync(fd, buf, 0, buf.length, 0)) as Error;
      step1.fs.closeSync(fd);
      t.true(
        buf.every((b) => b === 0),
        'nothing was written into the buffer',
      );
      t.regex(String(e.message), new RegExp(`file "${name.replace(/\./g, '\\.')}": its data's sha256 is sha256:[0-9a-f]{64}, the TOC says sha256:[0-9a-f]{64}`));
      t.throws(() => step1.fs.readFileSync(`/${name}`), { message: /its data's sha256 is/ }, 'a second read fails the same way');
      t.true(step1.fs.readFileSync('/opt/data/blob.bin').length > 0, 'other files still read');
    } finally {
      view.close();
      writeFileSync(file, original);
    }
    return;
  }
  t.fail('no file whose member re-gzips shorter');
});

test('OCI-23 eStargz: the footer is one gzip header whose extra field holds 16 hex digits and STARGZ', (t) => {
  const opts = { file: 'img', context: 'layer 1/1: ' };
  const footer = (text: string, xlen = 26, sub = 'SG') => {
    const b = Buffer.alloc(FOOTER_SIZE);
    Buffer.from([0x1f, 0x8b, 8, 4]).copy(b);
    b.writeUInt16LE(xlen, 10);
    b.write(sub, 12, 'latin1');
    b.writeUInt16LE(22, 14);
    b.write(text, 16, 'latin1');
    return b;
  };
  t.is(footerOffset(footer('0000000000011974STARGZ'), 100_000, opts), 0x11974);
  for (const [b, msg, size] of [
    [footer('0000000000011974STARGZ'), /not before the footer of the 1000-byte blob/, 1000],
    [footer('000000000001197xSTARGZ'), /expected 16 hex digits and "STARGZ"/, 100_000],
    [footer('0000000000011974STARGZ', 24), /not one 22-byte "SG" subfield/, 100_000],
    [footer('0000000000011974STARGZ', 26, 'XX'), /not one 22-byte "SG" subfield/, 100_000],
    [Buffer.alloc(FOOTER_SIZE), /not a gzip header with an extra field/, 100_000],
  ] as const) {
    const e = t.throws(() => footerOffset(b, size, opts), { instanceOf: ArchiveError, message: msg });
    t.is(e!.code, 'BAD_HEADER');
  }
});
