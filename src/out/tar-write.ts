/**
 * Writes entries (the one entry model) as a POSIX tar (ustar headers, PAX `x` records where ustar
 * cannot say it): whiteouts as `.wh.NAME` files and opaque directories as `DIR/.wh..wh..opq`, the
 * OCI layer form (OCI-5, OCI-7); xattrs as PAX `SCHILY.xattr.*` records.
 *
 * Headers are encoded here, byte for byte, because names, link targets and xattr values are bytes
 * (tar-stream, used before, took them as JS strings: it wrote a non-UTF-8 name byte kept as
 * U+DC80+byte as U+FFFD, mangled binary xattr values, clamped uid/gid to 262143, wrote mode 0000 as
 * 0644 or 0755, and wrapped mtimes past 2038). Now every field ustar cannot hold goes to PAX: long,
 * non-ASCII or non-UTF-8 names, long link targets, uid/gid past 6 octal digits, sizes of 8 GiB and
 * more, mtimes before 1970 or past 11 octal digits. The field layout stays tar-stream's, so an
 * ordinary entry keeps its bytes (images/sample.tar rebuilds identical). Whiteout and opaque markers
 * are mode 0644 files of size 0, as before. Sockets cannot be stored in a tar: they are left out,
 * as containers/storage does.
 */
import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, openSync, writeSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { nameBytes } from '../archive/names.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX, type Entry, type EntryType } from '../entry.js';

const BLOCK = 512;
const CHUNK = 1 << 20;

const TYPEFLAG: Partial<Record<EntryType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  whiteout: '0',
  opaque: '0',
};

function tarName(e: Entry): string {
  const slash = e.path.lastIndexOf('/');
  const dir = slash < 0 ? '' : e.path.slice(0, slash + 1);
  if (e.type === 'opaque') return e.path === '' ? OPAQUE_MARKER : `${e.path}/${OPAQUE_MARKER}`;
  if (e.type === 'whiteout') return dir + WHITEOUT_PREFIX + e.path.slice(slash + 1);
  return e.path === '' ? './' : e.path;
}

/** One PAX record, `LEN key=value\n`, where LEN counts its own digits (all lengths in bytes). */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** ustar's prefix (≤155 bytes) and name (≤100 bytes), split at the first '/' that makes it fit. */
function splitName(b: Buffer): { prefix: Buffer; name: Buffer } | undefined {
  if (b.length <= 100) return { prefix: Buffer.alloc(0), name: b };
  for (let i = 1; i <= 155 && i < b.length; i++) {
    if (b[i] === 0x2f && b.length - i - 1 <= 100) {
      return b.length - i - 1 > 0 ? { prefix: b.subarray(0, i), name: b.subarray(i + 1) } : undefined;
    }
  }
  return undefined;
}

const isAscii = (b: Buffer) => b.every((c) => c < 0x80);

interface Fields {
  name: Buffer;
  prefix: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  linkname: Buffer;
  devmajor: number;
  devminor: number;
}

/** Whether octal(n, digits) is defined. */
const fitsOctal = (n: number, digits: number): boolean => Number.isSafeInteger(n) && n >= 0 && n < 8 ** digits;

/**
 * Writes `n` into h[at..] as octal() spells it (`digits` zero-padded digits and a space), or zeros
 * when it does not fit (the caller put it in PAX). Digit by digit: no string per field, a million
 * headers a flattened export (bench figure 9).
 */
function putOctal(h: Buffer, at: number, n: number, digits: number): void {
  let v = fitsOctal(n, digits) ? n : 0;
  for (let i = digits - 1; i >= 0; i--) {
    h[at + i] = 48 + (v % 8);
    v = Math.floor(v / 8);
  }
  h[at + digits] = 0x20;
}

/**
 * A ustar header block into h[at..at+512]; every number here fits its field (the caller moved the
 * rest to PAX). The field layout is tar-stream's, which wrote these layers before, so that
 * ordinary entries still get the same bytes (and layers their digests).
 */
function ustarInto(f: Fields, h: Buffer, at: number): void {
  h.fill(0, at, at + BLOCK);
  f.name.copy(h, at);
  putOctal(h, at + 100, f.mode & 0o7777, 6);
  putOctal(h, at + 108, f.uid, 6);
  putOctal(h, at + 116, f.gid, 6);
  putOctal(h, at + 124, f.size, 11);
  putOctal(h, at + 136, f.mtime, 11);
  h[at + 156] = f.type.charCodeAt(0);
  f.linkname.copy(h, at + 157);
  h.write('ustar\0' + '00', at + 257, 'latin1');
  // PAX has no standard device keywords (GNU tar ignores SCHILY.dev*): big ones go base-256, which
  // GNU tar, Go's archive/tar and layerfs read.
  putDevice(h, at + 329, f.devmajor);
  putDevice(h, at + 337, f.devminor);
  f.prefix.copy(h, at + 345);
  h.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += h[i];
  h.fill(0, at + 148, at + 156);
  putOctal(h, at + 148, sum, 6);
}

