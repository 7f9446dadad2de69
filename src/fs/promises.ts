/**
 * fs.promises, made from the synchronous calls: each is an async function, so a bad argument is a
 * rejection too (as in Node). Where Node's promise version differs from the sync one it is kept:
 * stat ignores throwIfNoEntry, realpath is the core's (native) one, rm and mkdir { recursive }
 * walk like the callback versions, rmdir { recursive } stats (following links) instead of
 * lstat-ing, readdir takes any truthy `recursive`, readFile takes a FileHandle but not a
 * descriptor number, writeFile also takes (async) iterables.
 */
import { Buffer } from 'node:buffer';
import { constants } from 'node:fs';
import { validateBoolean, validateStringAfterView } from './args.js';
import type { Core } from './core.js';
import { notImplemented } from './errors.js';
import { FileHandle, isCustomIterable, writeAllTo } from './file-handle.js';
import { copyObject, getOptions } from './options.js';
import { pathArg } from './paths.js';
import { rimrafAsync, rmdirOptions, RMDIR_DEFAULTS, validateRm } from './rm.js';
import * as files from './sync-files.js';
import * as tree from './sync-tree.js';
import type { StreamClasses } from './streams.js';

type Fn = (...args: any[]) => any;

export function promisesApi(core: Core, sync: Record<string, Fn>, streams: StreamClasses) {
  const asPromise = (op: Fn) => async (...args: unknown[]) => op(...args);
  const handle = (fd: number) => new FileHandle(core, fd, streams);

  async function writeFile(path: unknown, data: unknown, options?: unknown): Promise<void> {
    const o = getOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false });
    const flush = o.flush ?? false;
    validateBoolean(flush, 'options.flush');
    if (!ArrayBuffer.isView(data) && !isCustomIterable(data)) validateStringAfterView(data, 'data');
    if (path instanceof FileHandle) return path.writeFile(data, o);
    pathArg(path);
    const fd = files.openSync(core, path, o.flag || 'w', o.mode);
    try {
      await writeAllTo(core, fd, data, o.encoding);
      if (flush) core.fsync(fd);
    } finally {
      core.close(fd);
    }
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
    lchmod: async () => { throw notImplemented('lchmod()'); },
    lchown: asPromise(sync.lchownSync),
    lutimes: asPromise(sync.lutimesSync),
    link: asPromise(sync.linkSync),
    lstat: async (path: unknown, options?: unknown) => tree.statPath(core, path, options, false, false),
    stat: async (path: unknown, options?: unknown) => tree.statPath(core, path, options, true, false),
    mkdir: async (path: unknown, options?: unknown) => tree.mkdirPath(core, path, options, true),
    mkdtemp: asPromise(sync.mkdtempSync),
    open: async (path: unknown, flags?: unknown, mode?: unknown) => handle(files.openSync(core, path, flags, mode)),
    opendir: asPromise(sync.opendirSync),
    readdir: async (path: unknown, options?: unknown) => tree.readdirPath(core, path, options, false),
    readlink: asPromise(sync.readlinkSync),
    realpath: async (path: unknown, options?: unknown) => tree.realpathNativeSync(core, path, options),
    rename: asPromise(sync.renameSync),
    rm: async (path: unknown, options?: unknown) => {
      const p = pathArg(path);
      const ops = tree.rmOps(core);
      const o = validateRm(ops, p.shown, options, false, false);
      if (o) rimrafAsync(ops, p.shown, o);
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
    symlink: asPromise(sync.symlinkSync),
    truncate: asPromise(sync.truncateSync),
    unlink: asPromise(sync.unlinkSync),
    utimes: asPromise(sync.utimesSync),
    readFile: async (path: unknown, options?: unknown): Promise<string | Buffer> => {
      if (path instanceof FileHandle) return path.readFile(options);
      const o = getOptions(options, { flag: 'r' });
      // A descriptor number is not a path here (Node's promises.readFile wants a FileHandle).
      pathArg(path);
      return files.readFileSync(core, path, { encoding: o.encoding, flag: o.flag || 'r' });
    },
    writeFile,
  };
}
