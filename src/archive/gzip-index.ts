/**
 * A random-access index of a gzip blob (the technique of zlib's examples/zran.c), so that a gzip
 * layer read once can later be read by ranges: one streaming pass records checkpoints, and a read
 * inflates only the span (about 4 MiB of output) that holds its bytes. Format only: the blob is
 * any ByteSource (the registry's lazy view hands one that makes Range requests). Rules OCI-19..21.
 *
 * Why pako and not node:zlib: a checkpoint needs an inflater that stops at deflate block ends
 * (Z_BLOCK), says where it stopped to the bit (`data_type`: bits left in the last byte, 128 at a
 * block end, 64 after the last block), and can resume there: a raw inflater primed with those bits
 * (zlib's inflatePrime; pako has none, so its `state.hold/bits` are set as inflatePrime sets them)
 * and the 32 KiB window as dictionary (inflateSetDictionary). Node's zlib binding exposes none of
 * these; pako is the maintained JS port of zlib's inflate and exposes them all.
 *
 * - OCI-19 Checkpoints: at a deflate block boundary (or a member's header end) every SPAN or more
 *   bytes of output, the first where the first member's data starts: compressed byte offset, bits
 *   (0-7) of the byte before it still unread, uncompressed offset, the last 32 KiB of the member's
 *   output (none at a member's start: a member's history starts empty). Each span (checkpoint to
 *   next, the last to the end) has the sha256 of its uncompressed bytes.
 * - OCI-20 The stream as a whole: every member's header, CRC-32 and ISIZE are checked (pako); what
 *   follows a member must be another member (else "trailing garbage", BAD_COMPRESSION); a stream
 *   that ends inside a member is TRUNCATED. Both name the file.
 * - OCI-21 Reads: a span's bytes are inflated from its checkpoint to the next and checked against
 *   its sha256 before any byte is handed out (DIGEST_MISMATCH naming the file and span otherwise);
 *   the index itself is framed with a version and a sha256, so a torn or altered one is BAD_INDEX.
 */
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Z_BLOCK, Z_BUF_ERROR, Z_NO_FLUSH, Z_OK, Z_STREAM_END, ZStream, zlibInflate, zlibInflateInit2, zlibInflateReset, zlibInflateSetDictionary } from 'pako';
import { ArchiveError } from '../core/errors.js';
import type { ByteSource } from '../source.js';

/** Uncompressed bytes between checkpoints (at least; a checkpoint waits for a block end). */
export const SPAN = 4 << 20;
/** Deflate's history: a resumed inflate needs this much of the output before the checkpoint. */
const WINDOW = 32 << 10;
/** The indexer's output buffer: a chunk handed out is a view into one of these, never rewritten. */
const OUT = 1 << 20;
/** windowBits for pako: gzip only (header, CRC-32, ISIZE checked); raw deflate to resume. */
const GZIP = 15 + 16;
const RAW = -15;

export interface GzipCheckpoint {
  /** Compressed bytes before the checkpoint (the byte at in - 1 holds `bits` unread bits). */
  readonly in: number;
  readonly bits: number;
  /** Uncompressed bytes before the checkpoint. */
  readonly out: number;
  /** Up to 32 KiB of output before `out`, within the member. */
  readonly window: Uint8Array;
  /** sha256 of the span's uncompressed bytes (32 bytes). */
  readonly sha256: Uint8Array;
}

export interface GzipIndex {
  /** The compressed blob's size. */
  readonly blobSize: number;
  /** The uncompressed size. */
  readonly size: number;
  readonly points: readonly GzipCheckpoint[];
}

/** Data errors from pako, as the typed error naming the file and where. */
function inflateError(file: string, strm: ZStream, at: number, what: string): ArchiveError {
  return new ArchiveError('BAD_COMPRESSION', file, `${what}: ${strm.msg || 'corrupt deflate data'} (near compressed offset ${at})`);
}

/**
 * One streaming pass over a gzip blob: `push` each compressed chunk in order, get the uncompressed
 * chunks back (views of buffers that are never written again), and `end` for the index.
 */
