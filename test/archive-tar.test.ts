/**
 * Tar level: the header codec, the header-seek walker and layer tar → entries, checked against the
 * fixtures' `truth/layers.entries` (written by Python's tarfile, not by this project) and against
 * tars built here with tar-stream and GNU tar.
 */
import test from 'ava';
import { esc } from '../src/out/manifest.js';
import { FIXTURES, FORMATS, IMAGES } from './helpers/fixtures.js';
import { tarOf } from './helpers/tar.js';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSource, type ByteSource } from '../src/source.js';
import { checkChecksum, decodeHeader, decodeName, nameBytes } from '../src/archive/tar-header.js';
import { indexTar, paxTime, type TarMember } from '../src/archive/tar-index.js';
import { readLayer } from '../src/layer/read.js';
import { loadImage, type LoadedImage } from '../src/image/index.js';

interface TruthLayer {
  diffId: string;
  count: number;
  rows: string[];
}

/** `## layer N file=<hex>.tar entries=M` then one tab-separated row per raw member. */
function truthLayers(image: string): TruthLayer[] {
  const layers: TruthLayer[] = [];
  for (const line of readFileSync(join(FIXTURES, image, 'truth/layers.entries'), 'utf8').split('\n')) {
    const h = /^## layer \d+ file=([0-9a-f]{64})\.tar entries=(\d+)$/.exec(line);
    if (h) layers.push({ diffId: `sha256:${h[1]}`, count: Number(h[2]), rows: [] });
    else if (line !== '') layers[layers.length - 1].rows.push(line);
  }
  return layers;
}

/** A raw member in the truth's columns; the whiteout column comes from the entry read.ts made. */
function row(m: TarMember, kind: string): string {
  let name = nameBytes(m.name);
  while (name.length > 1 && name[name.length - 1] === 0x2f) name = name.subarray(0, name.length - 1);
  // The keywords in force: a deleted one (empty value) is not listed, nor is an empty xattr.
  const pax = [...(m.pax ?? new Map<string, string | Buffer>())]
    .filter(([, v]) => v.length > 0)
    .map(([k]) => k)
    .sort()
    .map((k) => (k.startsWith('SCHILY.xattr.') ? `${k}=0x${m.xattrs![k.slice(13)].toString('hex')}` : k));
  return [esc(name), m.typeflag, m.mode.toString(8).padStart(4, '0'), m.uid, m.gid, m.size, m.linkname === '' ? '-' : esc(nameBytes(m.linkname)), kind, pax.length ? pax.join(',') : '-'].join('\t');
}

function checkAgainstTruth(t: import('ava').ExecutionContext, img: LoadedImage, image: string): void {
  const truth = truthLayers(image);
  t.is(img.layers.length, truth.length, 'layer count');
  img.layers.forEach((layer, i) => {
    t.is(layer.diffId, truth[i].diffId, `layer ${i + 1} diff_id`);
    const members = indexTar(layer.tar, { file: img.file });
    t.is(members.length, truth[i].count, `layer ${i + 1} member count`);
    // The fixtures hold no duplicate paths or aufs metadata, so entries and members pair up.
    t.is(layer.entries.length, members.length, `layer ${i + 1}: one entry per member`);
    const rows = members.map((m, j) => {
      const type = layer.entries[j].type;
      return row(m, type === 'whiteout' || type === 'opaque' ? type : '-');
    });
    t.deepEqual(rows, truth[i].rows, `layer ${i + 1} raw members`);
  });
}

for (const image of IMAGES) {
  for (const format of FORMATS) {
    test(`DA-3 raw tar members of ${image}/${format} equal truth/layers.entries (names, PAX, GNU long names, OCI-5/7 markers)`, async (t) => {
      const img = await loadImage(join(FIXTURES, image, format));
      t.teardown(() => img.close());
      checkAgainstTruth(t, img, image);
    });
  }
}

test('DA-1 oci-layout-multi.tar ref "latest": raw members equal umoci truth', async (t) => {
  const img = await loadImage(join(FIXTURES, 'umoci/oci-layout-multi.tar'), { tag: 'latest' });
  t.teardown(() => img.close());
  checkAgainstTruth(t, img, 'umoci');
});

for (const [tag, image] of [
  ['localhost/layers:latest', 'layers'],
  ['volumes', 'volumes'],
]) {
  test(`DA-1 docker-archive-multi.tar tag ${tag}: raw members equal ${image} truth`, async (t) => {
    const img = await loadImage(join(FIXTURES, 'multi-image/docker-archive-multi.tar'), { tag });
    t.teardown(() => img.close());
    checkAgainstTruth(t, img, image);
  });
}

// ---- header codec ----------------------------------------------------------------------------

