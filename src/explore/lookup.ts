/**
 * What one layer's tree says about a path, before stacking: nothing, an entry at the path, or a
 * deletion (a whiteout of the path or a parent, an opaque parent without the path, or a parent
 * replaced by a non-directory). Directories the layer's archive did not list (implicit parents)
 * are not entries.
 */
import type { LayerTree } from '../layer/build.js';
import { isWhiteout, type Inode } from '../layer/inode.js';

export type LayerSays = { kind: 'none' } | { kind: 'entry'; ino: Inode } | { kind: 'deleted'; how: 'whiteout' | 'opaque' | 'replaced-parent' };

export function lookupIn(tree: LayerTree, parts: string[]): LayerSays {
  let node: Inode = tree.root;
  // An opaque directory hides every lower path below it, however deep, that this layer lacks.
  let opaque = false;
  for (let i = 0; i < parts.length; i++) {
    opaque ||= node.opaque;
    const c = node.children!.get(parts[i]);
    if (isWhiteout(c)) return { kind: 'deleted', how: 'whiteout' };
    if (!c) return opaque ? { kind: 'deleted', how: 'opaque' } : { kind: 'none' };
    if (i === parts.length - 1) {
      // An implicit directory carries nothing of its own, but under or as an opaque one it hides what was below.
      if (c.isDir && c.implicit) return opaque || c.opaque ? { kind: 'deleted', how: 'opaque' } : { kind: 'none' };
      return { kind: 'entry', ino: c };
    }
    if (!c.isDir) return { kind: 'deleted', how: 'replaced-parent' };
    node = c;
  }
  return { kind: 'none' };
}

/** Whether the path or one of its parents is an opaque directory in this layer's tree. */
export function opaqueOnPath(tree: LayerTree, parts: string[]): boolean {
  let node: Inode | undefined = tree.root;
  for (let i = 0; ; i++) {
    if (node.opaque) return true;
    if (i === parts.length) return false;
    const c = node.children!.get(parts[i]);
    if (!c || isWhiteout(c) || !c.isDir) return false;
    node = c;
  }
}
