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
import { followsLast, wantsDir, type Follow } from '../core/path-rules.js';

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

/** Failures come back as an errno code, for the caller to throw with its own syscall and path. */
export function locate(table: MountTable, path: string, follow: Follow): Located | string {
  if (path === '') return 'ENOENT';
  const raw = path.split('/');
  let slash = raw.length > 1 && (raw[raw.length - 1] === '' || raw[raw.length - 1] === '.');
  let items = raw.filter((p) => p !== '');
  const end = items[items.length - 1];
  const dots = end === '.' || end === '..' ? end : undefined;
  const stack: string[] = [];
  let hops = 0;
  let i = 0;
  while (i < items.length) {
    const p = items[i++];
    if (p === '.') continue;
    if (p === '..') {
      stack.pop();
      continue;
    }
    const last = i === items.length;
    const parts = [...stack, p];
    const placed = table.place(parts);
    const st = placed.mount.core.tryStat(placed.rel, false);
    if (!st) {
      if (last) return { ...placed, parts, slash, dots };
      return 'ENOENT';
    }
    if (isLink(st) && (!last || followsLast(follow, slash))) {
      if (++hops > table.maxHops) return 'ELOOP';
      const target = placed.mount.core.readlink(placed.rel);
      if (target === '') return 'ENOENT';
      if (last && wantsDir(target)) slash = true;
      if (target.startsWith('/')) stack.length = 0;
      items = [...target.split('/').filter((x) => x !== ''), ...items.slice(i)];
      i = 0;
      continue;
    }
    if (!last && !isDir(st)) return 'ENOTDIR';
    stack.push(p);
  }
  const placed = table.place(stack);
  return { ...placed, parts: stack, st: placed.mount.core.tryStat(placed.rel, false), slash, dots };
}
