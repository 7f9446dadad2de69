/**
 * The gzip random-access index (src/archive/gzip-index.ts), OCI-19..21, against GNU gzip and pigz as
 * ground truth: files they compress (levels 1, 6, 9; pigz's; several members `cat`ed together) are
 * indexed in one pass whose output is `gzip -dc`'s, and seeded random reads through the index,
 * many of them across span edges, equal `gzip -dc`'s bytes there. A flipped byte of the blob is
 * DIGEST_MISMATCH, a flipped or cut index BAD_INDEX, a cut or padded blob what gzip also refuses.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GzipIndexer, GzipIndexSource, parseGzipIndex, serializeGzipIndex, SPAN, type GzipIndex } from '../src/archive/gzip-index.js';
import { ArchiveError } from '../src/core/errors.js';
import { BufferSource } from '../src/source.js';
import { mulberry32 } from './helpers/random.js';
import { requireOrSkip } from './helpers/require.js';

const dir = mkdtempSync(join(tmpdir(), 'layerfs-gzi-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const hasPigz = spawnSync('pigz', ['--version']).status === 0;

const rng = mulberry32;

/** Input that compresses unevenly: text, runs, random bytes (stored blocks), in pieces. */
function content(size: number, seed: number): Buffer {
  const r = rng(seed);
  const parts: Buffer[] = [];
  let n = 0;
  while (n < size) {
    const kind = Math.floor(r() * 3);
    const len = Math.min(size - n, 1 + Math.floor(r() * 200_000));
    const b = kind === 0 ? randomBytes(len) : kind === 1 ? Buffer.alloc(len, Math.floor(r() * 256)) : Buffer.from(`line ${n} ${'layerfs '.repeat(len >> 3)}`).subarray(0, len);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts);
}

const plain = content(3 << 20, 1);
const other = content(700_000, 2);

function tool(cmd: string, args: string[], input: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 30 });
}
const gunzip = (blob: Uint8Array): Buffer => tool('gzip', ['-dc'], blob);
/** Whether GNU gzip decompresses `blob` without an error to exactly `want`. */
const gunzipsTo = (blob: Uint8Array, want: Buffer): boolean => {
  const r = spawnSync('gzip', ['-dc'], { input: blob, maxBuffer: 1 << 30 });
  return r.status === 0 && r.stdout.equals(want);
};

/** The blobs under test, each made by a real tool. */
function producers(): [string, Buffer][] {
  const list: [string, Buffer][] = [
    ['gzip -1', tool('gzip', ['-1', '-c'], plain)],
    ['gzip -6', tool('gzip', ['-6', '-c'], plain)],
    ['gzip -9', tool('gzip', ['-9', '-c'], plain)],
    // `cat a.gz b.gz c.gz`: three members; the middle one smaller than a span.
    ['cat of three gzip members', Buffer.concat([tool('gzip', ['-c'], plain), tool('gzip', ['-1', '-c'], other), tool('gzip', ['-9', '-c'], plain.subarray(0, 1 << 20))])],
    // Members far smaller than a span: spans run across members (trailer, next header).
    ['cat of forty small members', Buffer.concat(Array.from({ length: 40 }, (_, i) => tool('gzip', ['-c'], other.subarray(i * 17_000, i * 17_000 + 17_000 + i))))],
    ['gzip of nothing', tool('gzip', ['-c'], Buffer.alloc(0))],
  ];
  if (hasPigz) list.push(['pigz', tool('pigz', ['-c', '-p', '2'], plain)]);
  return list;
}

/** Index `blob` fed in chunks of uneven sizes; the output chunks joined. */
function index(blob: Uint8Array, span: number, file = 'test.gz'): { out: Buffer; index: GzipIndex } {
  const r = rng(blob.length);
  const ix = new GzipIndexer(file, span);
  const out: Buffer[] = [];
  for (let at = 0; at < blob.length; ) {
    const n = 1 + Math.floor(r() * 100_000);
    for (const c of ix.push(blob.subarray(at, at + n))) out.push(Buffer.from(c));
    at += n;
  }
  return { out: Buffer.concat(out), index: ix.end() };
}

const SMALL_SPAN = 128 << 10;

