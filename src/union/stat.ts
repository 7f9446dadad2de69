/**
 * What stat shows for a union object. Inode policy (OVL-17, documented in the README): every
 * object keeps one inode number for its life, across copy-up, except a hard-linked lower file
 * copied up without index=on, which gets a new one, as the kernel shows it when all layers share
 * a filesystem. nlink (as observed on 6.18): a merged directory reports 1; a directory from one
 * layer only reports 2 + its subdirectories; a lower file reports the link count within its layer.
 */
import type { StatInfo } from '../core/core.js';
import { type Inode, isWhiteout } from '../layer/inode.js';
import type { Obj, UnionState } from './state.js';
import { inodeOf } from './walk.js';

const TYPE_BITS: Record<string, number> = {
  file: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
  socket: 0o140000,
};

export function typeBits(ino: Inode): number {
  return TYPE_BITS[ino.type];
}

function subdirs(d: Inode): number {
  let n = 0;
  for (const c of d.children!.values()) if (!isWhiteout(c) && c.isDir) n++;
  return n;
}

function dirLinks(o: Obj): number {
  const merged = o.upper ? o.lower !== undefined : o.lower!.layers > 1;
  if (merged) return 1;
  return 2 + subdirs(inodeOf(o));
}

export function statOf(s: UnionState, o: Obj): StatInfo {
  const ino = inodeOf(o);
  const size = ino.size;
  return {
    dev: s.dev,
    ino: ino.ino,
    mode: TYPE_BITS[ino.type] | ino.mode,
    nlink: ino.isDir ? (ino.nlink === 0 ? 0 : dirLinks(o)) : ino.nlink,
    uid: ino.uid,
    gid: ino.gid,
    rdev: ino.rdev,
    size,
    blksize: 4096,
    blocks: Math.ceil(size / 4096) * 8,
    atimeMs: ino.atimeMs,
    mtimeMs: ino.mtimeMs,
    ctimeMs: ino.ctimeMs,
    birthtimeMs: ino.birthtimeMs,
  };
}
