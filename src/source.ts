/**
 * Random-access bytes. Layer contents are never held whole in memory: a file's data is a window
 * onto the archive (or onto a spill file for compressed layers), read when asked for.
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Reads up to `length` bytes at `position` into `buffer[offset..]`; returns the count read. */
  read(buffer: Uint8Array, offset: number, length: number, position: number): number;
}

/**
 * A blob that lies elsewhere (a registry), read by network requests. `ranges`: each read is a Range
 * request, so it is never read whole to be hashed or cached. `stream`: read whole from its start it
 * is one streaming GET, and the open cache keeps a gzip index of it (OCI-22), not its tar.
 */
export type RemoteKind = 'ranges' | 'stream';
export const remoteKind = (src: ByteSource): RemoteKind | undefined => (src as { remote?: RemoteKind }).remote;

/** Reads smaller than this are served from a ReadAhead; bigger ones go to the file directly. */
const SMALL_READ = 16 << 10;
/** Bytes a ReadAhead reads at a time. */
const READ_AHEAD = 128 << 10;

/**
 * The bytes of one file descriptor most recently read ahead, shared by a FileRegion and its slices.
 * Rule: a small read is served from READ_AHEAD bytes read at once from its position, so a layer of
 * a million small files is read with thousands of preads, not a million (bench figure 9: 6.8 s of
 * a 12.9 s export were 1,000,000 `read` calls). Only regions bigger than READ_AHEAD get one (an
 * archive, a blob, a spill file: many members), not one small file among thousands. Sound because
 * what a FileRegion reads never changes while it is open: archives, blobs and spill files are
 * complete and read-only.
 */
class ReadAhead {
  buf: Buffer | undefined;
  start = 0;
  len = 0;
}

/** A window of `size` bytes starting at `start` inside an open file descriptor. */
export class FileRegion implements ByteSource {
  constructor(
    readonly fd: number,
    readonly start: number,
    readonly size: number,
    private readonly ahead: ReadAhead | undefined = size > READ_AHEAD ? new ReadAhead() : undefined,
  ) {}
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    const at = this.start + position;
    const a = this.ahead;
    if (a && n > 0 && n < SMALL_READ) {
      if (at < a.start || at + n > a.start + a.len) {
        a.buf ??= Buffer.allocUnsafeSlow(READ_AHEAD);
        a.start = at;
        a.len = 0;
        for (let got = 1; a.len < n && got > 0; a.len += got) got = readSync(this.fd, a.buf, a.len, READ_AHEAD - a.len, at + a.len);
      }
      const k = Math.min(n, a.start + a.len - at);
      a.buf!.copy(buffer, offset, at - a.start, at - a.start + k);
      return k;
    }
    return this.readDirect(buffer, offset, length, position);
  }
  /**
   * Reads straight from the file, past the read-ahead: for a reader that keeps its own buffer
   * (the tar walker's headers), where a second one would only copy more bytes than it wants.
   */
  readDirect(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, buffer, offset + done, n - done, this.start + position + done);
      if (got === 0) break;
      done += got;
    }
    return done;
  }
  slice(start: number, size: number): FileRegion {
    return new FileRegion(this.fd, this.start + start, size, this.ahead);
  }
}

/** Bytes already in memory (a layer passed as a Buffer, or data written to the upper layer). */
export class BufferSource implements ByteSource {
  constructor(readonly buf: Uint8Array) {}
  get size(): number {
    return this.buf.length;
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.buf.length - position));
    if (n > 0) buffer.set(this.buf.subarray(position, position + n), offset);
    return n;
  }
  slice(start: number, size: number): BufferSource {
    return new BufferSource(this.buf.subarray(start, start + size));
  }
}

/** Reads a whole source into one Buffer (for small things: JSON documents, test assertions). */
export function readAll(src: ByteSource): Buffer {
  const out = Buffer.allocUnsafe(src.size);
  const n = src.read(out, 0, src.size, 0);
  return n === src.size ? out : out.subarray(0, n);
}

/** sha256 (`sha256:<hex>`) of a whole source, read a piece (1 MiB) at a time: never held whole. */
export function sha256Of(src: ByteSource): string {
  const hash = createHash('sha256');
  const piece = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, src.size)));
  for (let pos = 0; pos < src.size; ) {
    const n = src.read(piece, 0, Math.min(piece.length, src.size - pos), pos);
    if (n <= 0) throw new Error(`short read: ${pos} of ${src.size} bytes`);
    hash.update(piece.subarray(0, n));
    pos += n;
  }
  return `sha256:${hash.digest('hex')}`;
}
