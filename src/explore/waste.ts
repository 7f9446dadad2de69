/**
 * Wasted space: bytes an image stores that nobody can see.
 *
 * Rules (how `layerfs inspect` defines them; stated in its --help):
 * - A copy is one regular file stored in one layer (hard links in a layer share one copy).
 *   total = the bytes of every copy in every layer.
 * - A copy is wasted when it is not visible in the final image: a later layer overwrote it
 *   (`overwritten`; `duplicate` when the new copy has the same bytes) or deleted it (`deleted`:
 *   a whiteout of it or a parent, an opaque parent, a parent replaced by a non-directory).
 *   Each wasted copy names the layer that hid it.
 * - Each wasted copy has a cause: `overwritten`, `deleted`, `hidden`, and for a duplicate either
 *   `metadata-duplicate` (same bytes, only mode, owner or xattrs changed: a chmod or chown that
 *   copied the whole file into a new layer; `changed` says which) or `duplicate` (nothing changed).
 *   `causes` sums the wasted bytes per cause.
 * - efficiency = 1 − wasted / total (1 for an image with no file bytes), as dive's score.
 * - user wasted ratio = wasted / bytes stored in the layers above the first (the base image):
 *   0 when there is only one layer.
 */
import { lookupIn } from './lookup.js';
import { contentHash, splitPath, type Stack } from './stack.js';
import { esc } from '../out/manifest.js';
import { nameBytes } from '../archive/names.js';
import { isWhiteout, type Inode } from '../layer/inode.js';
import type { Waste, WasteCause, WastedCopy, WastedPath } from './shapes.js';

export type { Waste, WasteCause, WastedCopy, WastedPath };

interface Copy {
  layer: number;
  raw: string;
  ino: Inode;
}

/** Every regular file a layer stores itself (not hard links to lower layers), once per inode. */
function copiesOf(stack: Stack, index: number): Copy[] {
  const out: Copy[] = [];
  const seen = new Set<Inode>();
  const walk = (dir: Inode, prefix: string): void => {
    for (const [name, c] of dir.children!) {
      if (isWhiteout(c)) continue;
      if (c.isDir) walk(c, prefix + name + '/');
      else if (c.type === 'file' && c.layer === index && !seen.has(c)) {
        seen.add(c);
        out.push({ layer: index + 1, raw: prefix + name, ino: c });
      }
    }
  };
  walk(stack.trees[index].root, '');
  return out;
}

function visibleFiles(root: Inode, into = new Set<Inode>()): Set<Inode> {
  for (const c of root.children!.values()) {
    if (isWhiteout(c)) continue;
    if (c.isDir) visibleFiles(c, into);
    else into.add(c);
  }
  return into;
}

/** The metadata in which a later copy of a file differs from an earlier one (changes.py names). */
function metadataChanged(a: Inode, b: Inode): string[] {
  const out: string[] = [];
  if ((a.mode & 0o7777) !== (b.mode & 0o7777)) out.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) out.push('owner');
  const x = (i: Inode): string => JSON.stringify([...(i.xattrs ?? [])].map(([k, v]) => [k, v.toString('hex')]).sort());
  if (x(a) !== x(b)) out.push('xattrs');
  return out;
}

/** Which layer first hid a copy, and how. */
function hiddenBy(stack: Stack, copy: Copy): Omit<WastedCopy, 'layer' | 'bytes'> {
  const parts = splitPath(copy.raw);
  for (let j = copy.layer; j < stack.count; j++) {
    const says = lookupIn(stack.trees[j], parts);
    if (says.kind === 'none') continue;
    if (says.kind === 'deleted') return { reason: 'deleted', by: j + 1, cause: 'deleted' };
    const n = says.ino;
    const same = n.type === 'file' && n.data!.size === copy.ino.data!.size && contentHash(n) === contentHash(copy.ino);
    if (!same) return { reason: 'overwritten', by: j + 1, cause: 'overwritten' };
    const changed = metadataChanged(copy.ino, n);
    return { reason: 'duplicate', by: j + 1, changed, cause: changed.length ? 'metadata-duplicate' : 'duplicate' };
  }
  return { reason: 'hidden', cause: 'hidden' };
}

export function waste(stack: Stack): Waste {
  const visible = visibleFiles(stack.root(stack.count));
  let totalBytes = 0;
  let userBytes = 0;
  const byPath = new Map<string, WastedPath>();
  for (let i = 0; i < stack.count; i++) {
    for (const copy of copiesOf(stack, i)) {
      const bytes = copy.ino.data!.size;
      totalBytes += bytes;
      if (i > 0) userBytes += bytes;
      if (visible.has(copy.ino)) continue;
      const path = esc(Buffer.concat([Buffer.from('/'), nameBytes(copy.raw)]));
      const wp = byPath.get(path) ?? { path, bytes: 0, copies: [] };
      wp.bytes += bytes;
      wp.copies.push({ layer: copy.layer, bytes, ...hiddenBy(stack, copy) });
      byPath.set(path, wp);
    }
  }
  const paths = [...byPath.values()].sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : 1));
  const wastedBytes = paths.reduce((s, p) => s + p.bytes, 0);
  const causes: Record<WasteCause, number> = { overwritten: 0, deleted: 0, 'metadata-duplicate': 0, duplicate: 0, hidden: 0 };
  for (const p of paths) for (const c of p.copies) causes[c.cause] += c.bytes;
  return {
    totalBytes,
    userBytes,
    wastedBytes,
    causes,
    paths,
    efficiency: totalBytes === 0 ? 1 : 1 - wastedBytes / totalBytes,
    userWastedRatio: userBytes === 0 ? 0 : wastedBytes / userBytes,
  };
}
