/**
 * File data, three ways. Lower layers read from the archive; the writable layer stores bytes either
 * as one growable buffer (full copy-up, new files) or as written extents over the lower bytes
 * (chunked copy-up), in memory up to the view's budget and in scratch files beyond it
 * (spill-store.ts). All three answer reads identically; only their cost differs.
 */
import { ftruncateSync, readSync, writeSync } from 'node:fs';
import type { ByteSource } from '../source.js';
import type { SpillStore } from './spill-store.js';

export interface FileData {
  readonly size: number;
  read(buffer: Uint8Array, offset: number, length: number, position: number): number;
  write(buffer: Uint8Array, offset: number, length: number, position: number): void;
  truncate(length: number): void;
}

/** Data of a file in a read-only layer: a window onto the archive. Never written. */
export class LowerData implements FileData {
  constructor(readonly src: ByteSource) {}
  get size(): number {
    return this.src.size;
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.src.read(buffer, offset, length, position);
  }
  write(): void {
    throw new Error('layerfs: a lower layer was about to be modified');
  }
  truncate(): void {
    throw new Error('layerfs: a lower layer was about to be modified');
  }
}

/** pread until `length` bytes or EOF; the rest of the range is zeros (a sparse scratch file's hole). */
function preadFully(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, buffer, offset + done, length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  if (done < length) buffer.fill(0, offset + done, offset + length);
}

function pwriteFully(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): void {
  for (let done = 0; done < length; ) done += writeSync(fd, buffer, offset + done, length - done, position + done);
}

/** A full copy reads and writes this much at a time (the memory a copy into a scratch file takes). */
const COPY_PIECE = 1 << 20;

/**
 * A writable file's bytes: in one buffer that grows by doubling, until the view's SpillStore says
 * the memory budget is used up; then in a scratch file of its own (spill-store.ts). Bytes past
 * what was written (a truncate that grows the file, a write past the end) read as zeros and take
 * no memory.
 */
export class BufferData implements FileData {
  private buf: Buffer;
  /** Bytes of `buf` that hold data; [filled, size) reads as zeros. */
  private filled: number;
  size: number;
  private store?: SpillStore;
  private readonly held = { bytes: 0 };
  /** The scratch file, once the data moved there. */
  private fd = -1;
  constructor(initial?: Buffer) {
    this.buf = initial ?? Buffer.alloc(0);
    this.size = this.filled = this.buf.length;
  }

  /**
   * Copies `src` whole: the cost of a full copy-up. Into memory while `store` allows it, else
   * straight into a scratch file, COPY_PIECE at a time.
   */
  static copyOf(src: FileData, store?: SpillStore): BufferData {
    if (store && !store.allows(src.size)) {
      const d = new BufferData();
      d.store = store;
      d.fd = store.scratch(d);
      const piece = Buffer.allocUnsafe(Math.min(COPY_PIECE, Math.max(1, src.size)));
      for (let pos = 0; pos < src.size; ) {
        const n = src.read(piece, 0, Math.min(piece.length, src.size - pos), pos);
        if (n <= 0) break;
        pwriteFully(d.fd, piece, 0, n, pos);
        pos += n;
      }
      ftruncateSync(d.fd, src.size);
      d.size = src.size;
      return d;
    }
    const buf = Buffer.allocUnsafeSlow(src.size);
    const n = src.read(buf, 0, src.size, 0);
    if (n < src.size) buf.fill(0, n);
    const d = new BufferData(buf);
    if (store) d.attach(store);
    return d;
  }

  /** Counts this data against `store` from now on (the first write through a view attaches it). */
  attach(store: SpillStore): void {
    if (this.store) return;
    this.store = store;
    if (this.buf.length > 0) store.track(this, this.held, this.buf.length);
  }

  /** Whether the data is in a scratch file. */
  get spilled(): boolean {
    return this.fd >= 0;
  }

  /** Bytes the writable layer stores for this file (in memory or on disk). */
  get storedBytes(): number {
    return this.fd >= 0 ? this.size : this.filled;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return 0;
    if (this.fd >= 0) {
      preadFully(this.fd, buffer, offset, n, position);
      return n;
    }
    const fromBuf = Math.max(0, Math.min(n, this.filled - position));
    if (fromBuf > 0) buffer.set(this.buf.subarray(position, position + fromBuf), offset);
    if (fromBuf < n) buffer.fill(0, offset + fromBuf, offset + n);
    return n;
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    const end = position + length;
    if (this.fd < 0 && end > this.buf.length && this.store && !this.store.allows(Math.max(end, this.buf.length * 2) - this.buf.length)) this.spill();
    if (this.fd >= 0) {
      pwriteFully(this.fd, buffer, offset, length, position);
    } else {
      this.reserve(end);
      if (position > this.filled) this.buf.fill(0, this.filled, position);
      this.buf.set(buffer.subarray(offset, offset + length), position);
      this.filled = Math.max(this.filled, end);
    }
    this.size = Math.max(this.size, end);
  }

  truncate(length: number): void {
    if (this.fd >= 0) ftruncateSync(this.fd, length);
    else this.filled = Math.min(this.filled, length);
    this.size = length;
  }

  /** Moves the bytes to a scratch file and gives their memory back. */
  private spill(): void {
    const store = this.store!;
    this.fd = store.scratch(this);
    pwriteFully(this.fd, this.buf, 0, this.filled, 0);
    ftruncateSync(this.fd, this.size);
    store.track(this, this.held, -this.held.bytes);
    this.buf = Buffer.alloc(0);
    this.filled = 0;
  }

  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(n, this.buf.length * 2, 64));
    this.buf.copy(next, 0, 0, this.filled);
    this.store?.track(this, this.held, next.length - this.buf.length);
    this.buf = next;
  }
}

