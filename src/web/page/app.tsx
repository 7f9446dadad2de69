/**
 * The page: a header (the image, the tabs, loading another image) and the tab shown. The tab and
 * the image live in the URL's hash (#explore/ID), so reload and back keep them.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';
import { ConfigPanel } from './explorer/config';
import { DiffPanel } from './explorer/diff';
import { Explorer, type Focus } from './explorer/explorer';
import { PAGE } from './explorer/tree-model';
import { TreemapPanel } from './explorer/treemap';
import { WastePanel } from './explorer/waste';
import { bytes } from './format';
import { Lab } from './lab/lab';
import { Loader } from './loader';
import type { ImageDetail, ImageRecord, ServerInfo } from './types';

const TABS = [
  ['explore', 'Explorer'],
  ['waste', 'Wasted space'],
  ['treemap', 'Treemap'],
  ['diff', 'Compare'],
  ['config', 'Config'],
  ['lab', 'Lab'],
] as const;
type Tab = (typeof TABS)[number][0];

function fromHash(): { tab: Tab; image?: string } {
  const [t, id] = location.hash.replace(/^#/, '').split('/');
  return { tab: (TABS.some((x) => x[0] === t) ? t : 'explore') as Tab, image: id ? decodeURIComponent(id) : undefined };
}

export function App() {
  const [info, setInfo] = useState<ServerInfo>();
  const [images, setImages] = useState<ImageRecord[]>();
  const [route, setRoute] = useState(fromHash);
  const [detail, setDetail] = useState<ImageDetail>();
  const [err, setErr] = useState<string>();
  const [focus, setFocus] = useState<Focus>();

  const loadImages = () =>
    api.images().then((r) => {
      setImages(r.images);
      return r.images;
    });

  useEffect(() => {
    const info = api.info().then(setInfo, () => undefined);
    Promise.all([loadImages(), info]).catch((e) => setErr(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)));
    const h = () => setRoute(fromHash());
    addEventListener('hashchange', h);
    return () => removeEventListener('hashchange', h);
  }, []);

  // The image shown: the hash's, else the first named on the command line, else the first listed.
  const id = route.image ?? info?.images?.[0] ?? images?.[0]?.id;
  useEffect(() => {
    if (!id) return;
    setDetail(undefined);
    setErr(undefined);
    // The explorer's first level (the image after its last layer) is fetched beside the report it waits for.
    if (route.tab === 'explore') api.prefetchTree(id, { path: '/', offset: 0, limit: PAGE, sort: 'name' });
    api.image(id).then(setDetail, (e) => setErr(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)));
  }, [id]);

  const go = (tab: Tab, image = id) => {
    location.hash = `${tab}${image ? `/${encodeURIComponent(image)}` : ''}`;
  };
  const name = (i: ImageRecord) => i.tags[0] ?? i.id.slice(0, 12);

  return (
    <div class="app">
      <header class="top">
        <div class="brand">
          <svg width="20" height="20" viewBox="0 0 16 16" aria-hidden="true">
            <rect x="1" y="9" width="14" height="5" rx="1" fill="#3b82f6" />
            <rect x="3" y="5" width="10" height="4" rx="1" fill="#60a5fa" />
            <rect x="5" y="1" width="6" height="4" rx="1" fill="#93c5fd" />
          </svg>
          layerfs
        </div>
        {images && images.length > 0 && (
          <select class="imgpick" value={id} aria-label="image" data-testid="image-select" onChange={(e) => go(route.tab, (e.currentTarget as HTMLSelectElement).value)}>
            {images.map((i) => (
              <option key={i.id} value={i.id}>
                {name(i)} ({bytes(i.size)})
              </option>
            ))}
          </select>
        )}
        <div class="tabs" role="tablist" aria-label="views">
          {TABS.map(([t, label], i) => (
            <a
              key={t}
              role="tab"
              aria-selected={route.tab === t}
              class={route.tab === t ? 'on' : ''}
              href={`#${t}${id ? `/${encodeURIComponent(id)}` : ''}`}
              title={`${label} (Alt+${i + 1})`}
              data-testid={`tab-${t}`}
            >
              {label}
            </a>
          ))}
        </div>
        <span class="grow" />
        <Loader info={info} onLoaded={(i) => loadImages().then(() => go(route.tab, i.id))} />
      </header>
      <Keys onTab={(i) => go(TABS[i][0])} />
      <main class="body">
        {err && (
          <p class="error pad" role="alert">
            {err}
          </p>
        )}
        {images && images.length === 0 && route.tab !== 'lab' && (
          <div class="labempty">
            <h2>No images yet</h2>
            <p>
              Start with <code>layerfs serve IMAGE</code>, or load an archive (top right, or drop it here).
            </p>
          </div>
        )}
        {id && !detail && !err && route.tab !== 'lab' && <p class="muted pad">Opening the image…</p>}
        {detail && route.tab === 'explore' && <Explorer key={detail.id} image={detail} focus={focus} />}
        {detail && route.tab === 'waste' && (
          <WastePanel
            image={detail.id}
            onPath={(path, layer) => {
              setFocus({ path, layer });
              go('explore');
            }}
          />
        )}
        {detail && route.tab === 'treemap' && (
          <TreemapPanel
            image={detail.id}
            onPath={(path) => {
              setFocus({ path });
              go('explore');
            }}
          />
        )}
        {detail && route.tab === 'diff' && images && <DiffPanel image={detail.id} images={images} />}
        {detail && route.tab === 'config' && <ConfigPanel image={detail.id} />}
        {route.tab === 'lab' && images && id && <Lab images={images} image={id} info={info} onImages={() => void loadImages()} />}
      </main>
    </div>
  );
}

/** Alt+1…6 switch tabs. */
function Keys({ onTab }: { onTab: (i: number) => void }) {
  useEffect(() => {
    const k = (e: KeyboardEvent) => {
      if (e.altKey && e.key >= '1' && e.key <= String(TABS.length)) {
        e.preventDefault();
        onTab(Number(e.key) - 1);
      }
    };
    addEventListener('keydown', k);
    return () => removeEventListener('keydown', k);
  }, [onTab]);
  return null;
}
