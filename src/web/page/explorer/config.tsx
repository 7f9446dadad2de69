/** The image config (GET …/config): the run settings, labels, and the history with its empty layers. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import type { Config } from '../types';

const KEYS = ['Entrypoint', 'Cmd', 'WorkingDir', 'User', 'Env', 'Volumes', 'ExposedPorts', 'Labels', 'StopSignal'] as const;

function show(v: unknown) {
  if (v === null || v === undefined) return <span class="muted">not set</span>;
  if (Array.isArray(v))
    return (
      <ul class="plain mono">
        {v.map((x, i) => (
          <li key={i}>{String(x)}</li>
        ))}
      </ul>
    );
  if (typeof v === 'object') {
    const e = Object.entries(v as Record<string, unknown>);
    if (!e.length) return <span class="muted">empty</span>;
    return (
      <ul class="plain mono">
        {e.map(([k, x]) => (
          <li key={k}>
            {k}
            {typeof x === 'string' ? `=${x}` : ''}
          </li>
        ))}
      </ul>
    );
  }
  return <code>{String(v)}</code>;
}

export function ConfigPanel({ image }: { image: string }) {
  const [c, setC] = useState<Config>();
  const [err, setErr] = useState<string>();
  useEffect(() => {
    api.config(image).then(setC, (e) => setErr(String(e.message ?? e)));
  }, [image]);
  if (err) return <p class="error pad">{err}</p>;
  if (!c) return <p class="muted pad">loading…</p>;
  return (
    <div class="panel" data-testid="config">
      <div class="cols">
        <section>
          <h3>Runs as</h3>
          <dl class="kv">
            {KEYS.map((k) => (
              <>
                <dt key={k}>{k}</dt>
                <dd>{show(c[k])}</dd>
              </>
            ))}
            <dt>Platform</dt>
            <dd>
              {c.os ?? '?'}/{c.architecture ?? '?'}
            </dd>
            <dt>Created</dt>
            <dd>{c.created ?? <span class="muted">unknown</span>}</dd>
          </dl>
        </section>
        <section>
          <h3>
            History ({c.history.length} steps, {c.history.filter((h) => h.empty_layer).length} without a layer)
          </h3>
          <ol class="history">
            {c.history.map((h, i) => (
              <li key={i} class={h.empty_layer ? 'empty' : ''}>
                <span class="lnum">{h.layer ?? '∅'}</span>
                <div>
                  <div class="mono">{h.created_by ?? <em class="muted">no created_by</em>}</div>
                  <div class="muted small">
                    {h.created ?? ''}
                    {h.comment ? ` · ${h.comment}` : ''}
                    {h.empty_layer ? ' · empty layer (config only)' : ''}
                  </div>
                </div>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </div>
  );
}
