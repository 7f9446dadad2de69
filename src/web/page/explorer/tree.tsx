/**
 * The tree view: a virtual list over TreeModel's rows, with the keyboard of a file manager
 * (↑/↓ move, → opens or enters, ← closes or goes to the parent, Enter views a file, Home/End).
 */
import { useEffect, useMemo, useReducer, useRef, useState } from 'preact/hooks';
import { bytes, CHANGE_NAMES, count, modeString } from '../format';
import { VirtualList } from '../virtual-list';
import { Chevron, TypeIcon } from '../icons';
import type { TreeEntry } from '../types';
import { AHEAD, filtering, TreeModel, type Filter, type Row, type ViewMode } from './tree-model';

const ROW = 26;

export interface Selection {
  path: string;
  entry: TreeEntry;
  change?: string;
  fields?: string[];
  ghost?: boolean;
}

interface Props {
  image: string;
  mode: ViewMode;
  filter: Filter;
  selected?: string;
  onSelect: (s: Selection) => void;
  onOpen: (s: Selection) => void;
  /** A path to open the tree at (search result, treemap, waste list). */
  reveal?: string;
  /** The open directories, kept by the explorer across views and searches (as in dive). */
  openDirs: Set<string>;
}

export function Tree(p: Props) {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = () => bump(undefined);
  // The open directories outlive a change of layer, view or sort (as in dive).
  const model = useMemo(() => new TreeModel(p.image, p.mode, redraw, p.openDirs), [p.image, p.mode.layer, p.mode.changesOnly, p.mode.sort]);
  const revealing = useRef<string | undefined>(undefined);
  const [cursor, setCursor] = useState(0);
  useEffect(() => {
    void model.load('/');
    return () => model.dispose();
  }, [model]);
  const on = filtering(p.filter);
  useEffect(() => {
    if (on) model.loadAll();
  }, [model, model.version, on]);
  useEffect(() => {
    if (!p.reveal) return;
    revealing.current = p.reveal;
    void model.reveal(p.reveal);
  }, [model, p.reveal]);

  const rows = useMemo(() => model.rows(p.filter), [model, model.version, p.filter]);
  // A revealed path (search, treemap, waste list) is selected once its row is there.
  useEffect(() => {
    const want = revealing.current;
    if (!want) return;
    const i = rows.findIndex((r) => r.entry?.path === want);
    if (i < 0) return;
    revealing.current = undefined;
    select(i);
  }, [rows]);
  // Keep the cursor on the selected path when rows move (a directory opened above it).
  useEffect(() => {
    if (!p.selected) return;
    const i = rows.findIndex((r) => r.entry?.path === p.selected);
    if (i >= 0 && i !== cursor) setCursor(i);
  }, [rows, p.selected]);

  const select = (i: number) => {
    const r = rows[i];
    setCursor(i);
    if (r?.entry) p.onSelect({ path: r.entry.path, entry: r.entry, change: r.change, fields: r.fields, ghost: r.ghost });
  };

  const key = (e: KeyboardEvent) => {
    const r = rows[cursor];
    const page = Math.max(1, Math.floor(((e.currentTarget as HTMLElement).clientHeight || 520) / ROW) - 1);
    const go = (i: number) => {
      e.preventDefault();
      select(Math.max(0, Math.min(rows.length - 1, i)));
    };
    switch (e.key) {
      case 'ArrowDown':
        return go(cursor + 1);
      case 'ArrowUp':
        return go(cursor - 1);
      case 'PageDown':
        return go(cursor + page);
      case 'PageUp':
        return go(cursor - page);
      case 'Home':
        return go(0);
      case 'End':
        return go(rows.length - 1);
      case 'ArrowRight':
        e.preventDefault();
        if (r?.entry?.type === 'd' && !r.ghost) {
          if (!model.isOpen(r.entry.path)) model.toggle(r.entry.path, true);
          else go(cursor + 1);
        }
        return;
      case 'ArrowLeft': {
        e.preventDefault();
        if (r?.entry?.type === 'd' && model.isOpen(r.entry.path)) return model.toggle(r.entry.path, false);
        const parent = rows.findIndex((x) => x.entry?.path === r?.dir);
        if (parent >= 0) select(parent);
        return;
      }
      case 'Enter':
      case ' ':
        e.preventDefault();
        if (r?.entry?.type === 'd' && !r.ghost) model.toggle(r.entry.path);
        else if (r?.entry) p.onOpen({ path: r.entry.path, entry: r.entry, change: r.change, fields: r.fields, ghost: r.ghost });
    }
  };

  const draw = (i: number) => {
    const r: Row = rows[i];
    const pad = { paddingLeft: `${10 + r.depth * 16}px` };
    if (!r.entry) {
      return (
        <div class={`trow note ${r.loading || !r.note ? 'loading' : ''}`} style={pad}>
          {r.note ?? <span class="skeleton">loading…</span>}
        </div>
      );
    }
    const e = r.entry;
    const open = model.isOpen(e.path);
    const cls = ['trow', r.change ? `ch-${r.change}` : '', r.ghost ? 'ghost' : '', e.path === p.selected ? 'sel' : '', i === cursor ? 'cur' : ''].join(' ');
    return (
      <div
        class={cls}
        role="treeitem"
        aria-selected={e.path === p.selected}
        aria-expanded={e.type === 'd' ? open : undefined}
        data-path={e.path}
        data-change={r.change ?? ''}
        data-fields={r.fields?.join(',') ?? ''}
        onClick={() => {
          select(i);
          if (e.type === 'd' && !r.ghost) model.toggle(e.path);
        }}
        onDblClick={() => e.type !== 'd' && p.onOpen({ path: e.path, entry: e, change: r.change, fields: r.fields, ghost: r.ghost })}
      >
        <span class="tname" style={pad}>
          <span class="chev">{e.type === 'd' && !r.ghost && <Chevron open={open} />}</span>
          <span class={`ticon t-${e.type} ${e.linkgroup ? 't-h' : ''}`}>
            <TypeIcon type={e.type} open={open && !r.ghost} hardlink={!!e.linkgroup} />
          </span>
          <span class="nm">{e.name}</span>
          {e.type === 'l' && (
            <span class="link" title="symbolic link">
              → {e.target}
            </span>
          )}
          {e.linkgroup && e.linkgroup !== e.path && (
            <span class="hlink" title={`hard link: same inode as ${e.linkgroup}`}>
              ⇔ {e.linkgroup}
            </span>
          )}
          {e.linkgroup && e.linkgroup === e.path && (
            <span class="hlink" title="hard link group: other paths share this inode">
              hard link
            </span>
          )}
          {r.fields && r.change === 'M' && <span class="fields">{r.fields.join(', ')}</span>}
          {!r.change && (r.changesBelow ?? 0) > 0 && <span class="below">{count(r.changesBelow!)} changed below</span>}
        </span>
        <span class="tchg">
          {r.change && (
            <span class={`badge b-${r.change}`} title={CHANGE_NAMES[r.change as 'A']}>
              {r.change}
            </span>
          )}
        </span>
        <span class="tmode">{modeString(e.type, e.mode)}</span>
        <span class="town">{`${e.uid}:${e.gid}`}</span>
        <span class="tsize">{e.type === 'd' ? (e.bytes ? bytes(e.bytes) : '') : e.type === 'f' ? bytes(e.size) : ''}</span>
        <span class="tlayer" title={`comes from layer ${e.layer}`}>
          {`L${e.layer}`}
        </span>
      </div>
    );
  };

  return (
    <div class="tree">
      <div class="thead" aria-hidden="true">
        <span class="tname">Name</span>
        <span class="tchg"></span>
        <span class="tmode">Mode</span>
        <span class="town">Owner</span>
        <span class="tsize">Size</span>
        <span class="tlayer">Layer</span>
      </div>
      <VirtualList
        count={rows.length}
        rowHeight={ROW}
        row={draw}
        scrollTo={cursor}
        label="file tree"
        testId="tree"
        onKeyDown={key}
        onRange={(first, last) => {
          // Fetch the pages of the rows in view, and the next page once the view is within half a
          // page of it: a steady scroll then finds its rows loaded, and no frame has to turn a screen
          // of placeholders into rows at once.
          for (const i of [first, last]) {
            const r = rows[i];
            if (r && r.index >= 0) model.ensure(r.dir, r.index - AHEAD, r.index + AHEAD);
          }
        }}
      />
    </div>
  );
}
