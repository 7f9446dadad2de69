/** The layer list: one card per layer with created_by, sizes, A/M/D counts; the image's efficiency on top. */
import { bytes, count, pct, short } from '../format';
import type { ImageDetail } from '../types';

interface Props {
  image: ImageDetail;
  selected: number;
  onSelect: (layer: number) => void;
}

export function LayerList({ image, selected, onSelect }: Props) {
  const w = image.waste;
  const key = (e: KeyboardEvent) => {
    const n = image.layers.length;
    if (e.key === 'ArrowDown' || e.key === 'j') onSelect(Math.min(n, selected + 1));
    else if (e.key === 'ArrowUp' || e.key === 'k') onSelect(Math.max(1, selected - 1));
    else return;
    e.preventDefault();
  };
  return (
    <section class="layers" aria-label="layers">
      <div class="score">
        <div>
          <div class="big" data-testid="efficiency">
            {pct(w.efficiency)}
          </div>
          <div class="muted">efficiency</div>
        </div>
        <div>
          <div class="big">{bytes(w.wastedBytes)}</div>
          <div class="muted">wasted of {bytes(w.totalBytes)}</div>
        </div>
        <div>
          <div class="big">{image.layers.length}</div>
          <div class="muted">layers</div>
        </div>
      </div>
      <div class="layer-list" role="listbox" aria-label="layers, bottom first" tabIndex={0} onKeyDown={key} data-testid="layers">
        {image.layers.map((l) => (
          <div key={l.layer} role="option" aria-selected={l.layer === selected} class={`layer ${l.layer === selected ? 'sel' : ''}`} data-layer={l.layer} onClick={() => onSelect(l.layer)}>
            <div class="lhead">
              <span class="lnum">{l.layer}</span>
              <span class="lby" title={l.createdBy ?? ''}>
                {l.createdBy ?? <em class="muted">no history entry</em>}
              </span>
            </div>
            <div class="lmeta">
              <span title={`uncompressed tar ${count(l.size)} B; stored ${count(l.compressedSize)} B`}>
                {bytes(l.size)}
                {l.compressedSize !== l.size && <span class="muted"> · {bytes(l.compressedSize)} stored</span>}
              </span>
              <span class="counts">
                <span class="c-A" title="added">
                  +{count(l.added)}
                </span>
                <span class="c-M" title="modified">
                  ~{count(l.modified)}
                </span>
                <span class="c-D" title="deleted">
                  −{count(l.deleted)}
                </span>
              </span>
            </div>
            <div class="lmeta muted">
              <code>{short(l.digest)}</code>
              {(l.wastedBytes ?? 0) > 0 && (
                <span class="c-D" title="bytes of this layer's files that the final image does not show">
                  {bytes(l.wastedBytes!)} wasted
                </span>
              )}
            </div>
          </div>
        ))}
      </div>
    </section>
  );
}
