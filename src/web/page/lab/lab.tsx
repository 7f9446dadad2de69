/**
 * The container lab: containers and volumes on the left (with the new-container form), the shell
 * of the open container in the middle, the live stack picture on the right; the strategy switch,
 * commit and rm above the terminal; the guided lessons on top of it all.
 */
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { api } from '../api';
import { bytes } from '../format';
import type { ImageRecord, ServerInfo, Strategy } from '../types';
import { CreateForm, dockerFlags } from './create-form';
import { LessonRunner } from './lesson';
import { LESSONS, type Lesson, type LessonCtx } from './lessons';
import { StackPicture } from './stack-picture';
import { LabStore } from './store';
import { Terminal } from './terminal';

interface Props {
  images: ImageRecord[];
  image: string;
  info?: ServerInfo;
  onImages: () => void;
}

const store = new LabStore();

export function Lab({ images, image, info, onImages }: Props) {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = () => bump(undefined);
  useEffect(() => store.subscribe(redraw), []);
  useEffect(() => void store.refresh().catch(() => undefined), []);
  const [lesson, setLesson] = useState<Lesson>();
  const [ctx, setCtx] = useState<LessonCtx>();
  const [tag, setTag] = useState('localhost/lab:v1');
  const [rmVolumes, setRmVolumes] = useState(false);

  const cur = store.current ? store.byName(store.current) : undefined;
  const stack = store.current ? store.stacks.get(store.current) : undefined;
  const lines = useMemo(() => store.log.filter((l) => l.container === store.current || (cur && l.container === cur.id)), [store.log, store.current]);
  const lastCwd = [...lines].reverse().find((l) => !l.action)?.cwd || '/';
  const imgName = (id: string) => images.find((i) => i.id === id)?.tags[0] ?? id.slice(0, 12);
  const quiet = (p: Promise<unknown>) => void p.catch(() => undefined);

  const startLesson = async (l: Lesson) => {
    // The files a lesson works on: a small one (a text file under /etc when there is one) and the largest.
    const found = await api.find(image, '*', { type: 'f', limit: 5000 });
    const files = found.entries.filter((e) => e.size > 0);
    const small = files.find((e) => e.path.startsWith('/etc/') && e.size < 4096) ?? files[files.length - 1];
    const big = files[0];
    const run = Date.now().toString(36).slice(-4);
    setCtx({
      store,
      image,
      imageName: imgName(image),
      small: small?.path ?? '/etc/hostname',
      big: big?.path ?? small?.path ?? '/etc/hostname',
      bigSize: big?.size ?? 0,
      bindRoot: !!info?.bindRoot,
      n: (b) => `${b}-${run}`,
    });
    setLesson(l);
  };

  return (
    <div class="lab">
      <aside class="labside">
        <section>
          <h3>Lessons</h3>
          <ul class="plain lessons">
            {LESSONS.map((l) => {
              const off = l.needsBind && info && !info.bindRoot;
              return (
                <li key={l.id}>
                  <button
                    type="button"
                    class="linkish"
                    disabled={!!off}
                    onClick={() => startLesson(l)}
                    data-testid={`lesson-${l.id}`}
                    title={off ? 'start layerfs serve with --bind-root DIR for binds' : l.summary}
                  >
                    {l.title}
                  </button>
                  {off && <div class="muted small">needs layerfs serve --bind-root DIR</div>}
                </li>
              );
            })}
          </ul>
        </section>
        <CreateForm images={images} image={image} containers={store.containers} info={info} busy={store.busy} onCreate={(s) => quiet(store.create(s))} />
        <section>
          <h3>Containers</h3>
          {store.containers.length === 0 && <p class="muted small">None yet.</p>}
          <ul class="plain clist" data-testid="containers">
            {store.containers.map((c) => (
              <li key={c.id} class={c.id === store.current ? 'sel' : ''}>
                <button type="button" class="linkish" onClick={() => quiet(store.select(c.id))}>
                  {c.name}
                </button>
                <span class="muted small">
                  {' '}
                  {imgName(c.imageId)} · {c.open ? `open, ${c.copyUp}` : c.status}
                </span>
              </li>
            ))}
          </ul>
        </section>
        <section>
          <h3>Volumes</h3>
          {store.volumes.length === 0 && <p class="muted small">None.</p>}
          <ul class="plain vlist2" data-testid="volumes">
            {store.volumes.map((v) => (
              <li key={v.name}>
                <span class="mono">{v.anonymous ? v.name.slice(0, 12) : v.name}</span>{' '}
                <span class="muted small">
                  {v.anonymous ? 'anonymous' : 'named'}
                  {v.usedBy.length ? ` · used by ${v.usedBy.join(', ')}` : ' · unused'}
                </span>
              </li>
            ))}
          </ul>
        </section>
      </aside>
      <section class="labmain">
        {lesson && ctx && (
          <LessonRunner
            key={lesson.id + ctx.n('')}
            lesson={lesson}
            ctx={ctx}
            onClose={() => {
              setLesson(undefined);
              onImages();
            }}
          />
        )}
        {cur && stack ? (
          <>
            <div class="toolbar">
              <strong data-testid="current">{cur.name}</strong>
              <span class="muted small">
                {imgName(cur.imageId)}
                {cur.mounts.length ? ` · ${dockerFlags({ image: '', mounts: cur.mounts, volumesFrom: [] })}` : ''}
              </span>
              <span class="grow" />
              <div class="seg" role="group" aria-label="copy-up strategy">
                {(['full', 'metadata', 'chunked'] as Strategy[]).map((s) => (
                  <button type="button" key={s} class={stack.copyUp === s ? 'on' : ''} disabled={store.busy} onClick={() => quiet(store.strategy(cur.id, s))} data-testid={`strategy-${s}`}>
                    {s}
                  </button>
                ))}
              </div>
              <input value={tag} size={16} aria-label="tag for commit" onInput={(e) => setTag((e.currentTarget as HTMLInputElement).value)} />
              <button type="button" disabled={store.busy} onClick={() => quiet(store.commit(cur.id, tag).then(onImages))} data-testid="commit">
                Commit
              </button>
              <label class="check small">
                <input type="checkbox" checked={rmVolumes} onChange={() => setRmVolumes(!rmVolumes)} />
                -v
              </label>
              <button type="button" class="danger" disabled={store.busy} onClick={() => quiet(store.remove(cur.id, rmVolumes))} data-testid="rm">
                rm
              </button>
            </div>
            {store.error && (
              <p class="error" role="alert">
                {store.error}
              </p>
            )}
            <div class="labwork">
              <Terminal name={cur.name} lines={lines} busy={store.busy} cwd={lastCwd} onRun={(c) => quiet(store.exec(cur.id, c))} />
              <StackPicture stack={stack} events={store.lastEvents} name={cur.name} />
            </div>
          </>
        ) : (
          <div class="labempty">
            {store.error && (
              <p class="error" role="alert">
                {store.error}
              </p>
            )}
            {store.rerun && (
              <div class="rerun">
                <p>
                  <strong>{store.rerun.from}</strong> is gone with its container layer. Run a new container from the same image
                  {store.rerun.spec.mounts.length ? ` with ${store.rerun.spec.mounts.map((m) => m.target).join(', ')}` : ''} and look for what survived (<code>ls</code>, <code>cat</code>).
                </p>
                <button type="button" class="primary" data-testid="rerun" disabled={store.busy} onClick={() => quiet(store.create({ ...store.rerun!.spec, name: undefined }))}>
                  Re-run like {store.rerun.from}
                </button>
              </div>
            )}
            <h2>Container lab</h2>
            <p>
              Create a container (left) or pick one to open its shell. Every command's effect is drawn where it landed: a copy-up into the container layer, a whiteout, a write into a volume or a bind.
            </p>
            <p class="muted">Or follow a lesson: predict, act, observe, explain, with the docker/podman command of each step.</p>
            {store.log.length > 0 && (
              <ul class="plain small">
                {store.log
                  .filter((l) => l.action)
                  .slice(-5)
                  .map((l) => (
                    <li key={l.id}>— {l.command}</li>
                  ))}
              </ul>
            )}
          </div>
        )}
        {store.committed && (
          <div class="committed" data-testid="committed">
            <strong>Committed {store.committed.image.tags[0] ?? store.committed.image.id.slice(0, 12)}</strong>: the container layer became layer {store.committed.layers.length}; the volumes' files
            are not in it.
            <ol>
              {store.committed.layers.map((l, i) => (
                <li key={l.layer} class={i === store.committed!.layers.length - 1 ? 'new' : ''}>
                  {bytes(l.size)} · +{l.added} ~{l.modified} −{l.deleted} · {i === store.committed!.layers.length - 1 ? 'new: the container layer' : (l.createdBy ?? '').slice(0, 70)}
                </li>
              ))}
            </ol>
          </div>
        )}
      </section>
    </div>
  );
}
