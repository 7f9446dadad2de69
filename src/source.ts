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

/** A window of `size` bytes starting at `start` inside an open file descriptor. */
export class FileRegion implements ByteSource {
  constructor(
    readonly fd: number,
    readonly start: number,
    readonly size: number,
  ) {}
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
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
    return new FileRegion(this.fd, this.start + start, size);
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
