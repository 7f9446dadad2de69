/**
 * The FileHandle of fs.promises.open(): a descriptor with promise methods, following Node's
 * lib/internal/fs/promises.js. close() waits for the calls running on the handle; after it, every
 * method rejects with EBADF ("file closed"), and the handle emits 'close' once.
 *
 * A handle garbage-collected while open is closed then, with Node's warnings: "Closing file
 * descriptor N on garbage collection" each time, and DEP0137 once a process.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { invalidArgType, invalidArgValue, nodeError, validateBuffer, validateEncoding, validateInteger, validateObject, validateStringAfterView } from './args.js';
import { readFileHandle, writeFileArgs, writeFileHandle } from './whole-file.js';
import type { Core } from '../core/core.js';
import * as files from './sync-files.js';
import { getOptions } from './options.js';
import type { BigIntStats, Stats } from './stats.js';
import type { StreamClasses } from './streams.js';
import type { ReadStream, WriteStream } from 'node:fs';
import type { Interface } from 'node:readline';
import * as readlinePromises from 'node:readline/promises';
import { fileWebStream } from './web-stream.js';

/** Node's readLines() makes its internal readline Interface: the base of readline/promises' one. */
const ReadlineInterface = Object.getPrototypeOf(readlinePromises.Interface) as new (options: object) => Interface;

let gcDeprecationWarned = false;

