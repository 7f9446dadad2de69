/**
 * A pure codec for 512-byte tar headers and the records that extend them (no I/O).
 *
 * Formats read: v7 (no magic), POSIX ustar (`ustar\0` + `00`, name split into prefix + name),
 * GNU (`ustar  \0`, no prefix, base-256 numbers, `L`/`K` long name records) and PAX (`x` per-entry
 * and `g` global extended headers).
 *
 * Names are bytes; `decodeName` (names.ts) turns them into strings losslessly.
 */
import { decodeName } from './names.js';

export { decodeName, encodeName, nameBytes } from './names.js';

export const BLOCK = 512;

/** A header problem, without the file name: the tar walker adds the file and the offset. */
export class HeaderProblem extends Error {
  constructor(
    readonly code: 'BAD_CHECKSUM' | 'BAD_HEADER',
    message: string,
  ) {
    super(message);
  }
}

export type HeaderFormat = 'v7' | 'ustar' | 'gnu';

export interface TarHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (may be negative with base-256). */
  mtime: number;
  /** The typeflag byte as a one-character string ('\0' for old regular files). */
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  format: HeaderFormat;
}

/** Length of a NUL-terminated field. */
function fieldEnd(buf: Uint8Array, start: number, len: number): number {
  const end = start + len;
  for (let i = start; i < end; i++) if (buf[i] === 0) return i;
  return end;
}

/**
 * Text that recurs in almost every header (uname, gname, PAX keywords): a recent value is reused
 * when the bytes match, instead of a new string per header.
 */
class FieldCache {
  private readonly recent: string[] = [];
  private next = 0;
  /** Remembers the last `size` distinct values (PAX keys come in a few recurring names). */
  constructor(
    private readonly size = 1,
    private readonly nulEnds = true,
  ) {}

  get(buf: Uint8Array, start: number, len: number): string {
    const end = this.nulEnds ? fieldEnd(buf, start, len) : start + len;
    const n = end - start;
    for (const s of this.recent) {
      if (n !== s.length) continue;
      let i = 0;
      while (i < n && buf[start + i] === s.charCodeAt(i)) i++;
      if (i === n) return s;
    }
    const v = decodeName(buf, start, end);
    // Only an ASCII value compares byte for character (é from C3 A9 must not match a lone E9).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range starts at NUL on purpose
    if (/^[\x00-\x7f]*$/.test(v)) {
      this.recent[this.next] = v;
      this.next = (this.next + 1) % this.size;
    }
    return v;
  }
}
const paxKeys = new FieldCache(8, false);
const unames = new FieldCache();
const gnames = new FieldCache();

/**
 * A numeric field: octal ASCII (leading spaces/NULs allowed, ended by space or NUL), or GNU
 * base-256 when the first byte has its high bit set (0x80 positive, 0xff negative; two's complement).
 */
export function parseNumber(buf: Uint8Array, start: number, len: number, field: string): number {
  const first = buf[start];
  if (first & 0x80) {
    const inv = first & 0x40 ? 0xff : 0;
    let x = 0;
    for (let i = 0; i < len; i++) {
      let c = buf[start + i] ^ inv;
      if (i === 0) c &= 0x7f;
      x = x * 256 + c;
      if (x > Number.MAX_SAFE_INTEGER) throw new HeaderProblem('BAD_HEADER', `${field} does not fit in a safe integer (base-256)`);
    }
    return inv ? -x - 1 : x;
  }
  let i = start;
  const end = start + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let x = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = buf[i];
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) {
      const raw = Buffer.from(buf.subarray(start, end)).toString('latin1').replace(/\0+$/, '');
      throw new HeaderProblem('BAD_HEADER', `${field} is not an octal number: ${JSON.stringify(raw)}`);
    }
    x = x * 8 + (c - 0x30);
    digits++;
  }
  // Only spaces/NULs may follow the terminator.
  for (; i < end; i++) {
    if (buf[i] !== 0x20 && buf[i] !== 0) {
      const raw = Buffer.from(buf.subarray(start, end)).toString('latin1').replace(/\0+$/, '');
      throw new HeaderProblem('BAD_HEADER', `${field} has junk after its octal digits: ${JSON.stringify(raw)}`);
    }
  }
  return digits ? x : 0;
}