export class GzipIndexer {
  private readonly strm = new ZStream();
  private readonly points: GzipCheckpoint[] = [];
  private pending: { in: number; bits: number; out: number; window: Uint8Array } | undefined;
  private hash = createHash('sha256');
  private buf = Buffer.allocUnsafeSlow(OUT);
  private prev: Buffer | undefined;
  /** Compressed bytes consumed, uncompressed bytes produced, where the current member's output began. */
  private inPos = 0;
  private outPos = 0;
  private memberOut = 0;
  private members = 1;
  /** The last member ended (Z_STREAM_END): what follows must be another member, or nothing. */
  private ended = false;

  constructor(
    private readonly file: string,
    private readonly span = SPAN,
  ) {
    zlibInflateInit2(this.strm, GZIP);
    this.strm.output = this.buf;
    this.strm.next_out = 0;
    this.strm.avail_out = OUT;
  }

  push(chunk: Uint8Array): Buffer[] {
    const strm = this.strm;
    const pieces: Buffer[] = [];
    strm.input = chunk;
    strm.next_in = 0;
    strm.avail_in = chunk.length;
    for (;;) {
      if (this.ended) {
        if (strm.avail_in === 0) break;
        // OCI-20: another member follows; its history starts empty.
        zlibInflateReset(strm);
        this.ended = false;
        this.memberOut = this.outPos;
        this.members++;
      }
      if (strm.avail_in === 0 && strm.avail_out !== 0) break;
      if (strm.avail_out === 0) {
        this.prev = this.buf;
        this.buf = Buffer.allocUnsafeSlow(OUT);
        strm.output = this.buf;
        strm.next_out = 0;
        strm.avail_out = OUT;
      }
      const outBefore = strm.next_out;
      const inBefore = strm.next_in;
      const ret = zlibInflate(strm, Z_BLOCK);
      this.inPos += strm.next_in - inBefore;
      if (strm.next_out > outBefore) {
        const piece = this.buf.subarray(outBefore, strm.next_out);
        this.hash.update(piece);
        pieces.push(piece);
        this.outPos += piece.length;
      }
      if (ret === Z_STREAM_END) {
        this.ended = true;
        continue;
      }
      if (ret === Z_BUF_ERROR) break;
      if (ret !== Z_OK) {
        const header = this.members > 1 && this.outPos === this.memberOut;
        throw inflateError(this.file, strm, this.inPos, header ? `trailing garbage after gzip member ${this.members - 1} (not another member's header)` : `gzip member ${this.members}`);
      }
      // A block end (128) that is not the last block's (64), or a header's end: a checkpoint may go here.
      if ((strm.data_type & 0xc0) === 0x80 && (!this.pending || this.outPos - this.pending.out >= this.span)) {
        this.checkpoint(strm.data_type & 7);
      }
    }
    return pieces;
  }

  private checkpoint(bits: number): void {
    if (this.pending) this.points.push({ ...this.pending, sha256: this.hash.digest() });
    this.hash = createHash('sha256');
    this.pending = { in: this.inPos, bits, out: this.outPos, window: this.window() };
  }

  /** The last min(32 KiB, output of this member) bytes, copied out of the output buffers. */
  private window(): Uint8Array {
    const n = Math.min(WINDOW, this.outPos - this.memberOut);
    const at = this.strm.next_out;
    if (at >= n) return Buffer.from(this.buf.subarray(at - n, at));
    return Buffer.concat([this.prev!.subarray(OUT - (n - at)), this.buf.subarray(0, at)]);
  }

  end(): GzipIndex {
    if (!this.ended || !this.pending) {
      throw new ArchiveError('TRUNCATED', this.file, `the gzip stream ends inside member ${this.members} (after ${this.inPos} compressed bytes); it is cut short`);
    }
    this.points.push({ ...this.pending, sha256: this.hash.digest() });
    this.pending = undefined;
    return { blobSize: this.inPos, size: this.outPos, points: this.points };
  }
}

// The serialized index: MAGIC, u32 version, u64 blob size, u64 size, u32 count, then per point
// u64 in, u64 out, u8 bits, 32-byte sha256, u32 window length, u32 deflated length, the deflated
// window; then the sha256 of everything before it. Little-endian.
const MAGIC = Buffer.from('LFSGZI\n\0', 'latin1');
const VERSION = 1;
const POINT = 8 + 8 + 1 + 32 + 4 + 4;

