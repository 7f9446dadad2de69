/**
 * The synchronous file-content calls (open, read, write, readFile, writeFile...), each following
 * the steps of its counterpart in Node's lib/fs.js over the core's descriptor calls.
 *
 * Every function takes the core first; createFs() binds it.
 */
import { Buffer } from 'node:buffer';
import { constants as C } from 'node:fs';
import { FsError } from '../core/errors.js';
import {
  invalidArgType,
  invalidArgValue,
  outOfRange,
  validateBuffer,
  validateEncoding,
  validateFd,
  validateFdRange,
  validateInt32,
  validateInteger,
  validateObject,
  validateStringAfterView,
} from './args.js';
import type { Core } from '../core/core.js';
import { fileTooLarge } from './errors.js';
import { getOptions, isFd, parseFileMode, secondsToMs, stringToFlags, toUnixTimestamp } from './options.js';
import { onPaths, pathArg } from './paths.js';
import { type BigIntStats, isType, type Stats, toStats } from './stats.js';

/** Node's kIoMaxLength: the largest file readFile() reads. */
const IO_MAX = 2 ** 31 - 1;
/** Node's kMaxUserId: uid/gid range is -1 (unchanged) .. 2^32-1. */
export const MAX_USER_ID = 2 ** 32 - 1;

export function openSync(core: Core, path: unknown, flags?: unknown, mode?: unknown): number {
  const p = pathArg(path);
  const f = stringToFlags(flags);
  const m = parseFileMode(mode, 'mode', 0o666);
  return onPaths('open', p, undefined, () => core.open(p.abs, f, m));
}

export function closeSync(core: Core, fd: unknown): void {
  core.close(validateFdRange(fd));
}

/** A read/write position: a non-negative number is an offset, anything else the current position. */
function positionOf(position: unknown): number | null {
  if (typeof position === 'bigint') position = Number(position);
  return typeof position === 'number' && position >= 0 ? position : null;
}

/** Node's validatePosition: an integer >= -1 or an int64 bigint. */
function validatePosition(position: unknown, name: string): void {
  if (typeof position === 'number') validateInteger(position, name, -1);
  else if (typeof position === 'bigint') {
    if (!(position >= -(2n ** 63n) && position <= 2n ** 63n - 1n)) {
      throw outOfRange(name, `>= ${-(2n ** 63n)} && <= ${2n ** 63n - 1n}`, position);
    }
  } else throw invalidArgType(name, 'of type integer or bigint', position);
}

/** `{ offset = 0, length = byteLength - offset, position = null }` of an options object (or null). */
export function fields(options: unknown, byteLength: number): { offset: unknown; length: unknown; position: unknown } {
  const o = (options ?? {}) as { offset?: unknown; length?: unknown; position?: unknown };
  const offset = o.offset === undefined ? 0 : o.offset;
  const length = o.length === undefined ? byteLength - (offset as number) : o.length;
  return { offset, length, position: o.position === undefined ? null : o.position };
}

