/**
 * createFs(core): a Node-compatible `fs` object over a Core (a union view, a memfs volume...):
 * the synchronous calls, their callback forms, `promises`, streams, `constants`, `Stats`, `Dirent`.
 *
 * Behaviour follows Node 20's `fs` call by call (argument checks and their TypeErrors, option
 * defaults, which syscall name an error carries, rm's and mkdir's recursive walks, copyFile's
 * same-file rule); the filesystem semantics are the core's.
 *
 * Relative paths resolve against the view's root. `{ bigint: true }` stats are BigIntStats (times
 * from the core's milliseconds). statfs reports a view's own sizes (statfs.ts); cp walks as
 * Node's (cp.ts); watchFile polls the core's stat (watch-file.ts); watch reports the changes made
 * through any fs of the same core (watch.ts). Not provided: openAsBlob,
 * glob; lchmod/lchmodSync are undefined, as on Linux.
 */
import * as nodeFs from 'node:fs';
import type * as nodePromises from 'node:fs/promises';
import { validateFunction } from './args.js';
import { CHECK_ONLY, callbackApi } from './callbacks.js';
import { cpFn, cpPaths, cpSyncFn, validateCpOptions } from './cp.js';
import { copyFileSync } from './copy-file.js';
import type { Core } from '../core/core.js';
import { Dir, opendirSync } from './dir.js';
import { Dirent } from './dirent.js';
import { FileHandle } from './file-handle.js';
import { toUnixTimestamp } from './options.js';
import { watchFileApi, type StatWatcher } from './watch-file.js';
import { notifying, watch, watchPromise, type Watcher, type WatchFs } from './watch.js';
import { promisesApi } from './promises.js';
import { BigIntStats, Stats } from './stats.js';
import { statfsSync } from './statfs.js';
import { streamClasses, type StreamClasses, type StreamFs } from './streams.js';
import * as files from './sync-files.js';
import * as tree from './sync-tree.js';
import * as whole from './whole-file.js';

// biome-ignore lint/suspicious/noExplicitAny: any function: the names are typed as Node's fs (node-fs.ts), this is the shape they share
type Fn = (...args: any[]) => any;

const SYNC = {
  accessSync: tree.accessSync,
  chmodSync: tree.chmodSync,
  chownSync: tree.chownSync,
  closeSync: files.closeSync,
  copyFileSync,
  existsSync: tree.existsSync,
  fchmodSync: files.fchmodSync,
  fchownSync: files.fchownSync,
  fdatasyncSync: files.fdatasyncSync,
  fstatSync: files.fstatSync,
  fsyncSync: files.fsyncSync,
  ftruncateSync: files.ftruncateSync,
  futimesSync: files.futimesSync,
  lchownSync: tree.lchownSync,
  linkSync: tree.linkSync,
  lstatSync: tree.lstatSync,
  lutimesSync: tree.lutimesSync,
  mkdirSync: tree.mkdirSync,
  mkdtempSync: tree.mkdtempSync,
  openSync: files.openSync,
  opendirSync,
  readdirSync: tree.readdirSync,
  readFileSync: files.readFileSync,
  readlinkSync: tree.readlinkSync,
  readSync: files.readSync,
  readvSync: files.readvSync,
  realpathSync: tree.realpathSync,
  renameSync: tree.renameSync,
  statSync: tree.statSync,
  statfsSync,
  symlinkSync: tree.symlinkSync,
  truncateSync: files.truncateSync,
  unlinkSync: tree.unlinkSync,
  utimesSync: tree.utimesSync,
  writeSync: files.writeSync,
  writevSync: files.writevSync,
  // biome-ignore lint/suspicious/noExplicitAny: each function checks its own arguments (Node's validation), whatever they are
} satisfies Record<string, (core: Core, ...args: any[]) => unknown>;

/** Calls made elsewhere: through the exported object (whole-file.ts). */
type ViaFsName = 'writeFileSync' | 'appendFileSync' | 'rmSync' | 'rmdirSync' | 'cpSync';
type SyncName = keyof typeof SYNC | ViaFsName;
type CallbackName = SyncName extends `${infer N}Sync` ? N : never;
type NodeFs = typeof nodeFs;

