/**
 * What changed in a container's writable layer since its last sync (journal.ts writes it as one
 * frame): each name of the layer, as the union walks it, is compared with the last sync's: what it
 * is, its inode's number, attributes, size, link count, target and xattrs, and its ctime, which
 * every change of an inode moves. As git does for "racily clean" index entries, an inode whose
 * ctime is not before the last sync's clock is taken as changed (two writes in one millisecond
 * leave the same ctime). Entries are built only for the names that changed.
 */
import type { Entry } from '../entry.js';
import type { Inode } from '../layer/inode.js';
import { nameEntry, type NameKind, type NameVisitor } from '../union/upper.js';

/** What the last sync saw of one name: enough to tell, without building its entry, that it is unchanged. */
interface Seen {
  kind: NameKind;
  /** The inode number (unique in the process: a new object at the name has a new one) and its first name. */
  ino: number;
  first: string | undefined;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  ctime: number;
  size: number;
  nlink: number;
  target: string;
  rdev: number;
  xattrs: Map<string, Buffer> | undefined;
}

/** What the last sync saw of each name of the writable layer, by entry key. */
export type Snapshot = Map<string, Seen>;

function seenOf(kind: NameKind, ino: Inode | undefined, first: string | undefined): Seen {
  if (ino === undefined) return { kind, ino: 0, first, mode: 0, uid: 0, gid: 0, mtime: 0, ctime: 0, size: 0, nlink: 0, target: '', rdev: 0, xattrs: undefined };
  return {
    kind,
    ino: ino.ino,
    first,
    mode: ino.mode,
    uid: ino.uid,
    gid: ino.gid,
    mtime: ino.mtimeMs,
    ctime: ino.ctimeMs,
    size: ino.type === 'file' ? ino.data!.size : 0,
    nlink: ino.nlink,
    target: ino.target,
    rdev: ino.rdev,
    xattrs: ino.xattrs,
  };
}

function same(a: Seen, b: Seen): boolean {
  return (
    a.kind === b.kind
    && a.ino === b.ino
    && a.first === b.first
    && a.mode === b.mode
    && a.uid === b.uid
    && a.gid === b.gid
    && a.mtime === b.mtime
    && a.ctime === b.ctime
    && a.size === b.size
    && a.nlink === b.nlink
    && a.target === b.target
    && a.rdev === b.rdev
    && a.xattrs === b.xattrs
    && (a.xattrs?.size ?? 0) === (b.xattrs?.size ?? 0)
  );
}

/**
 * The writable layer now (`walk`, the union's walkLayer: its names in layerEntries' order)
 * against the last sync's snapshot: which entries to write, which keys to drop, and the snapshot
 * to keep. An entry is built only for a name that changed. `since` is the clock when the last
 * snapshot was taken.
 */
export function delta(walk: (visit: NameVisitor) => void, prev: Snapshot, since: number): { changed: Entry[]; drop: string[]; next: Snapshot } {
  const next: Snapshot = new Map();
  const changed: Entry[] = [];
  walk((path, kind, ino, first) => {
    const k = kind === 'opaque' ? `${path}\0opaque` : path;
    const now = seenOf(kind, ino, first);
    next.set(k, now);
    const was = prev.get(k);
    const racy = ino !== undefined && ino.ctimeMs >= since;
    if (was === undefined || racy || !same(was, now)) changed.push(nameEntry(path, kind, ino, first));
  });
  const drop: string[] = [];
  for (const k of prev.keys()) if (!next.has(k)) drop.push(k);
  return { changed, drop, next };
}
