/**
 * Layer blobs as tar: sniff the compression, decompress into an anonymous spill file, and hash the
 * stored bytes (the blob digest) and the uncompressed bytes (the diff_id) in the same pass (OCI-3).
 *
 * OCI-2: the compression is told from magic bytes, never from names or media types.
 */
import { createHash } from 'node:crypto';
import { closeSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { FileRegion, type ByteSource } from '../source.js';
import { ArchiveError } from '../core/errors.js';
import { BLOCK, isZeroBlock, looksLikeTarHeader } from './tar-header.js';
import { formatBytes, limitError, type Budget } from './limits.js';
import { openSpill, SpillWriter } from './spill.js';
import { decompressZstd, ZstdError, type ZstdOutput } from './zstd.js';
import { GzipIndexer, type GzipIndex } from './gzip-index.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Where decoded bytes go (the zstd decoders' interface; gzip uses `putSync` only). */
type Output = ZstdOutput;

export { openSpill } from './spill.js';

export type Compression = 'none' | 'gzip' | 'zstd';

/** Bytes read from a blob at a time, and zlib's output chunk. */
const CHUNK = 1 << 20;

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
  /** The random-access index of a gzip blob, when `indexGzip` asked for one (gzip-index.ts). */
  index?: GzipIndex;
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
  /** The file to decompress into (default: a new anonymous spill file); it must be empty. */
  spillFd?: number;
  /** Sees every uncompressed byte, in order, once (the open cache's chunk digests). */
  onOutput?: (c: Uint8Array) => void;
  /** Stops decompressing (at the next stored chunk) once aborted: the open's result is not wanted. */
  signal?: AbortSignal;
  /** A gzip blob is inflated by the index builder (OCI-19), whose index is returned. */
  indexGzip?: boolean;
}

/** Hashes a source by reading it through once (uncompressed blobs are never copied). */
export function sha256Of(src: ByteSource, onRead?: (bytes: number) => void): string {
  const h = createHash('sha256');
  // One buffer for every read: update() is done with a chunk when it returns.
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, src.size)));
  for (let pos = 0; pos < src.size; ) {
    const n = src.read(buf, 0, Math.min(buf.length, src.size - pos), pos);
    if (n <= 0) break;
    h.update(buf.subarray(0, n));
    onRead?.(n);
    pos += n;
  }
  return `sha256:${h.digest('hex')}`;
}

/**
 * The stored bytes in fresh CHUNK-sized buffers (zlib holds an input chunk until it has inflated
 * all of it), read synchronously when the stream asks for more.
 */
function blobReader(src: ByteSource, onChunk: (c: Uint8Array) => void): Readable {
  let pos = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      const buf = pos < src.size ? Buffer.allocUnsafe(Math.min(CHUNK, src.size - pos)) : undefined;
      const n = buf ? src.read(buf, 0, buf.length, pos) : 0;
      if (!buf || n <= 0) {
        this.push(null);
        return;
      }
      const c = n === buf.length ? buf : buf.subarray(0, n);
      pos += n;
      this.push(c);
      // Hashed a microtask later: the stream hands `c` to zlib on process.nextTick, which runs
      // first, so the inflate starts before this thread spends ~0.5 ms hashing it.
      queueMicrotask(() => {
        try {
          onChunk(c);
        } catch (e) {
          this.destroy(e as Error);
        }
      });
    },
  });
}

/**
 * gzip through Node's zlib, which inflates on the libuv threadpool while this thread hashes and
 * writes the previous chunk. The output goes to a Writable, not an async iterator: a piped
 * (flowing) stream takes each chunk as zlib pushes it, so zlib never waits for a reader.
 */
async function gunzipTo(src: ByteSource, onChunk: (c: Uint8Array) => void, out: Output): Promise<void> {
  await pipeline(
    blobReader(src, onChunk),
    createGunzip({ chunkSize: CHUNK }),
    new Writable({
      // Room for a few chunks, so that zlib's push never finds the pipe full and stops inflating.
      highWaterMark: 4 * CHUNK,
      write(c: Buffer, _enc, cb) {
        // zlib calls this from its inflate callback and starts the next inflate only when it
        // returns: taking `c` a microtask later lets that inflate run meanwhile (taking it at once
        // made the open ~40% slower). The write is synchronous: measured on 2 cores, a threadpool
        // write here made the open ~6% slower (one more thread to wake per chunk).
        queueMicrotask(() => {
          try {
            out.putSync(c);
          } catch (e) {
            cb(e as Error);
            return;
          }
          cb();
        });
      },
    }),
  );
}

/**
 * gzip through the index builder, in this thread (pako: slower than zlib on the threadpool, but
 * the only way to learn the checkpoints); for a blob that is read once and then kept as an index
 * (a registry's, src/registry/lazy.ts), whose reads block this thread anyway. Each stored chunk
 * is read into a fresh buffer (onChunk may keep it a microtask); the event loop turns between.
 */
