/**
 * Calls that change names: mkdir, rmdir, unlink, rename, symlink, link.
 * On a read-only view they fail with EROFS (OVL-18) once the parent path has been resolved; mkdir,
 * symlink and link report EEXIST first, as the kernel does (it looks the name up before asking
 * for write access).
 */
import { fsError } from '../core/errors.js';
import { Inode, UPPER, WHITEOUT, isWhiteout } from '../layer/inode.js';
import { copyUp, copyUpParents, indexCopy } from './copy-up.js';
import { isEmptyDir } from './readdir.js';
import type { Obj, UnionState } from './state.js';
import { inodeOf, isRootLoc, locPath, lookup, nameOf, parentOf, resolve, type Loc } from './walk.js';

export function touch(ino: Inode, now = Date.now()): void {
  ino.mtimeMs = now;
  ino.ctimeMs = now;
}

function denyReadOnly(s: UnionState, syscall: string, path: string): void {
  if (s.readOnly) throw fsError('EROFS', syscall, path);
}

/** The lower object at this name, if any: removing the name needs a whiteout to hide it (OVL-9). */
function lowerChild(loc: Loc): Inode | undefined {
  const c = parentOf(loc).lower?.children?.get(nameOf(loc));
  return c === undefined || isWhiteout(c) ? undefined : c;
}

/** The parent's upper directory, copied up if needed, ready to take a new name. */
function upperParent(s: UnionState, loc: Loc): Inode {
  copyUpParents(s, loc);
  return parentOf(loc).upper!;
}

/**
 * A name of a non-directory goes away (unlink, or rename over it): its inode has one link less.
 * index=on: a hard-linked lower inode goes to the index first, so its other names see the count.
 */
function dropLink(s: UnionState, o: Obj, path: string): void {
  const lower = o.lower;
  const up = o.upper ?? (s.index && lower && !lower.isDir && lower.nlink > 1 ? indexCopy(s, lower, path) : undefined);
  if (up && !up.isDir) {
    up.nlink--;
    up.ctimeMs = Date.now();
  }
}

/** OVL-9: remove a name; leave a whiteout where a lower copy would otherwise show again. */
function removeName(s: UnionState, loc: Loc & { node: Obj }): void {
  const parent = upperParent(s, loc);
  const name = nameOf(loc);
  const path = locPath(loc);
  dropLink(s, loc.node, path);
  // A removed directory still open somewhere reports nlink 0 (stat.ts), as on Linux.
  if (loc.node.upper?.isDir) loc.node.upper.nlink = 0;
  const hidden = lowerChild(loc);
  if (hidden) {
    parent.children!.set(name, WHITEOUT);
    s.log.whiteout(path, hidden, 'remove');
  } else parent.children!.delete(name);
  touch(parent);
  s.dropRefs(path);
}

/** A new object in the writable layer, owned by root (the view acts as uid 0). */
export function newUpper(s: UnionState, type: Inode['type'], mode: number): Inode {
  return new Inode(type, mode & ~s.umask & 0o7777, 0, 0, Date.now(), UPPER);
}

/** Binds a new upper object at `loc`, replacing a whiteout if one is there (OVL-10). */
export function createAt(s: UnionState, loc: Loc, ino: Inode): void {
  const parent = upperParent(s, loc);
  const name = nameOf(loc);
  // A setgid directory passes on its group, and its setgid bit to new directories (Linux).
  if (parent.mode & 0o2000) {
    ino.gid = parent.gid;
    if (ino.isDir) ino.mode |= 0o2000;
  }
  // OVL-10 / observed on 6.18: a directory made over any deleted name is opaque; with redirect_dir
  // or index on, so is every directory made in a merged directory.
  if (ino.isDir && isWhiteout(parent.children!.get(name))) ino.opaque = true;
  if (ino.isDir && (s.redirectDir || s.index) && parentOf(loc).lower !== undefined) ino.opaque = true;
  if (ino.opaque) s.log.opaque(locPath(loc), lowerChild(loc), 'mkdir');
  parent.children!.set(name, ino);
  touch(parent, ino.mtimeMs);
}

export function mkdir(s: UnionState, path: string, mode: number): void {
  const loc = resolve(s, path, 'never', 'mkdir');
  if (loc.node) throw fsError('EEXIST', 'mkdir', path);
  denyReadOnly(s, 'mkdir', path);
  // mkdir keeps permissions and the sticky bit of its mode argument; setgid only comes from the parent.
  createAt(s, loc, newUpper(s, 'dir', mode & 0o1777));
}

export function rmdir(s: UnionState, path: string): void {
  const loc = resolve(s, path, 'never', 'rmdir');
  if (loc.dots) throw fsError(loc.dots === '.' ? 'EINVAL' : 'ENOTEMPTY', 'rmdir', path);
  if (isRootLoc(loc)) throw fsError('EBUSY', 'rmdir', path);
  denyReadOnly(s, 'rmdir', path);
  if (!loc.node) throw fsError('ENOENT', 'rmdir', path);
  if (!inodeOf(loc.node).isDir) throw fsError('ENOTDIR', 'rmdir', path);
  if (!isEmptyDir(loc.node)) throw fsError('ENOTEMPTY', 'rmdir', path);
  removeName(s, loc as Loc & { node: Obj });
}

export function unlink(s: UnionState, path: string): void {
  const loc = resolve(s, path, 'never', 'unlink');
  // The root, '.' and '..' are no names to unlink: EISDIR before anything else (Linux).
  if (isRootLoc(loc) || loc.dots) throw fsError('EISDIR', 'unlink', path);
  denyReadOnly(s, 'unlink', path);
  if (!loc.node) throw fsError('ENOENT', 'unlink', path);
  if (inodeOf(loc.node).isDir) throw fsError('EISDIR', 'unlink', path);
  if (loc.slash) throw fsError('ENOTDIR', 'unlink', path);
  removeName(s, loc as Loc & { node: Obj });
}

