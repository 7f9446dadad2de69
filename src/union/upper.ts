/**
 * The writable layer as entries (the one entry model): what commit writes and what the kernel
 * differential compares with the real upperdir. Parents come before children; a whiteout is a
 * `whiteout` entry, an opaque directory a `dir` entry followed by an `opaque` entry; the second
 * and later names of an inode are `hardlink` entries.
 */
import type { Entry } from '../entry.js';
import { Inode, isWhiteout } from '../layer/inode.js';
import type { ByteSource } from '../source.js';
import { listDir } from './readdir.js';
import type { Obj, UnionState } from './state.js';
import { inodeOf } from './walk.js';

export function entryOf(path: string, ino: Inode): Entry {
  const e: Entry = { path, type: ino.type, mode: ino.mode, uid: ino.uid, gid: ino.gid, mtime: ino.mtimeMs, size: 0 };
  if (ino.type === 'file') {
    const data = ino.data!;
    e.size = data.size;
    e.content = { size: data.size, read: (b, o, l, p) => data.read(b, o, l, p) } satisfies ByteSource;
  }
  if (ino.type === 'symlink') e.linkname = ino.target;
  if (ino.type === 'char' || ino.type === 'block') {
    e.devmajor = ino.rdev >> 8;
    e.devminor = ino.rdev & 0xff;
  }
  if (ino.xattrs?.size) e.xattrs = Object.fromEntries(ino.xattrs);
  return e;
}

const marker = (path: string, type: 'whiteout' | 'opaque'): Entry => ({ path, type, mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });

/**
 * `expandRedirects`: an OCI layer cannot say "this directory came from there" (OVL-13), so for
 * commit a redirected directory is written whole: opaque, with every object visible in it.
 */
export function upperEntries(s: UnionState, expandRedirects = false): Entry[] {
  const out: Entry[] = [];
  const seen = new Map<Inode, string>();
  const emit = (path: string, c: Inode): boolean => {
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
      if (expandRedirects && c.redirect) {
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
  return out;
}