export function serializeGzipIndex(index: GzipIndex): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(MAGIC.length + 4 + 8 + 8 + 4);
  MAGIC.copy(head, 0);
  let o = MAGIC.length;
  o = head.writeUInt32LE(VERSION, o);
  o = head.writeBigUInt64LE(BigInt(index.blobSize), o);
  o = head.writeBigUInt64LE(BigInt(index.size), o);
  head.writeUInt32LE(index.points.length, o);
  parts.push(head);
  for (const p of index.points) {
    const z = p.window.length ? deflateRawSync(p.window) : Buffer.alloc(0);
    const b = Buffer.alloc(POINT);
    let q = b.writeBigUInt64LE(BigInt(p.in), 0);
    q = b.writeBigUInt64LE(BigInt(p.out), q);
    q = b.writeUInt8(p.bits, q);
    b.set(p.sha256, q);
    q = b.writeUInt32LE(p.window.length, q + 32);
    b.writeUInt32LE(z.length, q);
    parts.push(b, z);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** The index in `bytes`, or BAD_INDEX naming `file` and what is wrong (the caller drops and rebuilds it). */
export function parseGzipIndex(bytes: Buffer, file: string): GzipIndex {
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_INDEX', file, `not a usable gzip index: ${problem}`);
  };
  const headLen = MAGIC.length + 4 + 8 + 8 + 4;
  if (bytes.length < headLen + 32 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) bad('no gzip index header');
  const version = bytes.readUInt32LE(MAGIC.length);
  if (version !== VERSION) bad(`version ${version}, expected ${VERSION}`);
  const body = bytes.subarray(0, bytes.length - 32);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(bytes.subarray(bytes.length - 32))
  )
    bad('its checksum does not match its bytes (torn or altered)');
  let o = MAGIC.length + 4;
  const blobSize = Number(bytes.readBigUInt64LE(o));
  const size = Number(bytes.readBigUInt64LE(o + 8));
  const count = bytes.readUInt32LE(o + 16);
  o = headLen;
  const points: GzipCheckpoint[] = [];
  for (let i = 0; i < count; i++) {
    if (o + POINT > body.length) bad(`it ends inside checkpoint ${i} of ${count}`);
    const p = { in: Number(body.readBigUInt64LE(o)), out: Number(body.readBigUInt64LE(o + 8)), bits: body[o + 16] };
    const sha256 = Buffer.from(body.subarray(o + 17, o + 49));
    const wlen = body.readUInt32LE(o + 49);
    const zlen = body.readUInt32LE(o + 53);
    o += POINT;
    if (o + zlen > body.length) bad(`it ends inside the window of checkpoint ${i}`);
    const window = wlen ? inflateRawSync(body.subarray(o, o + zlen)) : Buffer.alloc(0);
    o += zlen;
    const last = points[i - 1];
    const ordered = last ? p.in > last.in && p.out > last.out : p.out === 0;
    if (!ordered || p.bits > 7 || p.in > blobSize || p.out > size || window.length !== wlen || wlen > WINDOW) bad(`checkpoint ${i} is inconsistent`);
    points.push({ ...p, window, sha256 });
  }
  if (o !== body.length || count === 0) bad(count === 0 ? 'no checkpoints' : 'bytes after the last checkpoint');
  return { blobSize, size, points };
}

/**
 * The uncompressed bytes of a gzip blob through its index. Sync, as every ByteSource: each decode
 * reads the span's compressed bytes with one `blob.read` (one Range request from a registry).
 */
export class GzipIndexSource implements ByteSource {
  readonly size: number;
  /** The last couple of spans decoded (a tar walk and a file read often go back and forth). */
  private readonly recent: { span: number; data: Buffer }[] = [];

