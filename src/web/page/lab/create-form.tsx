/** The lab's "new container" form: image, name, mounts (named/anonymous volumes, tmpfs, binds), --volumes-from, read-only root, strategy. */
import { useState } from 'preact/hooks';
import type { ContainerRecord, ImageRecord, MountRecord, ServerInfo, Strategy } from '../types';
import type { CreateSpec } from './store';

type Kind = 'named' | 'anonymous' | 'tmpfs' | 'bind';
interface MountRow {
  kind: Kind;
  source: string;
  target: string;
  ro: boolean;
}

/** The `docker run` flags of a create spec (shown beside the form and in the log). */
export function dockerFlags(s: CreateSpec): string {
  const f: string[] = [];
  if (s.name) f.push(`--name ${s.name}`);
  if (s.readOnly) f.push('--read-only');
  for (const m of s.mounts) {
    if (m.type === 'tmpfs') f.push(`--tmpfs ${m.target}`);
    else if (m.type === 'bind') f.push(`-v ./${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
    // An anonymous volume (64 hex digits, named by the engine) is written as docker takes it: `-v /target`.
    else f.push(`-v ${m.source && !/^[0-9a-f]{64}$/.test(m.source) ? `${m.source}:` : ''}${m.target}${m.readOnly ? ':ro' : ''}`);
  }
  for (const v of s.volumesFrom) f.push(`--volumes-from ${v.container}${v.mode ? `:${v.mode}` : ''}`);
  return f.join(' ');
}

export function CreateForm({
  images,
  image,
  containers,
  info,
  busy,
  onCreate,
}: {
  images: ImageRecord[];
  image: string;
  containers: ContainerRecord[];
  info?: ServerInfo;
  busy: boolean;
  onCreate: (s: CreateSpec) => void;
}) {
  const [img, setImg] = useState(image);
  const [name, setName] = useState('');
  const [ro, setRo] = useState(false);
  const [strategy, setStrategy] = useState<Strategy>('full');
  const [mounts, setMounts] = useState<MountRow[]>([]);
  const [from, setFrom] = useState<Array<{ container: string; mode: 'rw' | 'ro' }>>([]);
  const spec = (): CreateSpec => ({
    image: img,
    name: name.trim() || undefined,
    readOnly: ro,
    copyUp: strategy,
    mounts: mounts
      .filter((m) => m.target.startsWith('/'))
      .map((m): MountRecord => {
        if (m.kind === 'tmpfs') return { type: 'tmpfs', target: m.target };
        if (m.kind === 'bind') return { type: 'bind', source: m.source, target: m.target, readOnly: m.ro };
        return { type: 'volume', ...(m.kind === 'named' ? { source: m.source } : {}), target: m.target, readOnly: m.ro };
      }),
    volumesFrom: from.filter((f) => f.container),
  });
  const set = (i: number, m: Partial<MountRow>) => setMounts(mounts.map((x, j) => (j === i ? { ...x, ...m } : x)));
  const imgName = (i: ImageRecord) => i.tags[0] ?? i.id.slice(0, 12);
  return (
    <form
      class="create"
      data-testid="create-form"
      onSubmit={(e) => {
        e.preventDefault();
        onCreate(spec());
      }}
    >
      <h3>New container</h3>
      <label>
        Image{' '}
        <select value={img} onChange={(e) => setImg((e.currentTarget as HTMLSelectElement).value)}>
          {images.map((i) => (
            <option key={i.id} value={i.id}>
              {imgName(i)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Name <input value={name} placeholder="(generated)" onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} data-testid="create-name" />
      </label>
      <label>
        Copy-up{' '}
        <select value={strategy} onChange={(e) => setStrategy((e.currentTarget as HTMLSelectElement).value as Strategy)}>
          <option value="full">full (overlayfs default)</option>
          <option value="metadata">metadata (metacopy=on)</option>
          <option value="chunked">chunked (written extents)</option>
        </select>
      </label>
      <label class="check">
        <input type="checkbox" checked={ro} onChange={() => setRo(!ro)} /> read-only root
      </label>
      {mounts.map((m, i) => (
        <div class="mountrow" key={i}>
          <select value={m.kind} aria-label="mount type" onChange={(e) => set(i, { kind: (e.currentTarget as HTMLSelectElement).value as Kind })}>
            <option value="named">named volume</option>
            <option value="anonymous">anonymous volume</option>
            <option value="tmpfs">tmpfs</option>
            <option value="bind" disabled={info ? !info.bindRoot : false}>
              bind{info && !info.bindRoot ? ' (needs --bind-root)' : ''}
            </option>
          </select>
          {(m.kind === 'named' || m.kind === 'bind') && (
            <input
              value={m.source}
              placeholder={m.kind === 'bind' ? 'dir under bind root' : 'volume name'}
              aria-label="source"
              onInput={(e) => set(i, { source: (e.currentTarget as HTMLInputElement).value })}
            />
          )}
          <input value={m.target} placeholder="/path" aria-label="target in the container" onInput={(e) => set(i, { target: (e.currentTarget as HTMLInputElement).value })} />
          {m.kind !== 'tmpfs' && (
            <label class="check small">
              <input type="checkbox" checked={m.ro} onChange={() => set(i, { ro: !m.ro })} />
              ro
            </label>
          )}
          <button type="button" class="ghostbtn" aria-label="remove this mount" onClick={() => setMounts(mounts.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      {from.map((f, i) => (
        <div class="mountrow" key={`f${i}`}>
          <span class="small">volumes from</span>
          <select
            value={f.container}
            aria-label="container to take volumes from"
            onChange={(e) => setFrom(from.map((x, j) => (j === i ? { ...x, container: (e.currentTarget as HTMLSelectElement).value } : x)))}
          >
            <option value="">choose…</option>
            {containers.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          <select value={f.mode} aria-label="mode" onChange={(e) => setFrom(from.map((x, j) => (j === i ? { ...x, mode: (e.currentTarget as HTMLSelectElement).value as 'ro' | 'rw' } : x)))}>
            <option value="rw">rw</option>
            <option value="ro">ro</option>
          </select>
          <button type="button" class="ghostbtn" aria-label="remove" onClick={() => setFrom(from.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <div class="row">
        <button type="button" onClick={() => setMounts([...mounts, { kind: 'named', source: 'data', target: '/data', ro: false }])}>
          + mount
        </button>
        <button type="button" onClick={() => setFrom([...from, { container: '', mode: 'rw' }])} disabled={containers.length === 0}>
          + volumes-from
        </button>
      </div>
      <code class="docker small">
        docker run -it {dockerFlags(spec())} {images.find((i) => i.id === img)?.tags[0] ?? 'IMAGE'} sh
      </code>
      <button class="primary" type="submit" disabled={busy || !img} data-testid="create">
        Create and open
      </button>
    </form>
  );
}
