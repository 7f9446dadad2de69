/**
 * A declarative description of a layer stack, and two materialisers that must mean the same thing:
 *
 * - `layerTar(layer)`: an OCI layer tarball (tar-stream `pack()`), the emulator's input. A whiteout
 *   becomes an empty regular file `DIR/.wh.NAME` (OCI-5), an opaque directory gets a member
 *   `DIR/.wh..wh..opq` (OCI-7); every parent is written as an explicit directory entry before its
 *   children, the root as `./`, hard links after their targets.
 * - `materializeLayer(layer, dir)`: the same layer as a lowerdir the kernel understands: a whiteout is
 *   a char device 0/0, an opaque directory carries `trusted.overlay.opaque=y` (OVL-3, OVL-4), and
 *   modes, owners, mtimes and hard links are set exactly.
 *
 * Both materialisers start from `normalizeLayer`, so implicit parents get the same attributes on both
 * sides (0755 root:root, DEFAULT_MTIME): the emulator's own implicit-parent policy (OCI-14) has no
 * kernel counterpart and is deliberately not exercised here.
 *
 * Restrictions (each keeps the two sides comparable): hard links point at a file of the SAME layer
 * (a lowerdir cannot share an inode with another lowerdir in a meaningful way); no char/block devices
 * other than whiteouts; no xattrs besides the opaque marker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pack } from 'tar-stream';
import { native, type NativeRequest } from './native.js';

/** mtime of everything the spec does not date explicitly: 2001-09-09T01:46:40Z, in seconds. */
export const DEFAULT_MTIME = 1_000_000_000;

export interface Attrs {
  /** Permission bits incl. setuid/setgid/sticky. Defaults: dir 0755, file/fifo 0644. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch (whole seconds: tar headers have no finer resolution). */
  mtime?: number;
}

export type SpecEntry =
  | ({ type: 'dir'; path: string; opaque?: boolean } & Attrs)
  | ({ type: 'file'; path: string; content?: string } & Attrs)
  | ({ type: 'symlink'; path: string; target: string } & Omit<Attrs, 'mode'>)
  | { type: 'hardlink'; path: string; target: string }
  | ({ type: 'fifo'; path: string } & Attrs)
  | { type: 'whiteout'; path: string }
  /** The directory at `path` (in this layer) is opaque; implies a dir entry with default attrs. */
  | { type: 'opaque'; path: string };

export type LayerSpec = SpecEntry[];
/** Layers, BOTTOM FIRST (the emulator's order; the kernel's lowerdir= list is the reverse). */
export type Spec = LayerSpec[];

/** A normalised entry: every attribute filled in, `opaque` folded into its dir. */
export type NormEntry =
  | { type: 'dir'; path: string; mode: number; uid: number; gid: number; mtime: number; opaque: boolean }
  | { type: 'file'; path: string; mode: number; uid: number; gid: number; mtime: number; content: string }
  | { type: 'symlink'; path: string; uid: number; gid: number; mtime: number; target: string }
  | { type: 'hardlink'; path: string; target: string }
  | { type: 'fifo'; path: string; mode: number; uid: number; gid: number; mtime: number }
  | { type: 'whiteout'; path: string };

// ---- terse constructors for hand-written specs ----
export const dir = (p: string, a: Attrs = {}): SpecEntry => ({ type: 'dir', path: p, ...a });
export const opaqueDir = (p: string, a: Attrs = {}): SpecEntry => ({ type: 'dir', path: p, opaque: true, ...a });
export const file = (p: string, content = '', a: Attrs = {}): SpecEntry => ({ type: 'file', path: p, content, ...a });
export const symlink = (p: string, target: string, a: Omit<Attrs, 'mode'> = {}): SpecEntry => ({ type: 'symlink', path: p, target, ...a });
export const hardlink = (p: string, target: string): SpecEntry => ({ type: 'hardlink', path: p, target });
export const fifo = (p: string, a: Attrs = {}): SpecEntry => ({ type: 'fifo', path: p, ...a });
export const whiteout = (p: string): SpecEntry => ({ type: 'whiteout', path: p });
export const opaque = (p: string): SpecEntry => ({ type: 'opaque', path: p });

function cleanPath(p: string): string {
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..' || s.startsWith('.wh.'))) throw new Error(`spec: bad path ${JSON.stringify(p)}`);
  return parts.join('/');
}

function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

function depthKey(p: string): string[] {
  return p === '' ? [] : p.split('/');
}