function putDevice(h: Buffer, at: number, n: number): void {
  if (fitsOctal(n, 6)) {
    putOctal(h, at, n, 6);
    return;
  }
  h[at] = 0x80;
  for (let i = 7; i > 0; i--, n = Math.floor(n / 256)) h[at + i] = n & 0xff;
}

function ustarHeader(f: Fields): Buffer {
  const h = Buffer.allocUnsafe(BLOCK);
  ustarInto(f, h, 0);
  return h;
}

const NO_BYTES = Buffer.alloc(0);

/** An entry's ustar fields, and what only PAX can hold (undefined when one ustar block holds it all). */
function fieldsOf(e: Entry): { f: Fields; pax: Array<[string, Buffer]> | undefined } {
  const type = TYPEFLAG[e.type];
  if (!type) throw new Error(`cannot write /${e.path} (${e.type}) to a tar`);
  const marker = e.type === 'whiteout' || e.type === 'opaque';
  const name = nameBytes(tarName(e));
  const linkname = e.type === 'symlink' || e.type === 'hardlink' ? nameBytes(e.linkname ?? '') : NO_BYTES;
  const f: Fields = {
    name,
    prefix: NO_BYTES,
    mode: marker ? 0o644 : e.mode,
    uid: marker ? 0 : e.uid,
    gid: marker ? 0 : e.gid,
    size: e.type === 'file' ? e.size : 0,
    mtime: marker ? 0 : Math.floor(e.mtime / 1000),
    type,
    linkname,
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
  };
  // What ustar cannot hold goes to PAX: the numbers, xattrs (raw bytes), and names: non-ASCII ones
  // too (PAX values are raw bytes, as GNU tar writes them; Go's archive/tar reads them so).
  const extra: Array<[string, Buffer]> = [];
  if (!fitsOctal(f.uid, 6)) extra.push(['uid', Buffer.from(String(f.uid))]);
  if (!fitsOctal(f.gid, 6)) extra.push(['gid', Buffer.from(String(f.gid))]);
  if (!fitsOctal(f.size, 11)) extra.push(['size', Buffer.from(String(f.size))]);
  if (!fitsOctal(f.mtime, 11)) extra.push(['mtime', Buffer.from(String(f.mtime))]);
  if (e.xattrs) for (const [k, v] of Object.entries(e.xattrs)) extra.push([`SCHILY.xattr.${k}`, Buffer.from(v)]);
  const split = isAscii(name) ? splitName(name) : undefined;
  if (split && linkname.length <= 100 && !extra.length) {
    f.name = split.name;
    f.prefix = split.prefix;
    return { f, pax: undefined };
  }
  return { f, pax: [['path', name], ...(linkname.length ? [['linkpath', linkname] as [string, Buffer]] : []), ...extra] };
}

/** A PAX extended header holding `pax`, padded, then the entry's own ustar block. */
function paxHeader(f: Fields, pax: Array<[string, Buffer]>): Buffer {
  const records = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)));
  const stub = { name: Buffer.from('PaxHeader'), prefix: NO_BYTES, linkname: f.linkname.length ? Buffer.from('PaxHeader') : NO_BYTES };
  return Buffer.concat([ustarHeader({ ...f, ...stub, size: records.length, type: 'x' }), records, Buffer.alloc((BLOCK - (records.length % BLOCK)) % BLOCK), ustarHeader({ ...f, ...stub })]);
}

/** The header block(s) of one entry: a PAX extended header first when ustar cannot hold it all. */
export function headerBytes(e: Entry): Buffer {
  const { f, pax } = fieldsOf(e);
  return pax ? paxHeader(f, pax) : ustarHeader(f);
}

/** Bytes of the buffer headers and small files are gathered in before it is handed on. */
const BATCH = 256 << 10;

/**
 * The whole tar, in pieces of at most 1 MiB, reading file data chunk by chunk from each entry's
 * source as it is pulled: a consumer that writes each piece before taking the next holds one piece
 * at a time, whatever the tar's size. A piece is never touched again once handed on.
 * Rule: headers, small files' data and padding are written straight into one buffer of BATCH
 * bytes, handed on when full: a stream or a hash costs microseconds per piece and an object per
 * 512-byte header adds up, and a layer of a million small files is a million headers (bench
 * figure 9: its flattened export took 29 s with a piece per header and per file, 8 s after).
 */