/** Rewrites a header's checksum field after a test edited it (a plain unsigned byte sum). */
function reseal(buf: Buffer, off: number, signed = false): void {
  buf.fill(0x20, off + 148, off + 156);
  let sum = 0;
  for (let i = off; i < off + 512; i++) sum += signed && buf[i] >= 0x80 ? buf[i] - 256 : buf[i];
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', off + 148, 'latin1');
}

test('DA-3 GNU base-256 numeric fields are decoded (uid 2^40, negative mtime)', async (t) => {
  const tar = await tarOf([{ header: { name: 'f', size: 1 }, body: 'x' }]);
  const uid = 2 ** 40;
  tar[108] = 0x80;
  tar.fill(0, 109, 116);
  tar.writeUIntBE(uid, 110, 6);
  tar.fill(0xff, 136, 148); // -1 in two's complement
  reseal(tar, 0);
  const h = decodeHeader(tar, 0);
  t.is(h.uid, uid);
  t.is(h.mtime, -1);
  t.is(h.size, 1);
});

test('DA-3 a checksum computed over signed bytes is accepted, as historic tars wrote it', async (t) => {
  const tar = await tarOf([{ header: { name: 'f', uname: 'ééé', size: 0 } }]);
  reseal(tar, 0, true);
  t.is(decodeHeader(tar, 0).uname, 'ééé');
});

test('DA-3 the checksum is the plain sum of the header bytes, at any alignment (word-wise sum vs byte loop)', (t) => {
  const plain = (b: Uint8Array): number => {
    let sum = 8 * 0x20;
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += b[i];
    return sum;
  };
  // A stored value above the unsigned sum can match neither it nor the signed sum (never larger).
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 512, maxLength: 512 }), fc.integer({ min: 0, max: 7 }), fc.nat(3), (bytes, shift, off) => {
      const block = Buffer.from(bytes);
      block.write((plain(block) + off).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
      const backing = new Uint8Array(new ArrayBuffer(512 + 16));
      backing.set(block, shift);
      return (checkChecksum(backing, shift) === undefined) === (off === 0);
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('DA-3 PAX mtime follows the POSIX grammar [-]digits[.digits], read to the millisecond', (t) => {
  const grammar = (v: string): number | 'BAD' => {
    const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(v);
    if (!m) return 'BAD';
    const ms = Number(m[2]) * 1000 + Number(((m[3] ?? '') + '000').slice(0, 3));
    return m[1] ? -ms : ms;
  };
  fc.assert(
    fc.property(fc.stringMatching(/^[-0-9.x ]{0,12}$/), (v) => {
      let got: number | 'BAD';
      try {
        got = paxTime(v);
      } catch {
        got = 'BAD';
      }
      const want = grammar(v);
      return got === want || (got === 0 && want === 0);
    }),
    { numRuns: 5000 },
  );
  t.is(paxTime('1795756383.85440043'), 1795756383854);
});

test('uname and gname are decoded header by header: a recurring name is reused only for the same bytes', async (t) => {
  const names = [Buffer.from('root'), Buffer.from('é'), Buffer.from([0xe9]), Buffer.from('root'), Buffer.from('roo'), Buffer.from([0xc3, 0xa9])];
  const tar = await tarOf(names.map((_, i) => ({ header: { name: `f${i}`, size: 0 } })));
  names.forEach((n, i) => {
    for (const field of [265, 297]) {
      tar.fill(0, i * 512 + field, i * 512 + field + 32);
      n.copy(tar, i * 512 + field);
    }
    reseal(tar, i * 512);
  });
  const members = indexTar(new BufferSource(tar), { file: 'u.tar' });
  const want = names.map((n) => decodeName(n));
  t.deepEqual(want, ['root', 'é', '\udce9', 'root', 'roo', 'é']);
  t.deepEqual(
    members.map((m) => m.uname),
    want,
  );
  t.deepEqual(
    members.map((m) => m.gname),
    want,
  );
});

test('names: any bytes survive decodeName → nameBytes (invalid UTF-8 kept as U+DC80+byte)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      return Buffer.compare(nameBytes(decodeName(bytes)), Buffer.from(bytes)) === 0;
    }),
    { numRuns: 500 },
  );
  t.is(decodeName(Buffer.from('latin1-\xe9.txt', 'latin1')), 'latin1-\udce9.txt');
  t.is(decodeName(Buffer.from('emoji-🐳.txt')), 'emoji-🐳.txt');
});

test('DA-3 PAX global header (g) applies to every following member', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd/f'), 'hi\n');
  execFileSync('tar', ['--format=pax', '--pax-option=uid=4242,comment=hello', '-cf', join(dir, 'g.tar'), '-C', dir, 'd']);
  const members = indexTar(new BufferSource(readFileSync(join(dir, 'g.tar'))), { file: 'g.tar' });
  t.deepEqual(
    members.map((m) => m.name),
    ['d/', 'd/f'],
  );
  for (const m of members) {
    t.is(m.uid, 4242);
    t.is(m.pax?.get('comment'), 'hello');
  }
});