async function indexedGunzip(src: ByteSource, onChunk: (c: Uint8Array) => void, out: Output, file: string): Promise<GzipIndex> {
  const indexer = new GzipIndexer(file);
  for (let pos = 0; pos < src.size; ) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, src.size - pos));
    const n = src.read(buf, 0, buf.length, pos);
    if (n <= 0) break;
    const c = n === buf.length ? buf : buf.subarray(0, n);
    onChunk(c);
    for (const piece of indexer.push(c)) out.putSync(piece);
    pos += n;
    await nextTurn();
  }
  return indexer.end();
}

/** Opens a layer blob as a tar; see the file comment. */
export async function openBlob(src: ByteSource, opts: OpenBlobOptions): Promise<OpenedBlob> {
  const ctx = opts.context ?? '';
  const compression = sniffCompression(src, opts.file, ctx);
  const budget = opts.budget;
  const max = budget ? budget.limits.maxUncompressedBytes - budget.bytes : Infinity;
  const overLimit = (): ArchiveError =>
    limitError(
      opts.file,
      ctx,
      `uncompressed size exceeds the limit of ${formatBytes(budget!.limits.maxUncompressedBytes)}${budget!.bytes > 0 ? ' (all layers together)' : ''}`,
      'maxUncompressedBytes',
    );
  if (compression === 'none') {
    if (src.size > max) throw overLimit();
    budget?.shared?.addBytes(src.size);
    if (budget) budget.bytes += src.size;
    const digest = opts.hash ? sha256Of(src, opts.onRead) : undefined;
    return { compression, tar: src, digest, diffId: digest, compressedSize: src.size, size: src.size };
  }
  const fd = opts.spillFd ?? openSpill();
  opts.onSpill?.(fd);
  const writer = new SpillWriter(fd);
  const blobHash = createHash('sha256');
  const tarHash = createHash('sha256');
  let stopped: Error | undefined; // pipeline reports its own AbortError instead
  const take = (c: Uint8Array): void => {
    // Rule: decompression stops AT the limit: the chunk that would cross it is not written, and
    // the throw tears the decoder down (pipeline destroys gunzip; the zstd loops unwind).
    if (writer.size + c.length > max) throw (stopped = overLimit());
    try {
      budget?.shared?.addBytes(c.length);
    } catch (e) {
      throw (stopped = e as Error);
    }
    if (opts.hash) tarHash.update(c);
    opts.onOutput?.(c);
  };
  // Where decoded bytes go: counted against the limit, hashed, and written to the spill file.
  const out: Output = {
    put: (c) => {
      take(c);
      writer.write(c);
    },
    putSync: (c) => {
      take(c);
      writer.writeSync(c);
    },
    drain: (n) => writer.drain(n),
  };
  const signal = opts.signal;
  const onChunk = (c: Uint8Array): void => {
    signal?.throwIfAborted();
    if (opts.hash) blobHash.update(c);
    opts.onRead?.(c.length);
  };
  let index: GzipIndex | undefined;
  try {
    if (compression === 'gzip' && opts.indexGzip) index = await indexedGunzip(src, onChunk, out, opts.file);
    else if (compression === 'gzip') await gunzipTo(src, onChunk, out);
    else await decompressZstd(src, out, { onChunk, maxWindowBytes: budget?.limits.maxZstdWindowBytes });
    await writer.drain(0); // every byte is in the spill file (rethrows a failed write)
  } catch (e) {
    await writer.settle(); // no write may still be using fd when it is closed
    if (!opts.onSpill) closeSync(fd);
    if (stopped) throw stopped;
    // The spill file could not be written (disk full): a fault here, not in the archive.
    if (writer.error !== undefined) throw writer.error;
    // A failed network read of a remote blob is not the archive's fault (registry errors).
    if (e instanceof Error && e.name === 'RegistryError') throw e;
    if (e instanceof ArchiveError && e.file === opts.file) throw new ArchiveError(e.code, opts.file, `${ctx}${e.message.slice(opts.file.length + 2)}`);
    const msg = (e as Error)?.message ?? String(e);
    if (e instanceof ZstdError && e.code === 'LIMIT') throw limitError(opts.file, ctx, `zstd data cannot be decompressed: ${msg}`, 'maxZstdWindowBytes');
    const code = e instanceof ZstdError ? e.code : /unexpected end|unexpected EOF/i.test(msg) ? 'TRUNCATED' : 'BAD_COMPRESSION';
    throw new ArchiveError(code, opts.file, `${ctx}${compression} data cannot be decompressed after ${writer.size} bytes of output: ${msg}`);
  }
  const size = writer.size;
  if (budget) budget.bytes += size;
  return {
    compression,
    tar: new FileRegion(fd, 0, size),
    digest: opts.hash ? `sha256:${blobHash.digest('hex')}` : undefined,
    diffId: opts.hash ? `sha256:${tarHash.digest('hex')}` : undefined,
    compressedSize: src.size,
    size,
    spillFd: fd,
    index,
  };
}
