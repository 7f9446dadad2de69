/**
 * readFile, writeFile and appendFile (callback and promise forms; writeFileSync and appendFileSync
 * too), taken step by step as Node 20 takes them in lib/fs.js, lib/internal/fs/read/context.js and
 * lib/internal/fs/promises.js:
 *
 * - ASYNCHRONOUS STEPS. Each step Node hands to the thread pool (open, fstat, read, write, close)
 *   runs here, and its result comes back in a later turn of the event loop (`turn()`), so an
 *   AbortSignal aborted right after the call, or in a nextTick, is seen where Node sees it:
 *   before opening; before each read (callback readFile); after fstat and before each read or
 *   write (the promise forms and FileHandle methods). An abort is an AbortError; a file already
 *   opened is closed first.
 * - THROUGH THE EXPORTED OBJECT. Where Node calls the public functions of `fs` (not its binding),
 *   so does this: writeFile → fs.open, fs.write, fs.fsync (flush), fs.close; appendFile →
 *   fs.writeFile; writeFileSync → fs.openSync, fs.writeSync, fs.fsyncSync (flush), fs.closeSync;
 *   appendFileSync → fs.writeFileSync. A spy on those members sees the same calls as on Node.
 *   The promise writeFile flushes with the FileHandle's sync().
 * - NODE'S OWN CORNERS, KEPT. writeFileSync of a string with an explicit utf8 encoding takes
 *   Node's fast path: written directly, without those calls and without `flush`. Callback readFile
 *   of a caller's descriptor reports no error (Node drops it: a directory's descriptor or an abort
 *   give an empty result).
 */
import { Buffer } from 'node:buffer';
import { constants as C } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { abortedBy, aggregateTwoErrors, checkAborted, turn } from './abort.js';
import { callLater, validateBoolean, validateFunction, validateStringAfterView } from './args.js';
import type { Core } from '../core/core.js';
import { fileTooLarge } from './errors.js';
import { copyObject, getOptions, isFd, parseFileMode, stringToFlags, type Opts } from './options.js';
import { onPaths, pathArg } from './paths.js';
import { isType } from './stats.js';
import { bytesOf } from './sync-files.js';

// biome-ignore lint/suspicious/noExplicitAny: any function of the fs object (called through it, as Node's own calls are)
type Fn = (...args: any[]) => any;
type Callback = (err: unknown, result?: unknown) => void;
/** The exported fs object (members looked up at each call, so that replacing one is seen). */
export type ExportedFs = Record<string, Fn>;

/** Node's kIoMaxLength, kReadFileBufferLength, kReadFileUnknownBufferLength, kWriteFileMaxChunkSize. */
const IO_MAX = 2 ** 31 - 1;
const READ_CHUNK = 512 * 1024;
const UNKNOWN_CHUNK = 64 * 1024;
const WRITE_CHUNK = 512 * 1024;

/** Runs a step now; its outcome reaches `cb` in a later turn, as a thread-pool request's would. */
function io<T>(op: () => T, cb: (err: unknown, result?: T) => void): void {
  let result: T;
  try {
    result = op();
  } catch (e) {
    callLater(cb, e);
    return;
  }
  callLater(cb, null, result);
}

/** Iterables other than strings and byte views are written chunk by chunk (writeFile's streams). */
export function isCustomIterable(v: unknown): v is Iterable<unknown> | AsyncIterable<unknown> {
  if (v == null || typeof v === 'string' || ArrayBuffer.isView(v)) return false;
  const o = v as Record<symbol, unknown>;
  return typeof o[Symbol.iterator] === 'function' || typeof o[Symbol.asyncIterator] === 'function';
}

