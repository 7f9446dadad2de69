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
import { wantsDir } from '../core/path-rules.js';

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

/**
 * memfs deviation: memfs does not follow symlinks in the directory part of every call, and takes
 * '..' lexically. So paths are resolved here and memfs only ever sees symlink-free ones.
 *
 * Resolves `path` as the kernel does. A missing last name is not an error (`st` is undefined);
 * a missing directory on the way is ENOENT, a non-directory on the way ENOTDIR. The last name,
 * if a symlink, is followed only when `follow`. With `creat` (open with O_CREAT), a last name
 * with a trailing slash, in the path or in a last link's target, is EISDIR before it is looked up.
 */
export function resolve(vol: Volume, path: string, follow: boolean, creat = false): Found {
  if (path === '') fail('ENOENT');
  const written = path.split('/').filter((c) => c !== '');
  const lastName = written[written.length - 1];
  let slash = written.length > 0 && (path.endsWith('/') || lastName === '.');
  const dot = written.length === 0 ? 'root' : lastName === '.' || lastName === '..' ? lastName : undefined;
  const todo = written.reverse();
  const dirs: string[] = [];
  let st: MemfsStats | undefined = lstat(vol, '/');
  let hops = 0;
  while (todo.length > 0) {
    const name = todo.pop()!;
    const isLast = todo.length === 0;
    // A last '.' or '..' is no name to create: open(2) decides (O_EXCL: EEXIST, else EISDIR).
    if (isLast && slash && creat && name !== '.' && name !== '..') fail('EISDIR');
    if (name === '.' || name === '..') {
      if (name === '..') dirs.pop();
      st = lstat(vol, joinPath(dirs));
      continue;
    }
    const p = joinPath([...dirs, name]);
    let s: MemfsStats;
    try {
      s = lstat(vol, p);
    } catch (e) {
      if (codeOf(e) === 'ENOENT' && isLast) return { path: p, st: undefined, slash, dot };
      throw e;
    }
    if (s.isSymbolicLink() && (!isLast || follow)) {
      if (++hops > MAX_HOPS) fail('ELOOP');
      const target = String(vol.readlinkSync(p));
      if (target === '') fail('ENOENT');
      if (isLast && wantsDir(target)) slash = true;
      if (target.startsWith('/')) dirs.length = 0;
      todo.push(
        ...target
          .split('/')
          .filter((c) => c !== '')
          .reverse(),
      );
      st = lstat(vol, joinPath(dirs));
      continue;
    }
    if (!isLast && !s.isDirectory()) fail('ENOTDIR');
    dirs.push(name);
    st = s;
  }
  return { path: joinPath(dirs), st, slash, dot };
}
