/**
 * fs.promises, made from the synchronous calls: each is an async function, so a bad argument is a
 * rejection too (as in Node). Where Node's promise version differs from the sync one it is kept:
 * stat ignores throwIfNoEntry, realpath is the core's (native) one, rm and mkdir { recursive }
 * walk like the callback versions, rmdir { recursive } stats (following links) instead of
 * lstat-ing, readdir takes any truthy `recursive`, readFile takes a FileHandle but not a
 * descriptor number, writeFile also takes (async) iterables. readFile and writeFile go step by
 * step in later turns, honouring `signal` (see whole-file.ts).
 */
import type { Buffer } from 'node:buffer';
import { constants } from 'node:fs';
import { aggregateTwoErrors, checkAborted, turn } from './abort.js';
import type { Core } from '../core/core.js';
import { notImplemented } from './errors.js';
import { FileHandle } from './file-handle.js';
import { copyObject, getOptions } from './options.js';
import { pathArg } from './paths.js';
import { statfsPromise } from './statfs.js';
import { rimrafAsync, rmdirOptions, RMDIR_DEFAULTS, validateRmAsync, type RmOptions } from './rm.js';
import * as files from './sync-files.js';
import * as tree from './sync-tree.js';
import type { StreamClasses } from './streams.js';
import { readFileHandle, writeFileArgs, writeFileHandle } from './whole-file.js';

// biome-ignore lint/suspicious/noExplicitAny: any function: the names are typed as Node's fs (node-fs.ts), this is the shape they share
type Fn = (...args: any[]) => any;

export function promisesApi(core: Core, sync: Record<string, Fn>, streams: StreamClasses, exported: Record<string, Fn>) {
  const asPromise =
    (op: Fn) =>
    async (...args: unknown[]) =>
      op(...args);
  const handle = (fd: number) => new FileHandle(core, fd, streams);

  /** Node's handleFdClose: the handle is closed after the work, whatever its outcome. */
  async function closing<T>(work: Promise<T>, h: FileHandle): Promise<T> {
    let result: T;
    try {
      result = await work;
    } catch (e) {
      try {
        await h.close();
      } catch (closeErr) {
        throw aggregateTwoErrors(closeErr, e);
      }
      throw e;
    }
    await h.close();
    return result;
  }

  /** open as the promise API's own: a FileHandle, the result in a later turn. */
  async function open(path: unknown, flags: unknown, mode: unknown): Promise<FileHandle> {
    const h = handle(files.openSync(core, path, flags, mode));
    await turn();
    return h;
  }

  /** readFile: a FileHandle is read from its position; else opened, read (see whole-file.ts), closed. */
  async function readFile(path: unknown, options?: unknown): Promise<string | Buffer> {
    const o = getOptions(options, { flag: 'r' });
    const flag = o.flag || 'r';
    if (path instanceof FileHandle) return readFileHandle(core, path.fd, o);
    checkAborted(o.signal);
    // A descriptor number is not a path here (Node's promises.readFile wants a FileHandle).
    const h = await open(path, flag, 0o666);
    return closing(readFileHandle(core, h.fd, o), h);
  }

  /** writeFile: as readFile; `flush` syncs through the handle's sync() before closing. */
  async function writeFile(path: unknown, data: unknown, options?: unknown): Promise<void> {
    const w = writeFileArgs(data, options);
    if (path instanceof FileHandle) return writeFileHandle(core, path.fd, w.data, w.o.signal, w.o.encoding);
    checkAborted(w.o.signal);
    const h = await open(path, w.flag, w.o.mode);
    let work = writeFileHandle(core, h.fd, w.data, w.o.signal, w.o.encoding);
    if (w.flush) work = work.then(() => h.sync());
    return closing(work, h);
  }

  return {
    constants,
    access: asPromise(sync.accessSync),
    appendFile: async (path: unknown, data: unknown, options?: unknown) => {
      const o = copyObject(getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'a' }));
      o.flag = o.flag || 'a';
      return writeFile(path, data, o);
    },
    chmod: asPromise(sync.chmodSync),
    chown: asPromise(sync.chownSync),
    copyFile: asPromise(sync.copyFileSync),
    // lchmod exists only where O_SYMLINK does (macOS), as in Node.
    lchmod: async () => {
      throw notImplemented('lchmod()');
    },
    lchown: asPromise(sync.lchownSync),
    lutimes: asPromise(sync.lutimesSync),
    link: asPromise(sync.linkSync),
    lstat: async (path: unknown, options?: unknown) => tree.statPath(core, path, options, false, false),
    stat: async (path: unknown, options?: unknown) => tree.statPath(core, path, options, true, false),
    mkdir: async (path: unknown, options?: unknown) => tree.mkdirPath(core, path, options, true),
    mkdtemp: asPromise(sync.mkdtempSync),
    // As Node's, the handle comes in a later turn (pending nextTicks run first).
    open: (path: unknown, flags?: unknown, mode?: unknown) => open(path, flags, mode),
    opendir: asPromise(sync.opendirSync),
    readdir: async (path: unknown, options?: unknown) => tree.readdirPath(core, path, options, false),
    readlink: asPromise(sync.readlinkSync),
    realpath: async (path: unknown, options?: unknown) => tree.realpathNativeSync(core, path, options),
    rename: asPromise(sync.renameSync),
    // The validation's lstat goes through the exported fs.lstat, as Node's does.
    rm: async (path: unknown, options?: unknown) => {
      const p = pathArg(path);
      const o = await new Promise<RmOptions | false | undefined>((resolve, reject) => {
        validateRmAsync(
          (q, done) => exported.lstat(q, done),
          p.shown,
          options,
          false,
          (err, opts) => (err ? reject(err) : resolve(opts)),
        );
      });
      if (o) rimrafAsync(tree.rmOps(core), p.shown, o);
    },
    rmdir: async (path: unknown, options?: unknown) => {
      const p = pathArg(path);
      const o = rmdirOptions(options, RMDIR_DEFAULTS);
      if (o.recursive) {
        tree.warnRecursiveRmdir();
        if (tree.statPath(core, path, undefined, true, false)!.isDirectory()) return rimrafAsync(tree.rmOps(core), p.shown, o);
      }
      tree.rmOps(core).rmdir(p.shown);
    },
    statfs: (path: unknown, options?: unknown) => statfsPromise(core, path, options),
    symlink: asPromise(sync.symlinkSync),
    truncate: asPromise(sync.truncateSync),
    unlink: asPromise(sync.unlinkSync),
    utimes: asPromise(sync.utimesSync),
    readFile,
    writeFile,
  };
}
