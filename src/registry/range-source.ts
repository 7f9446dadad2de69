/**
 * A registry blob as a ByteSource read by HTTP Range requests, for lazy reads of uncompressed
 * layers. The view reads synchronously (ByteSource.read, as fs.readSync), so the requests run in
 * a worker thread and the caller waits on a SharedArrayBuffer (Atomics.wait): the only way to make
 * a synchronous network read in Node without a child process per read. Hand-written because no
 * library does a blocking range read; the worker uses Node's fetch (undici).
 *
 * Rules:
 * - reads are served from aligned 64 KiB blocks, each fetched once and kept, so walking the headers
 *   of a tar costs about one block per distant header; the missing blocks of one read are asked
 *   for together (`Range: bytes=A-B`, up to 16 MiB a request), so a large file is few requests;
 * - the registry must answer 206 with the range asked for; a 200 (no range support), a short body
 *   or any error is a RegistryError from the read (the view shows it as the read failing);
 * - Authorization goes to the registry's origin only, never to a host a redirect leads to;
 * - the bytes are not verified against the digest (that needs every byte): lazy reads trust the
 *   registry for the bytes they read, which the README says;
 * - the registry must not be served by the thread that reads (it is blocked while it waits): the
 *   CLI reads lazily, the library's openImage(docker://...) fetches whole.
 */
import { Worker } from 'node:worker_threads';
import type { ByteSource, RemoteKind } from '../source.js';
import { RegistryError } from './errors.js';

export const BLOCK = 64 * 1024;
const HEADER_INTS = 4; // [state, status, length, unused]

const WORKER = `
const { parentPort } = require('node:worker_threads');
async function get(url, h) {
  let current = new URL(url);
  const origin = current.origin;
  let res;
  for (let hop = 0; ; hop++) {
    res = await fetch(current, { headers: h, redirect: 'manual' });
    const loc = res.headers.get('location');
    if (![301, 302, 303, 307, 308].includes(res.status) || !loc || hop >= 10) return res;
    await res.arrayBuffer();
    current = new URL(loc, current);
    if (current.origin !== origin) { const { authorization, ...rest } = h; h = rest; }
  }
}
// The one streaming GET of a blob read whole (StreamedSource): its body's reader and what of the
// last piece did not fit.
const streams = new Map();
async function next(url, headers, out) {
  let s = streams.get(url);
  if (!s) {
    const res = await get(url, { ...headers });
    if (res.status !== 200) { await res.arrayBuffer(); return { status: res.status, n: 0 }; }
    s = { reader: res.body.getReader(), rest: undefined };
    streams.set(url, s);
  }
  let n = 0;
  while (n < out.length) {
    let piece = s.rest;
    s.rest = undefined;
    if (!piece) {
      const r = await s.reader.read();
      if (r.done) { streams.delete(url); break; }
      piece = r.value;
    }
    const k = Math.min(piece.length, out.length - n);
    out.set(piece.subarray(0, k), n);
    n += k;
    if (k < piece.length) s.rest = piece.subarray(k);
  }
  return { status: 200, n };
}
parentPort.on('message', async ({ url, headers, start, end, stream, control, data }) => {
  const ctl = new Int32Array(control);
  const out = new Uint8Array(data);
  try {
    if (stream) {
      const { status, n } = await next(url, headers, out);
      ctl[1] = status === 200 ? 206 : status;
      ctl[2] = n;
    } else {
    const res = await get(url, { ...headers, range: 'bytes=' + start + '-' + end });
    const body = new Uint8Array(await res.arrayBuffer());
    const n = Math.min(body.length, out.length);
    out.set(body.subarray(0, n));
    ctl[1] = res.status;
    ctl[2] = res.status === 206 ? n : -body.length;
    }
  } catch (e) {
    ctl[1] = -1;
    ctl[2] = 0;
    out.set(new TextEncoder().encode(String(e && e.message || e)).subarray(0, 1024));
  }
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
});
`;

/** One worker per lazily opened image; `close` ends it. */
export class RangeFetcher {
  // No inherited --import hooks (tsx under tests): the worker is plain JS, and module hooks would
  // run on a thread the blocked caller owns.
  private readonly worker = new Worker(WORKER, { eval: true, execArgv: [] });
  private readonly control = new SharedArrayBuffer(HEADER_INTS * 4);
  private data = new SharedArrayBuffer(BLOCK);
  /** Bytes received by range reads. */
  fetched = 0;
  requests = 0;
  /** The blob whose streaming GET is under way (counted once in `requests`). */
  private streaming: string | undefined;
  constructor(private readonly headers: Record<string, string>) {
    this.worker.unref();
  }

  /** Bytes [start, end] of `url`, blocking until they are here. */
  fetchSync(url: string, start: number, end: number, where: string): Buffer {
    const n = this.ask({ url, start, end }, end - start + 1, `range ${start}-${end}`, where);
    if (n !== end - start + 1) throw new RegistryError('TRUNCATED', where, `asked for bytes ${start}-${end}, got ${n}`);
    return Buffer.from(Buffer.from(this.data, 0, n));
  }

  /**
   * The next up to `max` bytes of one GET of the whole of `url` (started by the first call, one
   * request), blocking until they are here; fewer only at its end, none after it.
   */
  streamSync(url: string, max: number, where: string): Buffer {
    const n = this.ask({ url, stream: true }, max, 'streaming GET', where);
    return Buffer.from(Buffer.from(this.data, 0, n));
  }

