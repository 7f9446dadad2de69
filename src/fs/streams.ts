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
import type { FileHandle } from './file-handle.js';

// biome-ignore lint/suspicious/noExplicitAny: any function: the names are typed as Node's fs (node-fs.ts), this is the shape they share
type Fn = (...args: any[]) => any;
export interface StreamFs { open: Fn; read: Fn; write: Fn; writev: Fn; fsync: Fn; close: Fn }

/** Constructors like Node's: (path, options), path unused when options.fd is given. */
export interface StreamClasses {
  ReadStream: { new (path: nodeFs.PathLike | undefined, options?: unknown): nodeFs.ReadStream; prototype: nodeFs.ReadStream };
  WriteStream: { new (path: nodeFs.PathLike | undefined, options?: unknown): nodeFs.WriteStream; prototype: nodeFs.WriteStream };
}

/** The calls a stream makes, routed through a FileHandle of ours. */
function handleOps(h: FileHandle): StreamFs {
  const done = (cb: Fn, n: string) => (r: Record<string, unknown>) => cb(null, r[n], r.buffer ?? r.buffers);
  return {
    open: () => { throw new Error('open() is not implemented for a stream on a FileHandle'); },
    read: (_fd, buf, off, len, pos, cb) => h.read(buf, off, len, pos).then(done(cb, 'bytesRead'), (e) => cb(e, 0, buf)),
    write: (_fd, buf, off, len, pos, cb) => h.write(buf, off, len, pos).then(done(cb, 'bytesWritten'), (e) => cb(e, 0, buf)),
    writev: (_fd, bufs, pos, cb) => h.writev(bufs, pos).then(done(cb, 'bytesWritten'), (e) => cb(e, 0, bufs)),
    fsync: (_fd, cb) => h.sync().then(() => cb(null), cb),
    close: (_fd, cb) => h.close().then(() => cb(null), cb),
  };
}

/**
 * Stream classes bound to `fs`. Node's own options handling applies (a string is the encoding),
 * and a caller's explicit `fs` option wins, as with Node's streams.
 */
export function streamClasses(fs: StreamFs, isHandle: (v: unknown) => v is FileHandle): StreamClasses {
  const withFs = (options: unknown): Record<string, unknown> => {
    const o: Record<string, unknown> = typeof options === 'string' ? { encoding: options } : { ...(options as object) };
    if (isHandle(o.fd)) {
      const h = o.fd;
      return { ...o, fd: h.fd, fs: o.fs ?? handleOps(h) };
    }
    return { ...o, fs: o.fs ?? fs };
  };
  // fs-monkey's patchFs binds ReadStream/WriteStream to the fs object (memfs' constructor takes the
  // volume first): such a leading fs argument is skipped.
  const args = (a: unknown[]): [unknown, unknown] => (a[0] === fs ? [a[1], a[2]] : [a[0], a[1]]);
  const onHandleClose = (stream: { close(): void }, options: unknown) => {
    const fd = (options as { fd?: unknown } | null | undefined)?.fd;
    if (isHandle(fd)) fd.once('close', () => stream.close());
  };

  class ReadStream extends (nodeFs.ReadStream as unknown as new (path: unknown, options: unknown) => nodeFs.ReadStream) {
    constructor(...a: unknown[]) {
      const [path, options] = args(a);
      super(path, withFs(options));
      onHandleClose(this, options);
    }
  }
  class WriteStream extends (nodeFs.WriteStream as unknown as new (path: unknown, options: unknown) => nodeFs.WriteStream) {
    constructor(...a: unknown[]) {
      const [path, options] = args(a);
      super(path, withFs(options));
      onHandleClose(this, options);
    }
  }
  return { ReadStream, WriteStream };
}
