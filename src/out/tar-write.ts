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

/**
 * `n` as zero-padded octal in `digits` digits and a space (the rest of the field stays NUL), or
 * undefined when it does not fit. The field layout is tar-stream's, which wrote these layers before,
 * so that ordinary entries still get the same bytes (and layers their digests).
 */
function octal(n: number, digits: number): string | undefined {
  if (!Number.isSafeInteger(n) || n < 0) return undefined;
  const s = n.toString(8);
  return s.length <= digits ? s.padStart(digits, '0') + ' ' : undefined;
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

/** A ustar header block; every number here fits its field (the caller moved the rest to PAX). */
function ustarHeader(f: Fields): Buffer {
  const h = Buffer.alloc(BLOCK);
  f.name.copy(h, 0);
  h.write(octal(f.mode & 0o7777, 6)!, 100, 'latin1');
  h.write(octal(f.uid, 6) ?? '000000 ', 108, 'latin1');
  h.write(octal(f.gid, 6) ?? '000000 ', 116, 'latin1');
  h.write(octal(f.size, 11) ?? '00000000000 ', 124, 'latin1');
  h.write(octal(f.mtime, 11) ?? '00000000000 ', 136, 'latin1');
  h.write(f.type, 156, 'latin1');
  f.linkname.copy(h, 157);
  h.write('ustar\0' + '00', 257, 'latin1');
  // PAX has no standard device keywords (GNU tar ignores SCHILY.dev*): big ones go base-256, which
  // GNU tar, Go's archive/tar and layerfs read.
  for (const [key, at] of [
    ['devmajor', 329],
    ['devminor', 337],
  ] as const) {
    const o = octal(f[key], 6);
    if (o !== undefined) {
      h.write(o, at, 'latin1');
      continue;
    }
    h[at] = 0x80;
    for (let i = 7, n = f[key]; i > 0; i--, n = Math.floor(n / 256)) h[at + i] = n & 0xff;
  }
  f.prefix.copy(h, 345);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.fill(0, 148, 156);
  h.write(octal(sum, 6)!, 148, 'latin1');
  return h;
}

/** The header block(s) of one entry: a PAX extended header first when ustar cannot hold it all. */
export function headerBytes(e: Entry): Buffer {
  const type = TYPEFLAG[e.type];
  if (!type) throw new Error(`cannot write /${e.path} (${e.type}) to a tar`);
  const marker = e.type === 'whiteout' || e.type === 'opaque';
  const name = nameBytes(tarName(e));
  const linkname = e.type === 'symlink' || e.type === 'hardlink' ? nameBytes(e.linkname ?? '') : Buffer.alloc(0);
  const f: Fields = {
    name,
    prefix: Buffer.alloc(0),
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
  for (const [key, digits] of [
    ['uid', 6],
    ['gid', 6],
    ['size', 11],
    ['mtime', 11],
  ] as const) {
    if (octal(f[key], digits) === undefined) extra.push([key, Buffer.from(String(f[key]))]);
  }
  for (const [k, v] of Object.entries(e.xattrs ?? {})) extra.push([`SCHILY.xattr.${k}`, Buffer.from(v)]);
  const split = isAscii(name) ? splitName(name) : undefined;
  if (split && linkname.length <= 100 && !extra.length) return ustarHeader({ ...f, ...split });

  const records = Buffer.concat([paxRecord('path', name), ...(linkname.length ? [paxRecord('linkpath', linkname)] : []), ...extra.map(([k, v]) => paxRecord(k, v))]);
  const stub = { name: Buffer.from('PaxHeader'), prefix: Buffer.alloc(0), linkname: linkname.length ? Buffer.from('PaxHeader') : linkname };
  return Buffer.concat([ustarHeader({ ...f, ...stub, size: records.length, type: 'x' }), records, Buffer.alloc((BLOCK - (records.length % BLOCK)) % BLOCK), ustarHeader({ ...f, ...stub })]);
}

/**
 * The whole tar, block by block, reading file data chunk by chunk (1 MiB) from each entry's source
 * as it is pulled: a consumer that writes each chunk before taking the next holds one chunk at a
 * time, whatever the tar's size.
 */
export function* tarBlocks(entries: Iterable<Entry>): Generator<Buffer> {
  for (const e of entries) {
    if (!TYPEFLAG[e.type]) continue; // sockets
    yield headerBytes(e);
    if (e.type !== 'file' || e.size === 0) continue;
    let pos = 0;
    while (pos < e.size) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, e.size - pos));
      let got = 0;
      while (got < buf.length) {
        const n = e.content!.read(buf, got, buf.length - got, pos + got);
        if (n <= 0) throw new Error(`short read of /${e.path}: ${pos + got} of ${e.size} bytes`);
        got += n;
      }
      pos += got;
      yield buf;
    }
    const rest = e.size % BLOCK;
    if (rest) yield Buffer.alloc(BLOCK - rest);
  }
  yield Buffer.alloc(2 * BLOCK);
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