  private ask(msg: { url: string; start?: number; end?: number; stream?: boolean }, room: number, what: string, where: string): number {
    const ctl = new Int32Array(this.control);
    if (this.data.byteLength < room) this.data = new SharedArrayBuffer(room);
    Atomics.store(ctl, 0, 0);
    this.worker.postMessage({ ...msg, headers: this.headers, control: this.control, data: this.data });
    while (Atomics.wait(ctl, 0, 0, 60_000) === 'timed-out') {
      throw new RegistryError('NETWORK', where, `${what}: no answer in 60 s`);
    }
    const status = ctl[1]!;
    const n = ctl[2]!;
    if (status === -1) throw new RegistryError('NETWORK', where, `${what}: ${Buffer.from(this.data).toString('utf8').replace(/\0+$/, '').slice(0, 300)}`);
    if (status !== 206) throw new RegistryError('BAD_RESPONSE', where, `${what}: got HTTP ${status}${status === 200 && !msg.stream ? ' (no range support)' : ''}`);
    if (!msg.stream || this.streaming !== msg.url) this.requests++;
    this.streaming = msg.stream && n > 0 ? msg.url : undefined;
    this.fetched += n;
    return n;
  }

  close(): void {
    void this.worker.terminate();
  }
}

export class RangeSource implements ByteSource {
  readonly remote = 'ranges';
  private blocks = new Map<number, Buffer>();
  constructor(
    private readonly fetcher: RangeFetcher,
    private readonly url: string,
    readonly size: number,
    private readonly where: string,
  ) {}

  /** A block fetched already (the first one, asked for while the image is opened). */
  seed(index: number, block: Buffer): void {
    this.blocks.set(index, block);
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    let done = 0;
    if (n > 0) this.fill(Math.floor(position / BLOCK), Math.floor((position + n - 1) / BLOCK));
    while (done < n) {
      const pos = position + done;
      const index = Math.floor(pos / BLOCK);
      const block = this.blocks.get(index)!;
      const from = pos - index * BLOCK;
      const take = Math.min(n - done, block.length - from);
      buffer.set(block.subarray(from, from + take), offset + done);
      done += take;
    }
    return done;
  }

  /** Fetches the missing blocks of first..last, each run of them in one request. */
  private fill(first: number, last: number): void {
    for (let i = first; i <= last; i++) {
      if (this.blocks.has(i)) continue;
      let j = i;
      while (j < last && !this.blocks.has(j + 1) && j - i + 1 < MAX_RUN) j++;
      const start = i * BLOCK;
      const bytes = this.fetcher.fetchSync(this.url, start, Math.min(this.size, (j + 1) * BLOCK) - 1, this.where);
      for (let k = i; k <= j; k++) this.blocks.set(k, bytes.subarray((k - i) * BLOCK, (k - i + 1) * BLOCK));
      i = j;
    }
  }
}

const MAX_RUN = (16 << 20) / BLOCK;

/**
 * A blob read by exactly the ranges asked for, one request per read: for reads that know their
 * extent (a zstd:chunked TOC, one file's frames), so what is fetched is what is needed, no more.
 * Bytes fetched while the image was opened can be handed in (`seed`); a read inside them is free.
 */
export class ExactRangeSource implements ByteSource {
  readonly remote: RemoteKind = 'ranges';
  private seeded?: { start: number; bytes: Buffer };
  constructor(
    protected readonly fetcher: RangeFetcher,
    protected readonly url: string,
    readonly size: number,
    protected readonly where: string,
  ) {}

  seed(start: number, bytes: Buffer): void {
    this.seeded = { start, bytes };
  }

  protected seededCovers(position: number, n: number): boolean {
    const s = this.seeded;
    return s !== undefined && position >= s.start && position + n <= s.start + s.bytes.length;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return 0;
    const s = this.seeded;
    if (s && this.seededCovers(position, n)) {
      buffer.set(s.bytes.subarray(position - s.start, position - s.start + n), offset);
      return n;
    }
    // Large reads in requests of at most 16 MiB (the worker's buffer is as large as one answer).
    for (let done = 0; done < n; ) {
      const take = Math.min(n - done, MAX_RUN * BLOCK);
      buffer.set(this.fetcher.fetchSync(this.url, position + done, position + done + take - 1, this.where), offset + done);
      done += take;
    }
    return n;
  }
}

/** Bytes a streaming read asks the worker for at a time. */
const STREAM_PIECE = 1 << 20;

/**
 * A blob read whole from its start by ONE streaming GET (a gzip layer opened the first time: the
 * open inflates, hashes and indexes it in one pass), any other read by exact Range requests (a
 * read through its gzip index later). Rule: a read at or after the stream's oldest kept byte and
 * not past what it has delivered continues the stream (the bytes before the read are let go);
 * anything else is a Range request. Bytes fetched at the start (a probe) can be seeded.
 */
export class StreamedSource extends ExactRangeSource {
  override readonly remote: RemoteKind = 'stream';
  /** The stream's bytes [kept, streamed) not yet let go. */
  private buf: Buffer = Buffer.alloc(0);
  private kept = 0;
  private streamed = 0;
  override read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return 0;
    const fromStream = position >= this.kept && position <= this.streamed;
    if (!fromStream || (this.streamed === 0 && this.seededCovers(position, n))) return super.read(buffer, offset, length, position);
    if (position > this.kept) {
      this.buf = this.buf.subarray(position - this.kept);
      this.kept = position;
    }
    while (this.streamed < position + n) {
      const piece = this.fetcher.streamSync(this.url, STREAM_PIECE, this.where);
      if (piece.length === 0) throw new RegistryError('TRUNCATED', this.where, `the blob ended after ${this.streamed} of ${this.size} bytes`);
      this.buf = this.buf.length ? Buffer.concat([this.buf, piece]) : piece;
      this.streamed += piece.length;
    }
    buffer.set(this.buf.subarray(0, n), offset);
    return n;
  }
}
