/**
 * A header-seek walker over a tar archive held in a `ByteSource`.
 *
 * Why hand-written and not tar-stream's `extract()`: tar-stream is a stream parser, so every data
 * byte of every member flows through it even when nobody wants it. Opening an image must cost in
 * proportion to the number of entries, not bytes: this walker reads each 512-byte header (plus PAX
 * and GNU long-name records, which are metadata) and jumps over member data by offset. File data is
 * handed out as windows onto the source, read on demand. The benchmark target is at least half the
 * speed of a bare header walk, so headers are read through one reusable read-ahead buffer.
 */
import { BufferSource, FileRegion, type ByteSource } from '../source.js';
import { ArchiveError } from '../errors.js';
import { Budget, formatBytes, limitError, type Limits } from './limits.js';
import {
  BLOCK, HeaderProblem, decodeHeader, decodeLongName, decodeName, isZeroBlock, parsePax, type TarHeader,
} from './tar-header.js';

export type MemberType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo' | 'unknown';

/** One archive member as stored, with PAX and GNU long-name records applied. */
export interface TarMember {
  name: string;
  /** The raw typeflag character ('\0' for old-style regular files). */
  typeflag: string;
  type: MemberType;
  mode: number;
  uid: number;
  gid: number;
  /** The declared size (PAX `size` wins over the header). Header-only types carry no data. */
  size: number;
  /** Milliseconds since the epoch (PAX `mtime` keeps its sub-second part). */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** Every PAX keyword that applied (global ones included), values decoded like names. */
  pax?: Record<string, string>;
  /** PAX `SCHILY.xattr.*` (and `LIBARCHIVE.xattr.*`) values as raw bytes. */
  xattrs?: Record<string, Buffer>;
  headerOffset: number;
  dataOffset: number;
}

export interface IndexOptions {
  /** The file named in errors and warnings. */
  file: string;
  /** Prefix for messages, e.g. "layer 2/3 (blobs/sha256/ab…): ". */
  context?: string;
  onWarning?: (message: string) => void;
  /**
   * Limits (limits.ts) and the entries counted so far, shared by the layers of one image. Without
   * one the defaults apply to this archive alone.
   */
  budget?: Budget;
}
const READ_AHEAD = 32 * 1024;

/** A window of `size` bytes at `start` inside any source. */
class SourceWindow implements ByteSource {
  constructor(readonly src: ByteSource, readonly start: number, readonly size: number) {}
  read(buffer: Uint8Array, offset: number, length: number, position: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    return n > 0 ? this.src.read(buffer, offset, n, this.start + position) : 0;
  }
}

/** A sub-range of a source without copying (FileRegion and BufferSource slice themselves). */
export function sliceSource(src: ByteSource, start: number, size: number): ByteSource {
  if (src instanceof FileRegion || src instanceof BufferSource) return src.slice(start, size);
  if (src instanceof SourceWindow) return new SourceWindow(src.src, src.start + start, size);
  return new SourceWindow(src, start, size);
}

/** A member's data as a window onto the archive. */
export function memberContent(src: ByteSource, m: TarMember): ByteSource {
  return sliceSource(src, m.dataOffset, m.type === 'file' || m.type === 'unknown' ? m.size : 0);
}

/**
 * Reads headers through one reusable buffer. After a small member the next header is usually in
 * the buffer already; after a large member the buffer would be wasted, so the read shrinks to one
 * block until members get small again.
 */
class HeaderReader {
  readonly buf = Buffer.allocUnsafe(READ_AHEAD);
  private start = 0;
  private len = 0;
  constructor(private readonly src: ByteSource) {}

  /** Offset in `buf` of the 512 bytes at `pos`, or -1 if the source returned fewer than asked. */
  block(pos: number): number {
    if (pos >= this.start && pos + BLOCK <= this.start + this.len) return pos - this.start;
    const gap = pos - (this.start + this.len);
    const want = this.len === 0 || (gap >= 0 && gap < READ_AHEAD / 2) ? READ_AHEAD : BLOCK;
    const n = Math.min(want, this.src.size - pos);
    this.len = readFully(this.src, this.buf, n, pos);
    this.start = pos;
    return this.len >= BLOCK ? 0 : -1;
  }