  constructor(
    private readonly blob: ByteSource,
    private readonly index: GzipIndex,
    private readonly file: string,
  ) {
    if (blob.size !== index.blobSize) throw new ArchiveError('BAD_INDEX', file, `the gzip index is for a blob of ${index.blobSize} bytes, this one has ${blob.size}`);
    this.size = index.size;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    let done = 0;
    while (done < n) {
      const at = position + done;
      const span = this.spanOf(at);
      const data = this.decoded(span);
      const from = at - this.index.points[span].out;
      const k = Math.min(n - done, data.length - from);
      buffer.set(data.subarray(from, from + k), offset + done);
      done += k;
    }
    return done;
  }

  /** The last checkpoint at or before `pos` (binary search). */
  private spanOf(pos: number): number {
    const pts = this.index.points;
    let lo = 0;
    let hi = pts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (pts[mid].out <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private decoded(span: number): Buffer {
    const hit = this.recent.find((r) => r.span === span);
    if (hit) return hit.data;
    const data = this.decode(span);
    this.recent.unshift({ span, data });
    if (this.recent.length > 2) this.recent.pop();
    return data;
  }

  /** OCI-21: inflate the span from its checkpoint, check its sha256, then hand it out. */
  private decode(span: number): Buffer {
    const pts = this.index.points;
    const p = pts[span];
    const outLen = (span + 1 < pts.length ? pts[span + 1].out : this.size) - p.out;
    const start = p.in - (p.bits ? 1 : 0);
    const end = span + 1 < pts.length ? pts[span + 1].in : this.index.blobSize;
    const input = Buffer.allocUnsafe(end - start);
    let got = 0;
    for (let k = 1; got < input.length && k > 0; got += k) k = this.blob.read(input, got, input.length - got, start + got);
    if (got !== input.length) throw new ArchiveError('TRUNCATED', this.file, `span ${span} of the gzip index: asked for ${input.length} bytes at offset ${start}, got ${got}`);
    const output = Buffer.allocUnsafe(outLen);
    const strm = new ZStream();
    zlibInflateInit2(strm, RAW);
    strm.input = input;
    strm.next_in = p.bits ? 1 : 0;
    strm.avail_in = input.length - strm.next_in;
    // inflatePrime(bits, byte >> (8 - bits)): the unread high bits of the byte before the checkpoint.
    if (p.bits) {
      strm.state.hold = input[0] >> (8 - p.bits);
      strm.state.bits = p.bits;
    }
    if (p.window.length) zlibInflateSetDictionary(strm, p.window);
    strm.output = output;
    strm.next_out = 0;
    strm.avail_out = outLen;
    let raw = true;
    while (strm.avail_out > 0) {
      const before = strm.next_out + strm.next_in;
      const ret = zlibInflate(strm, Z_NO_FLUSH);
      if (ret === Z_STREAM_END && strm.avail_out > 0) {
        // A member ended inside the span; the next starts after its 8-byte trailer (which the raw
        // inflater leaves, a gzip one has read), and is read as gzip: header, data, trailer.
        const next = strm.next_in + (raw ? 8 : 0);
        raw = false;
        zlibInflateInit2(strm, GZIP);
        strm.next_in = next;
        strm.avail_in = Math.max(0, input.length - next);
        continue;
      }
      // The index decoded these bytes once: data that no longer inflates is a changed blob.
      if (ret !== Z_OK && ret !== Z_STREAM_END && ret !== Z_BUF_ERROR) return this.mismatch(span, outLen, `corrupt deflate data (${strm.msg || ret})`);
      if (strm.next_out + strm.next_in === before) break;
    }
    if (strm.avail_out > 0) return this.mismatch(span, outLen, `only ${strm.next_out} of ${outLen} bytes`);
    const found = createHash('sha256').update(output).digest();
    if (!found.equals(p.sha256)) return this.mismatch(span, outLen, `sha256 ${found.toString('hex')}`);
    return output;
  }

  private mismatch(span: number, outLen: number, found: string): never {
    const p = this.index.points[span];
    const want = Buffer.from(p.sha256).toString('hex');
    throw new ArchiveError('DIGEST_MISMATCH', this.file, `uncompressed bytes [${p.out}, ${p.out + outLen}) (span ${span} of the gzip index) should have sha256 ${want}, found ${found}`);
  }
}