function comparePaths(a: string, b: string): number {
  const x = depthKey(a);
  const y = depthKey(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

/**
 * Fills defaults, adds the root and implicit parents, folds opaque markers into their dirs, checks
 * consistency (no duplicates, nothing under a non-dir, hard links to a file of this layer) and orders
 * parents before children and hard links after everything else.
 */
export function normalizeLayer(layer: LayerSpec): NormEntry[] {
  const byPath = new Map<string, NormEntry>();
  const opaques = new Set<string>();
  const add = (e: NormEntry): void => {
    if (byPath.has(e.path)) throw new Error(`spec: duplicate path ${JSON.stringify(e.path)}`);
    byPath.set(e.path, e);
  };
  const base = { uid: 0, gid: 0, mtime: DEFAULT_MTIME };
  for (const raw of layer) {
    const p = cleanPath(raw.path);
    switch (raw.type) {
      case 'dir':
        add({ type: 'dir', ...base, mode: 0o755, ...strip(raw), path: p, opaque: raw.opaque ?? false });
        if (raw.opaque) opaques.add(p);
        break;
      case 'file':
        add({ type: 'file', ...base, mode: 0o644, ...strip(raw), path: p, content: raw.content ?? '' });
        break;
      case 'symlink':
        add({ type: 'symlink', ...base, ...strip(raw), path: p, target: raw.target });
        break;
      case 'hardlink':
        add({ type: 'hardlink', path: p, target: cleanPath(raw.target) });
        break;
      case 'fifo':
        add({ type: 'fifo', ...base, mode: 0o644, ...strip(raw), path: p });
        break;
      case 'whiteout':
        if (p === '') throw new Error('spec: whiteout of the root');
        add({ type: 'whiteout', path: p });
        break;
      case 'opaque':
        opaques.add(p);
        break;
    }
  }
  if (!byPath.has('')) byPath.set('', { type: 'dir', path: '', mode: 0o755, ...base, opaque: false });
  for (const p of opaques) {
    const e = byPath.get(p);
    if (!e) byPath.set(p, { type: 'dir', path: p, mode: 0o755, ...base, opaque: true });
    else if (e.type === 'dir') e.opaque = true;
    else throw new Error(`spec: opaque marker on non-dir ${p}`);
  }
  // implicit parents
  for (const p of [...byPath.keys()]) {
    if (p === '') continue;
    let q = p;
    do {
      q = parentPath(q);
      const e = byPath.get(q);
      if (e && e.type !== 'dir') throw new Error(`spec: ${p} lies under non-dir ${q}`);
      if (!e) byPath.set(q, { type: 'dir', path: q, mode: 0o755, ...base, opaque: false });
    } while (q !== '');
  }
  for (const e of byPath.values()) {
    if (e.type !== 'hardlink') continue;
    const t = byPath.get(e.target);
    if (!t || (t.type !== 'file' && t.type !== 'fifo' && t.type !== 'symlink')) {
      throw new Error(`spec: hard link ${e.path} -> ${e.target}: target must be a non-dir of the same layer`);
    }
  }
  const all = [...byPath.values()];
  return all.sort((a, b) => {
    const ha = a.type === 'hardlink' ? 1 : 0;
    const hb = b.type === 'hardlink' ? 1 : 0;
    return ha - hb || comparePaths(a.path, b.path);
  });
}

function strip<T extends object>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && k !== 'type' && k !== 'opaque') out[k] = v;
  return out as Partial<T>;
}

// ---------------------------------------------------------------------------------------------
// (a) OCI layer tarball

/**
 * tar-stream's pack() replaces a falsy mode with 0644/0755, so mode 0 could not be written. Its header
 * encoder masks the mode with 0o7777, so OR-ing in the S_IFMT bits keeps the value truthy and still
 * writes the exact permission bits (0 included).
 */
function tm(mode: number, type: 'file' | 'dir' | 'symlink' | 'fifo'): number {
  const ifmt = { file: 0o100000, dir: 0o040000, symlink: 0o120000, fifo: 0o010000 }[type];
  return ifmt | (mode & 0o7777);
}

