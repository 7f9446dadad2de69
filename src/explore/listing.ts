/**
 * What `tree` and `ls` show: the rows under a path of the view after N layers, or only what layer
 * N changed there (`--changes`), optionally with where each path comes from (`--origin`).
 *
 * Rules:
 * - Paths are literal: symlinks on the way are not followed (a listing of the image as stored).
 * - With changes, A and M rows are those after layer N, D rows those before it; the parents of a
 *   changed path are shown (unmarked) so the tree reads, unless they changed too.
 * - `depth` 1 is `ls`: the path's direct children (or the path itself when not a directory).
 */
import { compareRows, stepChanges, type ChangeKind } from './changes.js';
import { originOf, type Origin } from './origin.js';
import type { ListItem } from './shapes.js';
import type { Row, Stack } from './stack.js';

export interface Item {
  row: Row;
  change?: ChangeKind;
  fields?: string[];
  origin?: Origin;
}

export interface ListOptions {
  /** The view after this many layers (default: all). */
  layer?: number;
  /** Only what this layer changed. */
  changes?: number;
  origin?: boolean;
  /** 1: direct children only. */
  depth?: number;
}

function under(path: string, base: string): boolean {
  return base === '/' ? path !== '/' : path.startsWith(base + '/');
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export class NotFound extends Error {}

/** The items under `base` (itself excluded; for a non-directory: itself), in path byte order. */
export function listItems(stack: Stack, base: string, opts: ListOptions = {}): Item[] {
  const n = opts.changes ?? opts.layer ?? stack.count;
  // Without --changes only the rows under `base` are needed.
  const rows = (opts.changes === undefined ? stack.rowsUnder(n, base, opts.depth) : undefined) ?? stack.rows(n);
  const self = rows.get(base) ?? (opts.changes !== undefined ? stack.rows(n - 1).get(base) : undefined);
  if (base !== '/' && !self) {
    throw new NotFound(`${base}: no such path after layer ${n}${opts.changes !== undefined ? ` or before it` : ''}`);
  }
  const depthOk = (p: string): boolean => !opts.depth || parentOf(p) === base;
  let items: Item[];
  if (self && self.type !== 'd') {
    items = [{ row: self }];
    if (opts.changes !== undefined) {
      const one = (r: Row | undefined): Map<string, Row> => new Map(r ? [[base, r]] : []);
      const c = compareRows(one(stack.rows(n - 1).get(base)), one(rows.get(base)));
      items = c.map((x) => ({ row: (x.after ?? x.before)!, change: x.kind, fields: x.fields }));
    }
  } else if (opts.changes === undefined) {
    items = [...rows.values()].filter((r) => under(r.path, base) && depthOk(r.path)).map((row) => ({ row }));
  } else {
    const changed = stepChanges(stack, n).filter((c) => under(c.path, base));
    const byPath = new Map<string, Item>();
    for (const c of changed) {
      const row = (c.after ?? c.before)!;
      if (!depthOk(row.path)) continue;
      byPath.set(row.path, { row, change: c.kind, fields: c.fields });
      // Parents for context (tree only): they exist after layer N, or the change is inside a deletion.
      if (!opts.depth) {
        for (let p = parentOf(row.path); under(p, base) && !byPath.has(p); p = parentOf(p)) {
          const pr = rows.get(p) ?? stack.rows(n - 1).get(p);
          if (pr) byPath.set(p, { row: pr });
        }
      }
    }
    items = [...byPath.values()].sort((a, b) => Buffer.compare(a.row.key, b.row.key));
  }
  if (opts.origin) {
    for (const it of items) if (it.change !== 'D') it.origin = originOf(stack, it.row);
  }
  return items;
}

/** An item for --json: the manifest fields plus the change and origin. */
export function itemJson(it: Item): ListItem {
  const r = it.row;
  return {
    path: r.path,
    type: r.type,
    mode: r.mode,
    uid: r.uid,
    gid: r.gid,
    size: r.size,
    ...(r.target !== '-' ? { target: r.target } : {}),
    ...(r.linkgroup !== '-' ? { linkgroup: r.linkgroup } : {}),
    ...(r.xattrs !== '-' ? { xattrs: r.xattrs } : {}),
    layer: r.layer,
    ...(it.change ? { change: it.change } : {}),
    ...(it.fields ? { fields: it.fields } : {}),
    ...(it.origin ? { origin: it.origin } : {}),
  };
}

/** `ls -l` style type and permission letters: `drwxr-xr-x`, `-rwsr-xr-x`. */
export function modeString(type: string, mode: string): string {
  const m = parseInt(mode, 8);
  const t = type === 'f' ? '-' : type;
  const bit = (b: number, c: string): string => (m & b ? c : '-');
  const x = (b: number, special: number, on: string, off: string): string => (m & special ? (m & b ? on : off) : bit(b, 'x'));
  return t + bit(0o400, 'r') + bit(0o200, 'w') + x(0o100, 0o4000, 's', 'S') + bit(0o40, 'r') + bit(0o20, 'w') + x(0o10, 0o2000, 's', 'S') + bit(0o4, 'r') + bit(0o2, 'w') + x(0o1, 0o1000, 't', 'T');
}
