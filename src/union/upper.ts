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
 * OVL-26: the writable layer as a container saves it: the root's own entry (its attributes are
 * the container's, made when it was created) and then upperEntries(). Commit writes no root entry,
 * as podman commit does not: the image's root stays the base layers'.
 */
export function layerEntries(s: UnionState): Entry[] {
  const out: Entry[] = [];
  walkLayer(s, (path, kind, ino, first) => out.push(nameEntry(path, kind, ino, first)));
  return out;
}

/**
 * What one name of the writable layer is, before an entry is built: a whiteout or opaque marker,
 * an object (its inode), or a later name of an inode already seen (`first` is the earlier path).
 */
export type NameKind = 'whiteout' | 'opaque' | 'object' | 'hardlink';
export type NameVisitor = (path: string, kind: NameKind, ino: Inode | undefined, first: string | undefined) => void;

/** The entry of one name walkLayer visits (the one entry model). */
export function nameEntry(path: string, kind: NameKind, ino: Inode | undefined, first: string | undefined): Entry {
  if (kind === 'whiteout' || kind === 'opaque') return marker(path, kind);
  if (kind === 'hardlink') return { path, type: 'hardlink', linkname: first, mode: ino!.mode, uid: ino!.uid, gid: ino!.gid, mtime: ino!.mtimeMs, size: 0 };
  return entryOf(path, ino!);
}

/**
 * The names layerEntries lists, in its order, without building entries: a container's sync
 * compares them with the last sync's (src/engine/journal.ts) and builds entries only for what
 * changed.
 */
export function walkLayer(s: UnionState, visit: NameVisitor): void {
  if (!s.upperRoot) return;
  visit('', 'object', s.upperRoot, undefined);
  walkUpper(s, visit, false, new Map(), undefined);
}

/**
 * `forCommit`: an OCI layer cannot say "this directory came from there" (OVL-13), so a redirected
 * directory is written whole: opaque, with every object visible in it. And with index=on, lower
 * names of a copied-up inode that the view shows with the new data but that were never linked into
 * the writable layer (the kernel links them lazily) are written as hard links to it.
 */
export function upperEntries(s: UnionState, forCommit = false): Entry[] {
  const out: Entry[] = [];
  const seen = new Map<Inode, string>();
  const emitted = forCommit ? new Set<string>() : undefined;
  const visit: NameVisitor = (path, kind, ino, first) => out.push(nameEntry(path, kind, ino, first));
  walkUpper(s, visit, forCommit, seen, emitted);
  if (forCommit && s.indexed.size > 0) {
    const dirs = new Map<string, Inode>();
    for (const [path, o] of mergedObjects(s)) {
      const ino = inodeOf(o);
      if (ino.isDir) dirs.set(path, ino);
      if (emitted!.has(path) || ino.isDir || !o.lower || s.indexed.get(o.lower) !== o.upper) continue;
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!emitted!.has(dir)) emit(visit, seen, emitted, dir, dirs.get(dir)!);
      }
      emit(visit, seen, emitted, path, ino);
    }
  }
  return out;
}

/** Visits one object's name: a later name of a hard-linked inode is a `hardlink`. Returns whether to descend. */
function emit(visit: NameVisitor, seen: Map<Inode, string>, emitted: Set<string> | undefined, path: string, c: Inode): boolean {
  emitted?.add(path);
  const first = seen.get(c);
  if (first !== undefined) {
    visit(path, 'hardlink', c, first);
    return false;
  }
  if (!c.isDir && c.nlink > 1) seen.set(c, path);
  visit(path, 'object', c, undefined);
  return c.isDir;
}

/** The writable layer's names below its root, parents first, in each directory's table order. */
function walkUpper(s: UnionState, visit: NameVisitor, forCommit: boolean, seen: Map<Inode, string>, emitted: Set<string> | undefined): void {
  const whole = (dir: Obj, prefix: string): void => {
    for (const [name, o] of listDir(s, dir)) {
      if (emit(visit, seen, emitted, prefix + name, inodeOf(o))) whole(o, prefix + name + '/');
    }
  };
  const walk = (dir: Inode, prefix: string): void => {
    for (const [name, c] of dir.children!) {
      const path = prefix + name;
      if (isWhiteout(c)) {
        visit(path, 'whiteout', undefined, undefined);
        continue;
      }
      if (!emit(visit, seen, emitted, path, c)) continue;
      if (forCommit && c.redirect) {
        visit(path, 'opaque', undefined, undefined);
        whole({ upper: c, lower: c.redirect }, path + '/');
        continue;
      }
      if (c.opaque) visit(path, 'opaque', undefined, undefined);
      walk(c, path + '/');
    }
  };
  if (s.upperRoot) {
    if (s.upperRoot.opaque) visit('', 'opaque', undefined, undefined);
    walk(s.upperRoot, '');
  }
}
