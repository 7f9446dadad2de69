/**
 * zstd:chunked layers (containers/storage, pkg/chunked) read through their table of contents (TOC),
 * so that listing a layer costs the TOC and reading a file costs that file's frames, never a pass
 * over the blob. Format only: the blob is any ByteSource (the registry's lazy view hands one that
 * makes one Range request per read).
 *
 * The format: the blob is an ordinary zstd stream of the layer tar (any zstd reader gets the tar,
 * and its sha256 is the diff_id), written so that each regular file's data is in frames of its own.
 * Near the end, in a skippable frame, is the TOC: zstd-compressed JSON `{"version":1,"entries":[...]}`
 * with one entry per tar member (type, name, linkName, mode, uid, gid, size, modtime, devMajor,
 * devMinor, xattrs as base64) and, for a regular file with data, `digest` (sha256 of its
 * uncompressed data) and `offset`/`endOffset` (its frames in the blob). Large files are split into
 * chunks: `chunk` entries follow their file with their own digests; the file's own range covers
 * all of them. The layer descriptor's annotations say where the TOC is (`manifest-position`:
 * offset:length:uncompressedLength:type, the offset past the skippable frame's header) and its
 * sha256 (`manifest-checksum`).
 *
 * What this way of reading checks, and what it cannot:
 * - the TOC against the manifest's checksum (the manifest is verified by digest, so the TOC is
 *   as trustworthy as the manifest) before any of it is used;
 * - each file's data against its TOC digest and size before any byte of it is handed out;
 * - NOT the blob's digest or the layer's diff_id: both need every byte of the blob. The tar
 *   headers between the frames are never read; a blob whose tar says something else than its TOC
 *   is read as the TOC says. A pull (which fetches the blob whole) checks both.
 */
import { createHash } from 'node:crypto';
import { readSync, writeSync } from 'node:fs';
import { ArchiveError } from '../core/errors.js';
import type { ByteSource } from '../source.js';
import { Budget, formatBytes, limitError } from './limits.js';
import { checkPath, type MemberType, type TarMember } from './tar-index.js';
import { decompressZstdSync, ZstdError } from './zstd.js';

/** The annotations skopeo 1.9 (containers/storage 1.4x) writes; newer releases write the second pair. */
const CHECKSUM_KEYS = ['io.containers.zstd-chunked.manifest-checksum', 'io.github.containers.zstd-chunked.manifest-checksum'];
const POSITION_KEYS = ['io.containers.zstd-chunked.manifest-position', 'io.github.containers.zstd-chunked.manifest-position'];

/** Where a layer's TOC is, from its descriptor's annotations. */
export interface TocPosition {
  offset: number;
  length: number;
  uncompressedLength: number;
  /** `sha256:<hex>` of the compressed TOC bytes. */
  checksum: string;
}

/** A regular file's frames in the blob, and what their decoded bytes must be. */
export interface FileFrames {
  offset: number;
  endOffset: number;
  /** `sha256:<hex>` of the file's data. */
  digest: string;
}

/** One TOC entry as a tar member (the layer reader turns members into entries), with its frames. */
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

const DIGEST = /^sha256:[0-9a-f]{64}$/;
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
 * The TOC's position from a layer descriptor's annotations; undefined when it has none (a plain
 * zstd layer). Rules: both annotations or neither; the position is four decimal numbers with type
 * 1 (the only TOC type there is), and the TOC lies inside the blob; the checksum is a sha256.
 */
export function tocPosition(annotations: Record<string, string> | undefined, blobSize: number, opts: TocOptions): TocPosition | undefined {
  const a = annotations ?? {};
  const checksum = CHECKSUM_KEYS.map((k) => a[k]).find((v) => v !== undefined);
  const position = POSITION_KEYS.map((k) => a[k]).find((v) => v !== undefined);
  if (checksum === undefined && position === undefined) return undefined;
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_MANIFEST', opts.file, `${opts.context ?? ''}zstd:chunked annotations: ${problem}`);
  };
  if (checksum === undefined || position === undefined) bad(`${checksum === undefined ? 'manifest-position' : 'manifest-checksum'} without the other`);
  if (!DIGEST.test(checksum!)) bad(`manifest-checksum is ${JSON.stringify(checksum)}, expected "sha256:" and 64 hex digits`);
  const parts = position!.split(':');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,15}$/.test(p))) bad(`manifest-position is ${JSON.stringify(position)}, expected offset:length:uncompressedLength:type`);
  const [offset, length, uncompressedLength, type] = parts.map(Number);
  if (type !== 1) bad(`manifest-position names TOC type ${type}; only type 1 exists`);
  if (length === 0 || offset + length > blobSize) bad(`the TOC at ${offset}+${length} is not inside the ${blobSize}-byte blob`);
  return { offset, length, uncompressedLength, checksum: checksum! };
}

