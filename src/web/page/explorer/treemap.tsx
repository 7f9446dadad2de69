/**
 * A size treemap of the merged image (GET …/sizes, three levels deep), laid out by d3-hierarchy's
 * squarified treemap. Click a directory to zoom in, the path bar to zoom out; a file opens in the
 * explorer.
 */
import { hierarchy, treemap, treemapSquarify, type HierarchyRectangularNode } from 'd3-hierarchy';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { bytes, count } from '../format';
import type { SizeNode } from '../types';

const PALETTE = ['#3b82f6', '#10b981', '#f59e0b', '#8b5cf6', '#ef4444', '#06b6d4', '#84cc16', '#ec4899', '#6366f1', '#14b8a6'];

export function TreemapPanel({ image, onPath }: { image: string; onPath: (p: string) => void }) {
  const [path, setPath] = useState('/');
  const [data, setData] = useState<SizeNode>();
  const [err, setErr] = useState<string>();
  const box = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ w: 900, h: 560 });
  useLayoutEffect(() => {
    const el = box.current!;
    const fit = () => setSize({ w: el.clientWidth || 900, h: el.clientHeight || 560 });
    // biome-ignore lint/suspicious/noFocusedTests: fit() is the treemap's own resize, not a focused test
    fit();
    const ro = new ResizeObserver(fit);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  useEffect(() => {
    setErr(undefined);
    api.sizes(image, path, 3).then(setData, (e) => setErr(String(e.message ?? e)));
  }, [image, path]);

  const leaves = useMemo(() => {
    if (!data) return [];
    const root = hierarchy<SizeNode>(data, (d) => (d.type === 'd' ? d.children : undefined))
      .sum((d) => (d.type === 'd' && d.children?.length ? 0 : Math.max(d.bytes, 0)))
      .sort((a, b) => (b.value ?? 0) - (a.value ?? 0));
    treemap<SizeNode>()
      .tile(treemapSquarify)
      .size([size.w, size.h])
      .paddingInner(2)
      .paddingTop((n) => (n.depth > 0 && n.depth < 3 ? 18 : 0))
      .round(true)(root);
    return (root as HierarchyRectangularNode<SizeNode>).descendants().filter((n) => n.depth > 0);
  }, [data, size]);

  const parts = path.split('/').filter(Boolean);
  return (
    <div class="panel treemap-panel" data-testid="treemap">
      <nav class="crumbs" aria-label="treemap path">
        <button type="button" class="linkish" onClick={() => setPath('/')}>
          /
        </button>
        {parts.map((p, i) => (
          <span key={i}>
            {' '}
            <button type="button" class="linkish" onClick={() => setPath('/' + parts.slice(0, i + 1).join('/'))}>
              {p}
            </button>{' '}
            /
          </span>
        ))}
        {data && (
          <span class="muted">
            {' '}
            · {bytes(data.bytes)} in {count(data.files)} files
          </span>
        )}
      </nav>
      {err && <p class="error">{err}</p>}
      <div class="treemap" ref={box}>
        <svg width={size.w} height={size.h} role="img" aria-label={`treemap of ${path}`}>
          {leaves.map((n) => {
            const top = n.ancestors().find((a) => a.depth === 1)!;
            const colour = PALETTE[(top.parent?.children?.indexOf(top) ?? 0) % PALETTE.length];
            const w = n.x1 - n.x0;
            const h = n.y1 - n.y0;
            if (w < 1 || h < 1) return null;
            const dir = n.data.type === 'd';
            return (
              <g
                key={n.data.path}
                transform={`translate(${n.x0},${n.y0})`}
                class={dir ? 'tm-dir' : 'tm-file'}
                data-path={n.data.path}
                data-bytes={n.data.bytes}
                data-depth={n.depth}
                data-w={w}
                data-h={h}
                onClick={(e) => {
                  e.stopPropagation();
                  if (dir) setPath(n.data.path);
                  else onPath(n.data.path);
                }}
              >
                <title>
                  {n.data.path} · {bytes(n.data.bytes)}
                  {dir ? ` · ${count(n.data.files)} files` : ''}
                </title>
                <rect width={w} height={h} fill={colour} fill-opacity={dir ? 0.16 + 0.1 * (n.depth - 1) : 0.78} stroke={colour} stroke-opacity={0.6} rx={3} />
                {w > 44 && h > 14 && (
                  <text x={4} y={13} class={dir ? 'tm-label dir' : 'tm-label'}>
                    {clip(n.data.name, w)}
                    {w > 120 ? ` ${bytes(n.data.bytes)}` : ''}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
    </div>
  );
}

const clip = (s: string, w: number): string => {
  const n = Math.max(1, Math.floor((w - 8) / 7));
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
};