/** Closes what a collected handle left open, as Node's FileHandle destructor does. */
const collected = new FinalizationRegistry<{ core: Core; fd: number }>(({ core, fd }) => {
  try {
    core.close(fd);
  } catch {
    // Already gone: nothing to close.
  }
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`);
  if (!gcDeprecationWarned) {
    gcDeprecationWarned = true;
    process.emitWarning(
      'Closing a FileHandle object on garbage collection is deprecated. Please close FileHandle objects '
        + 'explicitly using FileHandle.prototype.close(). In the future, an error will be thrown if a file descriptor is '
        + 'closed during garbage collection.',
      'DeprecationWarning',
      'DEP0137',
    );
  }
});

function invalidState(what: string): Error {
  return nodeError(Error, 'ERR_INVALID_STATE', `Invalid state: The FileHandle is ${what}`);
}

/** Node's internal assert(), as fsCall uses it on a receiver that is not a FileHandle. */
function notAHandle(): Error {
  return nodeError(
    Error,
    'ERR_INTERNAL_ASSERTION',
    'handle must be an instance of FileHandle\nThis is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n'
      + 'Please open an issue with this stack trace at https://github.com/nodejs/node/issues\n',
  );
}

function closedError(syscall: string): Error {
  const e = new Error('file closed') as Error & { code: string; syscall: string };
  e.code = 'EBADF';
  e.syscall = syscall;
  return e;
}

export class FileHandle extends EventEmitter {
  #fd: number;
  #core: Core;
  #streams: StreamClasses;

  #locked = false;

  constructor(core: Core, fd: number, streams: StreamClasses) {
    super();
    this.#core = core;
    this.#fd = fd;
    this.#streams = streams;
    collected.register(this, { core, fd }, this);
  }

  /** The descriptor, -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Calls running on the handle (close() waits for them, as Node's does). */
  #running = 0;
  /** Set by a close() that waits for running calls: called by the last of them. */
  #closeWhenIdle?: () => void;
  #closing?: Promise<void>;

  /**
   * Runs `op` on the open descriptor of `h`, as an async call. As Node's fsCall, a receiver that
   * is not a FileHandle (handle.stat.call({})) rejects with ERR_INTERNAL_ASSERTION.
   */
  static async #call<T>(h: FileHandle, syscall: string, op: (fd: number) => T | Promise<T>): Promise<T> {
    if (!(typeof h === 'object' && h !== null && #fd in h)) throw notAHandle();
    if (h.#fd === -1) throw closedError(syscall);
    h.#running++;
    try {
      return await op(h.#fd);
    } finally {
      if (--h.#running === 0) h.#closeWhenIdle?.();
    }
  }

  /**
   * read(buffer, offset, length, position), read(buffer, { offset, length, position }) or
   * read({ buffer, offset, length, position }). A position that is not a safe integer means the
   * current position. Resolves to { bytesRead, buffer }.
   */
  read(bufferOrParams?: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<{ bytesRead: number; buffer: ArrayBufferView }> {
    return FileHandle.#call(this, 'read', (fd) => {
      let buffer = bufferOrParams;
      if (!ArrayBuffer.isView(buffer)) {
        if (bufferOrParams !== undefined) validateObject(bufferOrParams, 'options', true);
        const b = (bufferOrParams as { buffer?: unknown } | null)?.buffer;
        buffer = b === undefined ? Buffer.alloc(16384) : b;
        validateBuffer(buffer);
        ({ offset, length, position } = files.fields(bufferOrParams, buffer.byteLength));
      }
      const buf = buffer as ArrayBufferView;
      if (offset !== null && typeof offset === 'object') ({ offset, length, position } = files.fields(offset, buf.byteLength));
      let off = 0;
      if (offset != null) {
        validateInteger(offset, 'offset', 0);
        off = offset;
      }
      const len = (length ?? buf.byteLength - off) as number;
      if (len === 0) return { bytesRead: 0, buffer: buf };
      if (buf.byteLength === 0) throw invalidArgValue('buffer', buf, 'is empty and cannot be written');
      files.validateOffsetLengthRead(off, len, buf.byteLength);
      const pos = Number.isSafeInteger(position) && (position as number) >= 0 ? (position as number) : null;
      return { bytesRead: this.#core.read(fd, files.bytesOf(buf), off, len, pos), buffer: buf };
    });
  }

  /** write(buffer, offset?, length?, position?), write(buffer, options) or write(string, position?, encoding?). */
  write(buffer: unknown, offsetOrOptions?: unknown, length?: unknown, position?: unknown): Promise<{ bytesWritten: number; buffer: unknown }> {
    return FileHandle.#call(this, 'write', (fd) => {
      if ((buffer as ArrayBufferView | undefined)?.byteLength === 0) return { bytesWritten: 0, buffer };
      if (!ArrayBuffer.isView(buffer)) {
        validateStringAfterView(buffer, 'buffer');
        validateEncoding(buffer, length);
      }
      return { bytesWritten: files.writeSync(this.#core, fd, buffer, offsetOrOptions, length, position), buffer };
    });
  }

  readv(buffers: unknown, position?: unknown): Promise<{ bytesRead: number; buffers: unknown }> {
    return FileHandle.#call(this, 'readv', (fd) => ({ bytesRead: files.readvSync(this.#core, fd, buffers, position), buffers }));
  }

  writev(buffers: unknown, position?: unknown): Promise<{ bytesWritten: number; buffers: unknown }> {
    return FileHandle.#call(this, 'writev', (fd) => ({ bytesWritten: files.writevSync(this.#core, fd, buffers, position), buffers }));
  }

  /** The rest of the file from the current position (`signal` honoured, see whole-file.ts). */
  readFile(options?: unknown): Promise<string | Buffer> {
    return FileHandle.#call(this, 'readFile', (fd) => readFileHandle(this.#core, fd, getOptions(options, { flag: 'r' })));
  }

  /**
   * Writes at the current position (the handle's own flags decide about appending; `flag` and
   * `flush` are not used here, as in Node).
   */
  writeFile(data: unknown, options?: unknown): Promise<void> {
    return FileHandle.#call(this, 'writeFile', (fd) => {
      const w = writeFileArgs(data, options);
      return writeFileHandle(this.#core, fd, w.data, w.o.signal, w.o.encoding);
    });
  }

  appendFile(data: unknown, options?: unknown): Promise<void> {
    return FileHandle.prototype.writeFile.call(this, data, options);
  }

  stat(options?: unknown): Promise<Stats | BigIntStats> {
    return FileHandle.#call(this, 'fstat', (fd) => files.fstatSync(this.#core, fd, options));
  }

  truncate(len: unknown = 0): Promise<void> {
    return FileHandle.#call(this, 'ftruncate', (fd) => files.ftruncateSync(this.#core, fd, len));
  }

  chmod(mode: unknown): Promise<void> {
    return FileHandle.#call(this, 'fchmod', (fd) => files.fchmodSync(this.#core, fd, mode));
  }

  chown(uid: unknown, gid: unknown): Promise<void> {
    return FileHandle.#call(this, 'fchown', (fd) => files.fchownSync(this.#core, fd, uid, gid));
  }

  utimes(atime: unknown, mtime: unknown): Promise<void> {
    return FileHandle.#call(this, 'futimes', (fd) => files.futimesSync(this.#core, fd, atime, mtime));
  }

  sync(): Promise<void> {
    return FileHandle.#call(this, 'fsync', (fd) => files.fsyncSync(this.#core, fd));
  }

  datasync(): Promise<void> {
    return FileHandle.#call(this, 'fdatasync', (fd) => files.fdatasyncSync(this.#core, fd));
  }

  /**
   * Closes the descriptor once, after the calls running on the handle have finished (Node's
   * FileHandle counts them; the descriptor stays usable until the last one ends). A close while
   * one is pending resolves with it; after that, close resolves at once.
   */
  close(): Promise<void> {
    if (this.#fd === -1) return Promise.resolve();
    // Node answers the pending close's own promise.
    if (this.#closing) return this.#closing;
    const fd = this.#fd;
    const done = () => {
      this.#fd = -1;
      this.#closeWhenIdle = undefined;
      this.#closing = undefined;
      collected.unregister(this);
    };
    if (this.#running === 0) {
      // Closed before 'close' is emitted: a stream on the handle closing on it finds it closed.
      done();
      this.emit('close');
      try {
        this.#core.close(fd);
      } catch (e) {
        return Promise.reject(e);
      }
      return Promise.resolve();
    }
    this.#closing = new Promise<void>((resolve, reject) => {
      // The descriptor goes when the last call ends; the promise settles a turn later, as Node's
      // close of the descriptor does (after the last call's own promise).
      this.#closeWhenIdle = () => {
        try {
          done();
          this.#core.close(fd);
          setImmediate(resolve);
        } catch (e) {
          setImmediate(reject, e);
        }
      };
    });
    this.emit('close');
    return this.#closing;
  }

  /** The file's lines from the current position (a readline Interface over createReadStream). */
  readLines(options?: Record<string, unknown>): Interface {
    return new ReadlineInterface({ input: this.createReadStream(options), crlfDelay: Infinity });
  }

  /**
   * A ReadableStream of the file from the current position (see web-stream.ts); one per handle
   * (ERR_INVALID_STATE once locked, even when `type` then proves invalid, as in Node).
   */
  readableWebStream(options: { type?: unknown } = {}): ReadableStream {
    if (this.#fd === -1) throw invalidState('closed');
    if (this.#locked) throw invalidState('locked');
    this.#locked = true;
    if (options.type !== undefined && typeof options.type !== 'string') {
      throw invalidArgType('options.type', 'of type string', options.type);
    }
    return fileWebStream(this, this.#core, options.type);
  }

  /** A ReadStream over this handle; closing the stream closes the handle. */
  createReadStream(options?: Record<string, unknown>): ReadStream {
    return new this.#streams.ReadStream(undefined, { ...options, fd: this });
  }

  createWriteStream(options?: Record<string, unknown>): WriteStream {
    return new this.#streams.WriteStream(undefined, { ...options, fd: this });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
