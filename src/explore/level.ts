/**
 * One directory level of a listing, the way a lazy tree shows it: the entries of `ls --origin`
 * (listing.ts: the view after N layers, or what layer N changed), each with its name, its bytes
 * (a directory's total, sizes.ts) and its number of direct children, sorted and paged.
 *
 * Rules: `sort: 'name'` is raw name byte order (ascending unless `order: 'desc'`); `sort: 'size'`
 * is `ls -S`'s order: by bytes, largest first, ties in name order; `order: 'asc'` is that order
 * reversed as a whole, as `ls -Sr` reverses it. Origins are worked out for the page only.
 * A deleted (D) entry is sized in the view before the layer, and has no origin.
 * With `changes`, a directory holding changed paths below it is listed too (without `change` when
 * it did not change itself), with `changesBelow`: how many A/M/D paths of the step are below it,
 * so a lazy tree can reach every change from the root (as `tree --changes` keeps the parents).
 * A directory that layer N replaced by a file lists, as its level, the paths deleted in it.
 * A Stack's views never change, so a level, once sized and sorted, is kept (a few per view): the
 * pages after the first are slices of it, not a sort of the whole directory each (the web tree
 * asks for a 20,000-entry directory 1000 entries at a time).
 */
import { stepChanges } from './changes.js';
import { itemJson, listItems, type Item } from './listing.js';
import { originOf } from './origin.js';
import { bytesOf, parentPath, type SizeIndex, sizeIndex } from './sizes.js';
import type { Row, Stack } from './stack.js';
import type { Level, LevelEntry } from './shapes.js';

export interface LevelOptions {
  layer?: number;
  changes?: number;
  offset?: number;
  limit?: number;
  sort?: 'name' | 'size';
  order?: 'asc' | 'desc';
}

export type { Level, LevelEntry };

interface Sorted {
  sized: Array<{ it: Item; idx: SizeIndex; bytes: number }>;
  below: Map<string, number>;
}

/** Sorted levels by view (the rows of step N), the most recently used last. */
const sortedLevels = new WeakMap<Map<string, Row>, Map<string, Sorted>>();
const LEVELS_PER_VIEW = 8;

export function listLevel(stack: Stack, base: string, opts: LevelOptions = {}): Level {
  const n = opts.changes ?? opts.layer ?? stack.count;
  const sort = opts.sort ?? 'name';
  const reversed = sort === 'size' ? opts.order === 'asc' : opts.order === 'desc';
  const view = stack.rows(n);
  let levels = sortedLevels.get(view);
  if (!levels) sortedLevels.set(view, (levels = new Map()));
  const key = `${base}\0${opts.changes ?? '-'}\0${sort}\0${reversed}`;
  let level = levels.get(key);
  if (level) levels.delete(key);
  else level = sortLevel(stack, base, n, opts, sort, reversed);
  levels.set(key, level);
  if (levels.size > LEVELS_PER_VIEW) levels.delete(levels.keys().next().value!);
  const { sized, below } = level;
  const offset = opts.offset ?? 0;
  const limit = opts.limit ?? 500;
  const page = sized.slice(offset, offset + limit).map(({ it, idx, bytes }) => {
    const r = it.row;
    const origin = it.change !== 'D' ? originOf(stack, r) : undefined;
    return {
      name: r.path.slice(r.path.lastIndexOf('/') + 1),
      ...itemJson(origin ? { ...it, origin } : it),
      bytes,
      children: r.type === 'd' ? (idx.dirs.get(r.path)?.children ?? 0) : 0,
      ...(below.has(r.path) ? { changesBelow: below.get(r.path) } : {}),
    };
  });
  return { path: base, layer: n, changes: opts.changes ?? null, total: sized.length, offset, limit, entries: page };
}

function sortLevel(stack: Stack, base: string, n: number, opts: LevelOptions, sort: 'name' | 'size', reversed: boolean): Sorted {
  const now = stack.rows(n).get(base);
  const was = opts.changes !== undefined ? stack.rows(n - 1).get(base) : undefined;
  // A directory that layer N replaced by a non-directory: its level is what was deleted in it.
  const items: Item[] =
    now && now.type !== 'd' && was?.type === 'd'
      ? stepChanges(stack, n)
          .filter((c) => parentPath(c.path) === base)
          .map((c) => ({ row: (c.after ?? c.before)!, change: c.kind, fields: c.fields }))
      : listItems(stack, base, { layer: opts.layer, changes: opts.changes, depth: 1 });
  const below = new Map<string, number>();
  if (opts.changes !== undefined && items.every((it) => it.row.path !== base)) {
    // Changes deeper than one level, counted under the direct child of base that leads to them.
    const prefix = base === '/' ? '/' : base + '/';
    for (const c of stepChanges(stack, n)) {
      if (!c.path.startsWith(prefix)) continue;
      const slash = c.path.indexOf('/', prefix.length);
      if (slash < 0) continue;
      const child = c.path.slice(0, slash);
      below.set(child, (below.get(child) ?? 0) + 1);
    }
    const listed = new Set(items.map((it) => it.row.path));
    for (const child of below.keys()) {
      if (listed.has(child)) continue;
      const row = stack.rows(n).get(child) ?? stack.rows(n - 1).get(child);
      if (row) items.push({ row } as Item);
    }
  }
  const after = sizeIndex(stack.rows(n));
  const before = opts.changes !== undefined ? sizeIndex(stack.rows(n - 1)) : after;
  const sized = items.map((it) => ({ it, idx: it.change === 'D' ? before : after })).map((x) => ({ ...x, bytes: bytesOf(x.idx, x.it.row) }));
  sized.sort((a, b) => {
    const byName = Buffer.compare(a.it.row.key, b.it.row.key);
    const c = sort === 'size' ? b.bytes - a.bytes || byName : byName;
    return reversed ? -c : c;
  });
  return { sized, below };
}
