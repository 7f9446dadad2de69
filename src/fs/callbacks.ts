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
import { callLater, isArgError, validateBuffer, validateFd, validateFunction, validateObject } from './args.js';
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
type Pick = (args: unknown[]) => unknown[];
const all: Pick = (a) => a;

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

/**
 * Splits off the trailing callback; `arity` is the count of arguments before it in Node's
 * signature. Without a callback, `check` (if given) first runs on the arguments: some of Node's
 * calls (access, chmod, open, read, write...) check their other arguments before the callback, and
 * throw the first bad one's error instead of the callback's.
 */
function splitCallback(args: unknown[], arity: number, check?: Fn, named?: Pick): [unknown[], Callback] {
  const last = args[args.length - 1];
  if (typeof last === 'function') return [args.slice(0, -1), last as Callback];
  if (check) checkOnly(check, args.length > arity ? args.slice(0, arity) : args);
  // What Node takes for the callback (and names in the error): by default the argument after the signature's.
  validateFunction(named ? named(args)[0] : args.length > arity ? args[arity] : undefined, 'cb');
  throw new Error('unreachable');
}

/** readv/writev's `callback || position`. */
const cbOrPosition: Pick = (a) => [a[3] || a[2]];
/** symlink's: the last argument. */
const lastArg: Pick = (a) => [a[a.length - 1]];
/** write's: `callback || position || length || offset` for bytes; for a string, `length` (its position argument). */
const writeCallback: Pick = (a) => [ArrayBuffer.isView(a[1]) ? a[5] || a[4] || a[3] || a[2] : a[3]];

/** Runs a synchronous call over CHECK_ONLY: an argument error is thrown, the stop at the core is not. */
function checkOnly(check: Fn, args: unknown[]): void {
  try {
    check(args);
  } catch (e) {
    if (isArgError(e)) throw e;
  }
}

const STOP = new Error('arguments checked');
function stopAtCore(): never {
  throw STOP;
}

/** A core whose every call stops: a synchronous call over it checks its arguments and goes no further. */
export const CHECK_ONLY = new Proxy({}, { get: () => stopAtCore }) as Core;

/** The callback form of `op`: cb(err) or cb(null[, result]). */
function callbackify(op: Fn, arity: number, check?: Fn, named?: Pick): Fn {
  return (...args: unknown[]) => {
    const [rest, cb] = splitCallback(args, arity, check, named);
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
    // Node checks the descriptor first, then the buffer, then the callback.
    validateFd(fd);
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
function withBuffers(op: Fn, arity: number, check: Fn, named: Pick): Fn {
  return (...args: unknown[]) => {
    const [rest, cb] = splitCallback(args, arity, check, named);
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

/**
 * The callback API over `sync`. `checks` are the same synchronous calls over CHECK_ONLY, for the
 * calls that check their arguments before the callback in Node 20 (marked `true` below).
 */
export function callbackApi(core: Core, sync: Record<string, Fn>, exported: Record<string, Fn>, checks: Record<string, Fn>) {
  /** `pick`: the arguments Node checks before the callback (others are given as valid stand-ins: descriptor 0, path '/'). */
  const checkOf = (name: string, pick: Pick) => (args: unknown[]) => checks[`${name}Sync`](...pick(args));
  const cb = (name: string, arity: number, pick?: Pick) => callbackify(sync[`${name}Sync`], arity, pick && checkOf(name, pick));
  const exportedLstat: LstatCallback = (path, done) => exported.lstat(path, done);

  const api = {
    access: cb('access', 2, (a) => [a[0]]),
    chmod: cb('chmod', 2, all),
    chown: cb('chown', 3),
    copyFile: cb('copyFile', 3, (a) => [a[0], a[1]]),
    fchmod: cb('fchmod', 2, (a) => [0, a[1]]),
    fchown: cb('fchown', 3, (a) => [0, a[1], a[2]]),
    fdatasync: cb('fdatasync', 1),
    fsync: cb('fsync', 1),
    fstat: cb('fstat', 2),
    ftruncate: cb('ftruncate', 2, (a) => [0, a[1]]),
    futimes: cb('futimes', 3, (a) => [0, a[1], a[2]]),
    lchown: cb('lchown', 3),
    link: cb('link', 2),
    lutimes: cb('lutimes', 3),
    mkdir: callbackify((p: unknown, o?: unknown) => tree.mkdirPath(core, p, o, true), 2),
    mkdtemp: cb('mkdtemp', 2),
    open: cb('open', 3, all),
    readdir: cb('readdir', 2),
    readlink: cb('readlink', 2),
    rename: cb('rename', 2),
    symlink: callbackify(sync.symlinkSync, 3, undefined, lastArg),
    truncate: cb('truncate', 2, (a) => ['/', a[1]]),
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
    write: withBuffers(
      sync.writeSync,
      5,
      checkOf('write', (a) => [a[0], a[1]]),
      writeCallback,
    ),
    readv: withBuffers(sync.readvSync, 3, checkOf('readv', all), cbOrPosition),
    writev: withBuffers(sync.writevSync, 3, checkOf('writev', all), cbOrPosition),
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
      callLater(callback as Callback, found);
    },
    /**
     * rm(path[, options], callback): as Node's, the callback is not checked: the path and the
     * options are, then an error calling a missing callback is thrown from the event loop.
     */
    rm(path: unknown, options: unknown, callback?: unknown): void {
      if (typeof options === 'function') {
        callback = options;
        options = undefined;
      }
      const p = pathArg(path);
      const done = callback as Callback;
      validateRmAsync(exportedLstat, p.shown, options, false, (err, o) => {
        if (err) return done(err);
        settle(
          () => rimrafAsync(tree.rmOps(core), p.shown, o as RmOptions),
          (e) => done(e ?? null),
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
