/**
 * A cached layer's uncompressed tar (the spill file kept in the cache), read through a check: the
 * file is cut into CHUNK-byte chunks whose sha256 the cache record holds, and each chunk is
 * hashed the first time any of its bytes is read in this process. Rule: a chunk that does not
 * match is never handed out: the read throws what `onCorrupt` returns (the cache drops the entry
 * first, so the next open rebuilds it from the layer blob).
 */
import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';
import type { ByteSource } from '../../source.js';

/** Bytes per checked chunk: a first read of a small file costs one chunk (~0.25 ms to hash). */
export const CHECK_CHUNK = 256 * 1024;

/** Hashes a stream of bytes, given in order, per CHECK_CHUNK chunk (the last one may be short). */
export class ChunkHasher {
  private readonly sums: Buffer[] = [];
  private h = createHash('sha256');
  private filled = 0;
  update(c: Uint8Array): void {
    for (let at = 0; at < c.length; ) {
      const n = Math.min(c.length - at, CHECK_CHUNK - this.filled);
      this.h.update(at === 0 && n === c.length ? c : c.subarray(at, at + n));
      this.filled += n;
      at += n;
      if (this.filled === CHECK_CHUNK) this.next();
    }
  }
  /** The concatenated digests (32 bytes per chunk). */
  digests(): Buffer {
    if (this.filled > 0) this.next();
    return Buffer.concat(this.sums);
  }
  private next(): void {
    this.sums.push(this.h.digest());
    this.h = createHash('sha256');
    this.filled = 0;
  }
}

export class CheckedRegion implements ByteSource {
  private readonly checked: Uint8Array;
  private scratch: Buffer | undefined;
  constructor(
    readonly fd: number,
    readonly size: number,
    private readonly sums: Buffer,
    private readonly onCorrupt: (chunk: number) => Error,
  ) {
    this.checked = new Uint8Array(Math.ceil(size / CHECK_CHUNK));
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return 0;
    for (let c = Math.floor(position / CHECK_CHUNK), last = Math.floor((position + n - 1) / CHECK_CHUNK); c <= last; c++) {
      if (!this.checked[c]) this.check(c);
    }
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, buffer, offset + done, n - done, position + done);
      if (got === 0) break;
      done += got;
    }
    return done;
  }

  private check(c: number): void {
    const start = c * CHECK_CHUNK;
    const len = Math.min(CHECK_CHUNK, this.size - start);
    const buf = (this.scratch ??= Buffer.allocUnsafe(CHECK_CHUNK));
    let done = 0;
    while (done < len) {
      const got = readSync(this.fd, buf, done, len - done, start + done);
      if (got === 0) break;
      done += got;
    }
    const sum = createHash('sha256').update(buf.subarray(0, done)).digest();
    if (done !== len || !sum.equals(this.sums.subarray(c * 32, c * 32 + 32))) throw this.onCorrupt(c);
    this.checked[c] = 1;
  }
}
