/**
 * The callback API (fs.stat(path, cb) ...), made from the synchronous calls.
 *
 * - The operation runs at call time; its result or error reaches the callback later, from the
 *   event loop (setImmediate), never before the call returns. readFile, writeFile and appendFile
 *   instead go step by step as Node's do (whole-file.ts): an AbortSignal is honoured, and an
 *   already aborted one is reported before the call returns, as in Node.
 * - A bad argument (an argument error, see args.ts) is thrown at once, as Node throws it.
 * - An `undefined` result calls back with one argument, `cb(null)`, as Node's binding does.
 * - Where Node's callback version differs from the sync one (stat ignores throwIfNoEntry; rm,
 *   rmdir and mkdir { recursive } walk differently; read/write pass extra results) the difference
 *   is kept. One is not: Node 20 calls readdir's callback synchronously with `recursive`; here
 *   it comes later, like every other callback.
 */
import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import { isArgError, validateBuffer, validateFunction, validateObject } from './args.js';
import type { Core } from '../core/core.js';
import * as files from './sync-files.js';
import * as tree from './sync-tree.js';
import { pathArg } from './paths.js';
import { rimrafAsync, validateRmAsync, type LstatCallback, type RmOptions } from './rm.js';
import { statfsCallback } from './statfs.js';
import { appendFileCallback, readFileCallback, writeFileCallback } from './whole-file.js';

// biome-ignore lint/suspicious/noExplicitAny: any function: the names are typed as Node's fs (node-fs.ts), this is the shape they share
type Fn = (...args: any[]) => any;
type Callback = (err: unknown, ...results: unknown[]) => void;

/** Runs `op` now; schedules `deliver(err, result)`; rethrows argument errors synchronously. */
function settle(op: () => unknown, deliver: (err: unknown, result?: unknown) => void): void {
  let result: unknown;
  try {
    result = op();
  } catch (e) {
    if (isArgError(e)) throw e;
    setImmediate(deliver, e);
    return;
  }
  setImmediate(deliver, null, result);
}

/** Splits off the trailing callback; `arity` is the count of arguments before it in Node's signature. */
function splitCallback(args: unknown[], arity: number): [unknown[], Callback] {
  const last = args[args.length - 1];
  if (typeof last === 'function') return [args.slice(0, -1), last as Callback];
  validateFunction(args.length > arity ? args[arity] : undefined, 'cb');
  throw new Error('unreachable');
}

/** The callback form of `op`: cb(err) or cb(null[, result]). */
function callbackify(op: Fn, arity: number): Fn {
  return (...args: unknown[]) => {
    const [rest, cb] = splitCallback(args, arity);
    settle(
      () => op(...rest),
      (err, result) => {
        if (err) cb(err);
        else if (result === undefined) cb(null);
        else cb(null, result);
      },
    );
  };
}

/** Node's read(): (fd, buffer, offset, length, position, cb), (fd, buffer, options, cb), (fd, params, cb), (fd, cb). */
function read(core: Core): Fn {
  return function read(fd: unknown, ...args: unknown[]): void {
    let buffer = args[0];
    let offset: unknown;
    let length: unknown;
    let position: unknown;
    let callback: unknown;
    if (args.length <= 3) {
      let params: unknown;
      if (args.length === 3) {
        validateObject(args[1], 'options', true);
        params = args[1];
        callback = args[2];
      } else if (args.length === 2) {
        if (!ArrayBuffer.isView(buffer)) {
          params = buffer;
          if (params !== undefined) validateObject(params, 'options', true);
          const b = (params as { buffer?: unknown } | null)?.buffer;
          buffer = b === undefined ? Buffer.alloc(16384) : b;
        }
        callback = args[1];
      } else {
        callback = buffer;
        buffer = Buffer.alloc(16384);
      }
      ({ offset, length, position } = files.fields(params, (buffer as ArrayBufferView | undefined)?.byteLength ?? NaN));
    } else {
      [, offset, length, position, callback] = args;
    }
    validateBuffer(buffer);
    validateFunction(callback, 'cb');
    const buf = buffer;
    settle(
      () => files.readSync(core, fd, buf, offset ?? 0, length, position),
      (err, n) => (callback as Callback)(err, n ?? 0, buf),
    );
  };
}

/** write() and writev()/readv(): the callback also gets the count and the buffer(s) back. */
function withBuffers(op: Fn, arity: number): Fn {
  return (...args: unknown[]) => {
    const [rest, cb] = splitCallback(args, arity);
    settle(
      () => op(...rest),
      (err, n) => cb(err, n ?? 0, rest[1]),
    );
  };
}

/** The `{ bytesRead, buffer }`-style result util.promisify gives for read and write. */
function customPromisify(fn: Fn, names: [string, string]): void {
  Object.defineProperty(fn, promisify.custom, {
    value: (...args: unknown[]) =>
      new Promise((resolve, reject) => {
        fn(...args, (err: unknown, a: unknown, b: unknown) => (err ? reject(err) : resolve({ [names[0]]: a, [names[1]]: b })));
      }),
  });
}