export function symlink(s: UnionState, target: string, path: string): void {
  const loc = resolve(s, path, 'never', 'symlink');
  if (loc.node) throw fsError('EEXIST', 'symlink', target, path);
  // Only mkdir may name a new object with a trailing slash.
  if (loc.slash) throw fsError('ENOENT', 'symlink', target, path);
  denyReadOnly(s, 'symlink', path);
  const ino = newUpper(s, 'symlink', 0o777);
  ino.mode = 0o777;
  ino.target = target;
  createAt(s, loc, ino);
}

/** OVL-6: linking copies the source up; with index=off the new name shares only the upper copy. */
export function link(s: UnionState, existing: string, newPath: string): void {
  const src = lookup(s, existing, false, 'link');
  const dst = resolve(s, newPath, 'never', 'link');
  if (dst.node) throw fsError('EEXIST', 'link', existing, newPath);
  if (dst.slash) throw fsError('ENOENT', 'link', existing, newPath);
  denyReadOnly(s, 'link', existing);
  if (inodeOf(src.node).isDir) throw fsError('EPERM', 'link', existing, newPath);
  const up = copyUp(s, src, false);
  up.nlink++;
  up.ctimeMs = Date.now();
  const parent = upperParent(s, dst);
  parent.children!.set(nameOf(dst), up);
  touch(parent);
}

function sameObject(s: UnionState, src: Loc, dst: Loc): boolean {
  if (src.names.join('/') === dst.names.join('/')) return true;
  const a = src.node!;
  const b = dst.node!;
  if (a.upper || b.upper) return a.upper === b.upper;
  // Two names of one lower file are two objects to overlayfs without index=on: §8 observed that
  // rename(h1, h2) then removes h1.
  return a.lower === b.lower && (s.index || a.lower!.isDir);
}

/**
 * rename, with Linux's order of checks: '.', '..' and the root are EBUSY; then EROFS; a missing
 * source; a trailing slash on a non-directory; a source above the target (EINVAL) or a target above
 * the source (ENOTEMPTY); the same object (nothing to do); type mismatches; then overlayfs's EXDEV
 * for a directory with a lower part (OVL-12), before the target directory's emptiness.
 */
export function rename(s: UnionState, from: string, to: string): void {
  const src = resolve(s, from, 'never', 'rename');
  const dst = resolve(s, to, 'never', 'rename');
  if (isRootLoc(src) || isRootLoc(dst) || src.dots || dst.dots) throw fsError('EBUSY', 'rename', from, to);
  denyReadOnly(s, 'rename', from);
  if (!src.node) throw fsError('ENOENT', 'rename', from, to);
  const moving = inodeOf(src.node);
  if ((src.slash || dst.slash) && !moving.isDir) throw fsError('ENOTDIR', 'rename', from, to);
  const above = (a: Loc, b: Loc) => b.names.length > a.names.length && a.names.every((n, i) => b.names[i] === n);
  if (above(src, dst)) throw fsError('EINVAL', 'rename', from, to);
  if (above(dst, src)) throw fsError('ENOTEMPTY', 'rename', from, to);
  if (dst.node) {
    if (sameObject(s, src, dst)) return;
    const over = inodeOf(dst.node);
    if (moving.isDir && !over.isDir) throw fsError('ENOTDIR', 'rename', from, to);
    if (!moving.isDir && over.isDir) throw fsError('EISDIR', 'rename', from, to);
  }
  const hasLower = moving.isDir && src.node.lower !== undefined;
  // OVL-12: a directory with a lower part cannot move without redirect_dir; OVL-13 with it.
  if (hasLower && !s.redirectDir) throw fsError('EXDEV', 'rename', from, to);
  // overlayfs checks a merged or lower target directory before copying anything up; an upper-only
  // one is found non-empty by the upper filesystem's rename, after the copy-ups (observed on 6.18).
  const full = dst.node && moving.isDir && !isEmptyDir(dst.node);
  if (full && dst.node!.lower) throw fsError('ENOTEMPTY', 'rename', from, to);
  const wasUpperOnly = src.node.upper !== undefined && src.node.lower === undefined;
  const up = copyUp(s, src as Loc & { node: Obj }, false);
  if (full) {
    upperParent(s, dst);
    throw fsError('ENOTEMPTY', 'rename', from, to);
  }
  if (hasLower) up.redirect ??= src.node.lower;
  const srcParent = upperParent(s, src);
  const dstParent = upperParent(s, dst);
  const hidden = lowerChild(src);
  if (hidden) {
    srcParent.children!.set(nameOf(src), WHITEOUT);
    s.log.whiteout(locPath(src), hidden, 'rename');
  } else srcParent.children!.delete(nameOf(src));
  if (dst.node) {
    dropLink(s, dst.node, locPath(dst));
    s.dropRefs(locPath(dst));
  }
  // Descriptors on lower objects inside a moved directory follow it (their copy-up goes there).
  s.moveRefs(locPath(src), locPath(dst));
  // OVL-14: a directory of the writable layer moved into a merged directory becomes opaque.
  if (up.isDir && wasUpperOnly && !up.opaque && parentOf(dst).lower !== undefined) {
    up.opaque = true;
    s.log.opaque(locPath(dst), lowerChild(dst), 'rename');
  }
  dstParent.children!.set(nameOf(dst), up);
  const now = Date.now();
  touch(srcParent, now);
  touch(dstParent, now);
  up.ctimeMs = now;
}
