/**
 * statfs / statfsSync / promises.statfs: Node's StatFs object (type, bsize, blocks, bfree, bavail,
 * files, ffree; bigints with `{ bigint: true }`), for the filesystem holding a path (links
 * followed; a missing path is ENOENT with syscall 'statfs'). The numbers come from Core.statfs,
 * or from the view's own tree (src/core/statfs-info.ts, type 0) for a core without it.
 */
import { FsError } from '../core/errors.js';
import { callLater, validateFunction } from './args.js';
import type { Core } from '../core/core.js';
import { treeStatfs } from '../core/statfs-info.js';
import { onPaths, pathArg } from './paths.js';

/** Node's StatFs (not exported by Node's fs either). */
export class StatFs<T extends number | bigint = number | bigint> {
  constructor(
    public type: T,
    public bsize: T,
    public blocks: T,
    public bfree: T,
    public bavail: T,
    public files: T,
    public ffree: T,
  ) {}
}

/** `options.bigint`, read as Node's binding reads it: only `true` counts (null options throw, as in Node). */
const wantsBigint = (options: unknown): boolean => (options as { bigint?: unknown }).bigint === true;

/** The StatFs of `path` on `core`, numbers or bigints. */
function statfsOf(core: Core, path: unknown, bigint: boolean): StatFs {
  const p = pathArg(path);
  const info = onPaths('statfs', p, undefined, () => {
    try {
      core.stat(p.abs, true);
      return core.statfs ? core.statfs(p.abs) : treeStatfs(core, 0);
    } catch (e) {
      throw e instanceof FsError ? new FsError(e.code, 'statfs', p.shown) : e;
    }
  });
  const n = (v: number) => (bigint ? BigInt(v) : v);
  return new StatFs(n(info.type), n(info.bsize), n(info.blocks), n(info.bfree), n(info.bavail), n(info.files), n(info.ffree));
}

export function statfsSync(core: Core, path: unknown, options: unknown = { bigint: false }): StatFs {
  return statfsOf(core, path, wantsBigint(options));
}

/** statfs(path[, options], cb): the result in a later turn. */
export function statfsCallback(core: Core): (path: unknown, options: unknown, callback?: unknown) => void {
  return function statfs(path: unknown, options: unknown = { bigint: false }, callback?: unknown): void {
    if (typeof options === 'function') {
      callback = options;
      options = {};
    }
    validateFunction(callback, 'cb');
    const cb = callback;
    pathArg(path);
    const bigint = wantsBigint(options);
    let result: StatFs;
    try {
      result = statfsOf(core, path, bigint);
    } catch (e) {
      callLater(cb as (err: unknown) => void, e);
      return;
    }
    callLater(cb as (err: unknown, r: StatFs) => void, null, result);
  };
}

export async function statfsPromise(core: Core, path: unknown, options: unknown = { bigint: false }): Promise<StatFs> {
  pathArg(path);
  return statfsOf(core, path, wantsBigint(options));
}
