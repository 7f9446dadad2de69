/**
 * Changes of one layer (an image layer, or a container's writable layer) against what lies below
 * it, by podman's rules (containers/storage `archive.OverlayChanges`), in its order:
 * - walk the layer in byte order of names; a whiteout is D; an opaque directory that exists below
 *   is D (its new children then show as A);
 * - anything else is A, or C when the path exists below; a directory that exists below with the
 *   same type, mode and mtime is no change at all (it is only there as a parent);
 * - every directory above an A or D that was not itself listed is listed as C;
 * - the list comes out sorted by path.
 */
import { type Inode, isWhiteout } from '../layer/inode.js';
import { UnionState } from '../union/state.js';
import { inodeOf, walk } from '../union/walk.js';

export type ChangeKind = 'A' | 'C' | 'D';
export interface Change {
  kind: ChangeKind;
  path: string;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * What lies below at a path, symlinks followed as podman's `os.Stat` of the lower path follows
 * them (inside the image root here): a dangling symlink below counts as nothing there.
 */
function below(base: UnionState, parts: string[]): Inode | undefined {
  const loc = walk(base, '/' + parts.join('/'), true);
  return typeof loc !== 'string' && loc.node ? inodeOf(loc.node) : undefined;
}

/** containers/storage `sameFsTime`: equal, or the same second where one side has no sub-second part. */
function sameFsTime(a: number, b: number): boolean {
  return a === b || (Math.floor(a / 1000) === Math.floor(b / 1000) && (a % 1000 === 0 || b % 1000 === 0));
}

/**
 * A directory present below with the same type, mode and mtime is not a change in itself. A
 * directory the layer's archive did not list always is: podman creates it at extraction time, so
 * its mtime differs from the lower one (observed with podman 4.3 on these machines).
 */
function unchangedDir(c: Inode, lower: Inode | undefined): boolean {
  return c.isDir && !c.opaque && !c.implicit && lower?.isDir === true && c.mode === lower.mode && sameFsTime(c.mtimeMs, lower.mtimeMs);
}

export function changes(layer: Inode, baseRoot: Inode): Change[] {
  const base = new UnionState(baseRoot, { readOnly: true });
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
    if (kind !== 'C') {
      for (let i = parts.length; i > 0; i--) {
        const parent = '/' + parts.slice(0, i).join('/');
        if (listedDirs.has(parent)) continue;
        out.push({ kind: 'C', path: parent });
        listedDirs.add(parent);
      }
    }
    out.push({ kind, path });
  };
  walk(layer, []);
  // podman prints the list sorted by path.
  return out.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}
export function formatChanges(list: Change[]): string {
  return list.map((c) => `${c.kind} ${c.path}\n`).join('');
}
