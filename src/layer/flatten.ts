/**
 * Stacks layer trees into one read-only tree: what the lower layers of an overlay mount show
 * together. Lookups in the union then cost the same at any layer depth.
 */
import { ArchiveError } from '../core/errors.js';
import type { LayerTree } from './build.js';
import { findPlain } from './build.js';
import { Inode, isWhiteout } from './inode.js';

export function flatten(trees: LayerTree[]): Inode {
  const root = new Inode('dir', 0o755, 0, 0, 0, 0);
  root.layers = 0;
  for (const tree of trees) {
    bindPendingLinks(tree, root);
    applyDir(root, tree.root, tree.index);
  }
  if (root.layers === 0) root.layers = 1;
  return root;
}

/**
 * OCI-11: a hard link may name a file of a lower layer. The new name shares that inode, as the
 * extracted layer would. A target that exists nowhere is an error naming the layer.
 */
function bindPendingLinks(tree: LayerTree, below: Inode): void {
  for (const link of tree.pendingLinks.splice(0)) {
    const target = findPlain(below, link.target);
    if (!target || target.isDir) {
      throw new ArchiveError('BAD_LINK', tree.file, `layer ${tree.index + 1}: hard link ${link.name} points at ${link.target}, which ${target ? 'is a directory' : 'does not exist'}`);
    }
    target.nlink++;
    link.dir.children!.set(link.name, target);
  }
}

/**
 * OVL-1/OVL-2/OCI-9: a directory merges with a directory below it and takes the attributes of the
 * topmost copy; an opaque directory (OVL-4) or a non-directory ends the merge; a whiteout deletes.
 */
function applyDir(merged: Inode, dir: Inode, index: number): void {
  if (dir.opaque) {
    merged.children!.clear();
    merged.layers = 1;
  } else {
    merged.layers++;
  }
  if (dir.implicit && merged.layers > 1) {
    applyChildren(merged, dir, index);
    return;
  }
  merged.ino = dir.ino;
  merged.layer = index;
  merged.mode = dir.mode;
  merged.uid = dir.uid;
  merged.gid = dir.gid;
  merged.mtimeMs = dir.mtimeMs;
  merged.atimeMs = dir.atimeMs;
  merged.ctimeMs = dir.ctimeMs;
  merged.xattrs = dir.xattrs;
  applyChildren(merged, dir, index);
}

function applyChildren(merged: Inode, dir: Inode, index: number): void {
  const children = merged.children!;
  if (children.size === 0) {
    // Nothing below: start from a copy of the whole name table (one native copy instead of a set
    // per name), then give directories their merged copies and drop whiteouts, which hide nothing.
    const own = new Map(dir.children!);
    merged.children = own;
    for (const [name, child] of own) {
      if (isWhiteout(child)) own.delete(name);
      else if (child.isDir) own.set(name, mergedDir(child, index));
    }
    return;
  }
  for (const [name, child] of dir.children!) {
    if (isWhiteout(child)) {
      merged.children!.delete(name);
    } else if (!child.isDir) {
      merged.children!.set(name, child);
    } else {
      const m = merged.children!.get(name);
      if (!m || isWhiteout(m) || !m.isDir) merged.children!.set(name, mergedDir(child, index));
      else applyDir(m, child, index);
    }
  }
}

/** A merged directory for a layer directory with nothing below it. */
function mergedDir(dir: Inode, index: number): Inode {
  const m = new Inode('dir', 0o755, 0, 0, 0, index);
  m.layers = 0;
  applyDir(m, dir, index);
  return m;
}