/** fs.promises of a LayerFs: Node's signatures, with this fs's FileHandle. */
export interface LayerPromises
  extends Omit<
    Pick<
      typeof nodePromises,
      | 'access'
      | 'appendFile'
      | 'chmod'
      | 'chown'
      | 'copyFile'
      | 'lchown'
      | 'lutimes'
      | 'link'
      | 'lstat'
      | 'stat'
      | 'mkdir'
      | 'mkdtemp'
      | 'opendir'
      | 'readdir'
      | 'readlink'
      | 'realpath'
      | 'rename'
      | 'rm'
      | 'rmdir'
      | 'symlink'
      | 'truncate'
      | 'unlink'
      | 'utimes'
      | 'writeFile'
      | 'constants'
      | 'statfs'
      | 'cp'
    >,
    'appendFile' | 'writeFile'
  > {
  lchmod(path: nodeFs.PathLike, mode: nodeFs.Mode): Promise<void>;
  open(path: nodeFs.PathLike, flags?: string | number, mode?: nodeFs.Mode): Promise<FileHandle>;
  readFile(path: nodeFs.PathLike | FileHandle, options?: { encoding?: null; flag?: string | number } | null): Promise<Buffer>;
  readFile(path: nodeFs.PathLike | FileHandle, options: { encoding: BufferEncoding; flag?: string | number } | BufferEncoding): Promise<string>;
  readFile(path: nodeFs.PathLike | FileHandle, options?: unknown): Promise<string | Buffer>;
  writeFile(path: nodeFs.PathLike | FileHandle, data: unknown, options?: unknown): Promise<void>;
  watch(filename: nodeFs.PathLike, options?: nodeFs.WatchOptions | BufferEncoding | 'buffer'): AsyncIterable<{ eventType: string; filename: string | Buffer }>;
  appendFile(path: nodeFs.PathLike | FileHandle, data: unknown, options?: unknown): Promise<void>;
}

/** What createFs returns: usable where a library expects `fs`. */
export type LayerFs = Pick<NodeFs, SyncName | CallbackName | 'exists' | 'createReadStream' | 'createWriteStream' | 'constants'> &
  StreamClasses & {
    F_OK: number;
    R_OK: number;
    W_OK: number;
    X_OK: number;
    promises: LayerPromises;
    Stats: typeof Stats;
    Dirent: typeof Dirent;
    Dir: typeof Dir;
    FileReadStream: StreamClasses['ReadStream'];
    FileWriteStream: StreamClasses['WriteStream'];
    /** Not on Linux (no O_SYMLINK), as in Node. */
    lchmod: undefined;
    lchmodSync: undefined;
    /** Node's own export: a time argument (numeric string, seconds, Date) in seconds. */
    _toUnixTimestamp: (time: unknown, name?: string) => number;
    /** Polls the view's stat of `filename` (watch-file.ts); listener(curr, prev). */
    watchFile(
      filename: nodeFs.PathLike,
      options: { interval?: number; persistent?: boolean; bigint?: boolean } | ((curr: Stats, prev: Stats) => void),
      listener?: (curr: Stats, prev: Stats) => void,
    ): StatWatcher;
    unwatchFile(filename: nodeFs.PathLike, listener?: (curr: Stats, prev: Stats) => void): void;
    /** Changes made through this fs and every other fs of the same core (watch.ts). */
    watch(
      filename: nodeFs.PathLike,
      options?: nodeFs.WatchOptions | BufferEncoding | 'buffer' | ((eventType: string, filename: string | Buffer) => void) | null,
      listener?: (eventType: string, filename: string | Buffer) => void,
    ): Watcher;
  };

/** Binds every synchronous call to the core, keeping Node's function names. */
function bindSync(core: Core): Record<string, Fn> {
  const out: Record<string, Fn> = {};
  for (const [name, fn] of Object.entries(SYNC) as Array<[string, Fn]>) {
    out[name] = Object.defineProperty((...args: unknown[]) => fn(core, ...args), 'name', { value: name });
  }
  out.realpathSync = Object.assign(out.realpathSync, {
    native: (path: unknown, options?: unknown) => tree.realpathNativeSync(core, path, options),
  });
  return out;
}

