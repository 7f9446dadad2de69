/**
 * Resolves a container path across mounts, one component at a time: each component is looked up
 * (lstat) in the mount that holds it; a symlink's target is read there and resolved again from
 * the CONTAINER's root (absolute) or from the link's directory (relative), so `..` and symlinks,
 * absolute ones included, stay inside the container and may cross into or out of mounts, but never
 * lead into the rest of the host. The mount cores then get paths with no symlink left but the last.
 */
import { constants as C } from 'node:fs';
import type { StatInfo } from '../core/core.js';
import type { MountTable, Placed } from './table.js';
import type { Follow } from '../core/path-rules.js';
import { walkPath, type WalkOps } from '../core/walk.js';

export interface Located extends Placed {
  /** Canonical components of the path (of where the object would be, when it does not exist). */
  parts: string[];
  /** lstat of the object, undefined when the last component does not exist. */
  st?: StatInfo;
  slash: boolean;
  dots?: '.' | '..';
}

const isDir = (st: StatInfo) => (st.mode & C.S_IFMT) === C.S_IFDIR;
const isLink = (st: StatInfo) => (st.mode & C.S_IFMT) === C.S_IFLNK;

/** A name found on the way: its components from the container's root, its mount, its lstat. */
interface Step {
  parts: string[];
  placed?: Placed;
  st?: StatInfo;
}

/** The router's part of the one walk (core/walk.ts): each name is looked up in the mount that holds it. */
const routerOps = (table: MountTable): WalkOps<Step> => ({
  maxHops: table.maxHops,
  child: (_dir, name, names) => {
    const parts = [...names, name];
    const placed = table.place(parts);
    const st = placed.mount.core.tryStat(placed.rel, false);
    return st ? { parts, placed, st } : undefined;
  },
  // The container's root is a directory (its walk starts there without a lookup).
  kind: (n) => (!n.st ? 'dir' : isDir(n.st) ? 'dir' : isLink(n.st) ? 'link' : 'other'),
  readlink: (n) => n.placed!.mount.core.readlink(n.placed!.rel),
});
const opsOf = new WeakMap<MountTable, WalkOps<Step>>();

/** Failures come back as an errno code, for the caller to throw with its own syscall and path. */
export function locate(table: MountTable, path: string, follow: Follow): Located | string {
  let ops = opsOf.get(table);
  if (!ops) opsOf.set(table, (ops = routerOps(table)));
  const w = walkPath(ops, { parts: [] }, path, follow);
  if (typeof w === 'string') return w;
  const slash = w.slash;
  // The root is told by its empty parts here.
  const dots = w.dots === 'root' ? undefined : w.dots;
  if (!w.found) return { ...table.place(w.names), parts: w.names, slash, dots };
  const obj = w.chain[w.chain.length - 1];
  if (obj.placed) return { ...obj.placed, parts: w.names, st: obj.st, slash, dots };
  const placed = table.place([]);
  return { ...placed, parts: [], st: placed.mount.core.tryStat(placed.rel, false), slash, dots };
}
