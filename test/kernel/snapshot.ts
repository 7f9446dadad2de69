/**
 * Final-state snapshots, normalised to comparable text lines.
 *
 * MERGED tree (what a process sees): walked through the fs object with lstat/readdir/readlink/
 * readFile from the root, never following symlinks and never opening FIFOs (no copy-up, no block).
 *   `/path type mode uid:gid nlink=N [size=S] mtime=T [-> target | data]`
 * plus one `links /a /b ...` line per group of non-directories sharing st_dev+st_ino (which names are
 * the same file; the numbers themselves are not compared, OVL-17). Directory sizes, atime, ctime are
 * excluded (see ops.ts).
 *
 * UPPER tree (what the writable layer holds, i.e. what a commit would turn into a layer):
 *  - kernel: the upperdir on disk. A char device 0/0 is a whiteout; a dir whose
 *    `trusted.overlay.opaque` is "y" is opaque. Every other trusted.overlay.* xattr is bookkeeping and
 *    ignored: origin (file handle of the lower copy), impure (dir holds copied-up/moved entries),
 *    redirect (redirect_dir rename source), metacopy (metadata-only copy-up), upper/uuid/nlink/index/
 *    protattr, and opaque="x" (merge dir holding xattr whiteouts; not opaque). For a metacopy file
 *    the upper inode holds no data (the kernel reads the lower), so its data is taken from the merged
 *    view at the same path: the layer's *logical* content.
 *  - emulator: `view.upperEntries()`; an 'opaque' entry marks the dir at its path; a 'hardlink' entry
 *    is one more name of its target.
 *   `path type [mode] uid:gid [size=S] mtime=T [opaque] [-> target | data]`
 *  Hard links inside the upper layer become `links a b ...` lines on both sides. nlink is not shown
 *  (with index=on the kernel's extra name lives in workdir/index). The upper root itself is excluded
 *  (it is the upperdir; always present).
 */
import type { Entry } from '../../src/entry.js';
import * as nodefs from 'node:fs';
import * as path from 'node:path';
import { readXattrs } from './native.js';
import { fileType, normData, normTime, type FsLike, type StatsLike } from '../ops/ops.js';

function rootJoin(root: string, p: string): string {
  return root === '/' ? p : p === '/' ? root : root + p;
}

function linkLines(groups: Map<string, string[]>): string[] {
  return [...groups.values()]
    .filter((g) => g.length > 1)
    .map((g) => `links ${g.sort().join(' ')}`)
    .sort();
}

/** The merged tree as lines (see header). */
export function mergedSnapshot(fsx: FsLike, root: string): string[] {
  const lines: string[] = [];
  const groups = new Map<string, string[]>();
  const visit = (p: string): void => {
    const abs = rootJoin(root, p);
    let st: StatsLike;
    try {
      st = fsx.lstatSync(abs);
    } catch (e) {
      lines.push(`${p} lstat-error ${(e as { code?: string }).code ?? String(e)}`);
      return;
    }
    const type = fileType(st.mode);
    let line = `${p} ${type} ${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${st.uid}:${st.gid} nlink=${st.nlink}`;
    if (type !== 'dir') line += ` size=${st.size}`;
    line += ` mtime=${normTime(st.mtimeMs)}`;
    try {
      if (type === 'symlink') line += ` -> ${fsx.readlinkSync(abs)}`;
      else if (type === 'file') line += ` ${normData(fsx.readFileSync(abs))}`;
    } catch (e) {
      line += ` read-error ${(e as { code?: string }).code ?? String(e)}`;
    }
    lines.push(line);
    if (type !== 'dir') {
      const k = `${st.dev}:${st.ino}`;
      const g = groups.get(k);
      if (g) g.push(p);
      else groups.set(k, [p]);
      return;
    }
    let names: string[];
    try {
      names = fsx
        .readdirSync(abs, { withFileTypes: true })
        .map((d) => d.name)
        .sort();
    } catch (e) {
      lines.push(`${p} readdir-error ${(e as { code?: string }).code ?? String(e)}`);
      return;
    }
    for (const n of names) visit(p === '/' ? `/${n}` : `${p}/${n}`);
  };
  visit('/');
  return [...lines, ...linkLines(groups)];
}

interface UpperItem {
  path: string;
  type: string;
  mode?: number;
  uid: number;
  gid: number;
  size?: number;
  mtime: number;
  opaque?: boolean;
  target?: string;
  data?: string;
}

function upperLine(u: UpperItem): string {
  let s = `${u.path} ${u.type}`;
  if (u.type === 'whiteout') return s;
  if (u.mode !== undefined && u.type !== 'symlink') s += ` ${(u.mode & 0o7777).toString(8).padStart(4, '0')}`;
  s += ` ${u.uid}:${u.gid}`;
  if (u.type === 'file') s += ` size=${u.size}`;
  s += ` mtime=${normTime(u.mtime)}`;
  if (u.opaque) s += ' opaque';
  if (u.target !== undefined) s += ` -> ${u.target}`;
  if (u.data !== undefined) s += ` ${u.data}`;
  return s;
}

