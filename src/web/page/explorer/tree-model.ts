/**
 * The explorer's tree: directory levels fetched one at a time (GET /api/images/ID/tree), in pages,
 * only when a directory is open and only the pages in view; then flattened into the rows the
 * virtual list shows.
 *
 * Rules:
 * - "Changes only" lists what layer N changed (changes=N: A/M/D rows, and unmarked directories that
 *   lead to changes); "whole image" lists the image after layer N (layer=N) and marks, from the same
 *   level of changes=N fetched beside it, what layer N added or modified, with the paths it deleted
 *   shown as struck-out rows. After layer 1 everything is added by layer 1: no marks are fetched.
 * - Filters (A/M/D/unchanged, larger than) apply to whole levels: while one is on, every page of an
 *   open directory is fetched, so a filtered level is never a filtered part of a level.
 */
import { api, ApiError } from '../api';
import type { Change, TreeEntry } from '../types';

export const PAGE = 1000;
/** How far beyond the rows in view their pages are fetched. */
export const AHEAD = PAGE / 2;

export interface ViewMode {
  layer: number;
  /** The image's last layer: the view after it is asked for without `layer` (the API's default). */
  top: number;
  changesOnly: boolean;
  sort: 'name' | 'size';
}

export interface Filter {
  show: Record<Change | 'U', boolean>;
  largerThan: number;
}

export const NO_FILTER: Filter = { show: { A: true, M: true, D: true, U: true }, largerThan: 0 };
export const filtering = (f: Filter): boolean => f.largerThan > 0 || !f.show.A || !f.show.M || !f.show.D || !f.show.U;

interface Level {
  total: number;
  entries: Array<TreeEntry | undefined>;
  loading: Set<number>;
  /** Whole-image view: layer N's changes at this level, by name, and what it deleted. */
  marks?: Map<string, TreeEntry>;
  deleted?: TreeEntry[];
  error?: string;
  /**
   * The level's rows by entry index, made once each: a page arriving replaces its own rows, not
   * the level's 20,000 (marks arriving replace them all, since they change every row's mark).
   */
  rows: Array<Row | undefined>;
}

export interface Row {
  depth: number;
  /** The directory listing this row. */
  dir: string;
  index: number;
  entry?: TreeEntry;
  change?: Change;
  fields?: string[];
  changesBelow?: number;
  /** A path layer N deleted, shown in the whole-image view. */
  ghost?: boolean;
  /** A message row (loading, error, empty). */
  note?: string;
  loading?: boolean;
}

export class TreeModel {
  readonly levels = new Map<string, Level>();
  version = 0;
  private dead = false;

  /**
   * `expanded` is shared with the model of the previous view (another layer, sort or view), so the
   * directories open stay open; each is fetched again when it is reached.
   */
  constructor(
    readonly image: string,
    readonly mode: ViewMode,
    private readonly changed: () => void,
    readonly expanded = new Set<string>(['/']),
  ) {}

  dispose(): void {
    this.dead = true;
  }

  private bump(): void {
    if (this.dead) return;
    this.version++;
    this.changed();
  }

  private query(path: string, offset: number, changes: boolean) {
    const m = this.mode;
    return { path, offset, limit: PAGE, sort: m.sort, ...(changes ? { changes: m.layer } : m.layer === m.top ? {} : { layer: m.layer }) };
  }

  /** Fetches page `page` of a level (page 0 creates the level). */
  async load(path: string, page = 0): Promise<void> {
    let lv = this.levels.get(path);
    if (lv && (lv.loading.has(page) || lv.entries[page * PAGE] !== undefined)) return;
    if (!lv) {
      lv = { total: -1, entries: [], loading: new Set(), rows: [] };
      this.levels.set(path, lv);
    }
    lv.loading.add(page);
    // The marks of the whole-image view come beside the level, never in its way.
    if (page === 0 && lv.total < 0 && !this.mode.changesOnly && this.mode.layer > 1) {
      const level = lv;
      this.loadMarks(path).then(
        (m) => {
          level.marks = m.marks;
          level.deleted = m.deleted;
          level.rows = [];
          this.bump();
        },
        () => undefined,
      );
    }
    try {
      const res = await api.tree(this.image, this.query(path, page * PAGE, this.mode.changesOnly));
      if (lv.total < 0) lv.entries = new Array(res.total);
      lv.total = res.total;
      res.entries.forEach((e, i) => {
        lv!.entries[res.offset + i] = e;
        lv!.rows[res.offset + i] = undefined;
      });
    } catch (e) {
      lv.error = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
      if (lv.total < 0) lv.total = 0;
    } finally {
      lv.loading.delete(page);
      this.bump();
    }
  }

  /** Layer N's changes at one level, every page (a level's changes are few next to its entries). */
  private async loadMarks(path: string): Promise<{ marks: Map<string, TreeEntry>; deleted: TreeEntry[] }> {
    const marks = new Map<string, TreeEntry>();
    const deleted: TreeEntry[] = [];
    for (let offset = 0; ; offset += 5000) {
      const r = await api.tree(this.image, { path, changes: this.mode.layer, offset, limit: 5000, sort: this.mode.sort }).catch((e) => {
        // A directory layer N did not have before it (or at all) has nothing to mark.
        if (e instanceof ApiError && e.status === 404) return undefined;
        throw e;
      });
      if (!r) break;
      for (const e of r.entries) {
        if (e.change === 'D') deleted.push(e);
        else marks.set(e.name, e);
      }
      if (offset + r.entries.length >= r.total || r.entries.length === 0) break;
    }
    return { marks, deleted };
  }

