/**
 * The container lab: containers created, opened and driven from the page, through the engine and
 * the same shell as `layerfs run` (src/cli/shell). Rules:
 * - a container open in the lab is `running` with this server's pid (as a `layerfs run` shell
 *   marks it), so `layerfs rm` and `start` elsewhere refuse it; one open in another live process
 *   is refused here (409);
 * - after every command the container layer is saved (atomically): nothing a command answered is
 *   lost if the server is then killed; on shutdown each open container is saved and marked exited;
 * - what a command did is the union's own event log (src/union/events.ts), never reconstructed;
 * - bind mounts only inside --bind-root (sources are paths inside it; none without it);
 * - the copy-up strategy is per open container, and switching it saves and reopens the container.
 */
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Container } from '../../engine/container.js';
import { Engine, type CreateOptions, type MountSpec } from '../../engine/engine.js';
import type { ContainerRecord, ImageRecord } from '../../engine/records.js';
import { inspect } from '../../explore/inspect.js';
import type { CopyUpStrategy } from '../../union/state.js';
import { commitContainer, containerRow } from '../../cli/commands/lifecycle-containers.js';
import { EXIT, liveStatus, mark, PID, refuseRunning } from '../../cli/commands/run-container.js';
import { lowerAt } from '../../cli/shell/layers.js';
import { Session } from '../../cli/shell/session.js';
import type { Catalog } from './catalog.js';
import { ApiError, badRequest, conflict, forbidden } from './errors.js';

export const STRATEGIES = ['full', 'metadata', 'chunked'] as const;
const MAX_COMMAND = 64 << 10;
/** Paths of the container layer listed in the stack picture (the count and bytes cover all). */
const MAX_LAYER_PATHS = 2000;

interface Open {
  container: Container;
  session: Session;
  strategy: CopyUpStrategy;
  out: Buffer[];
  err: Buffer[];
  /** Calls on one container run one after the other. */
  queue: Promise<unknown>;
}

const sink = (into: Buffer[]) =>
  ({
    write: (t: string | Uint8Array) => {
      into.push(Buffer.from(t));
      return true;
    },
  }) as unknown as NodeJS.WritableStream;

type Body = Record<string, unknown>;
const isObj = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

export class Lab {
  private readonly open = new Map<string, Open>();
  private readonly engines = new Map<CopyUpStrategy, Engine>();

  constructor(
    private readonly engine: Engine,
    private readonly catalog: Catalog,
    private readonly bindRoot?: string,
  ) {
    this.engines.set(engine.copyUp, engine);
  }

  private async engineFor(strategy: CopyUpStrategy): Promise<Engine> {
    let e = this.engines.get(strategy);
    if (!e) this.engines.set(strategy, (e = await Engine.open({ home: this.engine.state.home, copyUp: strategy })));
    return e;
  }

  // ---- reading ----

  async row(rec: ContainerRecord) {
    const o = this.open.get(rec.id);
    return { ...(await containerRow(this.engine, rec)), open: !!o, copyUp: o?.strategy ?? null };
  }

  async list() {
    const recs = await this.engine.state.listContainers();
    recs.sort((a, b) => b.created.localeCompare(a.created));
    return Promise.all(recs.map((r) => this.row(r)));
  }

  async volumes() {
    return Promise.all((await this.engine.volumes()).map((v) => this.engine.volumeInspect(v.name)));
  }

  /** The container and the picture of its stack; a container not open here is read without being kept. */
  async show(ref: string) {
    const rec = await this.engine.state.resolveContainer(ref);
    const o = this.open.get(rec.id);
    if (o) return { container: await this.row(rec), stack: this.stack(o.container, o.strategy) };
    const c = await this.engine.open(rec.id);
    try {
      return { container: await this.row(rec), stack: this.stack(c, null) };
    } finally {
      c.dispose();
    }
  }

  /** What the container's filesystem is made of: image layers, the container layer, the mounts. */
  stack(c: Container, strategy: CopyUpStrategy | null) {
    const rec = c.record;
    const img = c.view.image;
    const s = c.view.core.s;
    let bytes = 0;
    const entries = c.view.upperEntries();
    const paths: Array<Record<string, unknown>> = [];
    for (const e of entries) {
      if (e.path === '' && e.type === 'dir') continue;
      bytes += e.size;
      if (paths.length >= MAX_LAYER_PATHS) continue;
      const path = '/' + e.path;
      if (e.type === 'whiteout' || e.type === 'opaque') paths.push({ path, type: e.type });
      else paths.push({ path, type: e.type, size: e.size, status: lowerAt(s, path) ? 'copied-up' : 'new' });
    }
    return {
      image: { id: rec.image, tags: img.tags },
      readOnlyRoot: rec.labels['layerfs.read-only'] === 'true',
      copyUp: strategy,
      layers: img.layers.map((l, i) => ({ layer: i + 1, digest: l.digest, createdBy: l.history?.created_by ?? null, size: l.size })),
      containerLayer: { entries: entries.filter((e) => e.path !== '').length, bytes, paths },
      mounts: rec.mounts,
    };
  }

