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
  constructor(readonly code: 'BAD_CHECKSUM' | 'BAD_HEADER', message: string) {
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
  let unsigned = 0;
  for (let i = off; i < off + 148; i++) unsigned += buf[i];
  for (let i = off + 156; i < off + BLOCK; i++) unsigned += buf[i];
  unsigned += 8 * 0x20;
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

/**
 * Decodes one header block. The caller has already ruled out a zero block. Checksum first: a
 * block that fails it is not a header, and its other fields mean nothing.
 */
export function decodeHeader(buf: Uint8Array, off = 0): TarHeader {
  const bad = checkChecksum(buf, off);
  if (bad) {
    const stored = bad.stored < 0 ? 'an unreadable value' : bad.stored.toString(8);
    throw new HeaderProblem('BAD_CHECKSUM', `header checksum is ${stored} (octal), the header bytes sum to ${bad.computed.toString(8)}`);
  }
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
  const size = parseNumber(buf, off + 124, 12, 'size');
  if (size < 0) throw new HeaderProblem('BAD_HEADER', `size is negative (${size})`);
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
    uname: hasUstarFields ? decodeName(buf, off + 265, fieldEnd(buf, off + 265, 32)) : '',
    gname: hasUstarFields ? decodeName(buf, off + 297, fieldEnd(buf, off + 297, 32)) : '',
    devmajor: hasUstarFields ? parseNumber(buf, off + 329, 8, 'devmajor') : 0,
    devminor: hasUstarFields ? parseNumber(buf, off + 337, 8, 'devminor') : 0,
    format,
  };
}

/** GNU `L`/`K` record data: the name, ended by the first NUL. */
export function decodeLongName(data: Uint8Array): string {
  return decodeName(data, 0, fieldEnd(data, 0, data.length));
}

/**
 * PAX extended header records: `"%d %s=%s\n"` where the length counts the whole record. Keys are
 * text; values are kept as raw bytes (xattr values are binary, paths may not be UTF-8). An empty
 * value is kept: it means "remove this keyword" and the walker applies that.
 */
export function parsePax(data: Uint8Array): Map<string, Buffer> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break; // NUL padding after the last record
    let sp = pos;
    let len = 0;
    while (sp < buf.length && buf[sp] >= 0x30 && buf[sp] <= 0x39) len = len * 10 + (buf[sp++] - 0x30);
    if (sp === pos || buf[sp] !== 0x20 || len <= sp - pos + 1 || pos + len > buf.length || buf[pos + len - 1] !== 0x0a) {
      const text = buf.toString('latin1', pos, Math.min(buf.length, pos + 40));
      throw new HeaderProblem('BAD_HEADER', `malformed PAX record at byte ${pos} of the extended header: ${JSON.stringify(text)}`);
    }
    const eq = buf.indexOf(0x3d, sp + 1);
    if (eq < 0 || eq >= pos + len - 1) {
      throw new HeaderProblem('BAD_HEADER', `PAX record at byte ${pos} has no '=': ${JSON.stringify(buf.toString('latin1', sp + 1, pos + len - 1))}`);
    }
    const key = decodeName(buf, sp + 1, eq);
    out.set(key, buf.subarray(eq + 1, pos + len - 1));
    pos += len;
  }
  return out;
}