test('end of archive: one zero block suffices; no zero blocks at a member boundary is accepted with a warning', async (t) => {
  const tar = await tarOf([{ header: { name: 'a', size: 3 }, body: 'abc' }]);
  const oneZero = tar.subarray(0, tar.length - 512);
  const warnings: string[] = [];
  t.deepEqual(
    indexTar(new BufferSource(oneZero), { file: 'one.tar', onWarning: (m) => warnings.push(m) }).map((m) => m.name),
    ['a'],
  );
  t.deepEqual(warnings, []);
  const none = tar.subarray(0, tar.length - 1024);
  t.deepEqual(
    indexTar(new BufferSource(none), { file: 'none.tar', onWarning: (m) => warnings.push(m) }).map((m) => m.name),
    ['a'],
  );
  t.is(warnings.length, 1);
  t.regex(warnings[0], /none\.tar.*without the zero blocks/);
});

test('indexing seeks over member data instead of reading it', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024, 7);
  const tar = await tarOf([
    { header: { name: 'big1', size: big.length }, body: big },
    { header: { name: 'small', size: 5 }, body: 'small' },
    { header: { name: 'big2', size: big.length }, body: big },
  ]);
  let bytesRead = 0;
  const inner = new BufferSource(tar);
  const counting: ByteSource = {
    size: inner.size,
    read(b, o, l, p) {
      const n = inner.read(b, o, l, p);
      bytesRead += n;
      return n;
    },
  };
  const members = indexTar(counting, { file: 'big.tar' });
  t.deepEqual(
    members.map((m) => [m.name, m.size]),
    [
      ['big1', big.length],
      ['small', 5],
      ['big2', big.length],
    ],
  );
  t.true(bytesRead < 128 * 1024, `read ${bytesRead} bytes of a ${tar.length}-byte archive`);
});

// ---- layer tar → entries ---------------------------------------------------------------------

test('OCI-12/OCI-5/OCI-7/OCI-10/OCI-13 layer members become normalised entries', async (t) => {
  const tar = await tarOf([
    { header: { name: './', type: 'directory' } },
    { header: { name: './a/', type: 'directory', mode: 0o750 } },
    { header: { name: 'a/f', size: 5, pax: { 'SCHILY.xattr.user.k': 'v1' } }, body: 'first' },
    { header: { name: 'a/f', size: 6 }, body: 'second' },
    { header: { name: 'a/.wh..wh..opq', size: 0 } },
    { header: { name: 'a/.wh.gone', type: 'link', linkname: 'a/f' } },
    { header: { name: './a/hl', type: 'link', linkname: './a/f' } },
    { header: { name: 'a/sym', type: 'symlink', linkname: '../outside/x' } },
    { header: { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 } },
    { header: { name: 'x/../p', type: 'fifo' } },
  ]);
  const warnings: string[] = [];
  const entries = readLayer(new BufferSource(tar), { file: 'l.tar', onWarning: (m) => warnings.push(m) });
  t.deepEqual(
    entries.map((e) => [e.path, e.type, e.linkname]),
    [
      ['', 'dir', undefined],
      ['a', 'dir', undefined],
      ['a/f', 'file', undefined], // OCI-10: the second 'a/f' wins
      ['a', 'opaque', undefined], // OCI-7
      ['a/gone', 'whiteout', undefined], // OCI-5: leftover linkname dropped
      ['a/hl', 'hardlink', 'a/f'], // target normalised
      ['a/sym', 'symlink', '../outside/x'], // symlink target raw
      ['dev/null', 'char', undefined],
      ['p', 'fifo', undefined],
    ],
  );
  t.is(entries[1].mode, 0o750);
  const f = entries[2];
  t.is(f.size, 6);
  t.is(Buffer.from(readAllOf(f.content!)).toString(), 'second');
  t.is(f.xattrs, undefined, 'the surviving a/f had no xattrs');
  t.deepEqual([entries[7].devmajor, entries[7].devminor], [1, 3]);
  t.is(warnings.length, 1);
  t.regex(warnings[0], /l\.tar.*duplicate entry "a\/f".*OCI-10/);
});

test('OCI-13 xattrs come from PAX SCHILY.xattr.* as raw bytes', async (t) => {
  const tar = await tarOf([{ header: { name: 'f', size: 1, pax: { 'SCHILY.xattr.user.origin': 'shar-layer1' } }, body: 'x' }]);
  const [e] = readLayer(new BufferSource(tar), { file: 'x.tar' });
  t.deepEqual(e.xattrs, { 'user.origin': Buffer.from('shar-layer1') });
});

function readAllOf(src: ByteSource): Buffer {
  const b = Buffer.alloc(src.size);
  src.read(b, 0, b.length, 0);
  return b;
}
