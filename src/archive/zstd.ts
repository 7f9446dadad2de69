/**
 * zstd layers: libzstd through the `zstd-napi` binding when its native module loads, else fzstd.
 *
 * zstd-napi is an optional dependency built from source (node-gyp) when it is installed: where that
 * cannot happen (no C++ toolchain, `--ignore-scripts`, an install-script policy that skips it) npm
 * leaves it out or without its `.node` file, and the pure-JS fzstd decodes instead: same results,
 * about 7× slower (~200 MiB/s against libzstd's ~1.5 GiB/s), and it does not check frame checksums.
 *
 * Both decode as a stream, in bounded memory: the input is read in chunks, the output is handed to
 * the caller chunk by chunk (it writes it to the spill file), so the caller's limit on uncompressed
 * bytes stops decoding at the limit.
 */
import { createRequire } from 'node:module';
import { Decompress, ZstdErrorCode } from 'fzstd';
import { BufferSource, type ByteSource } from '../source.js';
import { formatBytes } from './limits.js';

/**
 * The largest window a frame may ask for: `limits.maxZstdWindowBytes`, by default 2^27 = 128 MiB,
 * the zstd CLI's own (ZSTD_WINDOWLOG_LIMIT_DEFAULT; `zstd -d` refuses more unless given --memory or
 * --long). A decoder allocates the window a frame header declares (up to 2 GiB by the format,
 * 3.75 TiB by the header's range) before a single byte is output, so a 20-byte file could
 * otherwise make us allocate that much before the limit on uncompressed bytes can apply.
 * libzstd takes the limit as a power of two (windowLogMax, 10..31): other values round down.
 */
export const ZSTD_WINDOW_MAX = 2 ** 27;
const windowLog = (maxBytes: number): number => Math.min(31, Math.max(10, Math.floor(Math.log2(Math.max(1, maxBytes)))));

/** Why a zstd stream cannot be decoded: `code` is the ArchiveError code the caller reports. */
export class ZstdError extends Error {
  override readonly name = 'ZstdError';
  constructor(
    readonly code: 'TRUNCATED' | 'BAD_COMPRESSION' | 'LIMIT',
    message: string,
  ) {
    super(message);
  }
}

/** Where decoded bytes go. */
export interface ZstdOutput {
  /** Takes `c`, which must stay unchanged until a later `drain(n)` has said it is written. */
  put(c: Uint8Array): void;
  /** Takes `c` and is done with it on return (the decoder reuses it at once). */
  putSync(c: Uint8Array): void;
  /** Undefined, or a promise that settles once at most `n` of the chunks given to `put` are unwritten. */
  drain(n: number): Promise<void> | undefined;
}

export interface ZstdOptions {
  /** Called with each chunk of the stored bytes as it is read (hashing, progress); not kept. */
  onChunk?: (c: Uint8Array) => void;
  /** Which decoder: the native one when it loaded (default), or fzstd. */
  decoder?: 'native' | 'js';
  /** The largest window a frame may ask for (ZSTD_WINDOW_MAX unless given); see above. */
  maxWindowBytes?: number;
}

// ---------------------------------------------------------------- the decoders

/** The parts of zstd-napi's low-level binding (zstd-napi/binding.d.ts) used here. */
interface Binding {
  DCtx: new () => {
    setParameter(param: number, value: number): void;
    /** ZSTD_decompressStream: [0 when a frame is complete and flushed, bytes written, bytes consumed]. */
    decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
  };
  DParameter: { windowLogMax: number };
  versionString(): string;
}

function loadBinding(): Binding | undefined {
  try {
    const b = createRequire(import.meta.url)('zstd-napi/binding') as Binding;
    return typeof b.DCtx === 'function' && typeof b.DParameter?.windowLogMax === 'number' ? b : undefined;
  } catch {
    return undefined; // not installed, or installed without its built .node file: fzstd decodes
  }
}

const binding = loadBinding();

/** Which decoder `decompressZstd` uses by default: "libzstd 1.5.x (zstd-napi)" or "fzstd". */
export const zstdDecoder: string = binding ? `libzstd ${binding.versionString()} (zstd-napi)` : 'fzstd';

/** Bytes read from the blob at a time, and the size of each output buffer. */
const IN_CHUNK = 1 << 20;
const OUT_CHUNK = 1 << 20;
/** Output buffers in rotation: one being filled while the others wait for or are in a write. */
const RING = 4;

/** Decodes every frame of `src`, handing the output to `out`; throws ZstdError for bad data. */
export async function decompressZstd(src: ByteSource, out: ZstdOutput, opts: ZstdOptions = {}): Promise<void> {
  const log = windowLog(opts.maxWindowBytes ?? ZSTD_WINDOW_MAX);
  if (opts.decoder === 'js' || !binding) decodeJs(src, out, log, opts.onChunk);
  else await decodeNative(binding, src, out, log, opts.onChunk);
}

/**
 * One libzstd decoding stream, with the rules every use of it keeps: the window limit, when the
 * output of an input is all out, and that the input ends where a frame ends.
 */