/** fs.readFile(path | fd, options, cb), as Node's ReadFileContext reads. */
export function readFileCallback(core: Core): Fn {
  return function readFile(path: unknown, options: unknown, callback?: unknown): void {
    callback ||= options;
    validateFunction(callback, 'cb');
    const cb = callback as Callback;
    const o = getOptions(options, { flag: 'r' });
    const encoding = o.encoding as BufferEncoding | undefined;
    const signal = o.signal;
    const userFd = isFd(path);
    let fd = -1;
    let size = 0;
    let pos = 0;
    let buffer = Buffer.alloc(0);
    const buffers: Buffer[] = [];

    const afterClose = (closeErr: unknown, err: unknown) => {
      if (closeErr || err) return cb(aggregateTwoErrors(closeErr, err));
      let result: Buffer | string;
      try {
        if (size === 0) result = Buffer.concat(buffers, pos);
        else result = pos < size ? buffer.subarray(0, pos) : buffer;
        if (encoding) result = result.toString(encoding);
      } catch (e) {
        return cb(e);
      }
      cb(null, result);
    };
    // A caller's descriptor stays open, and (as in Node) the error is not passed on.
    const close = (err?: unknown) => {
      if (userFd) process.nextTick(afterClose, null, null);
      else
        io(
          () => core.close(fd),
          (closeErr) => afterClose(closeErr, err),
        );
    };
    const read = () => {
      const aborted = abortedBy(signal);
      if (aborted) return close(aborted);
      let offset = pos;
      let length: number;
      if (size === 0) {
        buffer = Buffer.allocUnsafeSlow(UNKNOWN_CHUNK);
        offset = 0;
        length = UNKNOWN_CHUNK;
      } else length = Math.min(READ_CHUNK, size - pos);
      io(
        () => core.read(fd, buffer, offset, length, null),
        (err, n) => {
          if (err) return close(err);
          pos += n!;
          if (pos === size || n === 0) return close();
          if (size === 0) buffers.push(n === UNKNOWN_CHUNK ? buffer : buffer.subarray(0, n));
          read();
        },
      );
    };
    const afterOpen = (err: unknown, opened?: number) => {
      if (err) return cb(err);
      fd = opened!;
      io(
        () => core.fstat(fd),
        (statErr, st) => {
          if (statErr) return close(statErr);
          size = isType(st!.mode, C.S_IFREG) ? st!.size : 0;
          if (size > IO_MAX) return close(fileTooLarge(size));
          if (size !== 0) buffer = Buffer.allocUnsafeSlow(size);
          read();
        },
      );
    };

    if (userFd) {
      process.nextTick(afterOpen, null, path);
      return;
    }
    // An abort before anything is done is reported at once (synchronously, as in Node).
    const aborted = abortedBy(signal);
    if (aborted) {
      cb(aborted);
      return;
    }
    const flags = stringToFlags(o.flag, 'options.flag');
    const p = pathArg(path);
    io(() => onPaths('open', p, undefined, () => core.open(p.abs, flags, 0o666)), afterOpen);
  };
}

/** The promise forms' read of a whole file from a descriptor's position (Node's readFileHandle). */
export async function readFileHandle(core: Core, fd: number, options: Opts | undefined): Promise<string | Buffer> {
  const signal = options?.signal;
  const encoding = options?.encoding as BufferEncoding | undefined;
  const decoder = encoding ? new StringDecoder(encoding) : undefined;
  checkAborted(signal);
  const st = core.fstat(fd);
  await turn();
  checkAborted(signal);
  let size = 0;
  let length = 0;
  if (isType(st.mode, C.S_IFREG)) {
    size = st.size;
    length = encoding ? Math.min(size, READ_CHUNK) : size;
  }
  if (length === 0) length = UNKNOWN_CHUNK;
  if (size > IO_MAX) throw fileTooLarge(size);
  const noSize = size === 0;
  // Without an encoding a known size is read into one buffer, in 512 KiB pieces when bigger;
  // with one, pieces of at most 512 KiB are decoded as they come.
  const chunked = length > READ_CHUNK;
  let buffer = Buffer.allocUnsafeSlow(length);
  let buffers: Buffer[] | undefined;
  let result = '';
  let offset = 0;
  let total = 0;
  for (;;) {
    checkAborted(signal);
    if (chunked) length = Math.min(size - total, READ_CHUNK);
    const n = core.read(fd, buffer, offset, length, null);
    await turn();
    total += n;
    if (n === 0 || total === size || (n !== buffer.length && !chunked && !noSize)) {
      const single = n === total;
      const keep = chunked ? total : n;
      if (keep !== buffer.length) buffer = buffer.subarray(0, keep);
      if (!encoding) {
        if (noSize && !single) {
          buffers!.push(buffer);
          return Buffer.concat(buffers!, total);
        }
        return buffer;
      }
      if (single) return buffer.toString(encoding);
      return result + decoder!.end(buffer);
    }
    const piece = n !== buffer.length ? buffer.subarray(0, n) : buffer;
    if (decoder) result += decoder.write(piece);
    else if (size !== 0) offset = total;
    else {
      (buffers ??= []).push(piece);
      buffer = Buffer.allocUnsafeSlow(UNKNOWN_CHUNK);
    }
  }
}