export function callbackApi(core: Core, sync: Record<string, Fn>, exported: Record<string, Fn>) {
  const cb = (name: string, arity: number) => callbackify(sync[`${name}Sync`], arity);
  const exportedLstat: LstatCallback = (path, done) => exported.lstat(path, done);

  const api = {
    access: cb('access', 2),
    chmod: cb('chmod', 2),
    chown: cb('chown', 3),
    copyFile: cb('copyFile', 3),
    fchmod: cb('fchmod', 2),
    fchown: cb('fchown', 3),
    fdatasync: cb('fdatasync', 1),
    fsync: cb('fsync', 1),
    fstat: cb('fstat', 2),
    ftruncate: cb('ftruncate', 2),
    futimes: cb('futimes', 3),
    lchown: cb('lchown', 3),
    link: cb('link', 2),
    lutimes: cb('lutimes', 3),
    mkdir: callbackify((p: unknown, o?: unknown) => tree.mkdirPath(core, p, o, true), 2),
    mkdtemp: cb('mkdtemp', 2),
    open: cb('open', 3),
    readdir: cb('readdir', 2),
    readlink: cb('readlink', 2),
    rename: cb('rename', 2),
    symlink: cb('symlink', 3),
    truncate: cb('truncate', 2),
    unlink: cb('unlink', 1),
    utimes: cb('utimes', 3),
    // Step by step in later turns (AbortSignal), writeFile and appendFile through `exported`.
    readFile: readFileCallback(core),
    writeFile: writeFileCallback(exported),
    appendFile: appendFileCallback(exported),
    // Only the synchronous stat calls honour throwIfNoEntry.
    stat: callbackify((p: unknown, o?: unknown) => tree.statPath(core, p, o, true, false), 2),
    lstat: callbackify((p: unknown, o?: unknown) => tree.statPath(core, p, o, false, false), 2),
    read: read(core),
    write: withBuffers(sync.writeSync, 5),
    readv: withBuffers(sync.readvSync, 3),
    writev: withBuffers(sync.writevSync, 3),
    /** close(fd[, cb]): without a callback an error is thrown from the event loop. */
    close(fd: unknown, callback?: unknown): void {
      if (callback !== undefined) validateFunction(callback, 'cb');
      settle(
        () => sync.closeSync(fd),
        (err) => {
          if (typeof callback === 'function') callback(err ?? null);
          else if (err) throw err;
        },
      );
    },
    /** opendir(path[, options], callback): Node names the callback 'callback'. */
    opendir(path: unknown, options: unknown, callback?: unknown): void {
      const done = (typeof options === 'function' ? options : callback) as Callback;
      validateFunction(done, 'callback');
      settle(
        () => sync.opendirSync(path, typeof options === 'function' ? undefined : options),
        (err, dir) => (err ? done(err) : done(null, dir)),
      );
    },
    /** exists(path, cb): cb(true | false), never an error. */
    exists(path: unknown, callback: unknown): void {
      validateFunction(callback, 'cb');
      const found = sync.existsSync(path) as boolean;
      setImmediate(callback, found);
    },
    /** rm(): the validation's lstat through the exported fs.lstat, then the asynchronous walk (see rm.ts). */
    rm(...args: unknown[]): void {
      const [[path, options], callback] = splitCallback(args, 2);
      const p = pathArg(path);
      validateRmAsync(exportedLstat, p.shown, options, false, (err, o) => {
        if (err) return callback(err);
        settle(
          () => rimrafAsync(tree.rmOps(core), p.shown, o as RmOptions),
          (e) => callback(e ?? null),
        );
      });
    },
    /** rmdir(): plain, or (recursive) validated through fs.lstat and walked as rm(). */
    rmdir(...args: unknown[]): void {
      const [[path, options], callback] = splitCallback(args, 2);
      const p = pathArg(path);
      const done = (e: unknown) => callback(e ?? null);
      if (!(options as { recursive?: unknown } | undefined)?.recursive) {
        settle(() => sync.rmdirSync(path, options), done);
        return;
      }
      tree.warnRecursiveRmdir();
      const ops = tree.rmOps(core);
      validateRmAsync(exportedLstat, p.shown, { ...(options as object), force: false }, true, (err, o) => {
        if (err) return callback(err);
        settle(() => (o === false ? ops.rmdir(p.shown) : rimrafAsync(ops, p.shown, o!)), done);
      });
    },
    statfs: statfsCallback(core),
    realpath: Object.assign(cb('realpath', 2), { native: callbackify((p: unknown, o?: unknown) => tree.realpathNativeSync(core, p, o), 2) }),
  };
  customPromisify(api.read, ['bytesRead', 'buffer']);
  customPromisify(api.write, ['bytesWritten', 'buffer']);
  customPromisify(api.readv, ['bytesRead', 'buffers']);
  customPromisify(api.writev, ['bytesWritten', 'buffers']);
  Object.defineProperty(api.exists, promisify.custom, {
    value: (path: unknown) => new Promise((resolve) => api.exists(path, resolve)),
  });
  return api;
}