class NativeStream {
  private readonly dctx: InstanceType<Binding['DCtx']>;
  private inFrame = false;
  constructor(
    b: Binding,
    private readonly log: number,
  ) {
    this.dctx = new b.DCtx();
    // Rule: a frame's window is at most 2^log; libzstd refuses a larger one when it reads the frame
    // header, before allocating it ("Frame requires too much memory for decoding").
    this.dctx.setParameter(b.DParameter.windowLogMax, log);
  }

  /**
   * Decodes what it can of `input` into `out`: the input left, the bytes of `out` filled, and
   * whether to call again with what is left (`more`).
   */
  step(out: Uint8Array, input: Uint8Array): { rest: Uint8Array; produced: number; more: boolean } {
    let ret: number, produced: number, consumed: number;
    try {
      [ret, produced, consumed] = this.dctx.decompressStream(out, input);
    } catch (e) {
      throw nativeError(e, this.log);
    }
    const rest = input.subarray(consumed);
    this.inFrame = ret !== 0;
    // All input consumed, and the frame done (ret 0) or the output buffer not filled: nothing
    // more to flush for now. (Called again after its frame is done, with no input, libzstd
    // would answer that it waits for the next frame's header: not inside a frame.)
    return { rest, produced, more: !(rest.length === 0 && (ret === 0 || produced < out.length)) };
  }

  /** Rule: the input must end where a frame ends; inside one it was cut short. */
  end(): void {
    if (this.inFrame) throw new ZstdError('TRUNCATED', 'unexpected end of data inside a frame');
  }
}

async function decodeNative(b: Binding, src: ByteSource, out: ZstdOutput, log: number, onChunk?: (c: Uint8Array) => void): Promise<void> {
  const z = new NativeStream(b, log);
  // libzstd copies what it still needs of the input into its own buffers, so one input buffer
  // serves every read; output goes to a ring of buffers reused once written.
  const input = Buffer.allocUnsafe(Math.min(IN_CHUNK, Math.max(1, src.size)));
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafe(OUT_CHUNK));
  let r = 0;
  for (let pos = 0; pos < src.size; ) {
    const n = src.read(input, 0, Math.min(input.length, src.size - pos), pos);
    if (n <= 0) break;
    pos += n;
    let rest: Uint8Array = input.subarray(0, n);
    onChunk?.(rest);
    for (;;) {
      // ring[r] is free once at most RING - 1 of the earlier buffers wait for their write.
      const wait = out.drain(RING - 1);
      if (wait) await wait;
      const buf = ring[r];
      const step = z.step(buf, rest);
      rest = step.rest;
      if (step.produced > 0) {
        out.put(buf.subarray(0, step.produced));
        r = (r + 1) % RING;
      }
      if (!step.more) break;
    }
  }
  z.end();
}

function nativeError(e: unknown, log: number): ZstdError {
  const msg = (e as Error)?.message ?? String(e);
  if (/too much memory/i.test(msg)) return windowError(log);
  return new ZstdError('BAD_COMPRESSION', msg);
}

/** A frame over the window limit: LIMIT, not corruption (`zstd -d --memory` would decode it). */
function windowError(log: number, declared?: number): ZstdError {
  const size = declared === undefined ? '' : ` of ${formatBytes(declared)}`;
  return new ZstdError('LIMIT', `a frame asks for a window${size}, over the ${formatBytes(2 ** log)} this reader allows (such a frame needs \`zstd -d --memory\`)`);
}

function* freshChunks(src: ByteSource): Generator<Uint8Array> {
  for (let pos = 0; pos < src.size; ) {
    const buf = Buffer.allocUnsafe(Math.min(IN_CHUNK, src.size - pos));
    const n = src.read(buf, 0, buf.length, pos);
    if (n <= 0) break;
    yield n === buf.length ? buf : buf.subarray(0, n);
    pos += n;
  }
}

function decodeJs(src: ByteSource, out: ZstdOutput, log: number, onChunk?: (c: Uint8Array) => void): void {
  const frames = new FrameWalker(log);
  const z = new Decompress((c) => out.putSync(c));
  let any = false;
  try {
    // A fresh buffer per chunk: fzstd keeps a chunk that ends inside a block until the next push.
    for (const c of freshChunks(src)) {
      onChunk?.(c);
      any = true;
      // The walker sees each frame header before fzstd does (fzstd allocates the declared window).
      frames.scan(c);
      z.push(c, false);
    }
    if (any) z.push(new Uint8Array(0), true);
  } catch (e) {
    // fzstd's own errors carry a numeric code; anything else (the output's limit, a write error,
    // an exception fzstd did not mean) goes up as it is.
    if (e instanceof ZstdError || !(e instanceof Error) || !('code' in e) || typeof e.code !== 'number') throw e;
    throw new ZstdError(e.code === ZstdErrorCode.UnexpectedEOF ? 'TRUNCATED' : 'BAD_COMPRESSION', e.message);
  }
}

// ---------------------------------------------------------------- frame headers, for fzstd

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