/** Exactly `n` bytes at `pos`, or TRUNCATED. */
function readExactly(blob: ByteSource, pos: number, n: number, opts: TocOptions, what: string): Buffer {
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

function zstdProblem(e: unknown, opts: TocOptions, what: string): never {
  if (e instanceof ZstdError) throw new ArchiveError(e.code, opts.file, `${opts.context ?? ''}${what}: ${e.message}`);
  throw e;
}

/**
 * Reads, checks and parses the TOC. Rules, in order:
 * - one read of [offset, offset + length): the TOC is fetched by itself;
 * - its sha256 must be the manifest-checksum (DIGEST_MISMATCH, expected and found) BEFORE it is
 *   decompressed: nothing of an unverified TOC is used;
 * - it decompresses to exactly uncompressedLength bytes, at most limits.maxJsonBytes (LIMIT);
 * - it is JSON with version 1 and an entries array (null for none); every entry has a known type and a name, and
 *   a regular file with data has a sha256 digest and frames [offset, endOffset) that end before
 *   the TOC (BAD_HEADER naming the entry); a `chunk` entry follows its own file;
 * - entries count against limits.maxEntries and names against the path limits, as tar members do.
 */
export function readToc(blob: ByteSource, pos: TocPosition, opts: TocOptions): TocMember[] {
  const ctx = opts.context ?? '';
  const budget = opts.budget ?? new Budget();
  const limits = budget.limits;
  const compressed = readExactly(blob, pos.offset, pos.length, opts, 'zstd:chunked TOC');
  const found = `sha256:${createHash('sha256').update(compressed).digest('hex')}`;
  if (found !== pos.checksum) {
    throw new ArchiveError('DIGEST_MISMATCH', opts.file, `${ctx}zstd:chunked TOC at ${pos.offset}+${pos.length}: sha256 is ${found}, the manifest-checksum annotation is ${pos.checksum}`);
  }
  const max = Math.min(pos.uncompressedLength, limits.maxJsonBytes);
  if (pos.uncompressedLength > limits.maxJsonBytes) {
    throw limitError(
      opts.file,
      ctx,
      `the zstd:chunked TOC is ${formatBytes(pos.uncompressedLength)} uncompressed; the limit for one JSON document is ${formatBytes(limits.maxJsonBytes)}`,
      'maxJsonBytes',
    );
  }
  const out = Buffer.allocUnsafe(max);
  let n = 0;
  try {
    decompressZstdSync(
      compressed,
      (c) => {
        if (n + c.length > max) throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}zstd:chunked TOC decompresses to more than the ${pos.uncompressedLength} bytes its annotation says`);
        out.set(c, n);
        n += c.length;
      },
      { maxWindowBytes: limits.maxZstdWindowBytes },
    );
  } catch (e) {
    zstdProblem(e, opts, 'zstd:chunked TOC');
  }
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_HEADER', opts.file, `${ctx}zstd:chunked TOC: ${problem}`);
  };
  if (n !== pos.uncompressedLength) bad(`decompresses to ${n} bytes, its annotation says ${pos.uncompressedLength}`);
  let doc: unknown;
  try {
    doc = JSON.parse(out.toString('utf8', 0, n));
  } catch (e) {
    bad(`not JSON (${(e as Error).message})`);
  }
  const toc = doc as { version?: unknown; entries?: unknown };
  if (toc?.version !== 1) bad(`version is ${JSON.stringify(toc?.version)}, expected 1`);
  // An empty layer's TOC says `"entries": null` (a Go nil slice).
  if (toc.entries !== null && !Array.isArray(toc.entries)) bad('entries is not an array');
  const members: TocMember[] = [];
  const over = (problem: string, option: keyof typeof limits): never => {
    throw limitError(opts.file, ctx, problem, option);
  };
  const entries = (toc.entries ?? []) as unknown[];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.name !== 'string' || e.name === '' || typeof e.type !== 'string') bad(`entry ${i} has no type or name`);
    const what = `entry ${i} (${JSON.stringify(e!.name)})`;
    if (e!.type === 'chunk') {
      const prev = members[members.length - 1];
      if (!prev?.frames || prev.member.name !== e!.name) bad(`${what} is a chunk that does not follow its file`);
      continue;
    }
    const kind = TYPES[e!.type as string];
    if (!kind) bad(`${what} has type ${JSON.stringify(e!.type)}`);
    members.push(toMember(e!, kind!, i, what, pos, bad));
    const m = members[members.length - 1].member;
    checkPath(m.name, 'entry name', i, limits, over);
    if (m.linkname !== '') checkPath(m.linkname, `link target of ${JSON.stringify(m.name.slice(0, 200))}`, i, limits, over, false);
    if (++budget.entries > limits.maxEntries) over(`TOC entry ${i} is entry number ${budget.entries}; the limit is ${limits.maxEntries} entries`, 'maxEntries');
  }
  return members;
}

function num(e: Record<string, unknown>, key: string, what: string, bad: (p: string) => never): number {
  const v = e[key];
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what}: ${key} is ${JSON.stringify(v)}, expected a non-negative integer`);
  return v as number;
}

function toMember(e: Record<string, unknown>, [type, typeflag]: [MemberType, string], i: number, what: string, pos: TocPosition, bad: (p: string) => never): TocMember {
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
  const endOffset = num(e, 'endOffset', what, bad);
  if (typeof e.digest !== 'string' || !DIGEST.test(e.digest)) bad(`${what}: a file with data needs a sha256 digest, found ${JSON.stringify(e.digest)}`);
  if (!(offset < endOffset && endOffset <= pos.offset)) bad(`${what}: frames [${offset}, ${endOffset}) are not a range before the TOC at ${pos.offset}`);
  member.dataOffset = offset;
  return { member, frames: { offset, endOffset, digest: e.digest as string } };
}

/**
 * Whether the TOC cannot say what a member's name (or link target) is. The TOC is JSON, whose
 * strings are Unicode: its writer (Go's encoding/json) turns each byte of a name that is not UTF-8
 * into U+FFFD, so a name holding U+FFFD may not be the tar's (`latin1-\xe9.txt` arrives as
 * `latin1-\ufffd.txt`). Rule: such a layer is not read through its TOC but whole (its tar names
 * every byte), by the caller.
 */
export function lossyName(m: TarMember): boolean {
  return m.name.includes('\ufffd') || m.linkname.includes('\ufffd');
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
export class ChunkedFile implements ByteSource {
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
    try {
      decompressZstdSync(
        input,
        (c) => {
          if (n + c.length > this.size)
            throw new ArchiveError('DIGEST_MISMATCH', this.opts.file, `${ctx}${what}: its frames [${offset}, ${endOffset}) decode to more than the ${this.size} bytes the TOC says`);
          hash.update(c);
          if (out) out.set(c, n);
          else for (let w = 0; w < c.length; ) w += writeSync(fd, c, w, c.length - w, n + w);
          n += c.length;
        },
        { maxWindowBytes: this.opts.budget?.limits.maxZstdWindowBytes },
      );
    } catch (e) {
      zstdProblem(e, this.opts, `${what}'s frames [${offset}, ${endOffset})`);
    }
    if (n !== this.size) throw new ArchiveError('DIGEST_MISMATCH', this.opts.file, `${ctx}${what}: its frames [${offset}, ${endOffset}) decode to ${n} bytes, the TOC says ${this.size}`);
    const found = `sha256:${hash.digest('hex')}`;
    if (found !== digest) throw new ArchiveError('DIGEST_MISMATCH', this.opts.file, `${ctx}${what}: its data's sha256 is ${found}, the TOC says ${digest}`);
    if (out) this.data = out;
    else this.fd = fd;
  }
}