/** One write of the promise forms: issued now, its count back in a later turn. */
async function writeChunk(core: Core, fd: number, data: ArrayBufferView, offset: number, length: number): Promise<number> {
  const n = core.write(fd, bytesOf(data), offset, length, null);
  await turn();
  return n;
}

/** Writes data (bytes, or an iterable of strings and bytes) at the descriptor's position (Node's writeFileHandle). */
export async function writeFileHandle(core: Core, fd: number, data: unknown, signal: unknown, encoding: unknown): Promise<void> {
  checkAborted(signal);
  if (isCustomIterable(data)) {
    for await (const chunk of data) {
      checkAborted(signal);
      const bytes = ArrayBuffer.isView(chunk) ? chunk : Buffer.from(chunk as string, (encoding as BufferEncoding) || 'utf8');
      let remaining = bytes.byteLength;
      while (remaining > 0) {
        remaining -= await writeChunk(core, fd, bytes, bytes.byteLength - remaining, Math.min(WRITE_CHUNK, remaining));
        checkAborted(signal);
      }
    }
    return;
  }
  let view = bytesOf(data as ArrayBufferView);
  if (view.byteLength === 0) return;
  do {
    checkAborted(signal);
    const n = await writeChunk(core, fd, view, 0, Math.min(WRITE_CHUNK, view.byteLength));
    view = view.subarray(n);
  } while (view.byteLength > 0);
}

/**
 * The option and data checks of the promise writeFile (and FileHandle.writeFile): a string is
 * encoded now; bytes and iterables are taken as they are.
 */
export function writeFileArgs(data: unknown, options: unknown): { o: Opts; data: unknown; flag: unknown; flush: boolean } {
  const o = getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false });
  const flag = o.flag || 'w';
  const flush = o.flush ?? false;
  validateBoolean(flush, 'options.flush');
  if (!ArrayBuffer.isView(data) && !isCustomIterable(data)) {
    validateStringAfterView(data, 'data');
    data = Buffer.from(data, (o.encoding as BufferEncoding) || 'utf8');
  }
  return { o, data, flag, flush };
}

/** Node's writeAll: fs.write until done, fs.fsync when flushing, fs.close unless the caller's descriptor. */
function writeAll(fs: ExportedFs, fd: number, userFd: boolean, buffer: ArrayBufferView, offset: number, length: number, signal: unknown, flush: boolean, cb: Callback): void {
  const finish = (err: unknown) => {
    if (userFd) cb(err ?? null);
    else fs.close(fd, (closeErr: unknown) => cb(err ? aggregateTwoErrors(closeErr, err) : (closeErr ?? null)));
  };
  const aborted = abortedBy(signal);
  if (aborted) {
    finish(aborted);
    return;
  }
  fs.write(fd, buffer, offset, length, null, (writeErr: unknown, written: number) => {
    if (writeErr) return finish(writeErr);
    if (written !== length) return writeAll(fs, fd, userFd, buffer, offset + written, length - written, signal, flush, cb);
    if (!flush) return finish(null);
    fs.fsync(fd, (syncErr: unknown) => finish(syncErr ?? null));
  });
}

