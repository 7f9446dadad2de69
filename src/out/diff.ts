/**
 * Changes of one layer (an image layer, or a container's writable layer) against what lies below
 * it, by podman's rules (containers/storage `archive.OverlayChanges`), in its order:
 * - walk the layer in byte order of names; a whiteout is D; an opaque directory that exists below
 *   is D (its new children then show as A);
 * - anything else is A, or C when the path exists below; a directory that exists below with the
 *   same type, mode and mtime is no change at all (it is only there as a parent);
 * - before an A or D whose parent directory was not itself listed, the parent is listed as C.
 */
import { Inode, isWhiteout } from '../layer/inode.js';

export type ChangeKind = 'A' | 'C' | 'D';
export interface Change {
  kind: ChangeKind;
  path: string;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** A plain lookup below (no symlinks followed): what `os.Stat` of the lower path finds, roughly. */
function below(base: Inode, parts: string[]): Inode | undefined {
  let node: Inode | undefined = base;
  for (const p of parts) {
    const c: Inode | symbol | undefined = node?.children?.get(p);
    if (!c || isWhiteout(c as Inode)) return undefined;
    node = c as Inode;
  }
  return node;
}

/** containers/storage `sameFsTime`: equal, or the same second where one side has no sub-second part. */
function sameFsTime(a: number, b: number): boolean {
  return a === b || (Math.floor(a / 1000) === Math.floor(b / 1000) && (a % 1000 === 0 || b % 1000 === 0));
}

/** A directory present below with the same type, mode and mtime is not a change in itself. */
function unchangedDir(c: Inode, lower: Inode | undefined): boolean {
  return c.isDir && !c.opaque && lower !== undefined && lower.isDir && c.mode === lower.mode
    && sameFsTime(c.mtimeMs, lower.mtimeMs);
}

export function changes(layer: Inode, base: Inode): Change[] {
  const out: Change[] = [];
  const listedDirs = new Set<string>();
  const walk = (dir: Inode, parts: string[]): void => {
    const names = [...dir.children!.keys()].sort(byteOrder);
    for (const name of names) {
      const c = dir.children!.get(name)!;
      const p = [...parts, name];
      const path = '/' + p.join('/');
      const lower = below(base, p);
      if (isWhiteout(c)) {
        push('D', path, parts);
        continue;
      }
      if (!unchangedDir(c, lower)) {
        if (c.isDir) listedDirs.add(path);
        push(c.isDir && c.opaque && lower ? 'D' : lower ? 'C' : 'A', path, parts);
      }
      if (c.isDir) walk(c, p);
    }
  };
  const push = (kind: ChangeKind, path: string, parts: string[]): void => {
    const parent = '/' + parts.join('/');
    if (kind !== 'C' && parts.length > 0 && !listedDirs.has(parent)) {
      out.push({ kind: 'C', path: parent });
      listedDirs.add(parent);
    }
    out.push({ kind, path });
  };
  walk(layer, []);
  return out;
}
export function formatChanges(list: Change[]): string {
  return list.map((c) => `${c.kind} ${c.path}\n`).join('');
}
