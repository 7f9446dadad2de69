/**
 * Layer blobs as tar: sniff the compression, decompress into an anonymous spill file, and hash the
 * stored bytes (the blob digest) and the uncompressed bytes (the diff_id) in the same pass (OCI-3).
 *
 * OCI-2: the compression is told from magic bytes, never from names or media types.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { FileRegion, type ByteSource } from '../source.js';
import { ArchiveError } from '../errors.js';
import { BLOCK, isZeroBlock, looksLikeTarHeader } from './tar-header.js';
import { formatBytes, limitError, type Budget } from './limits.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const CHUNK = 256 * 1024;
const GENERIC_FLAGS = new Set(['x64', 'ia32', 'arm', 'arm64', 'riscv64', 'loong64', 's390x', 'ppc64']);

/** What the first bytes say, or undefined when they are neither gzip, zstd nor a tar header. */
export function detectCompression(head: Uint8Array, totalSize: number): Compression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  // A plain tar: empty, or a first block that is all zeros or a valid ustar/GNU/v7 header.
  if (totalSize === 0) return 'none';
  if (head.length >= BLOCK) return isZeroBlock(head, 0) || looksLikeTarHeader(head, 0) ? 'none' : undefined;
  // Shorter than one header: a tar cut short if the bytes present fit a header's start (the
  // tar walker then reports TRUNCATED), else unknown.
  return couldStartTarHeader(head) ? 'none' : undefined;
}

/** The first bytes of a header: a name (no control bytes before its NUL), then octal fields. */
function couldStartTarHeader(head: Uint8Array): boolean {
  let i = 0;
  for (; i < Math.min(head.length, 100) && head[i] !== 0; i++) if (head[i] < 0x20 || head[i] === 0x7f) return false;
  if (i === 0) return false;
  for (let j = 100; j < Math.min(head.length, 156); j++) {
    const c = head[j];
    const fieldStart = j === 100 || j === 108 || j === 116 || j === 124 || j === 136 || j === 148;
    if (!(c === 0 || c === 0x20 || (c >= 0x30 && c <= 0x37) || (fieldStart && c & 0x80))) return false;
  }
  return true;
}

/** A guess at what an unreadable blob is, for the error message. */
function describe(head: Uint8Array): string {
  const hex = Buffer.from(head.subarray(0, 8)).toString('hex').replace(/(..)/g, '$1 ').trim();
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return `bzip2 data (first bytes ${hex})`;
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) return `xz data (first bytes ${hex})`;
  if (head.length === 0) return 'no data';
  return `first bytes ${hex}`;
}

export function readHead(src: ByteSource, n = BLOCK): Buffer {
  const head = Buffer.alloc(Math.min(n, src.size));
  const got = src.read(head, 0, head.length, 0);
  return head.subarray(0, got);
}

/** Sniffs a layer blob; anything but gzip, zstd or tar is UNKNOWN_COMPRESSION naming the layer. */
export function sniffCompression(src: ByteSource, file: string, context = ''): Compression {
  const head = readHead(src);
  const c = detectCompression(head, src.size);
  if (!c) {
    throw new ArchiveError('UNKNOWN_COMPRESSION', file, `${context}expected a tar, gzip (1f 8b) or zstd (28 b5 2f fd) layer, found ${describe(head)}`);
  }
  return c;
}

/**
 * An anonymous temporary file: O_TMPFILE on Linux (never has a name), else created and unlinked at
 * once. Either way only the descriptor keeps it alive, so nothing is left on disk even on a crash.
 */