test('OCI-19 one pass gives gzip -dc output and checkpoints every span at block ends', (t) => {
  if (!requireOrSkip(t, !hasPigz && 'pigz (apt-get install pigz)')) return;
  for (const [name, blob] of producers()) {
    const truth = gunzip(blob);
    for (const span of [SMALL_SPAN, SPAN]) {
      const { out, index: ix } = index(blob, span);
      t.true(out.equals(truth), `${name}: output equals gzip -dc`);
      t.is(ix.size, truth.length, name);
      t.is(ix.blobSize, blob.length, name);
      t.is(ix.points[0].out, 0, `${name}: the first checkpoint is where the data starts`);
      t.is(ix.points[0].window.length, 0, name);
      for (let i = 1; i < ix.points.length; i++) {
        const [a, b] = [ix.points[i - 1], ix.points[i]];
        t.true(b.out - a.out >= span, `${name}: span ${i - 1} has at least ${span} bytes`);
        t.true(b.window.length <= 32768 && b.bits <= 7, name);
        // The window is the output just before the checkpoint.
        t.true(Buffer.from(b.window).equals(truth.subarray(b.out - b.window.length, b.out)), `${name}: window of checkpoint ${i}`);
      }
      if (span === SMALL_SPAN && truth.length > 4 * span) t.true(ix.points.length >= truth.length / span / 2, `${name}: ${ix.points.length} checkpoints`);
    }
  }
});

test('OCI-19 a checkpoint at a later member start has no window', (t) => {
  // A first member a little over one span: its only block end past a span is its last block's, so
  // the next checkpoint is right after the second member's header.
  const a = tool('gzip', ['-c'], plain.subarray(0, SMALL_SPAN + 5));
  const b = tool('gzip', ['-c'], plain.subarray(0, 1 << 20));
  const { index: ix } = index(Buffer.concat([a, b]), SMALL_SPAN);
  const at = ix.points.filter((p) => p.out === SMALL_SPAN + 5);
  t.is(at.length, 1, 'a checkpoint at the second member start');
  t.is(at[0].window.length, 0);
  t.is(at[0].bits, 0);
});

test('OCI-21 random reads through the serialized index equal gzip -dc output, across span edges', (t) => {
  if (!requireOrSkip(t, !hasPigz && 'pigz (apt-get install pigz)')) return;
  const r = rng(7);
  for (const [name, blob] of producers()) {
    const truth = gunzip(blob);
    const ix = parseGzipIndex(serializeGzipIndex(index(blob, SMALL_SPAN).index), 'x.gzi');
    const src = new GzipIndexSource(new BufferSource(blob), ix, name);
    t.is(src.size, truth.length);
    const edges = ix.points.map((p) => p.out);
    for (let k = 0; k < 300; k++) {
      // Half the reads start within 100 bytes of a span edge, some run over two or more spans.
      const near = k % 2 === 0 && edges.length > 1;
      const pos = near ? Math.max(0, edges[Math.floor(r() * edges.length)] - Math.floor(r() * 100)) : Math.floor(r() * (truth.length + 10));
      const len = Math.floor(r() * (k % 10 === 0 ? 3 * SMALL_SPAN : 5000));
      const buf = Buffer.alloc(len);
      const n = src.read(buf, 0, len, pos);
      const want = truth.subarray(Math.min(pos, truth.length), pos + len);
      t.is(n, want.length, `${name}: read ${len} at ${pos}`);
      if (!buf.subarray(0, n).equals(want)) t.fail(`${name}: bytes of read ${len} at ${pos}`);
    }
    const whole = Buffer.alloc(truth.length);
    src.read(whole, 0, whole.length, 0);
    t.true(whole.equals(truth), `${name}: the whole of it`);
  }
});

