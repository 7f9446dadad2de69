/**
 * The merged view as a list of entries, parents first and names in byte order: what export
 * writes and what the manifest lists. Names sharing one inode become `hardlink` entries.
 */
import type { Entry } from '../entry.js';
import { devMajor, devMinor, type Inode } from '../layer/inode.js';
import { listDir } from './readdir.js';
import type { Obj, UnionState } from './state.js';
import type { ByteSource } from '../source.js';
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
    e.devmajor = devMajor(ino.rdev);
    e.devminor = devMinor(ino.rdev);
  }
  if (ino.xattrs?.size) e.xattrs = Object.fromEntries(ino.xattrs);
  return e;
}

function byteOrder(a: [string, Obj], b: [string, Obj]): number {
  return Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]));
}

/** Every visible object below `dir` (the root by default), as [path without leading '/', object]. */
export function* mergedObjects(s: UnionState, dir: Obj = s.root, prefix = ''): Generator<[string, Obj]> {
  for (const [name, o] of listDir(s, dir).sort(byteOrder)) {
    const path = prefix + name;
    yield [path, o];
    if (inodeOf(o).isDir) yield* mergedObjects(s, o, path + '/');
  }
}

export function* mergedEntries(s: UnionState): Generator<Entry> {
  const first = new Map<Inode, string>();
  for (const [path, o] of mergedObjects(s)) {
    const ino = inodeOf(o);
    const seen = first.get(ino);
    if (seen !== undefined) {
      yield { path, type: 'hardlink', linkname: seen, mode: ino.mode, uid: ino.uid, gid: ino.gid, mtime: ino.mtimeMs, size: 0 };
      continue;
    }
    if (!ino.isDir && ino.nlink > 1) first.set(ino, path);
    yield entryOf(path, ino);
  }
}