  // ---- acting ----

  /** Runs calls on one container one after the other. */
  private serial<T>(o: Open, fn: () => Promise<T>): Promise<T> {
    const next = o.queue.then(fn, fn);
    o.queue = next.catch(() => undefined);
    return next;
  }

  private async openIn(ref: string, strategy: CopyUpStrategy, cwd = '/'): Promise<Open> {
    const rec = await this.engine.state.resolveContainer(ref);
    const already = this.open.get(rec.id);
    if (already) return already;
    try {
      refuseRunning(rec, 'open');
    } catch (e) {
      throw conflict((e as Error).message);
    }
    const engine = await this.engineFor(strategy);
    const container = await engine.open(rec.id);
    await mark(engine, rec.id, 'running', { [PID]: String(process.pid), [EXIT]: undefined });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const session = new Session(container, { stdout: sink(out), stderr: sink(err) });
    session.ctx.cwd = cwd;
    const o: Open = { container, session, strategy, out, err, queue: Promise.resolve() };
    this.open.set(rec.id, o);
    return o;
  }

  /** Saves a lab container and lets it go, marked exited with its shell's status. */
  private async closeOne(id: string, o: Open): Promise<void> {
    this.open.delete(id);
    try {
      await o.container.close();
    } finally {
      if (await this.engine.state.getContainer(id)) {
        await mark(this.engine, id, 'exited', { [PID]: undefined, [EXIT]: String(o.session.status) });
      }
    }
  }

  async create(body: unknown) {
    if (!isObj(body)) throw badRequest('the body must be a JSON object: {"image": ID, "mounts": [...], ...}');
    if (typeof body.image !== 'string' || body.image === '') throw badRequest('image is required: the id of an image');
    const strategy = strategyOf(body.copyUp);
    if (body.name !== undefined && typeof body.name !== 'string') throw badRequest('name must be a string');
    if (body.readOnly !== undefined && typeof body.readOnly !== 'boolean') throw badRequest('readOnly must be true or false');
    const mounts = arrayOf(body.mounts, 'mounts').map((m, i) => this.mountSpec(m, i));
    const volumesFrom = arrayOf(body.volumesFrom, 'volumesFrom').map((v, i): NonNullable<CreateOptions['volumesFrom']>[number] => {
      if (!isObj(v) || typeof v.container !== 'string') throw badRequest(`volumesFrom[${i}] must be {"container": NAME, "mode": "ro"|"rw"}`);
      if (v.mode !== undefined && v.mode !== 'ro' && v.mode !== 'rw') throw badRequest(`volumesFrom[${i}].mode must be ro or rw`);
      return { container: v.container, mode: v.mode as 'ro' | 'rw' | undefined };
    });
    const id = await this.catalog.resolve(body.image);
    const rec = await this.engine.create(this.catalog.createRef(id), {
      name: body.name as string | undefined,
      mounts,
      volumesFrom,
      readOnly: body.readOnly as boolean | undefined,
      remote: this.catalog.remote,
    });
    const o = await this.openIn(rec.id, strategy);
    return { container: await this.row((await this.engine.state.getContainer(rec.id))!), stack: this.stack(o.container, o.strategy) };
  }

  /** A mount of the body as the engine takes it; a bind's source is a path inside --bind-root. */
  private mountSpec(m: unknown, i: number): MountSpec {
    const what = `mounts[${i}]`;
    if (!isObj(m)) throw badRequest(`${what} must be an object {"type", "target", ...}`);
    if (m.type !== 'volume' && m.type !== 'bind' && m.type !== 'tmpfs') throw badRequest(`${what}.type must be volume, bind or tmpfs`);
    if (typeof m.target !== 'string' || !m.target.startsWith('/')) throw badRequest(`${what}.target must be an absolute path in the container`);
    for (const k of ['readOnly', 'noCopy'] as const) if (m[k] !== undefined && typeof m[k] !== 'boolean') throw badRequest(`${what}.${k} must be true or false`);
    if (m.source !== undefined && typeof m.source !== 'string') throw badRequest(`${what}.source must be a string`);
    const base = { target: m.target, readOnly: m.readOnly as boolean | undefined };
    if (m.type === 'tmpfs') {
      if (m.source !== undefined) throw badRequest(`${what}: a tmpfs takes no source`);
      return { type: 'tmpfs', ...base };
    }
    if (m.type === 'volume') return { type: 'volume', ...base, source: (m.source as string | undefined) || undefined, noCopy: m.noCopy as boolean | undefined };
    if (!this.bindRoot) throw forbidden(`${what}: bind mounts are off: start the server with --bind-root DIR to allow binds inside DIR`);
    if (typeof m.source !== 'string' || m.source === '') throw badRequest(`${what}: a bind needs a source: a path inside the bind root`);
    return { type: 'bind', ...base, source: this.bindSource(m.source, what) };
  }

