/**
 * File data, three ways. Lower layers read from the archive; the writable layer stores bytes in
 * memory either as one growable buffer (full copy-up) or as written extents over the lower bytes
 * (chunked copy-up). All three answer reads identically; only their cost differs.
 */
import type { ByteSource } from '../source.js';

export interface FileData {
  readonly size: number;
  read(buffer: Uint8Array, offset: number, length: number, position: number): number;
  write(buffer: Uint8Array, offset: number, length: number, position: number): void;
  truncate(length: number): void;
}

/** Data of a file in a read-only layer: a window onto the archive. Never written. */
export class LowerData implements FileData {
  constructor(readonly src: ByteSource) {}
  get size(): number { return this.src.size; }
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return this.src.read(buffer, offset, length, position);
  }
  write(): void { throw new Error('layerfs: a lower layer was about to be modified'); }
  truncate(): void { throw new Error('layerfs: a lower layer was about to be modified'); }
}

/** Bytes held in one buffer that grows by doubling. */
export class BufferData implements FileData {
  private buf: Buffer;
  size: number;
  constructor(initial?: Buffer) {
    this.buf = initial ?? Buffer.alloc(0);
    this.size = this.buf.length;
  }
  /** Copies `size` bytes of `src` in one read: the whole cost of a full copy-up. */
  static copyOf(src: FileData): BufferData {
    const buf = Buffer.allocUnsafeSlow(src.size);
    const n = src.read(buf, 0, src.size, 0);
    if (n < src.size) buf.fill(0, n);
    return new BufferData(buf);
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n > 0) buffer.set(this.buf.subarray(position, position + n), offset);
    return n;
  }
  write(buffer: Uint8Array, offset: number, length: number, position: number): void {
    this.reserve(position + length);
    if (position > this.size) this.buf.fill(0, this.size, position);
    this.buf.set(buffer.subarray(offset, offset + length), position);
    this.size = Math.max(this.size, position + length);
  }
  truncate(length: number): void {
    if (length > this.size) {
      this.reserve(length);
      this.buf.fill(0, this.size, length);
    }
    this.size = length;
  }
  private reserve(n: number): void {
    if (n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(n, this.buf.length * 2, 64));
    this.buf.copy(next, 0, 0, this.size);
    this.buf = next;
  }
}

/** Chunk size of chunked copy-up: a 1-byte write stores one chunk (≤ 64 KiB, see issue 5). */
export const CHUNK = 4096;

/**
 * Written extents over lower bytes. A chunk is materialised (read from the lower file, then
 * modified) on its first write; bytes past `baseLimit` read as zeros, which is what truncation
 * below the lower size followed by growth must show.
 */
export class ChunkedData implements FileData {
  private chunks = new Map<number, Buffer>();
  private baseLimit: number;
  size: number;
  /** Bytes read from the lower file to fill chunks: what this copy-up has copied so far. */
  copied = 0;
  constructor(private readonly base: FileData) {
    this.size = base.size;
    this.baseLimit = base.size;
  }
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const end = Math.min(this.size, position + length);
    let pos = position;
    while (pos < end) {
      const idx = Math.floor(pos / CHUNK);
      const within = pos - idx * CHUNK;
      const n = Math.min(CHUNK - within, end - pos);
      const chunk = this.chunks.get(idx);
      const at = offset + (pos - position);
      if (chunk) buffer.set(chunk.subarray(within, within + n), at);
      else this.readBase(buffer, at, n, pos);
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
      const chunk = this.chunk(idx);
      chunk.set(buffer.subarray(offset + (pos - position), offset + (pos - position) + n), within);
      pos += n;
    }
    this.size = Math.max(this.size, end);
  }
  truncate(length: number): void {
    if (length < this.size) {
      this.baseLimit = Math.min(this.baseLimit, length);
      const last = Math.floor(length / CHUNK);
      for (const idx of [...this.chunks.keys()]) {
        if (idx > last || (idx === last && length % CHUNK === 0)) this.chunks.delete(idx);
      }
      this.chunks.get(last)?.fill(0, length - last * CHUNK);
    }
    this.size = length;
  }
  /** Memory held by written extents. */
  get storedBytes(): number {
    return this.chunks.size * CHUNK;
  }
  private chunk(idx: number): Buffer {
    let c = this.chunks.get(idx);
    if (!c) {
      c = Buffer.alloc(CHUNK);
      const start = idx * CHUNK;
      const n = Math.max(0, Math.min(CHUNK, this.size - start));
      if (n > 0) this.copied += this.readBase(c, 0, n, start);
      this.chunks.set(idx, c);
    }
    return c;
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
