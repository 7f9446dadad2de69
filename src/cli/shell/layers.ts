/**
 * What the shell tells about layers: what a command did to the container layer, and where a path
 * is served from. Rules:
 * - what a command did is the union's own record (src/union/events.ts): copy-ups with the bytes
 *   they copied, whiteouts and opaque directories, each with the image layer concerned;
 * - `where` names the mount serving a path; for the container layer, whether the object is only in
 *   the image (and in which layer, 1 = bottom), new in the container layer, copied up there, an
 *   opaque directory, or hidden by a whiteout; for a volume, what its first mount copied into it
 *   from the image (the origin record the engine wrote as it copied, volume-origin.ts).
 */
import { posix } from 'node:path';
import type { Container } from '../../engine/container.js';
import type { VolumeOrigin } from '../../engine/volume-origin.js';
import { isWhiteout, type Child, type Inode } from '../../layer/inode.js';
import type { UnionEvent } from '../../union/events.js';
import type { UnionState } from '../../union/state.js';
import { walk, inodeOf } from '../../union/walk.js';
import { humanSize } from '../output.js';

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

/** What a command did, as the shell tells it: one union event, with what went with it. */
export type Told = UnionEvent & { inside?: number };

/**
 * The events of one command, as it left them: a whiteout or opaque directory at a path replaces
 * what the command did at and below that path before (a removed directory's copy-ups and
 * whiteouts went with it): those are counted in its `inside`.
 */
export function summarize(events: UnionEvent[]): Told[] {
  const out: Told[] = [];
  for (const e of events) {
    // Writes are told where they land by `where`; the shell tells what the layer had to do.
    if (e.kind === 'write') continue;
    if (e.kind === 'copy-up' || e.kind === 'copy-data') {
      out.push({ ...e });
      continue;
    }
    let inside = 0;
    for (let i = out.length - 1; i >= 0; i--) {
      const p = out[i]!.path;
      if (p.startsWith(e.path + '/') || (p === e.path && out[i]!.kind === 'copy-up')) {
        inside += 1 + (out[i]!.inside ?? 0);
        out.splice(i, 1);
      }
    }
    out.push(inside > 0 && e.kind === 'whiteout' ? { ...e, inside } : { ...e });
  }
  return out;
}

const TYPE: Record<string, string> = { file: 'file', dir: 'directory', symlink: 'symlink', fifo: 'fifo', char: 'device', block: 'device', socket: 'socket' };
const typeName = (t: string | undefined) => TYPE[t ?? ''] ?? t ?? 'object';

export function describeEvent(e: Told): string {
  switch (e.kind) {
    case 'copy-up': {
      const what = e.type === 'dir' ? 'directory, no data' : e.type !== 'file' ? `${typeName(e.type)}, no data` : e.bytes > 0 ? humanSize(e.bytes) : 'no data copied';
      return `copied up ${e.path} from image layer ${e.layer} (${what})`;
    }
    case 'copy-data':
      // A metadata-only (or chunked) copy-up getting its data now.
      return `copied the data of ${e.path} up (${humanSize(e.bytes)}, ${e.strategy} copy-up)`;
    case 'whiteout': {
      if (e.by === 'rename') return `whiteout ${e.path}: the old name now hides the image's ${typeName(e.hides)} from layer ${e.layer}`;
      const gone = e.inside ? `; the ${e.inside} change(s) made inside it went with it` : '';
      return `whiteout ${e.path}: hides the image's ${typeName(e.hides)} from layer ${e.layer} (nothing copied${gone})`;
    }
    case 'opaque':
      return e.layer === undefined
        ? `opaque directory ${e.path}: made in a merged directory, it hides whatever lower layers hold there`
        : `opaque directory ${e.path}: hides the image's ${typeName(e.hides)} from layer ${e.layer} whole (nothing was copied up)`;
  }
  return JSON.stringify(e);
}

export interface Where {
  path: string;
  kind: string;
  source?: string;
  target: string;
  /** Path inside the mount. */
  inner: string;
  /**
   * Container layer only: image (not copied up), new, copied-up, opaque (a new directory hiding
   * the image's), whited-out (a whiteout at `hiddenAt` hides the image's object), or missing.
   */
  layer?: {
    status: 'image' | 'new' | 'copied-up' | 'opaque' | 'whited-out' | 'missing';
    imageLayer?: number;
    size?: number;
    dir?: boolean;
    hiddenAt?: string;
    hides?: string;
  };
  /** A volume only: what its first mount copied there from the image (VolumeOrigin). */
  seeded?: { origin: VolumeOrigin; file?: VolumeOrigin['files'][string]; changed?: boolean };
}