  /** The pages covering rows first..last of a level, clipped to the level once its size is known. */
  ensure(path: string, first: number, last: number): void {
    const total = this.levels.get(path)?.total ?? -1;
    const end = total < 0 ? last : Math.min(last, total - 1);
    for (let p = Math.floor(Math.max(0, first) / PAGE); p <= Math.floor(end / PAGE); p++) void this.load(path, p);
  }

  /** Every page of every open level (filters need whole levels). */
  loadAll(): void {
    for (const path of this.expanded) {
      const lv = this.levels.get(path);
      if (lv) for (let p = 0; p * PAGE < lv.total; p++) void this.load(path, p);
    }
  }

  isOpen(path: string): boolean {
    return this.expanded.has(path);
  }

  toggle(path: string, open = !this.expanded.has(path)): void {
    if (open) {
      this.expanded.add(path);
      void this.load(path);
    } else {
      for (const p of [...this.expanded]) if (p === path || p.startsWith(path + '/')) this.expanded.delete(p);
    }
    this.bump();
  }

  /** Opens every directory on the way to `path` (for "reveal in tree"). */
  async reveal(path: string): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    const chain = ['/'];
    let cur = '';
    for (const part of parts.slice(0, -1)) {
      cur += '/' + part;
      this.expanded.add(cur);
      chain.push(cur);
    }
    // Only the directories on the way: they exist in this view, since the path does.
    for (const p of chain) await this.load(p);
    await this.loadLevelFully(parentOf(path));
    this.bump();
  }

  private async loadLevelFully(path: string): Promise<void> {
    const lv = this.levels.get(path);
    if (!lv) return;
    const pages: Promise<void>[] = [];
    for (let p = 1; p * PAGE < lv.total; p++) pages.push(this.load(path, p));
    await Promise.all(pages);
  }

  /** The rows to show, open directories flattened depth first, filtered. */
  rows(filter: Filter): Row[] {
    const out: Row[] = [];
    const on = filtering(filter);
    const keep = (e: TreeEntry, change: Change | undefined, below: number): boolean => {
      if (!filter.show[change ?? 'U'] && !(change === undefined && below > 0)) return false;
      // A directory's bytes are what the view has under it (not what a layer deleted there): one that is
      // open or leads to changes is judged by the rows kept below it (after its level is walked).
      if (filter.largerThan > 0 && e.bytes < filter.largerThan && !(e.type === 'd' && (below > 0 || this.expanded.has(e.path)))) return false;
      return true;
    };
    const walk = (path: string, depth: number): void => {
      const lv = this.levels.get(path);
      if (!lv || lv.total < 0) {
        // An open directory reached for the first time in this view: fetched after this render.
        if (!lv) queueMicrotask(() => void this.load(path));
        out.push({ depth, dir: path, index: -1, note: 'loading…', loading: true });
        return;
      }
      if (lv.error) {
        out.push({ depth, dir: path, index: -1, note: lv.error });
        return;
      }
      if (lv.total === 0 && !lv.deleted?.length) {
        out.push({ depth, dir: path, index: -1, note: this.mode.changesOnly ? 'nothing changed inside' : 'empty directory' });
        return;
      }
      const made = lv.rows;
      for (let i = 0; i < lv.total; i++) {
        const e = lv.entries[i];
        if (!e) {
          if (!on) out.push((made[i] ??= { depth, dir: path, index: i }));
          continue;
        }
        let row = made[i];
        if (!row) {
          const mark = this.mode.changesOnly ? e : lv.marks?.get(e.name);
          // Layer 1 changed everything the image has after it: all of it is added (nothing to fetch).
          const change = this.mode.layer === 1 && !this.mode.changesOnly ? 'A' : mark?.change;
          made[i] = row = { depth, dir: path, index: i, entry: e, change, fields: mark?.fields, changesBelow: mark?.changesBelow ?? 0 };
        }
        const change = row.change;
        if (!keep(e, change, row.changesBelow!)) continue;
        const at = out.length;
        out.push(row);
        if (e.type === 'd' && this.expanded.has(e.path)) {
          walk(e.path, depth + 1);
          // A directory kept only as the way to changes below it stays only while a row below is kept:
          // an open, loaded level whose changes all were filtered out is no way to anything.
          if (on && (!filter.show[change ?? 'U'] || e.bytes < filter.largerThan)) {
            let leads = false;
            for (let j = at + 1; j < out.length && !leads; j++) leads = !!out[j].entry || !!out[j].loading || out[j].index >= 0;
            if (!leads) out.length = at;
          }
        }
      }
      for (const d of lv.deleted ?? []) {
        if (!keep(d, 'D', 0)) continue;
        out.push({ depth, dir: path, index: -1, entry: d, change: 'D', ghost: true });
      }
    };
    walk('/', 0);
    return out;
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
