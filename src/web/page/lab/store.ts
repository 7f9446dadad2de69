/**
 * The lab's state: the containers and volumes of the state directory, the container shown, each
 * container's terminal log and latest stack, and the actions (create, exec, strategy, commit, rm)
 * that both the lab's controls and the guided lessons use, so a lesson runs exactly what a user can.
 */
import { api, ApiError } from '../api';
import type { ContainerRecord, ExecResult, ImageRecord, LabEvent, LayerReport, MountRecord, Stack, Strategy, VolumeRecord } from '../types';

export interface LogLine {
  id: number;
  container: string;
  cwd: string;
  command: string;
  stdout: string;
  stderr: string;
  status: number;
  events: LabEvent[];
  /** Not a shell command: a lab action (create, rm, commit, strategy) described in words. */
  action?: boolean;
}

export interface CreateSpec {
  image: string;
  name?: string;
  readOnly?: boolean;
  copyUp?: Strategy;
  mounts: MountRecord[];
  volumesFrom: Array<{ container: string; mode?: 'ro' | 'rw' }>;
}

let seq = 0;

export class LabStore {
  containers: ContainerRecord[] = [];
  volumes: VolumeRecord[] = [];
  current?: string;
  stacks = new Map<string, Stack>();
  log: LogLine[] = [];
  lastEvents: LabEvent[] = [];
  /** The layers of the last image committed here (the new layer on top, without the volume). */
  committed?: { image: ImageRecord; layers: LayerReport[]; from: string };
  /** What to re-run after an rm: the removed container's image and the mounts that outlive it. */
  rerun?: { from: string; spec: CreateSpec };
  busy = false;
  error?: string;
  private listeners = new Set<() => void>();

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  private note(container: string, command: string, stdout = '', stderr = '', status = 0): void {
    this.log = [...this.log, { id: ++seq, container, cwd: '', command, stdout, stderr, status, events: [], action: true }];
  }

  /** Runs an action with the busy flag set; an API error is kept for the page to show, and rethrown. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    this.busy = true;
    this.error = undefined;
    this.emit();
    try {
      return await fn();
    } catch (e) {
      this.error = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
      throw e;
    } finally {
      this.busy = false;
      this.emit();
    }
  }

  async refresh(): Promise<void> {
    const [c, v] = await Promise.all([api.containers(), api.volumes()]);
    this.containers = c.containers;
    this.volumes = v.volumes;
    if (this.current && !this.containers.some((x) => x.id === this.current)) this.current = undefined;
    this.emit();
  }

  byName(ref: string): ContainerRecord | undefined {
    return this.containers.find((c) => c.id === ref || c.name === ref);
  }

  /** The id of a container named by id or name (the store keys everything by id). */
  idOf(ref: string): string {
    return this.byName(ref)?.id ?? ref;
  }

  async select(id: string): Promise<void> {
    this.current = id;
    const r = await this.run(() => api.container(id));
    this.stacks.set(r.container.id, r.stack);
    this.lastEvents = [];
    await this.refresh();
  }

  async create(spec: CreateSpec): Promise<ContainerRecord> {
    const r = await this.run(() => api.create(spec));
    this.stacks.set(r.container.id, r.stack);
    this.current = r.container.id;
    this.lastEvents = [];
    this.note(r.container.id, `created container ${r.container.name} from ${r.container.image} (${r.stack.copyUp} copy-up${spec.readOnly ? ', read-only root' : ''})`);
    await this.refresh();
    return r.container;
  }

  async exec(container: string, command: string): Promise<ExecResult> {
    const r = await this.run(() => api.exec(container, command));
    const id = this.idOf(container);
    this.stacks.set(id, r.stack);
    this.current = id;
    this.lastEvents = r.events;
    this.log = [...this.log, { id: ++seq, container: id, cwd: r.cwd, command, stdout: r.stdout, stderr: r.stderr, status: r.status, events: r.events }];
    this.emit();
    return r;
  }

  async strategy(container: string, copyUp: Strategy): Promise<void> {
    const r = await this.run(() => api.strategy(container, copyUp));
    this.stacks.set(r.container.id, r.stack);
    this.note(r.container.id, `copy-up strategy: ${copyUp}`);
    await this.refresh();
  }

  async commit(container: string, tag: string): Promise<{ image: ImageRecord; layers: LayerReport[] }> {
    const r = await this.run(() => api.commit(container, tag));
    this.committed = { ...r, from: this.idOf(container) };
    const top = r.layers[r.layers.length - 1];
    this.note(this.idOf(container), `committed ${tag}: ${r.layers.length} layers, the new one ${top ? `+${top.added} ~${top.modified} −${top.deleted}` : ''} (volumes are not in it)`);
    await this.refresh();
    return r;
  }

  async remove(container: string, volumes: boolean): Promise<{ removed: string; volumes: string[] }> {
    const c = this.byName(container);
    const r = await this.run(() => api.remove(container, volumes));
    this.stacks.delete(r.removed);
    if (this.current === r.removed) this.current = undefined;
    await this.refresh();
    const named = (c?.mounts ?? []).filter((m) => m.type === 'volume' && this.volumes.some((v) => v.name === m.source && !v.anonymous)).map((m) => m.source);
    // Re-run as `docker run` again would: the same image, the named volumes (they survive rm), binds and
    // tmpfs; an anonymous volume is a new one (the old one, if rm kept it, is attached to nothing).
    if (c) {
      const anonymous = new Set(this.volumes.filter((v) => v.anonymous).map((v) => v.name));
      const mounts = c.mounts.map((m) => (m.type === 'volume' && (anonymous.has(m.source ?? '') || !named.includes(m.source)) ? { ...m, source: undefined } : m));
      this.rerun = { from: c.name, spec: { image: c.imageId, readOnly: c.readOnly, copyUp: c.copyUp ?? undefined, mounts, volumesFrom: [] } };
    }
    this.note(
      r.removed,
      `rm ${volumes ? '-v ' : ''}${c?.name ?? container}: its container layer is gone`
        + (r.volumes.length ? `; anonymous volumes removed: ${r.volumes.join(', ')}` : '')
        + (named.length ? `; volumes kept: ${named.join(', ')}` : ''),
    );
    this.emit();
    return r;
  }
}
