/**
 * The JSON table of contents (TOC) of a lazily readable layer: eStargz's `stargz.index.json`,
 * which zstd:chunked took over (containers/storage pkg/chunked). `{"version":1,"entries":[...]}`,
 * one entry per tar member (type, name, linkName, mode, uid, gid, userName, groupName, size,
 * modtime, devMajor, devMinor, xattrs as base64) and, for a regular file with data, `digest` (sha256
 * of its data) and `offset` (where its compressed data starts in the blob); zstd:chunked adds
 * `endOffset`. Large files are split into chunks: `chunk` entries follow their file, each with its
 * own `offset`. Format only; framing is estargz.ts's and zstd-chunked.ts's.
 */
import { ArchiveError } from '../core/errors.js';
import type { Budget } from './limits.js';
import { limitError } from './limits.js';
import { checkPath, type MemberType, type TarMember } from './tar-index.js';
import type { ByteSource } from '../source.js';
import { createHash } from 'node:crypto';
import { readSync, writeSync } from 'node:fs';

/** A regular file's compressed data in the blob, and what its decoded bytes must be. */
export interface FileFrames {
  offset: number;
  /** Where its data ends: the TOC's endOffset (zstd:chunked), or the next data's offset (eStargz). */
  endOffset: number;
  /** `sha256:<hex>` of the file's data. */
  digest: string;
}

/** One TOC entry as a tar member (the layer reader turns members into entries), with its data. */
export interface TocMember {
  member: TarMember;
  /** Regular files with data only. */
  frames?: FileFrames;
}

export interface TocOptions {
  /** The file named in errors: the layer (a registry reference, an archive path). */
  file: string;
  /** Prefix for messages, e.g. "layer 2/3: ". */
  context?: string;
  /** Limits (maxJsonBytes, maxEntries, path limits, maxZstdWindowBytes) and what the image used. */
  budget?: Budget;
}

export const DIGEST = /^sha256:[0-9a-f]{64}$/;
const TYPES: Record<string, [MemberType, string]> = {
  reg: ['file', '0'],
  dir: ['dir', '5'],
  symlink: ['symlink', '2'],
  hardlink: ['hardlink', '1'],
  char: ['char', '3'],
  block: ['block', '4'],
  fifo: ['fifo', '6'],
};

/**
 * The members of a parsed TOC document. Rules:
 * - version 1 and an entries array (null for none: a Go nil slice); every entry has a known type
 *   and a name, a `chunk` entry follows its own file;
 * - a regular file with data has a sha256 digest and data that starts before `dataEnd` (where the
 *   TOC begins) and, with `needEnd` (zstd:chunked), an endOffset after its offset and not past
 *   `dataEnd`; without it (eStargz) its data ends where the next data in the blob starts, or at
 *   `dataEnd` (BAD_HEADER naming the entry otherwise);
 * - entries count against limits.maxEntries and names against the path limits, as tar members do.
 */
export function parseToc(doc: unknown, opts: TocOptions & { budget: Budget }, label: string, dataEnd: number, needEnd: boolean): TocMember[] {
  const ctx = opts.context ?? '';
  const { budget } = opts;
  const limits = budget.limits;
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}${label}: ${problem}`);
  };
  const toc = doc as { version?: unknown; entries?: unknown };
  if (toc?.version !== 1) bad(`version is ${JSON.stringify(toc?.version)}, expected 1`);
  if (toc.entries !== null && !Array.isArray(toc.entries)) bad('entries is not an array');
  const members: TocMember[] = [];
  const over = (problem: string, option: keyof typeof limits): never => {
    throw limitError(opts.file, ctx, problem, option);
  };
  /** Every data offset in the blob, for the ends of eStargz files. */
  const starts: number[] = [];
  /** Per file with data (eStargz): its member and the offset of its last chunk. */
  const open: Array<{ m: TocMember; last: number; what: string }> = [];
  const entries = (toc.entries ?? []) as unknown[];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || e.name === '' || typeof e.type !== 'string') bad(`entry ${i} has no type or name`);
    const what = `entry ${i} (${JSON.stringify(e!.name)})`;
    if (e!.type === 'chunk') {
      const prev = members[members.length - 1];
      if (!prev?.frames || prev.member.name !== e!.name) bad(`${what} is a chunk that does not follow its file`);
      if (!needEnd) {
        const at = num(e!, 'offset', what, bad);
        const file = open[open.length - 1]!;
        if (!(at > file.last && at < dataEnd)) bad(`${what}: its data at ${at} does not follow its file's last chunk at ${file.last} before the TOC at ${dataEnd}`);
        file.last = at;
        starts.push(at);
      }
      continue;
    }
    const kind = TYPES[e!.type as string];
    if (!kind) bad(`${what} has type ${JSON.stringify(e!.type)}`);
    const m = toMember(e!, kind!, i, what, dataEnd, needEnd, bad);
    members.push(m);
    if (m.frames && !needEnd) {
      open.push({ m, last: m.frames.offset, what });
      starts.push(m.frames.offset);
    }
    checkPath(m.member.name, 'entry name', i, limits, over);
    if (m.member.linkname !== '') checkPath(m.member.linkname, `link target of ${JSON.stringify(m.member.name.slice(0, 200))}`, i, limits, over, false);
    if (++budget.entries > limits.maxEntries) over(`TOC entry ${i} is entry number ${budget.entries}; the limit is ${limits.maxEntries} entries`, 'maxEntries');
  }
  if (!needEnd) {
    // eStargz: a file's data runs from its first chunk to the next data after its last chunk.
    starts.sort((a, b) => a - b);
    for (const { m, last } of open) {
      let lo = 0;
      let hi = starts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid]! <= last) lo = mid + 1;
        else hi = mid;
      }
      m.frames!.endOffset = lo < starts.length ? starts[lo]! : dataEnd;
    }
  }
  return members;
}