/** True when all 512 bytes are zero (an end-of-archive block). */
export function isZeroBlock(buf: Uint8Array, off = 0): boolean {
  // Fast reject: a real header has a name or a checksum.
  if (buf[off] !== 0 || buf[off + 148] !== 0) return false;
  for (let i = off; i < off + BLOCK; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Checks the header checksum: the sum of all 512 bytes with the checksum field read as spaces.
 * Historic tars summed signed chars, so both the unsigned and the signed sum are accepted.
 * Returns undefined when it matches, else `{ stored, unsigned }` for the error message.
 */
export function checkChecksum(buf: Uint8Array, off = 0): { stored: number; computed: number } | undefined {
  const unsigned = byteSum(buf, off) + 8 * 0x20;
  let stored: number;
  try {
    stored = parseNumber(buf, off + 148, 8, 'checksum');
  } catch {
    stored = -1;
  }
  if (stored === unsigned) return undefined;
  let signed = 0;
  for (let i = off; i < off + BLOCK; i++) {
    if (i >= off + 148 && i < off + 156) continue;
    const c = buf[i];
    signed += c >= 0x80 ? c - 256 : c;
  }
  signed += 8 * 0x20;
  if (stored === signed) return undefined;
  return { stored, computed: unsigned };
}

let wordsOf: ArrayBufferLike | undefined;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/**
 * The unsigned sum of a header's bytes without its checksum field. Hand-written because it runs
 * once per header and is the single largest cost of indexing: on a 4-byte aligned block it adds
 * 32-bit words two byte-lanes at a time (SWAR; 128 words cannot overflow a 16-bit lane).
 */
function byteSum(buf: Uint8Array, off: number): number {
  let sum = 0;
  const at = buf.byteOffset + off;
  if ((at & 3) === 0 && buf.buffer.byteLength >= at + BLOCK) {
    if (wordsOf !== buf.buffer) {
      words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
      wordsOf = buf.buffer;
    }
    let even = 0;
    let odd = 0;
    for (let w = at >>> 2, end = w + BLOCK / 4; w < end; w++) {
      const x = words[w];
      even += x & 0x00ff00ff;
      odd += (x >>> 8) & 0x00ff00ff;
    }
    sum = (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16);
    for (let i = off + 148; i < off + 156; i++) sum -= buf[i];
    return sum;
  }
  for (let i = off; i < off + 148; i++) sum += buf[i];
  for (let i = off + 156; i < off + BLOCK; i++) sum += buf[i];
  return sum;
}

function formatOf(buf: Uint8Array, off: number): HeaderFormat {
  const m = off + 257;
  if (buf[m] !== 0x75 || buf[m + 1] !== 0x73 || buf[m + 2] !== 0x74 || buf[m + 3] !== 0x61 || buf[m + 4] !== 0x72) return 'v7';
  // GNU: "ustar  \0"; POSIX: "ustar\0" followed by "00".
  if (buf[m + 5] === 0x20 && buf[m + 6] === 0x20 && buf[m + 7] === 0) return 'gnu';
  return buf[m + 5] === 0 ? 'ustar' : 'v7';
}

/** True when the block carries a tar magic or a valid v7 checksum (used to sniff plain tars). */
export function looksLikeTarHeader(buf: Uint8Array, off = 0): boolean {
  if (buf.length - off < BLOCK) return false;
  return formatOf(buf, off) !== 'v7' || checkChecksum(buf, off) === undefined;
}

/** Throws BAD_CHECKSUM unless the block's checksum matches (see checkChecksum). */
export function verifyChecksum(buf: Uint8Array, off = 0): void {
  const bad = checkChecksum(buf, off);
  if (bad) {
    const stored = bad.stored < 0 ? 'an unreadable value' : bad.stored.toString(8);
    throw new HeaderProblem('BAD_CHECKSUM', `header checksum is ${stored} (octal), the header bytes sum to ${bad.computed.toString(8)}`);
  }
}

/** The size field of a checked header; a negative size is BAD_HEADER. */
export function headerSize(buf: Uint8Array, off = 0): number {
  const size = parseNumber(buf, off + 124, 12, 'size');
  if (size < 0) throw new HeaderProblem('BAD_HEADER', `size is negative (${size})`);
  return size;
}

/**
 * Decodes one header block. The caller has already ruled out a zero block. Checksum first: a
 * block that fails it is not a header, and its other fields mean nothing.
 */
export function decodeHeader(buf: Uint8Array, off = 0): TarHeader {
  verifyChecksum(buf, off);
  const format = formatOf(buf, off);
  let name: string;
  const nameEnd = fieldEnd(buf, off, 100);
  // POSIX ustar only: a non-empty prefix is joined to the name with '/'. GNU uses that space for
  // other fields (atime, ctime, sparse maps), v7 has none.
  const prefixEnd = format === 'ustar' ? fieldEnd(buf, off + 345, 155) : off + 345;
  if (prefixEnd > off + 345) {
    const joined = Buffer.concat([buf.subarray(off + 345, prefixEnd), Buffer.from('/'), buf.subarray(off, nameEnd)]);
    name = decodeName(joined);
  } else {
    name = decodeName(buf, off, nameEnd);
  }
  const typeByte = buf[off + 156];
  const size = headerSize(buf, off);
  const hasUstarFields = format !== 'v7';
  return {
    name,
    mode: parseNumber(buf, off + 100, 8, 'mode') & 0o7777,
    uid: parseNumber(buf, off + 108, 8, 'uid'),
    gid: parseNumber(buf, off + 116, 8, 'gid'),
    size,
    mtime: parseNumber(buf, off + 136, 12, 'mtime'),
    typeflag: String.fromCharCode(typeByte),
    linkname: decodeName(buf, off + 157, fieldEnd(buf, off + 157, 100)),
    uname: hasUstarFields ? unames.get(buf, off + 265, 32) : '',
    gname: hasUstarFields ? gnames.get(buf, off + 297, 32) : '',
    devmajor: hasUstarFields ? parseNumber(buf, off + 329, 8, 'devmajor') : 0,
    devminor: hasUstarFields ? parseNumber(buf, off + 337, 8, 'devminor') : 0,
    format,
  };
}

/** GNU `L`/`K` record data: the name, ended by the first NUL. */
export function decodeLongName(data: Uint8Array, start = 0, end = data.length): string {
  return decodeName(data, start, fieldEnd(data, start, end - start));
}

/**
 * PAX records by keyword. Values are decoded like names, except extended attributes
 * (`SCHILY.xattr.*`), which are binary and kept as a private copy of their bytes.
 */
export type PaxRecords = Map<string, string | Buffer>;

const XATTR_KEY = 'SCHILY.xattr.';

/**
 * PAX extended header records in `data[start..end)`: `"%d %s=%s\n"` where the length counts the
 * whole record. An empty value is kept: it means "remove this keyword" and the walker applies that.
 * Nothing returned refers to `data`, so the caller may reuse its buffer.
 */
export function parsePax(data: Uint8Array, start = 0, end = data.length): PaxRecords {
  const buf = data instanceof Buffer ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out: PaxRecords = new Map();
  let pos = start;
  while (pos < end) {
    if (buf[pos] === 0) break; // NUL padding after the last record
    let sp = pos;
    let len = 0;
    while (sp < end && buf[sp] >= 0x30 && buf[sp] <= 0x39) len = len * 10 + (buf[sp++] - 0x30);
    if (sp === pos || buf[sp] !== 0x20 || len <= sp - pos + 1 || pos + len > end || buf[pos + len - 1] !== 0x0a) {
      const text = buf.toString('latin1', pos, Math.min(end, pos + 40));
      throw new HeaderProblem('BAD_HEADER', `malformed PAX record at byte ${pos - start} of the extended header: ${JSON.stringify(text)}`);
    }
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= pos + len - 1) {
      throw new HeaderProblem('BAD_HEADER', `PAX record at byte ${pos - start} has no '=': ${JSON.stringify(buf.toString('latin1', sp + 1, pos + len - 1))}`);
    }
    const key = paxKeys.get(buf, sp + 1, eq - sp - 1);
    const valueEnd = pos + len - 1;
    out.set(key, key.startsWith(XATTR_KEY) ? Buffer.from(buf.subarray(eq + 1, valueEnd)) : decodeName(buf, eq + 1, valueEnd));
    pos += len;
  }
  return out;
}
