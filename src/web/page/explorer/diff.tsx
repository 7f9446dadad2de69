/** Two images compared path by path (GET /api/diff): what the second adds, removes and changes. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { bytes, count } from '../format';
import type { DiffSide, ImageDiff, ImageRecord } from '../types';

const name = (i: ImageRecord) => i.tags[0] ?? i.id.slice(0, 12);

export function DiffPanel({ image, images }: { image: string; images: ImageRecord[] }) {
  const others = images.filter((i) => i.id !== image);
  const [b, setB] = useState(others[0]?.id ?? '');
  const [d, setD] = useState<ImageDiff>();
  const [err, setErr] = useState<string>();
  useEffect(() => {
    setD(undefined);
    setErr(undefined);
    if (b) api.diff(image, b).then(setD, (e) => setErr(String(e.message ?? e)));
  }, [image, b]);
  const a = images.find((i) => i.id === image);
  return (
    <div class="panel" data-testid="diff-images">
      <div class="toolbar">
        <span>
          From <strong>{a ? name(a) : image.slice(0, 12)}</strong> to
        </span>
        <select value={b} onChange={(e) => setB((e.currentTarget as HTMLSelectElement).value)} aria-label="image to compare with">
          {others.length === 0 && <option value="">(load a second image)</option>}
          {others.map((i) => (
            <option key={i.id} value={i.id}>
              {name(i)}
            </option>
          ))}
        </select>
      </div>
      {err && <p class="error">{err}</p>}
      {!b && <p class="muted">Only one image is loaded: load another one (top right) to compare.</p>}
      {d && (
        <div class="cols three">
          <List title="Added" cls="A" rows={d.filter((x) => x.kind === 'A').map((x) => ({ path: x.path, note: side(x.after) }))} />
          <List title="Removed" cls="D" rows={d.filter((x) => x.kind === 'D').map((x) => ({ path: x.path, note: side(x.before) }))} />
          <List
            title="Changed"
            cls="M"
            rows={d
              .filter((x) => x.kind === 'C')
              .map((x) => ({
                path: x.path,
                fields: x.fields,
                note: `${(x.fields ?? []).join(', ')}${x.before?.type === 'f' && x.after?.type === 'f' && x.before.size !== x.after.size ? ` · ${bytes(x.before.size)} → ${bytes(x.after.size)}` : ''}`,
              }))}
          />
        </div>
      )}
    </div>
  );
}

const side = (x: DiffSide | undefined): string => (x === undefined ? '' : x.type === 'f' ? bytes(x.size) : x.type);

function List({ title, cls, rows }: { title: string; cls: string; rows: Array<{ path: string; note: string; fields?: string[] }> }) {
  return (
    <section>
      <h3>
        <span class={`badge b-${cls}`}>{cls}</span> {title} <span class="muted">{count(rows.length)}</span>
      </h3>
      <ul class="plain difflist">
        {rows.slice(0, 1000).map((r) => (
          <li key={r.path} data-kind={cls === 'M' ? 'C' : cls} data-path={r.path} data-fields={r.fields?.join(',') ?? ''}>
            <span class="mono">{r.path}</span> <span class="muted small">{r.note}</span>
          </li>
        ))}
        {rows.length > 1000 && <li class="muted">… {count(rows.length - 1000)} more</li>}
      </ul>
    </section>
  );
}