/** Chunk size of chunked copy-up: a 1-byte write stores one chunk (≤ 64 KiB, see issue 5). */
export const CHUNK = 4096;

/**
 * Written extents over lower bytes. A chunk is materialised (read from the lower file, then
 * modified) on its first write; bytes past `baseLimit` read as zeros, which is what truncation
 * below the lower size followed by growth must show. Chunks are kept in memory while the view's
 * SpillStore allows it, else in a sparse scratch file at their own offset.
 */
export class ChunkedData implements FileData {
  private chunks = new Map<number, Buffer>();
  /** Chunks in the scratch file (at idx * CHUNK). */
  private disk = new Set<number>();
  private fd = -1;
  private baseLimit: number;
  private store?: SpillStore;
  private readonly held = { bytes: 0 };
  private piece?: Buffer;
  size: number;
  /** Bytes read from the lower file to fill chunks: what this copy-up has copied so far. */
  copied = 0;
  constructor(
    private readonly base: FileData,
    store?: SpillStore,
  ) {
    this.size = base.size;
    this.baseLimit = base.size;
    this.store = store;
  }

  /** Counts new chunks against `store` from now on. */
  attach(store: SpillStore): void {
    this.store ??= store;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const end = Math.min(this.size, position + length);
    let pos = position;
    while (pos < end) {
      const idx = Math.floor(pos / CHUNK);
      const within = pos - idx * CHUNK;
      let n = Math.min(CHUNK - within, end - pos);
      const chunk = this.chunks.get(idx);
      const at = offset + (pos - position);
      if (chunk) buffer.set(chunk.subarray(within, within + n), at);
      else if (this.disk.has(idx)) preadFully(this.fd, buffer, at, n, pos);
      else {
        // A run of chunks never written is one read of the lower bytes, not one read per chunk
        // (a restored container file is all such chunks: 4 KiB reads made saving it syscall-bound).
        for (let next = idx + 1; pos + n < end && !this.chunks.has(next) && !this.disk.has(next); next++) n = Math.min(n + CHUNK, end - pos);
        this.readBase(buffer, at, n, pos);
      }
      pos += n;
    }
    return Math.max(0, end - position);
  }
  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    let pos = position;
    const end = position + length;
    while (pos < end) {
      const idx = Math.floor(pos / CHUNK);
      const within = pos - idx * CHUNK;
      const n = Math.min(CHUNK - within, end - pos);
      const from = offset + (pos - position);
      if (this.disk.has(idx)) pwriteFully(this.fd, buffer, from, n, pos);
      else if (this.chunks.has(idx) || !this.store || this.store.allows(CHUNK)) this.chunk(idx).set(buffer.subarray(from, from + n), within);
      else this.diskChunk(idx, buffer, from, n, within);
      pos += n;
    }
    this.size = Math.max(this.size, end);
  }
  truncate(length: number): void {
    if (length < this.size) {
      this.baseLimit = Math.min(this.baseLimit, length);
      const last = Math.floor(length / CHUNK);
      const gone = (idx: number): boolean => idx > last || (idx === last && length % CHUNK === 0);
      for (const idx of [...this.chunks.keys()]) {
        if (!gone(idx)) continue;
        this.chunks.delete(idx);
        this.store?.track(this, this.held, -CHUNK);
      }
      for (const idx of [...this.disk]) if (gone(idx)) this.disk.delete(idx);
      this.chunks.get(last)?.fill(0, length - last * CHUNK);
      if (this.disk.has(last)) pwriteFully(this.fd, Buffer.alloc(CHUNK - (length - last * CHUNK)), 0, CHUNK - (length - last * CHUNK), length);
    }
    this.size = length;
  }
  /** Memory held by written extents. */
  get storedBytes(): number {
    return this.chunks.size * CHUNK;
  }
  /** Bytes of the file the written extents hold, in memory or on disk (a last chunk counts to the end of the file). */
  get heldBytes(): number {
    let n = 0;
    for (const idx of [...this.chunks.keys(), ...this.disk]) n += Math.max(0, Math.min(CHUNK, this.size - idx * CHUNK));
    return n;
  }
  /** Bytes of written extents kept in the scratch file. */
  get diskBytes(): number {
    return this.disk.size * CHUNK;
  }
  private chunk(idx: number): Buffer {
    let c = this.chunks.get(idx);
    if (!c) {
      c = Buffer.alloc(CHUNK);
      this.fill(c, idx);
      this.chunks.set(idx, c);
      this.store?.track(this, this.held, CHUNK);
    }
    return c;
  }
  /** A new chunk made in the scratch file: lower bytes, then the piece written. */
  private diskChunk(idx: number, buffer: Uint8Array, from: number, n: number, within: number): void {
    if (this.fd < 0) this.fd = this.store!.scratch(this);
    const c = (this.piece ??= Buffer.alloc(CHUNK));
    c.fill(0);
    this.fill(c, idx);
    c.set(buffer.subarray(from, from + n), within);
    pwriteFully(this.fd, c, 0, CHUNK, idx * CHUNK);
    this.disk.add(idx);
  }
  private fill(c: Buffer, idx: number): void {
    const start = idx * CHUNK;
    const n = Math.max(0, Math.min(CHUNK, this.size - start));
    if (n > 0) this.copied += this.readBase(c, 0, n, start);
  }
  /** Reads lower bytes below baseLimit, zeros above; returns how many came from the lower file. */
  private readBase(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const fromBase = Math.max(0, Math.min(length, this.baseLimit - position));
    let got = 0;
    if (fromBase > 0) got = this.base.read(buffer, offset, fromBase, position);
    buffer.fill(0, offset + got, offset + length);
    return got;
  }
}