export function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** readSync(fd, buffer, offset, length, position) or readSync(fd, buffer, { offset, length, position }). */
export function readSync(core: Core, fd: unknown, buffer: unknown, ...rest: unknown[]): number {
  const f = validateFd(fd);
  validateBuffer(buffer);
  let [offset, length, position] = rest as [unknown, unknown, unknown];
  if (rest.length <= 1 || typeof offset === 'object') {
    if (offset !== undefined) validateObject(offset, 'options', true);
    ({ offset, length, position } = fields(offset, buffer.byteLength));
  }
  if (offset === undefined) offset = 0;
  else validateInteger(offset, 'offset', 0);
  const len = (length as number) | 0;
  // Nothing to read: Node returns before the syscall (so even a bad descriptor gives 0).
  if (len === 0) return 0;
  if (buffer.byteLength === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written');
  validateOffsetLengthRead(offset as number, len, buffer.byteLength);
  if (position == null) position = -1;
  validatePosition(position, 'position');
  return core.read(f, bytesOf(buffer), offset as number, len, positionOf(position));
}

export function validateOffsetLengthRead(offset: number, length: number, bufferLength: number): void {
  if (offset < 0) throw outOfRange('offset', '>= 0', offset);
  if (length < 0) throw outOfRange('length', '>= 0', length);
  if (offset + length > bufferLength) throw outOfRange('length', `<= ${bufferLength - offset}`, length);
}

function validateOffsetLengthWrite(offset: number, length: number, byteLength: number): void {
  if (offset > byteLength) throw outOfRange('offset', `<= ${byteLength}`, offset);
  if (length > byteLength - offset) throw outOfRange('length', `<= ${byteLength - offset}`, length);
  if (length < 0) throw outOfRange('length', '>= 0', length);
  validateInt32(length, 'length', 0);
}

/**
 * writeSync(fd, buffer, offset?, length?, position?), writeSync(fd, buffer, { offset, length,
 * position }) or writeSync(fd, string, position?, encoding?).
 */
export function writeSync(core: Core, fd: unknown, buffer: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): number {
  const f = validateFd(fd);
  let offset = offsetOrOptions;
  if (ArrayBuffer.isView(buffer)) {
    if (typeof offset === 'object') ({ offset, length, position } = fields(offsetOrOptions, buffer.byteLength));
    let off = 0;
    if (offset != null) {
      validateInteger(offset, 'offset', 0);
      off = offset;
    }
    const len = typeof length === 'number' ? length : buffer.byteLength - off;
    validateOffsetLengthWrite(off, len, buffer.byteLength);
    return core.write(f, bytesOf(buffer), off, len, positionOf(position));
  }
  validateStringAfterView(buffer, 'buffer');
  validateEncoding(buffer, length);
  const bytes = Buffer.from(buffer, (length as BufferEncoding) || 'utf8');
  return core.write(f, bytes, 0, bytes.byteLength, positionOf(offset));
}

function validateBufferArray(buffers: unknown): ArrayBufferView[] {
  if (!Array.isArray(buffers) || !buffers.every((b) => ArrayBuffer.isView(b))) {
    throw invalidArgType('buffers', 'an ArrayBufferView[]', buffers);
  }
  return buffers;
}

/** readv: fills the buffers in order, stopping at a short read. */
export function readvSync(core: Core, fd: unknown, buffers: unknown, position?: unknown): number {
  const f = validateFd(fd);
  const list = validateBufferArray(buffers);
  let pos = typeof position === 'number' ? position : null;
  let total = 0;
  for (const b of list) {
    if (b.byteLength === 0) continue;
    const n = core.read(f, bytesOf(b), 0, b.byteLength, pos);
    total += n;
    if (pos !== null) pos += n;
    if (n < b.byteLength) break;
  }
  return total;
}

/** writev: writes the buffers in order, as one gathered write. */
export function writevSync(core: Core, fd: unknown, buffers: unknown, position?: unknown): number {
  const f = validateFd(fd);
  const list = validateBufferArray(buffers);
  if (list.length === 0) return 0;
  const all = Buffer.concat(list.map(bytesOf));
  return core.write(f, all, 0, all.byteLength, typeof position === 'number' ? position : null);
}

export function fstatSync(core: Core, fd: unknown, options?: unknown): Stats | BigIntStats {
  const bigint = (options as { bigint?: boolean } | undefined)?.bigint;
  return toStats(core.fstat(validateFdRange(fd)), bigint === true);
}

export function ftruncateSync(core: Core, fd: unknown, len: unknown = 0): void {
  validateInteger(len, 'len');
  core.ftruncate(validateFdRange(fd), Math.max(0, len));
}

export function fsyncSync(core: Core, fd: unknown): void {
  core.fsync(validateFdRange(fd));
}

/** fdatasync is fsync to the core; its errors carry Node's syscall name. */
export function fdatasyncSync(core: Core, fd: unknown): void {
  try {
    core.fsync(validateFdRange(fd));
  } catch (e) {
    throw e instanceof FsError ? new FsError(e.code, 'fdatasync') : e;
  }
}

export function fchmodSync(core: Core, fd: unknown, mode: unknown): void {
  const m = parseFileMode(mode, 'mode');
  core.fchmod(validateFdRange(fd), m);
}

export function fchownSync(core: Core, fd: unknown, uid: unknown, gid: unknown): void {
  validateInteger(uid, 'uid', -1, MAX_USER_ID);
  validateInteger(gid, 'gid', -1, MAX_USER_ID);
  core.fchown(validateFdRange(fd), uid, gid);
}

/**
 * Times for a utimes-family call, in ms, or undefined when the kernel would refuse them (EINVAL):
 * libuv converts seconds to a timespec, so NaN, infinities and values beyond 64-bit seconds come
 * out invalid.
 */
export function timesMs(atime: number, mtime: number): [number, number] | undefined {
  const ok = (t: number) => Number.isFinite(t) && Math.abs(t) < 2 ** 63;
  return ok(atime) && ok(mtime) ? [secondsToMs(atime), secondsToMs(mtime)] : undefined;
}

export function futimesSync(core: Core, fd: unknown, atime: unknown, mtime: unknown): void {
  const a = toUnixTimestamp(atime, 'atime');
  const m = toUnixTimestamp(mtime, 'mtime');
  const f = validateFdRange(fd);
  const ms = timesMs(a, m);
  if (!ms) throw new FsError('EINVAL', 'futime');
  core.futimes(f, ...ms);
}

/**
 * readFileSync(path | fd, options): opens (unless given a descriptor), sizes a regular file with
 * fstat and reads until that size or EOF; other files are read in 8 KiB pieces until EOF. A
 * descriptor the caller gave is read from its current position and left open.
 */
export function readFileSync(core: Core, path: unknown, options?: unknown): string | Buffer {
  const o = getOptions(options, { flag: 'r' });
  const userFd = isFd(path);
  const fd = userFd ? path : openSync(core, path, o.flag, 0o666);
  let buffer: Buffer;
  try {
    const st = core.fstat(fd);
    const size = isType(st.mode, C.S_IFREG) ? st.size : 0;
    if (size > IO_MAX) throw fileTooLarge(size);
    if (size !== 0) {
      buffer = Buffer.allocUnsafe(size);
      let pos = 0;
      let n: number;
      do {
        n = core.read(fd, buffer, pos, size - pos, null);
        pos += n;
      } while (n !== 0 && pos < size);
      if (pos < size) buffer = buffer.subarray(0, pos);
    } else {
      const parts: Buffer[] = [];
      let n: number;
      do {
        const chunk = Buffer.allocUnsafe(8192);
        n = core.read(fd, chunk, 0, 8192, null);
        if (n !== 0) parts.push(chunk.subarray(0, n));
      } while (n !== 0);
      buffer = Buffer.concat(parts);
    }
  } finally {
    if (!userFd) core.close(fd);
  }
  return o.encoding ? buffer.toString(o.encoding as BufferEncoding) : buffer;
}

let truncateFdWarned = false;

/**
 * truncateSync(path, len = 0): a negative length means 0. A descriptor is accepted (deprecated,
 * DEP0081) and goes to ftruncate.
 */
export function truncateSync(core: Core, path: unknown, len: unknown = 0): void {
  if (typeof path === 'number') {
    if (!truncateFdWarned) {
      truncateFdWarned = true;
      process.emitWarning('Using fs.truncate with a file descriptor is deprecated. Please use fs.ftruncate with a file descriptor instead.', 'DeprecationWarning', 'DEP0081');
    }
    ftruncateSync(core, path, len);
    return;
  }
  const p = pathArg(path);
  validateInteger(len, 'len');
  onPaths('open', p, undefined, () => core.truncate(p.abs, Math.max(0, len)));
}
