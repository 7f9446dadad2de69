/**
 * Path resolution through the union, one component at a time, as the kernel walks a path:
 * top-down through whiteouts and opaque directories, symlinks followed inside the view's root
 * (an absolute target restarts at the view's root, '..' never climbs above it).
 */
import { fsError } from '../core/errors.js';
import { type Inode, isWhiteout } from '../layer/inode.js';
import type { Obj, UnionState } from './state.js';
import type { Follow } from '../core/path-rules.js';
import { walkPath, type NodeKind, type WalkOps } from '../core/walk.js';

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
 * The union's part of the one walk (core/walk.ts): names looked up by childOf. A class, one per
 * state made on its first walk: closures per view would be allocated (and, under tsx, named) on the
 * first call of every fresh view, which the copy-up figure times.
 */
class UnionOps implements WalkOps<Obj> {
  constructor(private readonly s: UnionState) {}
  get maxHops(): number {
    return this.s.maxHops;
  }
  child(dir: Obj, name: string): Obj | undefined {
    return childOf(this.s, dir, name);
  }
  kind(o: Obj): NodeKind {
    const ino = inodeOf(o);
    return ino.isDir ? 'dir' : ino.type === 'symlink' ? 'link' : 'other';
  }
  readlink(o: Obj): string {
    return inodeOf(o).target;
  }
}

/**
 * Resolves `path`. `follow` says whether a symlink in the last component is followed (stat vs
 * lstat, open vs O_NOFOLLOW); a trailing slash follows it too, except for the calls that act on the
 * name itself (unlink, rmdir, rename: `'never'`), where `link/` is ENOTDIR as on Linux. `creat`:
 * open with O_CREAT. Missing intermediate components are ENOENT, a non-directory in the middle is
 * ENOTDIR, too many symlinks ELOOP.
 */
export function resolve(s: UnionState, path: string, follow: Follow, syscall: string, creat = false): Loc {
  const loc = walk(s, path, follow, creat);
  if (typeof loc === 'string') throw fsError(loc, syscall, path);
  return loc;
}

/** The walk itself; failures come back as an errno code (`exists` is a hot path). */
export function walk(s: UnionState, path: string, follow: Follow, creat = false): Loc | string {
  const w = walkPath((s.walkOps ??= new UnionOps(s)), s.root, path, follow, creat);
  if (typeof w === 'string') return w;
  // The root is told by its empty names here.
  const dots = w.dots === 'root' ? undefined : w.dots;
  if (!w.found) return { dirs: w.chain, names: w.names, node: undefined, slash: w.slash, dots };
  const node = w.chain.pop()!;
  return { dirs: w.names.length === 0 ? [] : w.chain, names: w.names, node, slash: w.slash, dots };
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