/** fs.writeFile(path | fd, data, options, cb). */
export function writeFileCallback(fs: ExportedFs): Fn {
  return function writeFile(path: unknown, data: unknown, options: unknown, callback?: unknown): void {
    callback ||= options;
    validateFunction(callback, 'cb');
    const cb = callback as Callback;
    const o = getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false });
    const flag = o.flag || 'w';
    const flush = o.flush ?? false;
    validateBoolean(flush, 'options.flush');
    if (!ArrayBuffer.isView(data)) {
      validateStringAfterView(data, 'data');
      data = Buffer.from(data, (o.encoding as BufferEncoding) || 'utf8');
    }
    const bytes = data as ArrayBufferView;
    if (isFd(path)) {
      writeAll(fs, path, true, bytes, 0, bytes.byteLength, o.signal, flush, cb);
      return;
    }
    const aborted = abortedBy(o.signal);
    if (aborted) {
      cb(aborted);
      return;
    }
    fs.open(path, flag, o.mode, (openErr: unknown, fd: number) => {
      if (openErr) cb(openErr);
      else writeAll(fs, fd, false, bytes, 0, bytes.byteLength, o.signal, flush, cb);
    });
  };
}

/** fs.appendFile: fs.writeFile with flag 'a' (always for a descriptor), on a copy of the options. */
export function appendFileCallback(fs: ExportedFs): Fn {
  return function appendFile(path: unknown, data: unknown, options: unknown, callback?: unknown): void {
    callback ||= options;
    validateFunction(callback, 'cb');
    const o = copyObject(getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'a' }));
    if (!o.flag || isFd(path)) o.flag = 'a';
    fs.writeFile(path, data, o, callback);
  };
}

/** fs.writeFileSync(path | fd, data, options). */
export function writeFileSync(core: Core, fs: ExportedFs, path: unknown, data: unknown, options?: unknown): void {
  const o = getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false });
  const flush = o.flush ?? false;
  validateBoolean(flush, 'options.flush');
  const flag = o.flag || 'w';
  // Node's C++ fast path (binding.writeFileUtf8): no calls through fs, and no flush.
  if (typeof data === 'string' && (o.encoding === 'utf8' || o.encoding === 'utf-8')) {
    const bytes = Buffer.from(data, 'utf8');
    const userFd = isFd(path);
    const p = userFd ? undefined : pathArg(path);
    const flags = stringToFlags(flag);
    const mode = parseFileMode(o.mode, 'mode', 0o666);
    const fd = p ? onPaths('open', p, undefined, () => core.open(p.abs, flags, mode)) : (path as number);
    try {
      let done = 0;
      while (done < bytes.byteLength) done += core.write(fd, bytes, done, bytes.byteLength - done, null);
    } finally {
      if (!userFd) core.close(fd);
    }
    return;
  }
  if (!ArrayBuffer.isView(data)) {
    validateStringAfterView(data, 'data');
    data = Buffer.from(data, (o.encoding as BufferEncoding) || 'utf8');
  }
  const bytes = data as ArrayBufferView;
  const userFd = isFd(path);
  const fd = userFd ? path : fs.openSync(path, flag, o.mode);
  try {
    let offset = 0;
    let length = bytes.byteLength;
    while (length > 0) {
      const written = fs.writeSync(fd, bytes, offset, length);
      offset += written;
      length -= written;
    }
    if (flush) fs.fsyncSync(fd);
  } finally {
    if (!userFd) fs.closeSync(fd);
  }
}

/** fs.appendFileSync: fs.writeFileSync with flag 'a' (always for a descriptor), on a copy of the options. */
export function appendFileSync(fs: ExportedFs, path: unknown, data: unknown, options?: unknown): void {
  const o = copyObject(getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'a' }));
  if (!o.flag || isFd(path)) o.flag = 'a';
  fs.writeFileSync(path, data, o);
}
