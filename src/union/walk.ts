/**
 * Path resolution through the union, one component at a time, as the kernel walks a path:
 * top-down through whiteouts and opaque directories, symlinks followed inside the view's root
 * (an absolute target restarts at the view's root, '..' never climbs above it).
 */
import { fsError } from '../core/errors.js';
import { type Inode, isWhiteout } from '../layer/inode.js';
import type { Obj, UnionState } from './state.js';
import { followsLast, wantsDir, type Follow } from '../core/path-rules.js';

export function inodeOf(o: Obj): Inode {
  return (o.upper ?? o.lower)!;
}

/**
 * The object called `name` in directory `dir`, or undefined.
 * OVL-3: an upper whiteout hides the name. OVL-1: an upper non-directory hides everything below.
 * OVL-4: an opaque upper directory does not merge. OVL-13: a redirected directory merges with the
 * lower directory it came from. OVL-15 (index=on): a lower name whose inode was copied up shows the
 * upper copy.
 */
export function childOf(s: UnionState, dir: Obj, name: string): Obj | undefined {
  const u = dir.upper?.children?.get(name);
  if (isWhiteout(u)) return undefined;
  if (u && !u.isDir) return { upper: u };
  const l = dir.lower?.children?.get(name) as Inode | undefined;
  if (u) {
    if (u.opaque) return { upper: u };
    const low = u.redirect ?? (l?.isDir ? l : undefined);
    return { upper: u, lower: low };
  }
  if (!l) return undefined;
  if (s.index && !l.isDir) {
    const up = s.indexed.get(l);
    if (up) return { upper: up, lower: l };
  }
  return { lower: l };
}

/** A resolved path: the chain of directories from the root and the final name. */
export interface Loc {
  /** dirs[0] is the root; dirs[i+1] is called names[i] in dirs[i]. The last dir is the parent. */
  dirs: Obj[];
  names: string[];
  /** The object at the path, or undefined when the last component does not exist. */
  node?: Obj;
  /** The path ended with '/' (or '/.'): the object must be a directory. */
  slash: boolean;
  /** The path's last component was '.' or '..' (rmdir is EINVAL or ENOTEMPTY, rename EBUSY). */
  dots?: '.' | '..';
}

export function isRootLoc(loc: Loc): boolean {
  return loc.names.length === 0;
}

export function locPath(loc: Loc): string {
  return '/' + loc.names.join('/');
}

/**
 * Resolves `path`. `follow` says whether a symlink in the last component is followed (stat vs
 * lstat, open vs O_NOFOLLOW); a trailing slash follows it too, except for the calls that act on the
 * name itself (unlink, rmdir, rename: `'never'`), where `link/` is ENOTDIR as on Linux. Missing intermediate components
 * are ENOENT, a non-directory in the middle is ENOTDIR, too many symlinks ELOOP.
 */
export function resolve(s: UnionState, path: string, follow: Follow, syscall: string): Loc {
  const loc = walk(s, path, follow);
  if (typeof loc === 'string') throw fsError(loc, syscall, path);
  return loc;
}

/**
 * The walk itself. Failures come back as an errno code rather than thrown: creating an Error costs
 * more than the whole lookup, and `exists`/`statSync(…, { throwIfNoEntry: false })` are hot paths.
 */
export function walk(s: UnionState, path: string, follow: Follow): Loc | string {
  if (path === '') return 'ENOENT';
  let parts = path.split('/');
  let slash = parts.length > 1 && (parts[parts.length - 1] === '' || parts[parts.length - 1] === '.');
  parts = parts.filter((p) => p !== '');
  const end = parts[parts.length - 1];
  const dots = end === '.' || end === '..' ? end : undefined;
  const stack: Obj[] = [s.root];
  const names: string[] = [];
  let hops = 0;
  let i = 0;
  while (i < parts.length) {
    const p = parts[i++];
    const cur = stack[stack.length - 1];
    if (!inodeOf(cur).isDir) return 'ENOTDIR';
    if (p === '.') continue;
    if (p === '..') {
      if (names.length > 0) {
        stack.pop();
        names.pop();
      }
      continue;
    }
    const last = i === parts.length;
    const child = childOf(s, cur, p);
    if (!child) {
      if (last) return { dirs: stack, names: [...names, p], node: undefined, slash, dots };
      return 'ENOENT';
    }
    const ino = inodeOf(child);
    if (ino.type === 'symlink' && (!last || followsLast(follow, slash))) {
      if (++hops > s.maxHops) return 'ELOOP';
      const target = ino.target;
      if (target === '') return 'ENOENT';
      if (last && wantsDir(target)) slash = true;
      if (target.startsWith('/')) {
        stack.length = 1;
        names.length = 0;
      }
      parts = [...target.split('/').filter((x) => x !== ''), ...parts.slice(i)];
      i = 0;
      continue;
    }
    stack.push(child);
    names.push(p);
  }
  const node = stack.pop()!;
  return { dirs: names.length === 0 ? [] : stack, names, node, slash, dots };
}

/** Resolves and requires the object to exist; a trailing slash requires a directory. */
export function lookup(s: UnionState, path: string, follow: boolean, syscall: string): Loc & { node: Obj } {
  const loc = resolve(s, path, follow, syscall);
  if (!loc.node) throw fsError('ENOENT', syscall, path);
  if (loc.slash && !inodeOf(loc.node).isDir) throw fsError('ENOTDIR', syscall, path);
  return loc as Loc & { node: Obj };
}

export function parentOf(loc: Loc): Obj {
  return loc.dirs[loc.dirs.length - 1];
}

export function nameOf(loc: Loc): string {
  return loc.names[loc.names.length - 1];
}
