/**
 * The merged view as a list of entries, parents first and names in byte order: what export
 * writes and what the manifest lists. Names sharing one inode become `hardlink` entries.
 */
import type { Entry } from '../entry.js';
import type { Inode } from '../layer/inode.js';
import { listDir } from './readdir.js';
import type { Obj, UnionState } from './state.js';
import { entryOf } from './upper.js';
import { inodeOf } from './walk.js';

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
