/**
 * Path resolution over a memfs volume, one component at a time as the kernel walks a path.
 */
import type { Volume } from 'memfs';
import type { StatInfo } from '../core/core.js';

/** The fields of memfs's Stats this package reads. */
export interface MemfsStats extends StatInfo {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** Linux's limit on symlinks followed in one lookup (MAXSYMLINKS). */
const MAX_HOPS = 40;

export { codeOf, fail } from './coded.js';
import { codeOf, fail } from './coded.js';
import type { Follow } from '../core/path-rules.js';
import { walkPath, type WalkOps } from '../core/walk.js';

export function lstat(vol: Volume, path: string): MemfsStats {
  return vol.lstatSync(path) as MemfsStats;
}

const joinPath = (names: string[]) => `/${names.join('/')}`;

/** Where a path led. */
export interface Found {
  /** Symlink-free path of the object (or of where it would be created). */
  path: string;
  /** Its lstat, undefined when the last name does not exist. */
  st?: MemfsStats;
  /** The path ended with '/' (or '/.'): the object must be a directory. */
  slash: boolean;
  /** The last name was '.' or '..' (or the path was the root): it names a directory itself. */
  dot: '.' | '..' | 'root' | undefined;
}

interface Step {
  path: string;
  st: MemfsStats;
}

/** memfs's part of the one walk (core/walk.ts): names looked up with lstat on symlink-free paths. */
const memfsOps = (vol: Volume): WalkOps<Step> => ({
  maxHops: MAX_HOPS,
  child: (dir, name) => {
    const path = dir.path === '/' ? `/${name}` : `${dir.path}/${name}`;
    try {
      return { path, st: lstat(vol, path) };
    } catch (e) {
      if (codeOf(e) === 'ENOENT') return undefined;
      throw e;
    }
  },
  kind: (n) => (n.st.isDirectory() ? 'dir' : n.st.isSymbolicLink() ? 'link' : 'other'),
  readlink: (n) => String(vol.readlinkSync(n.path)),
});

const opsOf = new WeakMap<Volume, WalkOps<Step>>();

/**
 * memfs deviation: memfs does not follow symlinks in the directory part of every call, and takes
 * '..' lexically. So paths are resolved here, by the one walk, and memfs only ever sees
 * symlink-free ones. A missing last name is not an error (`st` is undefined); `creat`: open with
 * O_CREAT.
 */
export function resolve(vol: Volume, path: string, follow: Follow, creat = false): Found {
  let ops = opsOf.get(vol);
  if (!ops) opsOf.set(vol, (ops = memfsOps(vol)));
  const w = walkPath(ops, { path: '/', st: lstat(vol, '/') }, path, follow, creat);
  if (typeof w === 'string') fail(w);
  const dot = w.dots;
  if (!w.found) return { path: joinPath(w.names), st: undefined, slash: w.slash, dot };
  return { path: joinPath(w.names), st: w.chain[w.chain.length - 1].st, slash: w.slash, dot };
}