  /** A private copy of `n` bytes at `pos` (record data outlives the buffer). */
  bytes(pos: number, n: number): Buffer {
    if (pos >= this.start && pos + n <= this.start + this.len) {
      return Buffer.from(this.buf.subarray(pos - this.start, pos - this.start + n));
    }
    const out = Buffer.allocUnsafe(n);
    return out.subarray(0, readFully(this.src, out, n, pos));
  }
}

function readFully(src: ByteSource, buf: Buffer, n: number, pos: number): number {
  let done = 0;
  while (done < n) {
    const got = src.read(buf, done, n - done, pos + done);
    if (got <= 0) break;
    done += got;
  }
  return done;
}

function typeOf(typeflag: string, name: string): MemberType {
  switch (typeflag) {
    case '0': case '7': return 'file';
    // Old tars wrote '\0' for regular files; a trailing '/' marked a directory.
    case '\0': return name.endsWith('/') ? 'dir' : 'file';
    case '1': return 'hardlink';
    case '2': return 'symlink';
    case '3': return 'char';
    case '4': return 'block';
    case '5': case 'D': return 'dir';
    case '6': return 'fifo';
    default: return 'unknown';
  }
}

/** Members whose typeflag says "no data follows", whatever the size field claims (as Go's archive/tar). */
function dataSize(typeflag: string, type: MemberType, size: number): number {
  if (typeflag === 'D' || type === 'file' || type === 'unknown') return size;
  return 0;
}

const padded = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

/** PAX numbers are decimal; `mtime` may carry a fraction (kept to the millisecond without float error). */
function paxInt(key: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > Number.MAX_SAFE_INTEGER) throw new HeaderProblem('BAD_HEADER', `PAX ${key} is not a decimal integer: ${JSON.stringify(v)}`);
  return Number(v);
}
function paxTime(v: string): number {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(v);
  if (!m) throw new HeaderProblem('BAD_HEADER', `PAX mtime is not a decimal number: ${JSON.stringify(v)}`);
  const ms = Number(m[2]) * 1000 + Number(((m[3] ?? '') + '000').slice(0, 3));
  return m[1] ? -ms : ms;
}

/** Applies PAX records to a member (OCI-13: xattrs from SCHILY.xattr.*, raw bytes kept). */
function applyPax(m: TarMember, records: Map<string, Buffer>): void {
  const pax: Record<string, string> = {};
  for (const [key, raw] of records) {
    // An xattr may be empty (GNU tar writes `SCHILY.xattr.user.empty=`); for every other keyword an
    // empty value deletes it (POSIX pax): the header field stays in force.
    if (raw.length === 0 && key.startsWith('SCHILY.xattr.')) {
      (m.xattrs ??= {})[key.slice(13)] = raw;
      continue;
    }
    if (raw.length === 0) continue;
    const value = decodeName(raw);
    pax[key] = value;
    switch (key) {
      case 'path': m.name = value; break;
      case 'linkpath': m.linkname = value; break;
      case 'size': m.size = paxInt(key, value); break;
      case 'uid': m.uid = paxInt(key, value); break;
      case 'gid': m.gid = paxInt(key, value); break;
      case 'mtime': m.mtime = paxTime(value); break;
      case 'uname': m.uname = value; break;
      case 'gname': m.gname = value; break;
      case 'SCHILY.devmajor': m.devmajor = paxInt(key, value); break;
      case 'SCHILY.devminor': m.devminor = paxInt(key, value); break;
      default:
        if (key.startsWith('SCHILY.xattr.')) {
          (m.xattrs ??= {})[key.slice(13)] = raw;
        } else if (key.startsWith('LIBARCHIVE.xattr.')) {
          // libarchive: URL-encoded name, base64 value.
          (m.xattrs ??= {})[decodeURIComponent(key.slice(17))] = Buffer.from(value, 'base64');
        } else if (key.startsWith('GNU.sparse.')) {
          throw new HeaderProblem('BAD_HEADER', `GNU sparse files (PAX ${key}) are not supported`);
        }
    }
  }
  if (Object.keys(pax).length > 0) m.pax = pax;
}

