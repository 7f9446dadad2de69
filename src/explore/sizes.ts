/**
 * Directory sizes of a flattened view, for sorting a listing by size and for a size treemap.
 *
 * Rules: a directory's `bytes` is the sum of the sizes of the regular files below it, at any
 * depth (a hard-linked file counts under each of its names, as `du --count-links`); `files` counts
 * those files; `children` counts its direct entries. A file's bytes are its size. Computed once
 * per view (the rows map of one step) and cached.
 */
import type { SizeNode } from './shapes.js';
import type { Row } from './stack.js';

export interface DirStats {
  bytes: number;
  files: number;
  children: number;
}

export interface SizeIndex {
  dirs: Map<string, DirStats>;
  /** Direct entries of each directory (display path), in path byte order. */
  kids: Map<string, Row[]>;
}

const cache = new WeakMap<Map<string, Row>, SizeIndex>();

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function sizeIndex(rows: Map<string, Row>): SizeIndex {
  let idx = cache.get(rows);
  if (idx) return idx;
  const dirs = new Map<string, DirStats>([['/', { bytes: 0, files: 0, children: 0 }]]);
  const kids = new Map<string, Row[]>();
  for (const r of rows.values()) if (r.type === 'd') dirs.set(r.path, { bytes: 0, files: 0, children: 0 });
  for (const r of rows.values()) {
    const parent = parentPath(r.path);
    dirs.get(parent)!.children++;
    let list = kids.get(parent);
    if (!list) kids.set(parent, (list = []));
    list.push(r);
    if (r.type !== 'f') continue;
    for (let p = parent; ; p = parentPath(p)) {
      const d = dirs.get(p)!;
      d.bytes += r.size;
      d.files++;
      if (p === '/') break;
    }
  }
  idx = { dirs, kids };
  cache.set(rows, idx);
  return idx;
}

/** A row's bytes: a file's size, a directory's total. */
export function bytesOf(idx: SizeIndex, r: Row): number {
  return r.type === 'd' ? (idx.dirs.get(r.path)?.bytes ?? 0) : r.size;
}

export type { SizeNode };

/** The treemap source under `path`, `depth` levels of children deep, largest first. */
export function sizeTree(rows: Map<string, Row>, path: string, depth: number): SizeNode | undefined {
  const idx = sizeIndex(rows);
  const self = path === '/' ? undefined : rows.get(path);
  if (path !== '/' && !self) return undefined;
  const node = (p: string, r: Row | undefined, left: number): SizeNode => {
    const name = p === '/' ? '/' : p.slice(p.lastIndexOf('/') + 1);
    if (r && r.type !== 'd') return { name, path: p, type: r.type, bytes: r.size, files: r.type === 'f' ? 1 : 0 };
    const d = idx.dirs.get(p)!;
    const out: SizeNode = { name, path: p, type: 'd', bytes: d.bytes, files: d.files };
    if (left > 0) {
      out.children = (idx.kids.get(p) ?? []).map((k) => node(k.path, k, left - 1)).sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    }
    return out;
  };
  return node(path, self, depth);
}
