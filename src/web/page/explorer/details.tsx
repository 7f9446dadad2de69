/**
 * The side panel of the selected path: what it is, which layer it comes from, every layer that
 * touched it (GET …/versions), what it merges with and what it hides.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { bytes, CHANGE_NAMES, count, modeString, typeName } from '../format';
import type { Version } from '../types';
import type { Selection } from './tree';

interface Props {
  image: string;
  sel?: Selection;
  onView: () => void;
  onLayer: (n: number) => void;
}

const HOW: Record<string, string> = {
  whiteout: 'a whiteout (.wh. file) deletes it',
  opaque: 'an opaque parent directory hides it',
  'replaced-parent': 'a parent was replaced by a non-directory',
};

export function Details({ image, sel, onView, onLayer }: Props) {
  const [versions, setVersions] = useState<Version[] | undefined>();
  const [err, setErr] = useState<string>();
  useEffect(() => {
    setVersions(undefined);
    setErr(undefined);
    if (!sel) return;
    let live = true;
    api.versions(image, sel.path).then(
      (v) => live && setVersions(v.versions),
      (e) => live && setErr(e instanceof ApiError ? e.message : String(e)),
    );
    return () => void (live = false);
  }, [image, sel?.path]);

  if (!sel) {
    return (
      <aside class="details empty" aria-label="path details">
        <p class="muted">Select a path to see where it comes from, every layer that touched it and what it hides.</p>
        <p class="muted small">Keys: ↑ ↓ move · → open · ← close · Enter view file · / search</p>
      </aside>
    );
  }
  const e = sel.entry;
  const o = e.origin;
  return (
    <aside class="details" aria-label="path details" data-testid="details">
      <h2 class="path" title={sel.path}>
        {sel.path}
      </h2>
      <div class="chips">
        <span class="chip">{typeName(e.type)}</span>
        {sel.change && (
          <span class={`chip b-${sel.change}`}>
            {CHANGE_NAMES[sel.change as 'A']}
            {sel.fields ? `: ${sel.fields.join(', ')}` : ''}
          </span>
        )}
        {e.linkgroup && <span class="chip">hard link</span>}
      </div>
      <dl class="kv">
        <dt>Mode</dt>
        <dd>
          <code>{modeString(e.type, e.mode)}</code> ({e.mode})
        </dd>
        <dt>Owner</dt>
        <dd>
          {e.uid}:{e.gid}
        </dd>
        {e.type === 'f' && (
          <>
            <dt>Size</dt>
            <dd>
              {bytes(e.size)} <span class="muted">({count(e.size)} B)</span>
            </dd>
          </>
        )}
        {e.type === 'd' && (
          <>
            <dt>Below</dt>
            <dd>
              {bytes(e.bytes)} in files · {count(e.children)} entries
            </dd>
          </>
        )}
        {e.target && (
          <>
            <dt>{e.type === 'l' ? 'Target' : 'Device'}</dt>
            <dd>
              <code>{e.target}</code>
            </dd>
          </>
        )}
        {e.linkgroup && (
          <>
            <dt>Hard link</dt>
            <dd>
              same inode as <code>{e.linkgroup}</code>
            </dd>
          </>
        )}
        {e.xattrs && (
          <>
            <dt>xattrs</dt>
            <dd>
              <code class="wrap">{e.xattrs}</code>
            </dd>
          </>
        )}
        {!sel.ghost && (
          <>
            <dt>Comes from</dt>
            <dd>
              <button type="button" class="linkish" onClick={() => onLayer(e.layer)}>
                layer {e.layer}
              </button>
            </dd>
          </>
        )}
        {o && o.merges.length > 0 && (
          <>
            <dt>Merges</dt>
            <dd>with the directory of {o.merges.map((l) => `layer ${l}`).join(', ')}</dd>
          </>
        )}
        {o && o.hides.length > 0 && (
          <>
            <dt>Hides</dt>
            <dd data-testid="hides">the copies in {o.hides.map((l) => `layer ${l}`).join(', ')}</dd>
          </>
        )}
      </dl>
      {e.type === 'f' && !sel.ghost && (
        <button type="button" class="primary" onClick={onView}>
          View file ⏎
        </button>
      )}
      <h3>Touched by</h3>
      {err && <p class="error">{err}</p>}
      {!versions && !err && <p class="muted">loading…</p>}
      {versions && (
        <ol class="versions" data-testid="versions">
          {versions.map((v) => (
            <li key={v.layer} class={v.change ? `ch-${v.change}` : ''}>
              <button type="button" class="linkish" onClick={() => onLayer(v.layer)}>
                layer {v.layer}
              </button>
              {v.change && <span class={`badge b-${v.change}`}>{v.change}</span>}
              <span>
                {v.kind === 'deleted'
                  ? (HOW[v.how ?? ''] ?? `deleted (${v.how})`)
                  : `${typeName(v.type ?? '')} ${v.mode ?? ''} ${v.uid}:${v.gid}${v.type === 'f' ? ` · ${bytes(v.size ?? 0)}` : ''}${v.fields ? ` · ${v.fields.join(', ')}` : ''}${!v.change ? ' · no visible change' : ''}`}
              </span>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