/**
 * Follows the frame and block headers of a zstd stream (RFC 8878 §3.1) without decoding, to read
 * each frame's window size before fzstd allocates it: fzstd has no window limit of its own. Only
 * headers are read; block contents are skipped by their sizes. On anything it does not
 * understand it stops looking and leaves the error to the decoder.
 */
export class FrameWalker {
  private state: 'magic' | 'header' | 'skippable' | 'block' | 'off' = 'magic';
  private readonly hdr = new Uint8Array(18); // magic (4) + the longest frame header (14)
  private have = 0;
  private need = 4;
  private skip = 0;
  private checksum = false;
  /** Frames may ask for a window of at most 2^log bytes. */
  constructor(private readonly log = windowLog(ZSTD_WINDOW_MAX)) {}

  /** Reads the next bytes of the stream; throws ZstdError for a frame whose window is over the limit. */
  scan(c: Uint8Array): void {
    for (let i = 0; i < c.length && this.state !== 'off'; ) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, c.length - i);
        this.skip -= k;
        i += k;
        continue;
      }
      const k = Math.min(this.need - this.have, c.length - i);
      this.hdr.set(c.subarray(i, i + k), this.have);
      this.have += k;
      i += k;
      if (this.have === this.need) this.parsed();
    }
  }

  private parsed(): void {
    const h = this.hdr;
    const u32 = (at: number): number => (h[at] | (h[at + 1] << 8) | (h[at + 2] << 16) | (h[at + 3] << 24)) >>> 0;
    switch (this.state) {
      case 'magic': {
        const magic = u32(0);
        if (magic === ZSTD_MAGIC) {
          this.state = 'header';
          this.need = 5; // and the frame header descriptor tells the rest
        } else if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
          this.state = 'skippable';
          this.need = 8;
        } else this.state = 'off';
        return;
      }
      case 'skippable':
        this.skip = u32(4);
        this.next('magic', 4);
        return;
      case 'header': {
        const fhd = h[4];
        if (fhd & 0x08) {
          this.state = 'off';
          return;
        } // reserved bit: the decoder reports it
        const single = (fhd >> 5) & 1;
        const didSize = [0, 1, 2, 4][fhd & 3];
        const fcsSize = [single, 2, 4, 8][fhd >> 6];
        const full = 5 + (single ? 0 : 1) + didSize + fcsSize;
        if (this.need < full) {
          this.need = full;
          return;
        }
        this.checksum = ((fhd >> 2) & 1) === 1;
        let window: number;
        if (!single) {
          // Window_Descriptor: exponent (5 bits) and mantissa (3 bits), RFC 8878 §3.1.1.1.2.
          const base = 2 ** (10 + (h[5] >> 3));
          window = base + (base / 8) * (h[5] & 7);
        } else {
          // A single-segment frame's window is its content size.
          const at = 5 + didSize;
          window = fcsSize === 1 ? h[at] : fcsSize === 2 ? (h[at] | (h[at + 1] << 8)) + 256 : fcsSize === 4 ? u32(at) : u32(at) + u32(at + 4) * 2 ** 32;
        }
        // Rule: a frame's window is at most 2^log (as the native decoder's windowLogMax).
        if (window > 2 ** this.log) throw windowError(this.log, window);
        this.next('block', 3);
        return;
      }
      case 'block': {
        const v = h[0] | (h[1] << 8) | (h[2] << 16);
        const type = (v >> 1) & 3;
        if (type === 3) {
          this.state = 'off';
          return;
        } // reserved block type
        this.skip = type === 1 ? 1 : v >>> 3; // an RLE block stores one byte
        if (v & 1) {
          this.skip += this.checksum ? 4 : 0;
          this.next('magic', 4);
        } else this.next('block', 3);
        return;
      }
      default:
    }
  }

  private next(state: 'magic' | 'block', need: number): void {
    this.state = state;
    this.need = need;
    this.have = 0;
  }
}

// ---------------------------------------------------------------- small inputs, synchronously

/**
 * Decodes every frame of `input` (bytes already in memory: a zstd:chunked table of contents or one
 * file's frames), handing each piece of output to `onOutput`, which must be done with it on return.
 * Synchronous, for reads that must answer at once (ByteSource.read). Same rules as
 * decompressZstd: the window limit, and the input must end where a frame ends.
 */
export function decompressZstdSync(input: Uint8Array, onOutput: (c: Uint8Array) => void, opts: ZstdOptions = {}): void {
  const log = windowLog(opts.maxWindowBytes ?? ZSTD_WINDOW_MAX);
  if (opts.decoder === 'js' || !binding) {
    decodeJs(new BufferSource(input), { put: onOutput, putSync: onOutput, drain: () => undefined }, log);
    return;
  }
  if (input.length === 0) return;
  const z = new NativeStream(binding, log);
  const buf = Buffer.allocUnsafe(OUT_CHUNK);
  for (let rest = input; ; ) {
    const step = z.step(buf, rest);
    rest = step.rest;
    if (step.produced > 0) onOutput(buf.subarray(0, step.produced));
    if (!step.more) break;
  }
  z.end();
}