test('OCI-21 a flipped byte of the blob is DIGEST_MISMATCH for its span, never its bytes', (t) => {
  const blob = tool('gzip', ['-6', '-c'], plain);
  const { index: ix } = index(blob, SMALL_SPAN);
  const truth = gunzip(blob);
  let checked = 0;
  for (let i = 1; i + 1 < ix.points.length; i += 3) {
    const [p, q] = [ix.points[i], ix.points[i + 1]];
    // A flip in bits inflate never reads (the padding after a stored block's header) changes
    // nothing, and then there is nothing to detect: gzip -dc judges, and the next byte is taken.
    let bad = blob;
    for (let at = p.in + Math.floor((q.in - p.in) / 2); bad === blob || gunzipsTo(bad, truth); at++) {
      bad = Buffer.from(blob);
      bad[at] ^= 0x10;
    }
    const src = new GzipIndexSource(new BufferSource(bad), ix, 'layer.gz');
    const e = t.throws(() => src.read(Buffer.alloc(10), 0, 10, p.out + 5), { instanceOf: ArchiveError });
    t.is(e?.code, 'DIGEST_MISMATCH');
    t.regex(e?.message ?? '', /^layer\.gz: .*span \d+/);
    // Other spans are still read, and right.
    const ok = Buffer.alloc(10);
    src.read(ok, 0, 10, ix.points[i - 1].out);
    t.true(ok.equals(truth.subarray(ix.points[i - 1].out, ix.points[i - 1].out + 10)));
    checked++;
  }
  t.true(checked >= 3);
});

test('OCI-21 a corrupt, cut or foreign index is BAD_INDEX', (t) => {
  const blob = tool('gzip', ['-c'], plain);
  const bytes = serializeGzipIndex(index(blob, SMALL_SPAN).index);
  const r = rng(3);
  for (let k = 0; k < 40; k++) {
    const bad = Buffer.from(bytes);
    bad[Math.floor(r() * bad.length)] ^= 1 << Math.floor(r() * 8);
    t.is(t.throws(() => parseGzipIndex(bad, 'l.gzi'), { instanceOf: ArchiveError })?.code, 'BAD_INDEX');
  }
  for (const cut of [0, 10, 40, bytes.length >> 1, bytes.length - 1]) {
    t.is(t.throws(() => parseGzipIndex(bytes.subarray(0, cut), 'l.gzi'), { instanceOf: ArchiveError })?.code, 'BAD_INDEX', `cut at ${cut}`);
  }
  const e = t.throws(() => new GzipIndexSource(new BufferSource(blob.subarray(1)), parseGzipIndex(bytes, 'l.gzi'), 'l.gz'), { instanceOf: ArchiveError });
  t.is(e?.code, 'BAD_INDEX', 'an index of another blob');
});

test('OCI-20 a cut, padded or corrupt gzip is refused as gzip refuses it, naming the file', (t) => {
  const blob = tool('gzip', ['-c'], plain);
  const file = join(dir, 'cut.gz');
  const gzipRefuses = (b: Buffer): string => {
    writeFileSync(file, b);
    const res = spawnSync('gzip', ['-t', file]);
    return res.status === 0 ? '' : res.stderr.toString();
  };
  const code = (b: Buffer): string | undefined => {
    const e = t.throws(() => index(b, SMALL_SPAN, 'layer.gz'), { instanceOf: ArchiveError });
    t.regex(e?.message ?? '', /^layer\.gz: /);
    return e?.code;
  };
  for (const cut of [1, 5, 10, 500, blob.length >> 1, blob.length - 8, blob.length - 1]) {
    t.regex(gzipRefuses(blob.subarray(0, cut)), /unexpected end of file/, `gzip: cut at ${cut}`);
    t.is(code(blob.subarray(0, cut)), 'TRUNCATED', `cut at ${cut}`);
  }
  // gzip -t warns of trailing garbage (status 2); layerfs refuses it.
  const padded = Buffer.concat([blob, Buffer.from('not gzip')]);
  t.regex(gzipRefuses(padded), /trailing garbage/);
  t.is(code(padded), 'BAD_COMPRESSION');
  const crc = Buffer.from(blob);
  crc[crc.length - 8] ^= 1;
  t.regex(gzipRefuses(crc), /crc error/);
  t.is(code(crc), 'BAD_COMPRESSION');
  const isize = Buffer.from(blob);
  isize[isize.length - 1] ^= 1;
  t.regex(gzipRefuses(isize), /length error/);
  t.is(code(isize), 'BAD_COMPRESSION');
  t.is(readFileSync(file).length, isize.length);
});
