/**
 * Copy-up (OVL-6, OVL-7): before an object of a lower layer is modified, its ancestors are created
 * in the writable layer top-down with the lower directories' metadata, then the object itself with
 * the same metadata, then (depending on the strategy) its data.
 */
import { BufferData, ChunkedData, type FileData } from '../layer/data.js';
import { Inode, UPPER } from '../layer/inode.js';
import type { Obj, UnionState } from './state.js';
import type { Loc } from './walk.js';

function copyMeta(from: Inode, keepIno: boolean): Inode {
  const up = new Inode(from.type, from.mode, from.uid, from.gid, from.mtimeMs, UPPER);
  if (keepIno) up.ino = from.ino;
  up.atimeMs = from.atimeMs;
  up.ctimeMs = from.ctimeMs;
  up.birthtimeMs = from.birthtimeMs;
  up.rdev = from.rdev;
  up.target = from.target;
  if (from.xattrs) up.xattrs = new Map(from.xattrs);
  return up;
}

/** OVL-7: ancestors first. Directory copies keep the lower inode number (stable, xino-like). */
export function copyUpParents(s: UnionState, loc: Loc): void {
  for (let i = 1; i < loc.dirs.length; i++) {
    const d = loc.dirs[i];
    if (d.upper) continue;
    // Another path may have copied this directory up since `loc` was resolved: use that copy.
    const live = loc.dirs[i - 1].upper!.children!.get(loc.names[i - 1]);
    if (live instanceof Inode && live.isDir) {
      d.upper = live;
      continue;
    }
    const up = copyMeta(d.lower!, true);
    loc.dirs[i - 1].upper!.children!.set(loc.names[i - 1], up);
    d.upper = up;
    s.stats.copyUps++;
    const path = '/' + loc.names.slice(0, i).join('/');
    s.log.copyUp(up, d.lower!, path, s.strategy);
    repointRefs(s, d.lower!, up, path);
  }
}

/**
 * Makes the object at `loc` live in the writable layer. `needData` is false for metadata-only
 * changes (chmod, chown, utimes, link, rename): with the `metadata` strategy those copy no data
 * (OVL-16). `truncating` skips copying data that O_TRUNC is about to drop.
 */
export function copyUp(s: UnionState, loc: Loc & { node: Obj }, needData: boolean, truncating = false): Inode {
  // The root is always in the writable layer.
  if (loc.names.length === 0) return s.upperRoot!;
  copyUpParents(s, loc);
  const obj = loc.node;
  const parent = loc.dirs[loc.dirs.length - 1].upper!;
  const name = loc.names[loc.names.length - 1];
  const path = '/' + loc.names.join('/');
  if (obj.upper) {
    // index=on: the inode is already up under another name; bind this name to it too.
    if (parent.children!.get(name) !== obj.upper) parent.children!.set(name, obj.upper);
    if (needData) copyUpData(s, obj.upper, truncating, path);
    return obj.upper;
  }
  const lower = obj.lower!;
  const up = s.index && !lower.isDir ? indexCopy(s, lower, path, needData, truncating) : copyInode(s, lower, path, needData, truncating);
  parent.children!.set(name, up);
  obj.upper = up;
  repointRefs(s, lower, up, path);
  return up;
}

/**
 * A copy of a lower inode for the writable layer, bound to no name yet. The kernel keeps the inode
 * number across copy-up, except for a hard-linked lower file copied up without index=on, which
 * becomes a new inode (observed on 6.18, OVL-17).
 */
function copyInode(s: UnionState, lower: Inode, path: string, needData: boolean, truncating: boolean): Inode {
  const up = copyMeta(lower, lower.isDir || lower.nlink === 1 || s.index);
  s.stats.copyUps++;
  s.log.copyUp(up, lower, path, s.strategy);
  if (lower.type === 'file') {
    up.data = lower.data;
    up.metacopyOf = lower;
    if (s.strategy !== 'metadata' || needData) copyUpData(s, up, truncating);
  }
  return up;
}

/** index=on (OVL-15): one upper copy per lower inode, shared by all its names, counting them all. */
export function indexCopy(s: UnionState, lower: Inode, path: string, needData = false, truncating = false): Inode {
  let up = s.indexed.get(lower);
  if (!up) {
    up = copyInode(s, lower, path, needData, truncating);
    up.nlink = lower.nlink;
    s.indexed.set(lower, up);
    // Every descriptor on the lower inode now sees the index copy (an unlink makes one too).
    repointRefs(s, lower, up, '');
  } else if (needData) {
    copyUpData(s, up, truncating, path);
  }
  return up;
}

/**
 * Gives a metacopy upper file its own data: a full copy, or chunked extents over the lower bytes.
 * With `path` (a copy-up done earlier, its data now), the bytes are a `copy-data` event.
 */
export function copyUpData(s: UnionState, up: Inode, truncating: boolean, path?: string): void {
  const lower = up.metacopyOf;
  if (!lower) return;
  up.metacopyOf = undefined;
  const src = lower.data!;
  if (truncating) {
    up.data = new BufferData();
  } else if (s.strategy === 'chunked') {
    up.data = new ChunkedData(src, s.spill);
    s.log.track(up, up.data);
  } else {
    up.data = BufferData.copyOf(src, s.spill);
    s.stats.copyUpBytes += src.size;
    s.log.bytes(up, src.size, path);
  }
}

/** OVL-8 (as this kernel does it): descriptors opened on the lower object now see the upper one. */
export function repointRefs(s: UnionState, lower: Inode, up: Inode, path: string): void {
  for (const ref of s.lowerRefs) {
    if (ref.lower === lower && (s.index || ref.path === path)) {
      ref.upper = up;
      // index=on: the name stays tracked, a change through the descriptor binds it (files.ts).
      if (!s.index) s.lowerRefs.delete(ref);
    }
  }
}

/**
 * Writes through a descriptor, counting what chunked copy-up reads from the lower file. The data
 * is counted against the view's memory budget from its first write on (spill-store.ts).
 */
export function writeData(s: UnionState, data: FileData, buf: Uint8Array, off: number, len: number, pos: number): void {
  if (data instanceof BufferData) data.attach(s.spill);
  if (data instanceof ChunkedData) {
    data.attach(s.spill);
    const before = data.copied;
    data.write(buf, off, len, pos);
    s.stats.copyUpBytes += data.copied - before;
    if (data.copied !== before) s.log.dataBytes(data, data.copied - before);
  } else {
    data.write(buf, off, len, pos);
  }
}