export function openSpill(): number {
  const dir = tmpdir();
  // O_TMPFILE is not exported by node:fs; its value is the asm-generic one on these architectures.
  if (process.platform === 'linux' && GENERIC_FLAGS.has(process.arch)) {
    const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;
    try {
      return openSync(dir, O_TMPFILE | constants.O_RDWR, 0o600);
    } catch { /* filesystem without O_TMPFILE: fall back */ }
  }
  const path = join(dir, `layerfs-spill-${process.pid}-${randomBytes(8).toString('hex')}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  unlinkSync(path);
  return fd;
}

export interface OpenedBlob {
  compression: Compression;
  /** The uncompressed tar: the blob itself, or a region of the spill file. */
  tar: ByteSource;
  /** "sha256:<hex>" of the stored bytes, when hashed. */
  digest?: string;
  /** "sha256:<hex>" of the uncompressed bytes, when hashed. */
  diffId?: string;
  compressedSize: number;
  size: number;
  /** The spill file descriptor, when one was made; the caller closes it. */
  spillFd?: number;
}

export interface OpenBlobOptions {
  file: string;
  context?: string;
  /** Compute digest and diffId (one extra read of an uncompressed blob). */
  hash: boolean;
  /** Called with the spill fd as soon as it exists, so a failure later still lets it be closed. */
  onSpill?: (fd: number) => void;
  /** Called with the count of stored bytes each time a chunk of the blob is read (progress). */
  onRead?: (bytes: number) => void;
  /** Counts the uncompressed bytes against `maxUncompressedBytes`; decompression stops at the limit. */
  budget?: Budget;
}

function* chunks(src: ByteSource, onChunk?: (c: Buffer) => void): Generator<Buffer> {
  for (let pos = 0; pos < src.size;) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, src.size - pos));
    const n = src.read(buf, 0, buf.length, pos);
    if (n <= 0) break;
    const c = n === buf.length ? buf : buf.subarray(0, n);
    onChunk?.(c);
    yield c;
    pos += n;
  }
}

/** Hashes a source by reading it through once (uncompressed blobs are never copied). */
export function sha256Of(src: ByteSource, onRead?: (bytes: number) => void): string {
  const h = createHash('sha256');
  for (const c of chunks(src)) {
    h.update(c);
    onRead?.(c.length);
  }
  return `sha256:${h.digest('hex')}`;
}

/** Opens a layer blob as a tar; see the file comment. */
export async function openBlob(src: ByteSource, opts: OpenBlobOptions): Promise<OpenedBlob> {
  const ctx = opts.context ?? '';
  const compression = sniffCompression(src, opts.file, ctx);
  const budget = opts.budget;
  const max = budget ? budget.limits.maxUncompressedBytes - budget.bytes : Infinity;
  const overLimit = (): ArchiveError => limitError(opts.file, ctx,
    `uncompressed size exceeds the limit of ${formatBytes(budget!.limits.maxUncompressedBytes)}${budget!.bytes > 0 ? ' (all layers together)' : ''}`, 'maxUncompressedBytes');
  if (compression === 'none') {
    if (src.size > max) throw overLimit();
    if (budget) budget.bytes += src.size;
    const digest = opts.hash ? sha256Of(src, opts.onRead) : undefined;
    return { compression, tar: src, digest, diffId: digest, compressedSize: src.size, size: src.size };
  }
  const fd = openSpill();
  opts.onSpill?.(fd);
  const blobHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let size = 0;
  let stopped: ArchiveError | undefined; // pipeline reports its own AbortError instead
  const sink = (c: Uint8Array): void => {
    // Stop AT the limit: the chunk that would cross it is not written, and the decompressor is
    // torn down by the throw (pipeline destroys gunzip; fzstd's push unwinds).
    if (size + c.length > max) throw (stopped = overLimit());
    let done = 0;
    while (done < c.length) done += writeSync(fd, c, done, c.length - done, size + done);
    if (opts.hash) tarHash.update(c);
    size += c.length;
  };
  const onChunk = (c: Buffer): void => {
    if (opts.hash) blobHash.update(c);
    opts.onRead?.(c.length);
  };
  try {
    if (compression === 'gzip') {
      await pipeline(Readable.from(chunks(src, onChunk)), createGunzip({ chunkSize: CHUNK }), async (out: AsyncIterable<Buffer>) => {
        for await (const c of out) sink(c);
      });
    } else {
      const z = new Decompress((c) => sink(c));
      let any = false;
      for (const c of chunks(src, onChunk)) {
        any = true;
        z.push(c, false);
      }
      if (any) z.push(new Uint8Array(0), true);
    }
  } catch (e) {
    if (!opts.onSpill) closeSync(fd);
    if (stopped) throw stopped;
    const msg = (e as Error).message;
    const code = /unexpected end|unexpected EOF/i.test(msg) ? 'TRUNCATED' : 'BAD_COMPRESSION';
    throw new ArchiveError(code, opts.file, `${ctx}${compression} data cannot be decompressed after ${size} bytes of output: ${msg}`);
  }
  if (budget) budget.bytes += size;
  return {
    compression,
    tar: new FileRegion(fd, 0, size),
    digest: opts.hash ? `sha256:${blobHash.digest('hex')}` : undefined,
    diffId: opts.hash ? `sha256:${tarHash.digest('hex')}` : undefined,
    compressedSize: src.size,
    size,
    spillFd: fd,
  };
}
