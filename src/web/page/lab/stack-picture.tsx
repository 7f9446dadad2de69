/**
 * The live picture of a container's filesystem, top down as the kernel resolves a path: its
 * mounts, the container layer, the image layers. The last command's events are drawn in the box
 * where each landed: a copy-up (bytes, strategy) or a whiteout in the container layer, a write in a
 * volume, a bind or a tmpfs.
 */
import { bytes, short } from '../format';
import type { LabEvent, Stack } from '../types';

/** An anonymous volume's name is 64 hex digits, as Docker makes them: shown short. */
export const volumeName = (name?: string): string => (!name ? '(anonymous)' : /^[0-9a-f]{64}$/.test(name) ? `${name.slice(0, 12)} (anonymous)` : name);
const mountName = (m: Stack['mounts'][number]) => (m.type === 'volume' ? `volume ${volumeName(m.source)}` : m.type === 'bind' ? `bind ${m.source ?? ''}` : 'tmpfs');

export function describe(e: LabEvent): string {
  switch (e.kind) {
    case 'copy-up':
      if (e.type === 'dir') return `copy-up ${e.path}: directory (its metadata, no data)`;
      return `copy-up ${e.path}: ${e.data === false ? 'metadata only, 0 B of data' : `${bytes(e.bytes ?? 0)} copied`} (${e.strategy})`;
    case 'copy-data':
      return `data copied for ${e.path}: ${bytes(e.bytes ?? 0)} (${e.strategy})`;
    case 'whiteout':
      return `whiteout ${e.path}: hides the image's copy`;
    case 'opaque':
      return `opaque directory ${e.path}: hides everything below it in the image`;
    case 'write':
      return `write ${e.path}: ${bytes(e.bytes ?? 0)} into ${e.mountKind === 'layer' ? 'the container layer' : `${e.mountKind} ${e.mountKind === 'volume' ? volumeName(e.source) : (e.source ?? e.mount ?? '')}`}`;
    default:
      return `${e.kind} ${e.path}`;
  }
}

/** Which box an event lands in: a mount's target, or '' for the container layer. */
function where(e: LabEvent): string {
  if (e.kind === 'write' && e.mountKind && e.mountKind !== 'layer') return e.mount ?? '';
  return '';
}

export function StackPicture({ stack, events, name }: { stack: Stack; events: LabEvent[]; name: string }) {
  const inLayer = events.filter((e) => where(e) === '');
  const cl = stack.containerLayer;
  return (
    <figure class="stackpic" data-testid="stack" aria-label={`what ${name}'s filesystem is made of`}>
      {stack.mounts.length > 0 && <div class="stitle">Mounts (over the union)</div>}
      {stack.mounts.map((m) => {
        const hits = events.filter((e) => where(e) === m.target);
        return (
          <div key={m.target} class={`box mount m-${m.type} ${hits.length ? 'hit' : ''}`} data-testid={`mount-${m.target}`}>
            <div class="bhead">
              <strong>{m.target}</strong>{' '}
              <span class="muted">
                {mountName(m)}
                {m.readOnly ? ' · ro' : ''}
              </span>
            </div>
            {hits.map((e, i) => (
              <div key={i} class={`ev ev-${e.kind}`}>
                {describe(e)}
              </div>
            ))}
          </div>
        );
      })}
      <div class="stitle">Union of layers{stack.readOnlyRoot ? ' (read-only root)' : ''}</div>
      <div class={`box upper ${inLayer.length ? 'hit' : ''}`} data-testid="container-layer">
        <div class="bhead">
          <strong>Container layer</strong>{' '}
          <span class="muted">
            writable · {cl.entries} entries · {bytes(cl.bytes)} · copy-up {stack.copyUp}
          </span>
        </div>
        {inLayer.map((e, i) => (
          <div key={i} class={`ev ev-${e.kind}`}>
            {describe(e)}
          </div>
        ))}
        {cl.paths.length > 0 && (
          <ul class="plain upaths">
            {cl.paths.slice(0, 40).map((p) => (
              <li key={p.path} class={`up-${p.type === 'whiteout' || p.type === 'opaque' ? p.type : p.status}`}>
                <span class="mono">{p.path}</span>{' '}
                <span class="muted small">{p.type === 'whiteout' ? 'whiteout' : p.type === 'opaque' ? 'opaque dir' : `${p.status ?? ''}${p.type === 'f' ? ` · ${bytes(p.size ?? 0)}` : ''}`}</span>
              </li>
            ))}
            {cl.paths.length > 40 && <li class="muted">… {cl.paths.length - 40} more</li>}
          </ul>
        )}
      </div>
      {[...stack.layers].reverse().map((l) => (
        <div key={l.layer} class="box lower">
          <div class="bhead">
            <strong>Layer {l.layer}</strong>{' '}
            <span class="muted">
              read-only · {bytes(l.size)} · {short(l.digest)}
            </span>
          </div>
          <div class="small muted clip" title={l.createdBy ?? ''}>
            {l.createdBy ?? ''}
          </div>
        </div>
      ))}
    </figure>
  );
}
