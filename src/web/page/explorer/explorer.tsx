/**
 * The explorer: layers on the left, the tree of the selected layer in the middle (its changes, or the
 * image after it), the selected path's panel and the file viewer on the right. Name search runs
 * across the whole image (GET …/find) and lists its hits in place of the tree.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { bytes, parseSize } from '../format';
import { TypeIcon } from '../icons';
import type { FoundEntry, ImageDetail } from '../types';
import { VirtualList } from '../virtual-list';
import { Details } from './details';
import { LayerList } from './layers';
import { Tree, type Selection } from './tree';
import { NO_FILTER, type Filter, type ViewMode } from './tree-model';
import { Viewer } from './viewer';

interface Props {
  image: ImageDetail;
  /** A path to show (from the treemap or the waste list), in the image after `layer` (default: all). */
  focus?: Focus;
}

export interface Focus {
  path: string;
  layer?: number;
}

export function Explorer({ image, focus }: Props) {
  const top = image.layers.length;
  const [mode, setMode] = useState<ViewMode>({ layer: focus?.layer ?? top, top, changesOnly: false, sort: 'name' });
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  const [larger, setLarger] = useState('');
  const [sel, setSel] = useState<Selection>();
  const [viewing, setViewing] = useState<string>();
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<{ total: number; entries: FoundEntry[] } | string>();
  const [reveal, setReveal] = useState<string | undefined>(focus?.path);
  const search = useRef<HTMLInputElement>(null);
  const openDirs = useRef(new Set<string>(['/']));

  useEffect(() => {
    if (!focus) return;
    if (focus.layer) setMode((m) => ({ ...m, layer: focus.layer!, changesOnly: false }));
    setReveal(focus.path);
  }, [focus]);
  useEffect(() => {
    const k = (e: KeyboardEvent) => {
      if (e.key === '/' && !(e.target instanceof HTMLInputElement) && !(e.target instanceof HTMLTextAreaElement)) {
        e.preventDefault();
        search.current?.focus();
      }
    };
    addEventListener('keydown', k);
    return () => removeEventListener('keydown', k);
  }, []);

  // Name search across the whole image: a substring unless the user typed a glob.
  useEffect(() => {
    const q = query.trim();
    if (!q) return setHits(undefined);
    const glob = /[*?[]/.test(q) ? q : `*${q}*`;
    const t = setTimeout(() => {
      api.find(image.id, glob, { type: 'any', layer: mode.layer, limit: 2000, largerThan: filter.largerThan || undefined }).then(
        (r) => setHits(r),
        (e) => setHits(e instanceof ApiError ? e.message : String(e)),
      );
    }, 150);
    return () => clearTimeout(t);
  }, [query, mode.layer, filter.largerThan]);

  const setLayer = (n: number) => {
    setMode({ ...mode, layer: n });
  };
  const pick = (h: FoundEntry) => {
    setQuery('');
    setReveal(h.path);
    setMode({ ...mode, changesOnly: false });
  };
  const toggle = (k: 'A' | 'M' | 'D' | 'U') => setFilter({ ...filter, show: { ...filter.show, [k]: !filter.show[k] } });
  const sizeBad = larger.trim() !== '' && Number.isNaN(parseSize(larger));
  const layerInfo = image.layers[mode.layer - 1];

  return (
    <div class={`explorer ${viewing ? 'viewing' : ''}`}>
      <LayerList image={image} selected={mode.layer} onSelect={setLayer} />
      <section class="main" aria-label="tree">
        <div class="toolbar">
          <div class="seg" role="group" aria-label="view">
            <button
              type="button"
              class={mode.changesOnly ? 'on' : ''}
              onClick={() => setMode({ ...mode, changesOnly: true })}
              data-testid="view-changes"
              title="dive's layer view: only what this layer added, modified or deleted"
            >
              Layer {mode.layer}'s changes
            </button>
            <button
              type="button"
              class={!mode.changesOnly ? 'on' : ''}
              onClick={() => setMode({ ...mode, changesOnly: false })}
              data-testid="view-image"
              title="the whole image as it was after this layer, its changes marked"
            >
              Image after layer {mode.layer}
            </button>
          </div>
          <div class="seg" role="group" aria-label="sort">
            <button type="button" class={mode.sort === 'name' ? 'on' : ''} onClick={() => setMode({ ...mode, sort: 'name' })}>
              Name
            </button>
            <button type="button" class={mode.sort === 'size' ? 'on' : ''} onClick={() => setMode({ ...mode, sort: 'size' })} data-testid="sort-size">
              Size
            </button>
          </div>
          <div class="filters" role="group" aria-label="show">
            {(['A', 'M', 'D', 'U'] as const).map((k) => (
              <label key={k} class={`fchip f-${k} ${filter.show[k] ? 'on' : ''}`} title={{ A: 'added', M: 'modified', D: 'deleted', U: 'unchanged' }[k]}>
                <input type="checkbox" checked={filter.show[k]} onChange={() => toggle(k)} />
                {{ A: 'Added', M: 'Modified', D: 'Deleted', U: 'Unchanged' }[k]}
              </label>
            ))}
          </div>
          <label class={`larger ${sizeBad ? 'bad' : ''}`}>
            ≥
            <input
              value={larger}
              placeholder="size"
              size={6}
              aria-label="larger than (e.g. 10K, 2M)"
              onInput={(e) => {
                const v = (e.currentTarget as HTMLInputElement).value;
                setLarger(v);
                const n = parseSize(v);
                setFilter({ ...filter, largerThan: Number.isNaN(n) ? 0 : n });
              }}
            />
          </label>
          <input
            ref={search}
            class="search"
            type="search"
            placeholder="Search the image…  /"
            aria-label="search names across the whole image"
            value={query}
            onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setQuery('');
              // Enter shows the first (largest) hit in the tree.
              if (e.key === 'Enter' && typeof hits === 'object' && hits.entries[0]) pick(hits.entries[0]);
            }}
          />
        </div>
        {layerInfo && (
          <p class="context muted" title={layerInfo.createdBy ?? ''}>
            Layer {mode.layer}: {layerInfo.createdBy ?? 'no history entry'}
          </p>
        )}
        {hits !== undefined ? (
          <Hits hits={hits} onPick={pick} />
        ) : (
          <Tree
            image={image.id}
            mode={mode}
            filter={filter}
            selected={sel?.path}
            reveal={reveal}
            openDirs={openDirs.current}
            onSelect={setSel}
            onOpen={(s) => {
              setSel(s);
              setViewing(s.path);
            }}
          />
        )}
      </section>
      <div class="side">
        {viewing ? (
          <Viewer image={image.id} path={viewing} layer={mode.layer} onClose={() => setViewing(undefined)} />
        ) : (
          <Details image={image.id} sel={sel} onLayer={setLayer} onView={() => sel && setViewing(sel.path)} />
        )}
      </div>
    </div>
  );
}

function Hits({ hits, onPick }: { hits: { total: number; entries: FoundEntry[] } | string; onPick: (h: FoundEntry) => void }) {
  if (typeof hits === 'string') return <p class="error">{hits}</p>;
  return (
    <div class="hits" data-testid="hits">
      <p class="muted small">
        {hits.total} match{hits.total === 1 ? '' : 'es'}
        {hits.total > hits.entries.length ? `, the ${hits.entries.length} largest shown` : ''} · click one to show it in the tree (Enter: the first)
      </p>
      <VirtualList
        count={hits.entries.length}
        rowHeight={26}
        label="search results"
        row={(i) => {
          const h = hits.entries[i];
          return (
            <div class="trow" role="treeitem" tabIndex={-1} data-path={h.path} data-size={h.size} onClick={() => onPick(h)} onKeyDown={(e) => e.key === 'Enter' && onPick(h)}>
              <span class="tname">
                <span class={`ticon t-${h.type}`}>
                  <TypeIcon type={h.type} />
                </span>
                <span class="nm">{h.path}</span>
              </span>
              <span class="tsize">{h.type === 'f' ? bytes(h.size) : ''}</span>
              <span class="tlayer">L{h.layer}</span>
            </div>
          );
        }}
      />
    </div>
  );
}
