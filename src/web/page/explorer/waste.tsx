/**
 * Wasted space by cause (GET …/waste): bytes the image stores that nobody sees, as a stacked bar with
 * each cause explained, then every wasted path with its copies, the layer that hid each and why.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { bytes, count, pct } from '../format';
import type { Cause, Waste } from '../types';

const CAUSES: Array<{ key: Cause; name: string; explain: string }> = [
  { key: 'overwritten', name: 'Overwritten', explain: 'a later layer wrote new bytes at the same path; the old copy stays in its layer' },
  { key: 'deleted', name: 'Deleted later', explain: 'a later layer deleted the file (a whiteout, an opaque directory, or its parent replaced): deleting never shrinks an image' },
  { key: 'metadata-duplicate', name: 'Metadata-only duplicate', explain: 'a chmod or chown in a later layer copied the whole file into that layer with the same bytes' },
  { key: 'duplicate', name: 'Identical rewrite', explain: 'a later layer stored the same bytes and metadata again' },
  { key: 'hidden', name: 'Otherwise hidden', explain: 'not visible in the final image for another reason' },
];

const CHANGED: Record<string, string> = { mode: 'chmod', owner: 'chown', xattrs: 'setfattr' };

/** `onPath(path, layer)`: show a wasted path in the image after the layer that stored its first copy (where it is visible). */
export function WastePanel({ image, onPath }: { image: string; onPath: (p: string, layer: number) => void }) {
  const [w, setW] = useState<Waste>();
  const [err, setErr] = useState<string>();
  useEffect(() => {
    api.waste(image).then(setW, (e) => setErr(String(e.message ?? e)));
  }, [image]);
  if (err) return <p class="error pad">{err}</p>;
  if (!w) return <p class="muted pad">loading…</p>;
  const causes = w.causes ?? {};
  return (
    <div class="panel waste" data-testid="waste">
      <div class="score wide">
        <div>
          <div class="big">{pct(w.efficiency)}</div>
          <div class="muted">efficiency (1 − wasted / total)</div>
        </div>
        <div>
          <div class="big">{bytes(w.wastedBytes)}</div>
          <div class="muted">wasted in {count(w.paths.length)} paths</div>
        </div>
        <div>
          <div class="big">{bytes(w.totalBytes)}</div>
          <div class="muted">file bytes in all layers</div>
        </div>
        <div>
          <div class="big">{pct(w.userWastedRatio)}</div>
          <div class="muted">user wasted: of the {bytes(w.userBytes)} above the base layer</div>
        </div>
      </div>
      {w.wastedBytes > 0 && (
        <div class="stackbar" role="img" aria-label="wasted bytes by cause">
          {CAUSES.filter((c) => (causes[c.key] ?? 0) > 0).map((c) => (
            <span key={c.key} class={`sb-${c.key}`} style={{ flexGrow: causes[c.key] }} title={`${c.name}: ${bytes(causes[c.key]!)}`} />
          ))}
        </div>
      )}
      <ul class="causes">
        {CAUSES.filter((c) => c.key !== 'hidden' || (causes.hidden ?? 0) > 0).map((c) => (
          <li key={c.key} data-cause={c.key} data-bytes={causes[c.key] ?? 0}>
            <div class="chead">
              <span class={`swatch sb-${c.key}`} />
              <strong>{c.name}</strong>
              <span class="grow" />
              <span class="num">{bytes(causes[c.key] ?? 0)}</span>
            </div>
            <div class="muted small">{c.explain}</div>
          </li>
        ))}
      </ul>
      <h3>Wasted paths, largest first</h3>
      {w.paths.length === 0 && <p class="muted">Nothing wasted: every stored byte is visible in the final image.</p>}
      <table class="grid">
        <thead>
          <tr>
            <th>Path</th>
            <th class="num">Wasted</th>
            <th>Copies</th>
          </tr>
        </thead>
        <tbody>
          {w.paths.slice(0, 500).map((p) => (
            <tr key={p.path} data-path={p.path} data-bytes={p.bytes}>
              <td>
                <button
                  type="button"
                  class="linkish mono"
                  onClick={() => onPath(p.path, Math.min(...p.copies.map((c) => c.layer)))}
                  title={`show it in the image after layer ${Math.min(...p.copies.map((c) => c.layer))}`}
                >
                  {p.path}
                </button>
              </td>
              <td class="num">{bytes(p.bytes)}</td>
              <td>
                {p.copies.map((c, i) => (
                  <div key={i} class="small" data-layer={c.layer} data-cause={c.cause ?? c.reason} data-bytes={c.bytes}>
                    layer {c.layer}: {bytes(c.bytes)} <span class={`cause sb-${c.cause ?? c.reason}`}>{CAUSES.find((x) => x.key === (c.cause ?? c.reason))?.name ?? c.reason}</span>
                    {c.by !== undefined && <> by layer {c.by}</>}
                    {c.changed?.length ? <> ({c.changed.map((f) => CHANGED[f] ?? f).join(', ')})</> : null}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {w.paths.length > 500 && (
        <p class="muted">
          … {count(w.paths.length - 500)} more paths (see GET /api/images/{image}/waste)
        </p>
      )}
    </div>
  );
}