/** A function carrying Node's name for it. */
function named<F extends Fn>(name: string, fn: F): F {
  return Object.defineProperty(fn, 'name', { value: name });
}

export function createFs(over: Core): LayerFs {
  // Every call goes through the notifying core: fs.watch sees the changes made through any fs of `over`.
  const core = notifying(over);
  const fs: Record<string, Fn> = {};
  const sync = bindSync(core);
  // These call other members of the exported object, as Node's do (a spy on fs.fsyncSync sees them).
  Object.assign(sync, {
    writeFileSync: named('writeFileSync', (p: unknown, d: unknown, o?: unknown) => whole.writeFileSync(core, fs, p, d, o)),
    appendFileSync: named('appendFileSync', (p: unknown, d: unknown, o?: unknown) => whole.appendFileSync(fs, p, d, o)),
    rmSync: named('rmSync', (p: unknown, o?: unknown) => tree.rmSync(core, p, o, fs as unknown as tree.RmExported)),
    rmdirSync: named('rmdirSync', (p: unknown, o?: unknown) => tree.rmdirSync(core, p, o, fs as unknown as tree.RmExported)),
    // cp's walks use this fs's own calls (Node's cp modules keep their own references to fs's).
    cpSync: named('cpSync', (src: unknown, dest: unknown, options?: unknown) => {
      const o = validateCpOptions(options);
      const [s, d] = cpPaths(src, dest);
      cpSyncFn(sync, s, d, o);
    }),
  });
  const streams = streamClasses(fs as unknown as StreamFs, (v): v is FileHandle => v instanceof FileHandle);
  Object.assign(fs, sync, callbackApi(core, sync, fs, bindSync(CHECK_ONLY)), {
    promises: promisesApi(core, sync, streams, fs),
    constants: nodeFs.constants,
    F_OK: nodeFs.constants.F_OK,
    R_OK: nodeFs.constants.R_OK,
    W_OK: nodeFs.constants.W_OK,
    X_OK: nodeFs.constants.X_OK,
    Stats,
    Dirent,
    Dir,
    ReadStream: streams.ReadStream,
    WriteStream: streams.WriteStream,
    FileReadStream: streams.ReadStream,
    FileWriteStream: streams.WriteStream,
    // As in Node, the classes are looked up at each call: assigning fs.ReadStream changes what
    // createReadStream makes. Plain functions, as Node's: `new fs.createReadStream(...)` works too.
    createReadStream: function createReadStream(path: unknown, options?: unknown) {
      return new (fs.ReadStream as StreamClasses['ReadStream'])(path as nodeFs.PathLike, options);
    },
    createWriteStream: function createWriteStream(path: unknown, options?: unknown) {
      return new (fs.WriteStream as StreamClasses['WriteStream'])(path as nodeFs.PathLike, options);
    },
    lchmod: undefined,
    lchmodSync: undefined,
    // Node exports its time conversion under this name (test-fs-utimes uses it).
    _toUnixTimestamp: toUnixTimestamp,
    ...watchFileApi(core),
    watch: named('watch', (filename: unknown, options?: unknown, listener?: unknown) => watch(core, fs as unknown as WatchFs, filename, options, listener)),
  });
  const promises = fs.promises as unknown as Record<string, Fn>;
  promises.watch = named('watch', (filename: unknown, options?: unknown) => watchPromise(core, filename, options));
  promises.cp = named('cp', async (src: unknown, dest: unknown, options?: unknown) => {
    const o = validateCpOptions(options);
    const [s, d] = cpPaths(src, dest);
    return cpFn(promises, s, d, o);
  });
  /** cp(src, dest[, options], callback): Node's callbackified promise walk. */
  fs.cp = named('cp', (src: unknown, dest: unknown, options: unknown, callback?: unknown) => {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    validateFunction(callback, 'cb');
    const cb = callback;
    const o = validateCpOptions(options);
    const [s, d] = cpPaths(src, dest);
    cpFn(promises, s, d, o).then(
      (v) => process.nextTick(cb, null, v),
      (e) => process.nextTick(cb, e),
    );
  });
  return fs as unknown as LayerFs;
}

export { BigIntStats, Dir, Dirent, FileHandle, Stats };
