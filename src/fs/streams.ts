/**
 * fs.ReadStream and fs.WriteStream: Node's own stream classes, which take an `fs` option whose
 * open/read/write/writev/fsync/close they call. Given this fs object, they behave exactly as Node's
 * streams on the core ('open' and 'ready' after opening, start/end, highWaterMark, autoClose,
 * 'close' after the descriptor is closed), without a second implementation.
 *
 * An `fd` option may be a number or a FileHandle of this fs (its reads and writes go through the
 * handle, and closing the stream closes the handle).
 */
import * as nodeFs from 'node:fs';
import { notImplemented } from './errors.js';
import type { FileHandle } from './file-handle.js';
import { copyObject, getOptions } from './options.js';

// biome-ignore lint/suspicious/noExplicitAny: any function: the names are typed as Node's fs (node-fs.ts), this is the shape they share
type Fn = (...args: any[]) => any;
export interface StreamFs {
  open: Fn;
  read: Fn;
  write: Fn;
  writev: Fn;
  fsync: Fn;
  close: Fn;
}

/**
 * Constructors like Node's: (path, options), path unused when options.fd is given. Like Node's,
 * they are plain functions: callable without `new` (which then constructs), and subclassable the
 * old way, `ReadStream.call(this, path, options)` on an object made with util.inherits or
 * Object.create (graceful-fs does this), as well as with `class extends`.
 */
export interface StreamClasses {
  ReadStream: {
    new (path: nodeFs.PathLike | undefined, options?: unknown): nodeFs.ReadStream;
    (path: nodeFs.PathLike | undefined, options?: unknown): nodeFs.ReadStream;
    prototype: nodeFs.ReadStream;
  };
  WriteStream: {
    new (path: nodeFs.PathLike | undefined, options?: unknown): nodeFs.WriteStream;
    (path: nodeFs.PathLike | undefined, options?: unknown): nodeFs.WriteStream;
    prototype: nodeFs.WriteStream;
  };
}

/** The calls a stream makes, routed through a FileHandle of ours. */
function handleOps(h: FileHandle): StreamFs {
  const done = (cb: Fn, n: string) => (r: Record<string, unknown>) => cb(null, r[n], r.buffer ?? r.buffers);
  return {
    open: () => {
      throw notImplemented('open()');
    },
    read: (_fd, buf, off, len, pos, cb) => h.read(buf, off, len, pos).then(done(cb, 'bytesRead'), (e) => cb(e, 0, buf)),
    write: (_fd, buf, off, len, pos, cb) => h.write(buf, off, len, pos).then(done(cb, 'bytesWritten'), (e) => cb(e, 0, buf)),
    writev: (_fd, bufs, pos, cb) => h.writev(bufs, pos).then(done(cb, 'bytesWritten'), (e) => cb(e, 0, bufs)),
    fsync: (_fd, cb) => h.sync().then(() => cb(null), cb),
    close: (_fd, cb) => h.close().then(() => cb(null), cb),
  };
}

/**
 * Stream classes bound to `fs`. The options are read as Node's streams read them (getOptions: a
 * string is the encoding, a number or boolean is ERR_INVALID_ARG_TYPE; then copyObject, so options
 * inherited through the prototype count), and a caller's explicit `fs` option wins.
 */
export function streamClasses(fs: StreamFs, isHandle: (v: unknown) => v is FileHandle): StreamClasses {
  const withFs = (options: unknown): { o: Record<string, unknown>; handle?: FileHandle } => {
    const o = copyObject(getOptions(options));
    if (isHandle(o.fd)) {
      const handle = o.fd;
      // Node: a FileHandle cannot be combined with custom fs operations.
      if (o.fs) throw notImplemented('FileHandle with fs');
      return { o: { ...o, fd: handle.fd, fs: handleOps(handle) }, handle };
    }
    return { o: { ...o, fs: o.fs || fs } };
  };
  // fs-monkey's patchFs binds ReadStream/WriteStream to the fs object (memfs' constructor takes the
  // volume first): such a leading fs argument is skipped.
  const args = (a: unknown[]): [unknown, unknown] => (a[0] === fs ? [a[1], a[2]] : [a[0], a[1]]);
  // A stream on a FileHandle closes when the handle does.
  const construct = (Base: Fn, self: { close(): void }, a: unknown[]) => {
    const [path, options] = args(a);
    const { o, handle } = withFs(options);
    Base.call(self, path, o);
    if (handle) handle.once('close', () => self.close());
  };

  function ReadStream(this: unknown, ...a: unknown[]): unknown {
    if (!(this instanceof ReadStream)) return new (ReadStream as unknown as new (...x: unknown[]) => unknown)(...a);
    construct(nodeFs.ReadStream as unknown as Fn, this as { close(): void }, a);
  }
  function WriteStream(this: unknown, ...a: unknown[]): unknown {
    if (!(this instanceof WriteStream)) return new (WriteStream as unknown as new (...x: unknown[]) => unknown)(...a);
    construct(nodeFs.WriteStream as unknown as Fn, this as { close(): void }, a);
  }
  // Node's own prototypes below ours, so that instanceof and the stream methods are Node's.
  Object.setPrototypeOf(ReadStream.prototype, nodeFs.ReadStream.prototype);
  Object.setPrototypeOf(ReadStream, nodeFs.ReadStream);
  Object.setPrototypeOf(WriteStream.prototype, nodeFs.WriteStream.prototype);
  Object.setPrototypeOf(WriteStream, nodeFs.WriteStream);
  return { ReadStream, WriteStream } as unknown as StreamClasses;
}