function num(e: Record<string, unknown>, key: string, what: string, bad: (p: string) => never): number {
  const v = e[key];
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what}: ${key} is ${JSON.stringify(v)}, expected a non-negative integer`);
  return v as number;
}

function toMember(e: Record<string, unknown>, [type, typeflag]: [MemberType, string], i: number, what: string, dataEnd: number, needEnd: boolean, bad: (p: string) => never): TocMember {
  const size = type === 'file' ? num(e, 'size', what, bad) : 0;
  const mtime = e.modtime === undefined ? 0 : typeof e.modtime === 'string' ? Date.parse(e.modtime) : Number.NaN;
  if (Number.isNaN(mtime)) bad(`${what}: modtime is ${JSON.stringify(e.modtime)}, expected an RFC 3339 time`);
  if (e.linkName !== undefined && typeof e.linkName !== 'string') bad(`${what}: linkName is not a string`);
  const member: TarMember = {
    name: e.name as string,
    typeflag,
    type,
    mode: num(e, 'mode', what, bad),
    uid: num(e, 'uid', what, bad),
    gid: num(e, 'gid', what, bad),
    size,
    mtime,
    linkname: (e.linkName as string | undefined) ?? '',
    uname: typeof e.userName === 'string' ? e.userName : '',
    gname: typeof e.groupName === 'string' ? e.groupName : '',
    devmajor: num(e, 'devMajor', what, bad),
    devminor: num(e, 'devMinor', what, bad),
    pax: undefined,
    xattrs: undefined,
    headerOffset: i,
    dataOffset: 0,
  };
  if (e.xattrs !== undefined) {
    if (typeof e.xattrs !== 'object' || e.xattrs === null) bad(`${what}: xattrs is not an object`);
    member.xattrs = {};
    for (const [k, v] of Object.entries(e.xattrs as Record<string, unknown>)) {
      if (typeof v !== 'string') bad(`${what}: xattr ${JSON.stringify(k)} is not base64 text`);
      member.xattrs[k] = Buffer.from(v as string, 'base64');
    }
  }
  if (type !== 'file' || size === 0) return { member };
  const offset = num(e, 'offset', what, bad);
  if (typeof e.digest !== 'string' || !DIGEST.test(e.digest)) bad(`${what}: a file with data needs a sha256 digest, found ${JSON.stringify(e.digest)}`);
  member.dataOffset = offset;
  if (!needEnd) {
    if (offset >= dataEnd) bad(`${what}: its data at ${offset} is not before the TOC at ${dataEnd}`);
    return { member, frames: { offset, endOffset: dataEnd, digest: e.digest as string } };
  }
  const endOffset = num(e, 'endOffset', what, bad);
  if (!(offset < endOffset && endOffset <= dataEnd)) bad(`${what}: frames [${offset}, ${endOffset}) are not a range before the TOC at ${dataEnd}`);
  return { member, frames: { offset, endOffset, digest: e.digest as string } };
}

/** Exactly `n` bytes at `pos`, or TRUNCATED. */
export function readExactly(blob: ByteSource, pos: number, n: number, opts: TocOptions, what: string): Buffer {
  const buf = Buffer.allocUnsafe(n);
  let done = 0;
  while (done < n) {
    const got = blob.read(buf, done, n - done, pos + done);
    if (got <= 0) break;
    done += got;
  }
  if (done !== n) throw new ArchiveError('TRUNCATED', opts.file, `${opts.context ?? ''}${what}: asked for ${n} bytes at offset ${pos}, got ${done}`);
  return buf;
}

/**
 * How a file's compressed bytes decode: each piece of output to `sink`, in order. `trailing`: the
 * bytes may decode past the file's data (eStargz: its padding and the next tar headers share its
 * last gzip member), which is then cut off; else decoding past the TOC's size is DIGEST_MISMATCH.
 */
export interface FrameDecoder {
  decode(input: Buffer, sink: (c: Uint8Array) => void, what: string): void;
  trailing: boolean;
}

/** Files up to this size are kept in memory once read; larger ones in a spill file. */
const IN_MEMORY = 4 << 20;

export interface ContentOptions extends TocOptions {
  /** An anonymous file for a large file's data; the caller closes it with the image. */
  spill: () => number;
}

/**
 * A regular file's data, read through its frames. Rules:
 * - nothing is fetched until the first read; then [offset, endOffset) in one read of the blob,
 *   and never again (the checked data is kept: in memory up to 4 MiB, else in a spill file);
 * - the frames must decode to exactly the TOC's size and hash to its digest, BEFORE any byte is
 *   handed out: a difference is DIGEST_MISMATCH naming the file, expected and found, and every
 *   later read gives the same error (nothing wrong is ever returned).
 */
export class TocFile implements ByteSource {
  private data?: Buffer;
  private fd = -1;
  private failure?: Error;
  constructor(
    private readonly blob: ByteSource,
    private readonly frames: FileFrames,
    readonly size: number,
    /** The file's path in the layer, for messages. */
    private readonly path: string,
    private readonly opts: ContentOptions,
    /** Decodes the file's compressed bytes: each piece to `sink`, in order. */
    private readonly decodeFrames: FrameDecoder,
  ) {}

  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n === 0) return 0;
    if (!this.data && this.fd < 0) this.load();
    if (this.data) {
      buffer.set(this.data.subarray(position, position + n), offset);
      return n;
    }
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, buffer, offset + done, n - done, position + done);
      if (got <= 0) break;
      done += got;
    }
    return done;
  }

  private load(): void {
    if (this.failure) throw this.failure;
    try {
      this.decode();
    } catch (e) {
      this.failure = e as Error;
      throw e;
    }
  }

  private decode(): void {
    const { offset, endOffset, digest } = this.frames;
    const what = `file ${JSON.stringify(this.path)}`;
    const ctx = this.opts.context ?? '';
    const input = readExactly(this.blob, offset, endOffset - offset, this.opts, `${what}'s frames`);
    const hash = createHash('sha256');
    const memory = this.size <= IN_MEMORY;
    const out = memory ? Buffer.allocUnsafe(this.size) : undefined;
    const fd = memory ? -1 : this.opts.spill();
    let n = 0;
    this.decodeFrames.decode(
      input,
      (c) => {
        const take = Math.min(c.length, this.size - n);
        if (take < c.length && !this.decodeFrames.trailing) {
          throw new ArchiveError('DIGEST_MISMATCH', this.opts.file, `${ctx}${what}: its frames [${offset}, ${endOffset}) decode to more than the ${this.size} bytes the TOC says`);
        }
        const piece = take < c.length ? c.subarray(0, take) : c;
        hash.update(piece);
        if (out) out.set(piece, n);
        else for (let w = 0; w < piece.length; ) w += writeSync(fd, piece, w, piece.length - w, n + w);
        n += take;
      },
      `${what}'s frames [${offset}, ${endOffset})`,
    );
    if (n !== this.size) throw new ArchiveError('DIGEST_MISMATCH', this.opts.file, `${ctx}${what}: its frames [${offset}, ${endOffset}) decode to ${n} bytes, the TOC says ${this.size}`);
    const found = `sha256:${hash.digest('hex')}`;
    if (found !== digest) throw new ArchiveError('DIGEST_MISMATCH', this.opts.file, `${ctx}${what}: its data's sha256 is ${found}, the TOC says ${digest}`);
    if (out) this.data = out;
    else this.fd = fd;
  }
}

/**
 * Whether the TOC cannot say what a member's name (or link target) is. The TOC is JSON, whose
 * strings are Unicode: its writers (Go's encoding/json) turn each byte of a name that is not UTF-8
 * into U+FFFD, so a name holding U+FFFD may not be the tar's (`latin1-\xe9.txt` arrives as
 * `latin1-\ufffd.txt`). Rule: such a layer is not read through its TOC but whole (its tar names
 * every byte), by the caller.
 */
export function lossyName(m: TarMember): boolean {
  return m.name.includes('\ufffd') || m.linkname.includes('\ufffd');
}