/** The layer as an uncompressed OCI layer tarball. */
export async function layerTar(layer: LayerSpec): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p) chunks.push(c as Buffer);
  })();
  const put = (header: Parameters<typeof p.entry>[0], body?: string): Promise<void> =>
    new Promise((resolve, reject) => {
      p.entry(header, body ?? '', (err) => (err ? reject(err) : resolve()));
    });
  const entries = normalizeLayer(layer);
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const e of entries) {
    const name = e.path === '' ? './' : e.path;
    switch (e.type) {
      case 'dir':
        await put({ name: e.path === '' ? './' : `${e.path}/`, type: 'directory', mode: tm(e.mode, 'dir'), uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000) });
        if (e.opaque) {
          await put({ name: e.path === '' ? '.wh..wh..opq' : `${e.path}/.wh..wh..opq`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(DEFAULT_MTIME * 1000) });
        }
        break;
      case 'file':
        await put({ name, type: 'file', mode: tm(e.mode, 'file'), uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000), size: Buffer.byteLength(e.content) }, e.content);
        break;
      case 'symlink':
        await put({ name, type: 'symlink', linkname: e.target, mode: tm(0o777, 'symlink'), uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000) });
        break;
      case 'hardlink': {
        // A hard link's header repeats its target's attributes (as tar(1) writes them).
        const t = byPath.get(e.target);
        const a = t && t.type !== 'hardlink' && t.type !== 'whiteout' ? t : undefined;
        await put({
          name,
          type: 'link',
          linkname: e.target,
          mode: tm(a && 'mode' in a ? a.mode : 0o644, 'file'),
          uid: a?.uid ?? 0,
          gid: a?.gid ?? 0,
          mtime: new Date((a?.mtime ?? DEFAULT_MTIME) * 1000),
        });
        break;
      }
      case 'fifo':
        await put({ name, type: 'fifo', mode: tm(e.mode, 'fifo'), uid: e.uid, gid: e.gid, mtime: new Date(e.mtime * 1000) });
        break;
      case 'whiteout': {
        const parent = parentPath(e.path);
        const base = e.path.slice(parent === '' ? 0 : parent.length + 1);
        await put({ name: parent === '' ? `.wh.${base}` : `${parent}/.wh.${base}`, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(DEFAULT_MTIME * 1000) });
        break;
      }
    }
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Every layer of the spec as a tarball, bottom first (the order `openLayers` takes). */
export function specTars(spec: Spec): Promise<Buffer[]> {
  return Promise.all(spec.map(layerTar));
}

// ---------------------------------------------------------------------------------------------
// (b) lowerdir on disk

/** Creates the layer inside the existing empty directory `root`, exactly as overlayfs expects it. */
export async function materializeLayer(layer: LayerSpec, root: string): Promise<void> {
  const entries = normalizeLayer(layer);
  const abs = (p: string): string => (p === '' ? root : path.join(root, p));
  const special: NativeRequest[] = [];
  for (const e of entries) {
    const p = abs(e.path);
    switch (e.type) {
      case 'dir':
        if (e.path !== '') fs.mkdirSync(p);
        break;
      case 'file':
        fs.writeFileSync(p, e.content);
        break;
      case 'symlink':
        fs.symlinkSync(e.target, p);
        break;
      case 'hardlink':
        fs.linkSync(abs(e.target), p);
        break;
      case 'fifo':
        special.push({ op: 'mkfifo', path: p, mode: 0o644 });
        break;
      case 'whiteout':
        special.push({ op: 'mknod', path: p, major: 0, minor: 0 });
        break;
    }
  }
  for (const e of entries) {
    if (e.type === 'dir' && e.opaque) {
      special.push({ op: 'setxattr', path: abs(e.path), name: 'trusted.overlay.opaque', value: Buffer.from('y').toString('hex') });
    }
  }
  await native().run(special);
  // Attributes last, children before parents is unnecessary (utimes on a child leaves the parent's
  // mtime alone) but every creation above must be done before any parent's mtime is set.
  for (const e of entries) {
    const p = abs(e.path);
    switch (e.type) {
      case 'symlink':
        fs.lchownSync(p, e.uid, e.gid);
        fs.lutimesSync(p, e.mtime, e.mtime);
        break;
      case 'dir':
      case 'file':
      case 'fifo':
        fs.chownSync(p, e.uid, e.gid); // before chmod: chown clears setuid/setgid
        fs.chmodSync(p, e.mode);
        fs.utimesSync(p, e.mtime, e.mtime);
        break;
      default:
        break;
    }
  }
}

/** Root attributes of a layer (what the overlay root shows when this layer is on top). */
export function layerRoot(layer: LayerSpec): { mode: number; uid: number; gid: number; mtime: number } {
  const root = normalizeLayer(layer).find((e) => e.path === '');
  if (root?.type !== 'dir') throw new Error('unreachable');
  return { mode: root.mode, uid: root.uid, gid: root.gid, mtime: root.mtime };
}

/** Big deterministic content: defined with the shared generator (test/ops/gen.ts). */
export { bigContent } from '../ops/gen.js';
