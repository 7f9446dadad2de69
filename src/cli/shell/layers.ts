/**
 * What the shell tells about layers: which objects a command copied up, and where a path is served
 * from. Rules:
 * - an object was copied up by a command when an inode appears in the writable layer that was not
 *   there before and that carries the inode number of an image object (copy-up keeps it, OVL-17),
 *   or that sits at a path the image also has (a hard-linked file gets a new number);
 * - what a copy-up cost is the bytes it copied: the counters of the view before and after
 *   (`view.stats`), shared out by file size; a directory costs no data;
 * - `where` names the mount serving a path; for the container layer, whether the object is only in
 *   the image (and in which layer, 1 = bottom), new in the container layer, or copied up there.
 */
import { isWhiteout, type Child, type Inode } from '../../layer/inode.js';
import type { UnionState } from '../../union/state.js';
import { walk, inodeOf } from '../../union/walk.js';
import type { Container } from '../../engine/container.js';
import { humanSize } from '../output.js';

export interface CopiedUp {
  path: string;
  dir: boolean;
  bytes: number;
}

/** Every inode of the writable layer, with one path for it. */
export function upperInodes(s: UnionState): Map<Inode, string> {
  const out = new Map<Inode, string>();
  const visit = (dir: Inode, prefix: string) => {
    for (const [name, child] of dir.children!) {
      if (isWhiteout(child) || out.has(child)) continue;
      out.set(child, `${prefix}/${name}`);
      if (child.isDir) visit(child, `${prefix}/${name}`);
    }
  };
  if (s.upperRoot) visit(s.upperRoot, '');
  return out;
}

/** The image object at a canonical path (lower layers only), if any. */
export function lowerAt(s: UnionState, path: string): Inode | undefined {
  let cur: Inode | undefined = s.lowerRoot;
  for (const name of path.split('/').filter((p) => p !== '')) {
    const next: Child | undefined = cur?.children?.get(name);
    if (next === undefined || isWhiteout(next)) return undefined;
    cur = next;
  }
  return cur;
}

/** Inode numbers of the image's objects (computed once per view). */
const lowerInos = new WeakMap<UnionState, Set<number>>();
function lowerInoSet(s: UnionState): Set<number> {
  let set = lowerInos.get(s);
  if (set) return set;
  set = new Set();
  const visit = (dir: Inode) => {
    for (const child of dir.children!.values()) {
      if (isWhiteout(child)) continue;
      set!.add(child.ino);
      if (child.isDir) visit(child);
    }
  };
  visit(s.lowerRoot);
  lowerInos.set(s, set);
  return set;
}

/** Copy-ups between a snapshot (`before`, from upperInodes) and now, with their cost. */
export function copiedUpSince(s: UnionState, before: Map<Inode, string>, bytes: number): CopiedUp[] {
  const inos = lowerInoSet(s);
  const found: CopiedUp[] = [];
  for (const [ino, path] of upperInodes(s)) {
    if (before.has(ino)) continue;
    if (!inos.has(ino.ino) && !lowerAt(s, path)) continue;
    found.push({ path, dir: ino.isDir, bytes: 0 });
  }
  // The bytes copied go to the files, in path order, as much as each file's size.
  let left = bytes;
  for (const f of found.sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (f.dir || left <= 0) continue;
    const size = lowerAt(s, f.path)?.size ?? left;
    f.bytes = Math.min(size, left);
    left -= f.bytes;
  }
  return found;
}

export function describeCopyUp(c: CopiedUp): string {
  return `copied up ${c.path} (${c.dir ? 'directory, no data' : humanSize(c.bytes)})`;
}

export interface Where {
  path: string;
  kind: string;
  source?: string;
  target: string;
  /** Path inside the mount. */
  inner: string;
  /** Container layer only: image (not copied up), new, copied-up, or missing. */
  layer?: { status: 'image' | 'new' | 'copied-up' | 'missing'; imageLayer?: number; size?: number; dir?: boolean };
}

/** Where `path` (absolute, in the container) is served from. */
export function whereIs(c: Container, path: string): Where {
  const w = c.where(path);
  const out: Where = { path, kind: w.kind, source: w.source, target: w.target, inner: w.path };
  if (w.kind !== 'layer') return out;
  const s = c.view.core.s;
  const loc = walk(s, w.path, false);
  if (typeof loc === 'string' || !loc.node) return { ...out, layer: { status: 'missing' } };
  const canonical = '/' + loc.names.join('/');
  const node = loc.node;
  const ino = inodeOf(node);
  if (!node.upper) return { ...out, layer: { status: 'image', imageLayer: ino.layer + 1, size: ino.isDir ? 0 : ino.size, dir: ino.isDir } };
  const below = node.lower ?? lowerAt(s, canonical);
  if (!below) return { ...out, layer: { status: 'new' } };
  return { ...out, layer: { status: 'copied-up', imageLayer: below.layer + 1, size: below.isDir ? 0 : below.size, dir: below.isDir } };
}

export function describeWhere(w: Where, cost?: number): string {
  const at = w.inner === '/' || w.inner === '' ? '' : ` (${w.inner} inside it)`;
  switch (w.kind) {
    case 'volume': return `${w.path}: volume ${w.source} mounted at ${w.target}${at}: not in any layer, kept when the container is removed`;
    case 'bind': return `${w.path}: bind mount of host ${w.source} at ${w.target}${at}: not in any layer`;
    case 'tmpfs': return `${w.path}: tmpfs at ${w.target}${at}: in memory, gone when the shell exits`;
  }
  const l = w.layer!;
  switch (l.status) {
    case 'missing': return `${w.path}: does not exist (would be created in the container layer)`;
    case 'image': return `${w.path}: image layer ${l.imageLayer} (read-only; a write copies it up first${l.dir ? '' : `: ${humanSize(l.size ?? 0)}`})`;
    case 'new': return `${w.path}: container layer (new, not in the image)`;
    case 'copied-up': {
      // The cost this session measured, else what a full copy-up of the file costs.
      const cost_ = l.dir ? 'a directory, no data' : `${humanSize(cost ?? l.size ?? 0)} copied`;
      return `${w.path}: container layer (copied up from image layer ${l.imageLayer}, ${cost_})`;
    }
  }
}
