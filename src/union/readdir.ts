/**
 * OVL-5: a merged directory lists the upper names first, then lower names not already listed;
 * whiteouts are never listed and hide the lower name.
 */
import type { DirEntryInfo } from '../core/core.js';
import { type Inode, isWhiteout } from '../layer/inode.js';
import type { Obj, UnionState } from './state.js';
import { childOf } from './walk.js';

export function listDir(s: UnionState, dir: Obj): Array<[string, Obj]> {
  const out: Array<[string, Obj]> = [];
  const seen = new Set<string>();
  if (dir.upper) {
    for (const [name, c] of dir.upper.children!) {
      seen.add(name);
      if (!isWhiteout(c)) out.push([name, childOf(s, dir, name)!]);
    }
  }
  const lower = dir.upper?.opaque ? undefined : dir.lower;
  if (lower) {
    for (const name of lower.children!.keys()) {
      if (!seen.has(name)) out.push([name, childOf(s, dir, name)!]);
    }
  }
  return out;
}

export function readdirInfo(s: UnionState, dir: Obj): DirEntryInfo[] {
  return listDir(s, dir).map(([name, o]) => ({ name, type: ((o.upper ?? o.lower) as Inode).type }));
}

/** OVL-9: a directory is empty when nothing is visible in it (whiteouts don't count). */
export function isEmptyDir(dir: Obj): boolean {
  if (dir.upper) {
    for (const c of dir.upper.children!.values()) if (!isWhiteout(c)) return false;
  }
  const lower = dir.upper?.opaque ? undefined : dir.lower;
  if (lower) {
    for (const name of lower.children!.keys()) if (!dir.upper?.children?.has(name)) return false;
  }
  return true;
}