function merge(global: Map<string, Buffer> | undefined, local: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!global) return local;
  if (!local) return global;
  const out = new Map(global);
  for (const [k, v] of local) out.set(k, v);
  return out;
}

/** Path length (bytes) and depth (components) limits; cheap for the common short name. */
function checkPath(name: string, what: string, pos: number, limits: Limits, over: (p: string, o: keyof Limits) => never, depth = true): void {
  // UTF-16 length <= UTF-8 byte length <= 3 * UTF-16 length (surrogate escapes included).
  if (name.length * 3 > limits.maxPathLength) {
    const bytes = Buffer.byteLength(name);
    if (bytes > limits.maxPathLength) {
      over(`${what} at offset ${pos} is ${bytes} bytes long (${JSON.stringify(name.slice(0, 60))}…); the limit is ${limits.maxPathLength}`, 'maxPathLength');
    }
  }
  // A path of d components has at least 2d - 1 characters.
  if (depth && name.length >= 2 * limits.maxPathDepth + 1) {
    let d = 0;
    for (const part of name.split('/')) if (part !== '' && part !== '.') d++;
    if (d > limits.maxPathDepth) {
      over(`${what} at offset ${pos} is ${d} components deep (${JSON.stringify(name.slice(0, 60))}…); the limit is ${limits.maxPathDepth}`, 'maxPathDepth');
    }
  }
}

/**
 * Walks the archive and returns its members in order. Rules:
 * - The end is the first zero block (GNU tar stops there too; a second one normally follows and is
 *   not required). EOF right after a complete member is accepted with a warning (no end blocks).
 * - EOF anywhere else (inside a header, member data or its padding) is TRUNCATED.
 * - A header whose checksum fails is BAD_CHECKSUM; unparsable numbers or a negative size BAD_HEADER.
 * - PAX `g` records apply to every following member, `x`/`L`/`K` to the next one only (DA-3).
 */
