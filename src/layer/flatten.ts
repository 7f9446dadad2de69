/**
 * Stacks layer trees into one read-only tree: what the lower layers of an overlay mount show
 * together. Lookups in the union then cost the same at any layer depth.
 */
import { ArchiveError } from '../core/errors.js';
import type { LayerTree } from './build.js';
import { findPlain } from './build.js';
import { Inode, isWhiteout, type Child } from './inode.js';

export function flatten(trees: LayerTree[]): Inode {
  const root = new Inode('dir', 0o755, 0, 0, 0, 0);
  root.layers = 0;
  const owned = new Set<Inode>([root]);
  for (const tree of trees) {
    bindPendingLinks(tree, root);
    applyDir(root, tree.root, tree.index, owned, tree.marked);
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
 * Rule: the layers' trees never change. A merged directory is changed only when it is `owned`
 * (made here); a layer's own directory, shared into the result, is copied first.
 */
function applyDir(merged: Inode, dir: Inode, index: number, owned: Set<Inode>, marked: boolean): void {
  if (dir.opaque) {
    merged.children!.clear();
    merged.layers = 1;
  } else {
    merged.layers++;
  }
  if (dir.implicit && merged.layers > 1) {
    applyChildren(merged, dir, index, owned, marked);
    return;
  }
  takeAttrs(merged, dir);
  merged.layer = index;
  applyChildren(merged, dir, index, owned, marked);
}

/** What a merged directory takes from the copy it shows: its identity and attributes. */
function takeAttrs(merged: Inode, dir: Inode): void {
  merged.ino = dir.ino;
  merged.layer = dir.layer;
  merged.mode = dir.mode;
  merged.uid = dir.uid;
  merged.gid = dir.gid;
  merged.mtimeMs = dir.mtimeMs;
  merged.atimeMs = dir.atimeMs;
  merged.ctimeMs = dir.ctimeMs;
  merged.xattrs = dir.xattrs;
}

/** `marked`: the layer has whiteouts or opaque directories (LayerTree.marked); if not, none are looked for. */
function applyChildren(merged: Inode, dir: Inode, index: number, owned: Set<Inode>, marked: boolean): void {
  const children = merged.children!;
  if (children.size === 0) {
    // Nothing below: start from a copy of the whole name table (one native copy instead of a set
    // per name), then give directories their merged copies and drop whiteouts, which hide nothing.
    const own = new Map(dir.children!);
    merged.children = own;
    if (!marked) return;
    for (const [name, child] of own) {
      if (isWhiteout(child)) own.delete(name);
      else if (child.isDir) {
        const m = mergedDir(child, index, owned);
        if (m !== child) own.set(name, m);
      }
    }
    return;
  }
  for (const [name, child] of dir.children!) {
    if (isWhiteout(child)) {
      children.delete(name);
    } else if (!child.isDir) {
      children.set(name, child);
    } else {
      let m = children.get(name);
      if (!m || isWhiteout(m) || !m.isDir) children.set(name, marked ? mergedDir(child, index, owned) : child);
      else {
        if (!owned.has(m)) children.set(name, (m = copyDir(m, owned)));
        applyDir(m, child, index, owned, marked);
      }
    }
  }
}

/**
 * The merged directory for a layer directory with nothing below it: the layer's own object when
 * nothing in its subtree needs dropping (a whiteout hides nothing here, an opaque flag means
 * nothing), so that flattening one layer copies no directory; else a copy without them.
 */
function mergedDir(dir: Inode, index: number, owned: Set<Inode>): Inode {
  let own: Map<string, Child> | undefined;
  for (const [name, child] of dir.children!) {
    const m = isWhiteout(child) ? undefined : child.isDir ? mergedDir(child, index, owned) : child;
    if (m === child) continue;
    own ??= new Map(dir.children!);
    if (m === undefined) own.delete(name);
    else own.set(name, m);
  }
  if (own === undefined && !dir.opaque) return dir;
  const m = copyDir(dir, owned);
  m.opaque = false;
  m.implicit = false;
  m.layer = index;
  m.layers = 1;
  if (own) m.children = own;
  return m;
}

/** An owned copy of a merged directory: its attributes and a copy of its name table. */
function copyDir(d: Inode, owned: Set<Inode>): Inode {
  const m = new Inode('dir', d.mode, d.uid, d.gid, d.mtimeMs, d.layer);
  takeAttrs(m, d);
  m.birthtimeMs = d.birthtimeMs;
  m.layers = d.layers;
  m.children = new Map(d.children!);
  owned.add(m);
  return m;
}