/** The whiteout of the writable layer on the way to `path` (absolute, no symlinks), and what it hides. */
function whiteoutOver(s: UnionState, path: string): { hiddenAt: string; imageLayer?: number; hides?: string } | undefined {
  let cur: Inode | undefined = s.upperRoot;
  const names = path.split('/').filter((p) => p !== '');
  for (const [i, name] of names.entries()) {
    const next: Child | undefined = cur?.children?.get(name);
    const at = '/' + names.slice(0, i + 1).join('/');
    if (isWhiteout(next)) {
      const hidden = lowerAt(s, at);
      return { hiddenAt: at, imageLayer: hidden && hidden.layer + 1, hides: hidden?.type };
    }
    if (!next?.isDir) return undefined;
    cur = next;
  }
  return undefined;
}

/** Where `path` (absolute, in the container) is served from; `origins` reads a volume's VolumeOrigin. */
export function whereIs(c: Container, path: string, origins?: (volume: string) => VolumeOrigin | undefined): Where {
  const w = c.where(path);
  const out: Where = { path, kind: w.kind, source: w.source, target: w.target, inner: w.path };
  if (w.kind === 'volume') {
    const origin = w.source === undefined ? undefined : origins?.(w.source);
    if (!origin) return out;
    const file = origin.files[w.path];
    const st = file && c.fs.lstatSync(path, { throwIfNoEntry: false });
    return { ...out, seeded: { origin, file, changed: !!file && (!st || st.size !== file.size || Math.trunc(st.mtimeMs) !== Math.trunc(file.mtimeMs)) } };
  }
  if (w.kind !== 'layer') return out;
  const s = c.view.core.s;
  const loc = walk(s, w.path, false);
  if (typeof loc === 'string' || !loc.node) {
    const hidden = whiteoutOver(s, w.path);
    if (hidden) return { ...out, layer: { status: 'whited-out', ...hidden } };
    return { ...out, layer: { status: 'missing' } };
  }
  const canonical = '/' + loc.names.join('/');
  const node = loc.node;
  const ino = inodeOf(node);
  if (!node.upper) return { ...out, layer: { status: 'image', imageLayer: ino.layer + 1, size: ino.isDir ? 0 : ino.size, dir: ino.isDir } };
  const below = node.lower ?? lowerAt(s, canonical);
  if (node.upper.isDir && node.upper.opaque && below) return { ...out, layer: { status: 'opaque', imageLayer: below.layer + 1, hides: below.type } };
  if (!below) return { ...out, layer: { status: 'new' } };
  return { ...out, layer: { status: 'copied-up', imageLayer: below.layer + 1, size: below.isDir ? 0 : below.size, dir: below.isDir } };
}

export function describeWhere(w: Where, cost?: number): string {
  const at = w.inner === '/' || w.inner === '' ? '' : ` (${w.inner} inside it)`;
  switch (w.kind) {
    case 'volume': {
      const base = `${w.path}: volume ${w.source} mounted at ${w.target}${at}: not in any layer, kept when the container is removed`;
      const sd = w.seeded;
      if (!sd) return base;
      const img = `image ${sd.origin.imageName}`;
      if (!sd.file) return `${base}; made in the volume after its first mount (which copied ${img}'s ${sd.origin.path} there)`;
      return `${base}; copied from image layer ${sd.file.layer} (${img}, ${posix.join(sd.origin.path, w.inner)}) into the volume at its first mount, ${sd.origin.at}${sd.changed ? '; changed since' : ''}`;
    }
    case 'bind':
      return `${w.path}: bind mount of host ${w.source} at ${w.target}${at}: not in any layer`;
    case 'tmpfs':
      return `${w.path}: tmpfs at ${w.target}${at}: in memory, gone when the shell exits`;
  }
  const l = w.layer!;
  switch (l.status) {
    case 'missing':
      return `${w.path}: does not exist (would be created in the container layer)`;
    case 'image':
      return `${w.path}: image layer ${l.imageLayer} (read-only; a write copies it up first${l.dir ? '' : `: ${humanSize(l.size ?? 0)}`})`;
    case 'new':
      return `${w.path}: container layer (new, not in the image)`;
    case 'opaque':
      return `${w.path}: container layer (an opaque directory: new, it hides the image's ${typeName(l.hides)} from layer ${l.imageLayer} whole)`;
    case 'whited-out': {
      const what = l.imageLayer === undefined ? '' : ` the image's ${typeName(l.hides)} from layer ${l.imageLayer}`;
      return l.hiddenAt === w.inner
        ? `${w.path}: does not exist: a whiteout in the container layer hides${what || ' it'}`
        : `${w.path}: does not exist: the whiteout ${l.hiddenAt} in the container layer hides${what || ' it'} and all below it`;
    }
    case 'copied-up': {
      // The cost this session measured, else what a full copy-up of the file costs.
      const cost_ = l.dir ? 'a directory, no data' : `${humanSize(cost ?? l.size ?? 0)} copied`;
      return `${w.path}: container layer (copied up from image layer ${l.imageLayer}, ${cost_})`;
    }
  }
}