export function indexTar(src: ByteSource, opts: IndexOptions): TarMember[] {
  const { file } = opts;
  const ctx = opts.context ?? '';
  const size = src.size;
  const reader = new HeaderReader(src);
  const buf = reader.buf;
  const members: TarMember[] = [];
  let global: Map<string, Buffer> | undefined;
  let localPax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pendingAt = -1; // offset of a metadata record still waiting for its member
  let pos = 0;

  const fail = (code: 'TRUNCATED' | 'BAD_HEADER' | 'BAD_CHECKSUM', problem: string): never => {
    throw new ArchiveError(code, file, `${ctx}${problem}`);
  };
  const budget = opts.budget ?? new Budget();
  const limits = budget.limits;
  const over = (problem: string, option: keyof Limits): never => {
    throw limitError(file, ctx, problem, option);
  };

  for (;;) {
    if (pos === size) {
      if (pendingAt >= 0) fail('TRUNCATED', `archive ends after the extended header at offset ${pendingAt}, before the member it describes`);
      if (size > 0) opts.onWarning?.(`${file}: ${ctx}archive ends at offset ${pos} without the zero blocks that mark the end of a tar archive`);
      break;
    }
    if (size - pos < BLOCK) {
      fail('TRUNCATED', `archive ends ${size - pos} bytes into the header at offset ${pos}; a header is ${BLOCK} bytes`);
    }
    const off = reader.block(pos);
    if (off < 0) fail('TRUNCATED', `the source ended while reading the header at offset ${pos} (it is shorter than its declared ${size} bytes)`);
    if (isZeroBlock(buf, off)) {
      if (pendingAt >= 0) fail('BAD_HEADER', `the extended header at offset ${pendingAt} is followed by the end of the archive, not by a member`);
      if (size - pos >= 2 * BLOCK) {
        const next = reader.block(pos + BLOCK);
        if (next >= 0 && !isZeroBlock(buf, next)) {
          opts.onWarning?.(`${file}: ${ctx}a lone zero block at offset ${pos} ends the archive; the ${size - pos - BLOCK} bytes after it are ignored`);
        }
      }
      break;
    }
    let h: TarHeader;
    try {
      h = decodeHeader(buf, off);
    } catch (e) {
      if (e instanceof HeaderProblem) fail(e.code, `header at offset ${pos}: ${e.message}`);
      throw e;
    }
    const dataOffset = pos + BLOCK;
    const typeflag = h.typeflag;

    // Metadata records: their data is read (it is small), they describe the next member.
    if (typeflag === 'x' || typeflag === 'X' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (h.size > limits.maxMetaBytes) {
        over(`the ${typeflag} record at offset ${pos} holds ${h.size} bytes; the limit for one extended header or long name is ${formatBytes(limits.maxMetaBytes)}`, 'maxMetaBytes');
      }
      if (dataOffset + padded(h.size) > size) {
        fail('TRUNCATED', `archive ends inside the ${typeflag} record at offset ${pos} (${h.size} bytes declared, ${Math.max(0, size - dataOffset)} present)`);
      }
      const data = reader.bytes(dataOffset, h.size);
      try {
        if (typeflag === 'g') {
          global = merge(global, parsePax(data));
        } else if (typeflag === 'x' || typeflag === 'X') {
          localPax = merge(localPax, parsePax(data));
          pendingAt = pos;
        } else if (typeflag === 'L') {
          longName = decodeLongName(data);
          pendingAt = pos;
        } else {
          longLink = decodeLongName(data);
          pendingAt = pos;
        }
      } catch (e) {
        if (e instanceof HeaderProblem) fail(e.code, `${typeflag} record at offset ${pos}: ${e.message}`);
        throw e;
      }
      pos = dataOffset + padded(h.size);
      continue;
    }
    if (typeflag === 'V') { // GNU volume label: not a member
      pos = dataOffset + padded(h.size);
      continue;
    }
    if (typeflag === 'S' || typeflag === 'M') {
      fail('BAD_HEADER', `header at offset ${pos}: GNU ${typeflag === 'S' ? 'sparse' : 'multi-volume'} members are not supported`);
    }

    const m: TarMember = {
      name: longName ?? h.name,
      typeflag,
      type: 'unknown',
      mode: h.mode,
      uid: h.uid,
      gid: h.gid,
      size: h.size,
      mtime: h.mtime * 1000,
      linkname: longLink ?? h.linkname,
      uname: h.uname,
      gname: h.gname,
      devmajor: h.devmajor,
      devminor: h.devminor,
      pax: undefined,
      xattrs: undefined,
      headerOffset: pos,
      dataOffset,
    };
    const records = merge(global, localPax);
    if (records) {
      try {
        applyPax(m, records);
      } catch (e) {
        if (e instanceof HeaderProblem) fail(e.code, `member ${JSON.stringify(m.name)} at offset ${pos}: ${e.message}`);
        throw e;
      }
    }
    m.type = typeOf(typeflag, m.name);
    localPax = undefined;
    longName = undefined;
    longLink = undefined;
    pendingAt = -1;

    const n = dataSize(typeflag, m.type, m.size);
    if (dataOffset + n > size) {
      fail('TRUNCATED', `member ${JSON.stringify(m.name)} at offset ${pos} declares ${n} bytes of data but only ${Math.max(0, size - dataOffset)} are present`);
    }
    if (dataOffset + padded(n) > size) {
      fail('TRUNCATED', `archive ends inside the padding after member ${JSON.stringify(m.name)} at offset ${pos}`);
    }
    checkPath(m.name, 'entry name', pos, limits, over);
    if (m.linkname !== '') checkPath(m.linkname, `link target of ${JSON.stringify(m.name.slice(0, 200))}`, pos, limits, over, false);
    if (++budget.entries > limits.maxEntries) {
      over(`member at offset ${pos} is entry number ${budget.entries}; the limit is ${limits.maxEntries} entries${budget.entries > members.length + 1 ? ' (all layers together)' : ''}`, 'maxEntries');
    }
    members.push(m);
    pos = dataOffset + padded(n);
  }
  return members;
}
