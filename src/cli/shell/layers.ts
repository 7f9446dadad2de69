/**
 * What the shell tells about layers: which objects a command copied up, and where a path is served
 * from. Rules:
 * - what a command copied up, and the bytes each copy-up cost, is what the union recorded in its
 *   event log while the command ran (never guessed from snapshots); a directory costs no data;
 * - `where` names the mount serving a path; for the container layer, whether the object is only in
 *   the image (and in which layer, 1 = bottom), new in the container layer, or copied up there.
 */
import { isWhiteout, type Child, type Inode } from '../../layer/inode.js';
import type { UnionEvent } from '../../union/events.js';
import type { UnionState } from '../../union/state.js';
import { walk, inodeOf } from '../../union/walk.js';
import type { Container } from '../../engine/container.js';
import { humanSize } from '../output.js';

export interface CopiedUp {
  path: string;
  dir: boolean;
  bytes: number;
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

/**
 * The copy-ups among a command's events (the union's record, src/union/events.ts), one per path,
 * with the bytes copied for it: at copy-up, plus any data copied later in the same command (a
 * metadata-only copy-up given its data, or the chunks a chunked copy-up read).
 */
export function copiedUp(events: UnionEvent[]): CopiedUp[] {
  const byPath = new Map<string, CopiedUp>();
  for (const e of events) {
    if (e.kind === 'copy-up') byPath.set(e.path, { path: e.path, dir: e.type === 'dir', bytes: e.bytes });
    else if (e.kind === 'copy-data') {
      const c = byPath.get(e.path);
      if (c) c.bytes += e.bytes;
    }
  }
  return [...byPath.values()];
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