export function* tarBlocks(entries: Iterable<Entry>): Generator<Buffer> {
  let batch = Buffer.allocUnsafe(BATCH);
  let used = 0;
  for (const e of entries) {
    if (!TYPEFLAG[e.type]) continue; // sockets
    const { f, pax } = fieldsOf(e);
    const head = pax ? paxHeader(f, pax) : undefined;
    const headBytes = head ? head.length : BLOCK;
    const size = e.type === 'file' ? e.size : 0;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    // Gathered: the header, and the data when it fits the batch with it.
    const whole = padded <= BATCH / 4 ? padded : 0;
    if (used + headBytes + whole > BATCH) {
      if (used) yield batch.subarray(0, used);
      batch = Buffer.allocUnsafe(Math.max(BATCH, headBytes + whole));
      used = 0;
    }
    if (head) head.copy(batch, used);
    else ustarInto(f, batch, used);
    used += headBytes;
    if (size === 0) continue;
    if (whole) {
      readFully(e, batch, used, 0, size);
      batch.fill(0, used + size, used + padded);
      used += padded;
      continue;
    }
    // A big file: what is gathered first, then its data in CHUNK pieces, then its padding.
    yield batch.subarray(0, used);
    batch = Buffer.allocUnsafe(BATCH);
    used = 0;
    for (let pos = 0; pos < size; ) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
      readFully(e, buf, 0, pos, buf.length);
      pos += buf.length;
      yield buf;
    }
    batch.fill(0, 0, padded - size);
    used = padded - size;
  }
  if (used + 2 * BLOCK > BATCH) {
    yield batch.subarray(0, used);
    batch = Buffer.allocUnsafe(2 * BLOCK);
    used = 0;
  }
  batch.fill(0, used, used + 2 * BLOCK);
  yield batch.subarray(0, used + 2 * BLOCK);
}

/** Reads `length` bytes of `e`'s data at `pos` into buf[at..], or throws naming the entry. */
function readFully(e: Entry, buf: Buffer, at: number, pos: number, length: number): void {
  for (let got = 0; got < length; ) {
    const n = e.content!.read(buf, at + got, length - got, pos + got);
    if (n <= 0) throw new Error(`short read of /${e.path}: ${pos + got} of ${e.size} bytes`);
    got += n;
  }
}

/**
 * The number of bytes tarBlocks(entries) yields, known before any data is read: each entry's
 * header blocks, its data padded to a whole block, and the two zero blocks at the end.
 */
export function tarSize(entries: Iterable<Entry>): number {
  let size = 2 * BLOCK;
  for (const e of entries) {
    if (!TYPEFLAG[e.type]) continue; // sockets
    size += headerBytes(e).length;
    if (e.type === 'file') size += Math.ceil(e.size / BLOCK) * BLOCK;
  }
  return size;
}

export interface Written {
  /** sha256 of the bytes written (the blob digest). */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar (the diff_id); equal to digest when not compressed. */
  diffId: string;
}

function hasher(into: { hash: ReturnType<typeof createHash>; size: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      into.hash.update(chunk);
      into.size += chunk.length;
      cb(null, chunk);
    },
  });
}

/** Writes a tar of `entries` to `dest` (a path or a stream), optionally gzip-compressed. */
export async function writeTar(entries: Iterable<Entry>, dest: string | Writable, gzip = false): Promise<Written> {
  const raw = { hash: createHash('sha256'), size: 0 };
  const out = { hash: createHash('sha256'), size: 0 };
  const sink = typeof dest === 'string' ? createWriteStream(dest) : dest;
  const stages: NodeJS.ReadWriteStream[] = [hasher(raw)];
  if (gzip) stages.push(createGzip(), hasher(out));
  await pipeline(Readable.from(tarBlocks(entries), { objectMode: false }), ...(stages as [Transform]), sink);
  const diffId = 'sha256:' + raw.hash.digest('hex');
  return gzip ? { digest: 'sha256:' + out.hash.digest('hex'), size: out.size, diffId } : { digest: diffId, size: raw.size, diffId };
}

/**
 * Writes a tar of `entries` to the file `dest` before returning: the entries' data is read now, so
 * what is written is the tree as it was at the call, whatever happens to it afterwards (commit's
 * snapshot: `docker commit` pauses the container).
 */
export function writeTarSync(entries: Iterable<Entry>, dest: string): Written {
  const hash = createHash('sha256');
  let size = 0;
  const fd = openSync(dest, 'w');
  try {
    for (const block of tarBlocks(entries)) {
      hash.update(block);
      for (let off = 0; off < block.length; ) off += writeSync(fd, block, off, block.length - off);
      size += block.length;
    }
  } finally {
    closeSync(fd);
  }
  const digest = 'sha256:' + hash.digest('hex');
  return { digest, size, diffId: digest };
}