/**
 * The kernel's upper layer: walks `upperdir` on disk. `mnt` is the overlay mount, used only to read the
 * logical content of metacopy files.
 */
export async function kernelUpperSnapshot(upperdir: string, mnt: string): Promise<string[]> {
  const xattrs = await readXattrs(upperdir);
  const items: UpperItem[] = [];
  const groups = new Map<string, string[]>();
  const visit = (rel: string): void => {
    const abs = rel === '' ? upperdir : path.join(upperdir, rel);
    const st = nodefs.lstatSync(abs);
    const type = fileType(st.mode);
    const xa = xattrs.get(rel) ?? {};
    if (rel !== '') {
      const base: UpperItem = { path: rel, type, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtimeMs };
      if (type === 'char' && st.rdev === 0) {
        items.push({ path: rel, type: 'whiteout', uid: 0, gid: 0, mtime: 0 });
        return;
      }
      if (type === 'dir') base.opaque = xa['trusted.overlay.opaque']?.toString() === 'y';
      if (type === 'symlink') base.target = nodefs.readlinkSync(abs);
      if (type === 'file') {
        const metacopy = 'trusted.overlay.metacopy' in xa;
        base.size = st.size;
        base.data = normData(nodefs.readFileSync(metacopy ? path.join(mnt, rel) : abs));
      }
      items.push(base);
      if (type !== 'dir') {
        const k = String(st.ino);
        const g = groups.get(k);
        if (g) g.push(rel);
        else groups.set(k, [rel]);
      }
    }
    if (type === 'dir') {
      for (const n of nodefs.readdirSync(abs).sort()) visit(rel === '' ? n : `${rel}/${n}`);
    }
  };
  visit('');
  return [...items.map(upperLine).sort(), ...linkLines(groups)];
}

/** What this module reads of the writable layer: the project's one entry model. */
export type UpperEntryLike = Entry;

function readSource(src: NonNullable<UpperEntryLike['content']>): Buffer {
  const out = Buffer.alloc(src.size);
  let done = 0;
  while (done < src.size) {
    const n = src.read(out, done, src.size - done, done);
    if (n <= 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/** The emulator's upper layer from `view.upperEntries()`. */
export function emulatorUpperSnapshot(entries: UpperEntryLike[]): string[] {
  const items = new Map<string, UpperItem>();
  const opaques: string[] = [];
  const links: Array<{ path: string; target: string }> = [];
  const extra: string[] = [];
  for (const e of entries) {
    const p = e.path.replace(/^\/+/, '').replace(/^\.\//, '').replace(/\/+$/, '');
    if (e.type === 'opaque') {
      opaques.push(p);
      continue;
    }
    if (p === '') continue;
    if (e.type === 'hardlink') {
      links.push({ path: p, target: (e.linkname ?? '').replace(/^\/+/, '') });
      continue;
    }
    if (items.has(p)) extra.push(`${p} DUPLICATE-ENTRY ${e.type}`);
    const it: UpperItem = { path: p, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    if (e.type === 'whiteout') {
      items.set(p, { path: p, type: 'whiteout', uid: 0, gid: 0, mtime: 0 });
      continue;
    }
    if (e.type === 'dir') it.opaque = false;
    if (e.type === 'symlink') it.target = e.linkname ?? '';
    if (e.type === 'file') {
      it.size = e.size;
      it.data = e.content ? normData(readSource(e.content)) : 'NO-CONTENT';
    }
    items.set(p, it);
  }
  for (const p of opaques) {
    if (p === '') {
      extra.push(`(root) opaque`);
      continue;
    }
    const d = items.get(p);
    if (d && d.type === 'dir') d.opaque = true;
    else extra.push(`${p} OPAQUE-WITHOUT-DIR`);
  }
  const groups = new Map<string, string[]>();
  for (const l of links) {
    const t = items.get(l.target);
    if (!t) {
      extra.push(`${l.path} HARDLINK-TO-MISSING ${l.target}`);
      continue;
    }
    items.set(l.path, { ...t, path: l.path });
    const g = groups.get(l.target);
    if (g) g.push(l.path);
    else groups.set(l.target, [l.target, l.path]);
  }
  return [...[...items.values()].map(upperLine).sort(), ...extra, ...linkLines(groups)];
}

/** Both sides' lines → a short unified-ish diff (lines only in a, only in b), or '' if equal. */
export function diffLines(a: string[], b: string[], labelA = 'kernel', labelB = 'emulator'): string {
  const sa = new Set(a);
  const sb = new Set(b);
  const rows = [...a.filter((l) => !sb.has(l)).map((l) => ({ l, who: labelA })), ...b.filter((l) => !sa.has(l)).map((l) => ({ l, who: labelB }))];
  if (!rows.length) return '';
  const w = Math.max(labelA.length, labelB.length);
  // Sorted by line so the two versions of one path sit together.
  rows.sort((x, y) => (x.l < y.l ? -1 : x.l > y.l ? 1 : x.who < y.who ? -1 : 1));
  return rows.map((r) => `  ${r.who.padEnd(w)}  ${r.l}`).join('\n');
}