  /** A path inside the bind root, on the host; refused if it leaves the root (by '..' or a symlink). */
  private bindSource(source: string, what: string): string {
    const root = realpathSync(this.bindRoot!);
    const host = resolve(root, '.' + (source.startsWith('/') ? source : '/' + source));
    const inside = (p: string) => {
      const rel = relative(root, p);
      return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
    };
    if (!inside(host)) throw forbidden(`${what}: bind source ${JSON.stringify(source)} leaves the bind root`);
    if (!existsSync(host)) throw new ApiError(400, 'BAD_INPUT', `${what}: bind source ${JSON.stringify(source)} does not exist in the bind root`);
    if (!inside(realpathSync(host))) throw forbidden(`${what}: bind source ${JSON.stringify(source)} leads out of the bind root through a symlink`);
    return join(host);
  }

  async exec(ref: string, body: unknown) {
    if (!isObj(body) || typeof body.command !== 'string') throw badRequest('the body must be {"command": "a shell line"}');
    const command = body.command;
    if (Buffer.byteLength(command) > MAX_COMMAND) throw new ApiError(413, 'TOO_LARGE', `a command is at most ${MAX_COMMAND} bytes`);
    const rec = await this.engine.state.resolveContainer(ref);
    const o = this.open.get(rec.id) ?? (await this.openIn(rec.id, 'full'));
    return this.serial(o, async () => {
      o.out.length = 0;
      o.err.length = 0;
      const log = o.container.events;
      const at = log.mark();
      o.session.runLine(command);
      const { events } = log.since(at);
      const stack = this.stack(o.container, o.strategy);
      const answer = {
        stdout: Buffer.concat(o.out).toString('utf8'),
        stderr: Buffer.concat(o.err).toString('utf8'),
        status: o.session.status,
        cwd: o.session.ctx.cwd,
        exited: o.session.exited,
        events,
        stack,
      };
      // `exit` ends the shell: the container is saved and let go, as when a `layerfs run` shell ends.
      if (o.session.exited) await this.closeOne(rec.id, o);
      else await o.container.save();
      return answer;
    });
  }

  async setStrategy(ref: string, body: unknown) {
    if (!isObj(body)) throw badRequest('the body must be {"copyUp": "full"|"metadata"|"chunked"}');
    const strategy = strategyOf(body.copyUp);
    const rec = await this.engine.state.resolveContainer(ref);
    const o = this.open.get(rec.id);
    if (o) await this.serial(o, () => this.closeOne(rec.id, o));
    const n = await this.openIn(rec.id, strategy, o?.session.ctx.cwd);
    return { container: await this.row((await this.engine.state.getContainer(rec.id))!), stack: this.stack(n.container, n.strategy) };
  }

  async rm(ref: string, volumes: boolean) {
    const rec = await this.engine.state.resolveContainer(ref);
    const o = this.open.get(rec.id);
    if (o) {
      await this.serial(o, async () => o.container.dispose());
      this.open.delete(rec.id);
    } else if (liveStatus(rec) === 'running') {
      try {
        refuseRunning(rec, 'remove');
      } catch (e) {
        throw conflict((e as Error).message);
      }
    }
    const before = new Set((await this.engine.volumes()).map((v) => v.name));
    await this.engine.rm(rec.id, { volumes });
    const after = new Set((await this.engine.volumes()).map((v) => v.name));
    return { removed: rec.id, volumes: [...before].filter((v) => !after.has(v)) };
  }

  async commit(ref: string, body: unknown) {
    if (!isObj(body) || typeof body.tag !== 'string' || body.tag === '') throw badRequest('the body must be {"tag": "name:tag"}');
    const tag = body.tag;
    const rec = await this.engine.state.resolveContainer(ref);
    const o = this.open.get(rec.id);
    let image: ImageRecord;
    if (o) {
      image = await this.serial(o, async () => {
        await o.container.save();
        return commitContainer(this.engine, o.container, rec, tag);
      });
    } else {
      const c = await this.engine.open(rec.id);
      try {
        image = await commitContainer(this.engine, c, rec, tag);
      } finally {
        c.dispose();
      }
    }
    const { stack } = await this.catalog.stack(image.id);
    return { image, layers: inspect(stack).layers };
  }

  /** Saves every open container and marks it exited (SIGINT/SIGTERM). */
  async shutdown(): Promise<void> {
    const errors: unknown[] = [];
    for (const [id, o] of [...this.open]) {
      await this.serial(o, () => this.closeOne(id, o)).catch((e) => errors.push(e));
    }
    if (errors.length) throw new AggregateError(errors, `could not save ${errors.length} container(s): ${errors.map((e) => (e as Error).message).join('; ')}`);
  }
}

function strategyOf(v: unknown): CopyUpStrategy {
  if (v === undefined) return 'full';
  if (!(STRATEGIES as readonly unknown[]).includes(v)) throw badRequest(`copyUp must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as CopyUpStrategy;
}

function arrayOf(v: unknown, name: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badRequest(`${name} must be an array`);
  return v;
}
