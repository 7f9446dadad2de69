/**
 * The writable layer as entries (the one entry model): what commit writes and what the kernel
 * differential compares with the real upperdir. Parents come before children; a whiteout is a
 * `whiteout` entry, an opaque directory a `dir` entry followed by an `opaque` entry; the second
 * and later names of an inode are `hardlink` entries.
 */
import type { Entry } from '../entry.js';
import { type Inode, isWhiteout } from '../layer/inode.js';
import { listDir } from './readdir.js';
import { entryOf, mergedObjects } from './tree.js';
import type { Obj, UnionState } from './state.js';
import { inodeOf } from './walk.js';

const marker = (path: string, type: 'whiteout' | 'opaque'): Entry => ({ path, type, mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });

/**
 * `forCommit`: an OCI layer cannot say "this directory came from there" (OVL-13), so a redirected
 * directory is written whole: opaque, with every object visible in it. And with index=on, lower
 * names of a copied-up inode that the view shows with the new data but that were never linked into
 * the writable layer (the kernel links them lazily) are written as hard links to it.
 */
/**
 * OVL-26: the writable layer as a container saves it: the root's own entry (its attributes are
 * the container's, made when it was created) and then upperEntries(). Commit writes no root entry,
 * as podman commit does not: the image's root stays the base layers'.
 */
export function layerEntries(s: UnionState): Entry[] {
  if (!s.upperRoot) return [];
  const root = entryOf('', s.upperRoot);
  return [root, ...upperEntries(s)];
}

export function upperEntries(s: UnionState, forCommit = false): Entry[] {
  const out: Entry[] = [];
  const seen = new Map<Inode, string>();
  const emitted = new Set<string>();
  const emit = (path: string, c: Inode): boolean => {
    emitted.add(path);
    const first = seen.get(c);
    if (first !== undefined) {
      out.push({ path, type: 'hardlink', linkname: first, mode: c.mode, uid: c.uid, gid: c.gid, mtime: c.mtimeMs, size: 0 });
      return false;
    }
    if (!c.isDir && c.nlink > 1) seen.set(c, path);
    out.push(entryOf(path, c));
    return c.isDir;
  };
  const whole = (dir: Obj, prefix: string): void => {
    for (const [name, o] of listDir(s, dir)) {
      if (emit(prefix + name, inodeOf(o))) whole(o, prefix + name + '/');
    }
  };
  const walk = (dir: Inode, prefix: string): void => {
    for (const [name, c] of dir.children!) {
      const path = prefix + name;
      if (isWhiteout(c)) {
        out.push(marker(path, 'whiteout'));
        continue;
      }
      if (!emit(path, c)) continue;
      if (forCommit && c.redirect) {
        out.push(marker(path, 'opaque'));
        whole({ upper: c, lower: c.redirect }, path + '/');
        continue;
      }
      if (c.opaque) out.push(marker(path, 'opaque'));
      walk(c, path + '/');
    }
  };
  if (s.upperRoot) {
    if (s.upperRoot.opaque) out.push(marker('', 'opaque'));
    walk(s.upperRoot, '');
  }
  if (forCommit && s.indexed.size > 0) {
    const dirs = new Map<string, Inode>();
    for (const [path, o] of mergedObjects(s)) {
      const ino = inodeOf(o);
      if (ino.isDir) dirs.set(path, ino);
      if (emitted.has(path) || ino.isDir || !o.lower || s.indexed.get(o.lower) !== o.upper) continue;
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!emitted.has(dir)) emit(dir, dirs.get(dir)!);
      }
      emit(path, ino);
    }
  }
  return out;
}
