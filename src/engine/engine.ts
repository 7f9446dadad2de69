/**
 * The engine: images, containers and volumes kept in a state directory (like /var/lib/docker),
 * with Docker's rules for mounts and lifecycles (semantics.md §3):
 * - DKR-1 named volumes are created on first use; anonymous ones get a random name;
 * - DKR-2 an EMPTY volume mounted over an image directory with content gets a copy of it (once;
 *   `noCopy` leaves it to the next mount), even when the mount is read-only;
 * - DKR-3 a non-empty volume or any bind mount hides the image content; binds are never seeded;
 * - DKR-6 --volumes-from copies the other container's volume and bind mounts (mode kept, or forced
 *   with 'ro'/'rw'); an explicit mount for the same target wins;
 * - DKR-7 `rm -v` removes the container's anonymous volumes, never named ones;
 * - DKR-8 `volume prune` removes unused anonymous volumes, all unused ones with `all`;
 * - the image's VOLUME entries give each new container its own anonymous volumes.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants as C } from 'node:fs';
import type { Volume } from 'memfs';
import { StateError } from '../errors.js';
import { loadImage, loadLayers } from '../image/index.js';
import { normalizeRef } from '../image/select.js';
import { openImage } from '../index.js';
import { copyTree } from '../mounts/copy-tree.js';
import { HostCore } from '../mounts/host-core.js';
import type { CopyUpStrategy } from '../union/state.js';
import type { View } from '../view.js';
import { inodeOf, walk } from '../union/walk.js';
import { Container, tarBytes } from './container.js';
import { addTags, imagePrune as pruneImages, rmi as rmiImage, tag as tagImage, type RmiResult, type TagMove } from './images.js';
import { readVolumeOrigin, writeVolumeOrigin, type VolumeOrigin } from './volume-origin.js';
import { newId, type ContainerRecord, type ImageRecord, type Mount, type VolumeRecord } from './records.js';
import { State } from './state.js';

export interface MountSpec {
  type: 'volume' | 'bind' | 'tmpfs';
  /**
   * Volume name (none: a new anonymous volume), host path, or `memfs:NAME` for a memfs tree the
   * caller passes as `trees.NAME` when creating and opening the container (in-process only).
   */
  source?: string;
  target: string;
  readOnly?: boolean;
  /** volume-nocopy: do not seed the volume from the image. */
  noCopy?: boolean;
  /** DKR-4: `-v /host:/p` creates a missing host directory; `--mount type=bind` does not. */
  createSource?: boolean;
}

export interface CreateOptions {
  name?: string;
  mounts?: MountSpec[];
  volumesFrom?: Array<{ container: string; mode?: 'ro' | 'rw' }>;
  /** --read-only: the root is read-only; only mounts are writable (DKR-11). */
  readOnly?: boolean;
  /** memfs trees for `memfs:NAME` bind sources. */
  trees?: Record<string, Volume>;
}

export class Engine {
  private constructor(readonly state: State, readonly copyUp: CopyUpStrategy) {}

  static async open(opts: { home?: string; copyUp?: CopyUpStrategy } = {}): Promise<Engine> {
    return new Engine(await State.open(opts.home), opts.copyUp ?? 'full');
  }

  /**
   * Adds an image archive or OCI layout directory to the state (format told by content). Its tags
   * are put on it (an image already stored gets the ones it lacks); a tag another image had moves,
   * and `onMove` is told. An OCI ref name without a repository is a name, as podman loads it
   * (`latest` → `localhost/latest:latest`, normalizeRef).
   */
  async load(path: string, opts: { tag?: string; onMove?: (m: TagMove) => void } = {}): Promise<ImageRecord> {
    const image = await loadImage(path, { tag: opts.tag });
    try {
      const id = image.configDigest?.slice(7) ?? image.layers.map((l) => l.diffId.slice(7)).join('').slice(0, 64);
      const oci = image.format === 'oci-archive' || image.format === 'oci-layout';
      const tags = [...new Set(image.tags.map((t) => (oci && !t.includes('/') ? normalizeRef(t) : t)))];
      let rec = await this.state.getImage(id);
      if (!rec) {
        // The state keeps an OCI layout directory as the OCI archive it packs into.
        const format = image.format === 'layers' ? 'docker-archive' : image.format === 'oci-layout' ? 'oci-archive' : image.format;
        rec = { id, tags: [], source: path, format, configDigest: `sha256:${id}`, created: new Date().toISOString() };
        await this.state.putImage(rec, path);
      }
      const { image: tagged, moved } = await addTags(this.state, rec, tags);
      for (const m of moved) opts.onMove?.(m);
      return tagged;
    } finally {
      image.close();
    }
  }

  /** tag: puts NEW_TAG (in podman's full form) on the image REF (an archive is loaded), moving it from any other image. */
  async tag(ref: string, newTag: string): ReturnType<typeof tagImage> {
    return tagImage(this.state, (await this.image(ref)).id, newTag);
  }

  /** rmi: a tag, or the image (refused while a container uses it, unless forced). */
  rmi(ref: string, opts: { force?: boolean } = {}): Promise<RmiResult> {
    return rmiImage(this.state, ref, opts);
  }

  /** image prune: the dangling images no container uses (every unused one with `all`). */
  imagePrune(opts: { all?: boolean } = {}): Promise<ImageRecord[]> {
    return pruneImages(this.state, opts);
  }

  /** volume create: a new named volume (anonymous without a name); an existing name is refused. */
  async volumeCreate(name?: string, labels: Record<string, string> = {}): Promise<VolumeRecord> {
    if (name !== undefined && (await this.state.getVolume(name))) throw new StateError('EXISTS', name, `a volume with this name already exists`);
    const rec: VolumeRecord = { name: name ?? newId(), anonymous: name === undefined, created: new Date().toISOString(), labels };
    await this.state.putVolume(rec);
    return rec;
  }

  /** An image by tag, id or id prefix, or an archive path (loaded on the way). */
  async image(ref: string): Promise<ImageRecord> {
    try {
      return await this.state.resolveImage(ref);
    } catch (e) {
      if (e instanceof StateError && e.code === 'NOT_FOUND' && existsSync(ref)) return this.load(ref);
      throw e;
    }
  }

  private openImageView(img: ImageRecord, upper?: Parameters<typeof openImage>[1]): Promise<View> {
    return openImage(this.state.imageArchive(img.id), { copyUp: this.copyUp, ...upper });
  }

  /** The volume called `name`, created if missing (DKR-1). */
  private async volume(name: string | undefined): Promise<VolumeRecord> {
    const existing = name === undefined ? undefined : await this.state.getVolume(name);
    if (existing) return existing;
    const rec: VolumeRecord = { name: name ?? newId(), anonymous: name === undefined, created: new Date().toISOString(), labels: {} };
    await this.state.putVolume(rec);
    return rec;
  }

  /** The mounts a new container gets: explicit ones, --volumes-from, then the image's VOLUMEs. */
  private async mountsFor(view: View, opts: CreateOptions): Promise<Array<Mount & { noCopy?: boolean }>> {
    const out = new Map<string, Mount & { noCopy?: boolean }>();
    for (const m of opts.mounts ?? []) {
      const target = normalTarget(m.target);
      if (m.type === 'bind' && isTree(m.source!) && !opts.trees?.[m.source!.slice(6)]) {
        throw new StateError('BAD_INPUT', m.source!, `bind source ${m.source} names a memfs tree that was not passed in trees`);
      }
      if (m.type === 'tmpfs') out.set(target, { type: 'tmpfs', source: 'tmpfs', target, readOnly: m.readOnly ?? false });
      else if (m.type === 'bind') {
        if (m.createSource && !existsSync(m.source!)) mkdirSync(m.source!, { recursive: true });
        out.set(target, { type: 'bind', source: m.source!, target, readOnly: m.readOnly ?? false });
      }
      else out.set(target, { type: 'volume', source: (await this.volume(m.source)).name, target, readOnly: m.readOnly ?? false, noCopy: m.noCopy });
    }
    for (const from of opts.volumesFrom ?? []) {
      const other = await this.state.resolveContainer(from.container);
      for (const m of other.mounts) {
        if (m.type === 'tmpfs' || out.has(m.target)) continue;
        out.set(m.target, { ...m, readOnly: from.mode ? from.mode === 'ro' : m.readOnly });
      }
    }
    for (const target of Object.keys(view.image.config.config.Volumes ?? {}).map(normalTarget)) {
      if (!out.has(target)) out.set(target, { type: 'volume', source: (await this.volume(undefined)).name, target, readOnly: false });
    }
    return [...out.values()];
  }

  async create(imageRef: string, opts: CreateOptions = {}): Promise<ContainerRecord> {
    const img = await this.image(imageRef);
    const view = await this.openImageView(img);
    try {
      const mounts = await this.mountsFor(view, opts);
      for (const m of mounts) {
        const st = view.core.tryStat(m.target, false);
        // A volume over a file or symlink of the image cannot be mounted.
        if (st && (st.mode & C.S_IFMT) !== C.S_IFDIR && m.type !== 'bind') {
          throw new StateError('BAD_INPUT', m.target, `cannot mount volume over ${m.target}: not a directory in image ${img.tags[0] ?? img.id.slice(0, 12)}`);
        }
        if (m.type === 'bind' && !isTree(m.source) && !existsSync(m.source)) {
          throw new StateError('BAD_INPUT', m.source, `invalid mount config for type "bind": bind source path does not exist`);
        }
        if (m.type === 'volume' && !m.noCopy && st) await this.seed(view, m.target, m.source);
        // A mount point missing from the image is made in the container layer (shows in diff as A):
        // a directory, or an empty file for the bind of a single file.
        if (!st) {
          const file = m.type === 'bind' && !isTree(m.source) && !statSync(m.source).isDirectory();
          view.fs.mkdirSync(file ? m.target.slice(0, m.target.lastIndexOf('/')) || '/' : m.target, { recursive: true, mode: 0o755 });
          if (file) view.fs.writeFileSync(m.target, '', { mode: 0o644 });
        }
      }
      const rec = {
        id: newId(), name: opts.name ?? `layerfs_${Date.now().toString(36)}`, image: img.id,
        mounts: mounts.map(({ noCopy: _, ...m }) => m), state: 'created' as const, created: new Date().toISOString(),
        labels: (opts.readOnly ? { 'layerfs.read-only': 'true' } : {}) as Record<string, string>,
      };
      return await this.state.putContainer(rec, { 'layer.tar': await tarBytes(view.upperEntries()) });
    } finally {
      view.close();
    }
  }

  /**
   * DKR-2: copy the image's directory into the volume, if the volume is empty. The copy is marked
   * pending in the volume's record while it runs: a copy cut short (disk full, a kill) is found by
   * the next create, which empties the volume and copies again, so a volume is never left half
   * seeded and taken for a seeded one.
   */
  private async seed(view: View, target: string, volume: string): Promise<void> {
    const data = this.state.volumeData(volume);
    const rec = (await this.state.getVolume(volume))!;
    const pending = rec.labels[SEEDING] === 'pending';
    if (!pending && readdirSync(data).length > 0) return;
    for (const name of readdirSync(data)) rmSync(join(data, name), { recursive: true, force: true });
    await this.state.putVolume({ ...rec, labels: { ...rec.labels, [SEEDING]: 'pending' } });
    const core = new HostCore(data);
    const files: VolumeOrigin['files'] = {};
    try {
      // Each object's image layer is recorded as it is copied: `where` tells it (volume-origin.ts).
      copyTree(view.core, target, core, '/', (src, rel, st) => {
        const loc = walk(view.core.s, src, false);
        if (typeof loc !== 'string' && loc.node) files[rel] = { layer: inodeOf(loc.node).layer + 1, size: st.size, mtimeMs: st.mtimeMs };
      });
    } finally {
      core.closeAll();
    }
    const imageName = view.image.tags[0] ?? (view.image.configDigest ?? '').slice(7, 19);
    await writeVolumeOrigin(data, { image: view.image.configDigest ?? '', imageName, path: target, at: new Date().toISOString(), files });
    const { [SEEDING]: _, ...labels } = rec.labels;
    await this.state.putVolume({ ...rec, labels });
  }

  /** Opens a container's filesystem: image layers, its saved layer, its mounts. */
  async open(ref: string, opts: { trees?: Record<string, Volume> } = {}): Promise<Container> {
    const rec = await this.state.resolveContainer(ref);
    const img = (await this.state.getImage(rec.image))!;
    const saved = await this.state.readBlob(rec.id, 'layer.tar');
    const layer = saved ? await loadLayers([saved], { verify: false }) : undefined;
    const view = await this.openImageView(img, { upper: layer?.layers[0].entries ?? [] });
    return new Container(this.state, rec, view, layer, rec.labels['layerfs.read-only'] === 'true', opts.trees ?? {});
  }

  /** rm: drops the container and its layer; with `volumes`, its anonymous volumes too (DKR-7). */
  async rm(ref: string, opts: { volumes?: boolean } = {}): Promise<void> {
    const rec = await this.state.resolveContainer(ref);
    await this.state.removeContainer(rec.id);
    if (!opts.volumes) return;
    for (const m of rec.mounts) {
      if (m.type !== 'volume') continue;
      const vol = await this.state.getVolume(m.source);
      const used = (await this.state.listContainers()).some((c) => c.mounts.some((x) => x.type === 'volume' && x.source === m.source));
      if (vol?.anonymous && !used) await this.state.removeVolume(m.source);
    }
  }

  /** What the first mount of a volume copied into it from an image (none: nothing was copied). */
  volumeOrigin(name: string): VolumeOrigin | undefined {
    return readVolumeOrigin(this.state.volumeData(name));
  }

  /** volume ls. */
  volumes(): Promise<VolumeRecord[]> {
    return this.state.listVolumes();
  }

  /** volume inspect: the record, where its data lives, and the containers that mount it. */
  async volumeInspect(name: string): Promise<VolumeRecord & { mountpoint: string; usedBy: string[] }> {
    const rec = await this.state.getVolume(name);
    if (!rec) throw new StateError('NOT_FOUND', this.state.volumeData(name), `no such volume: ${name}`);
    const usedBy = (await this.state.listContainers()).filter((c) => c.mounts.some((m) => m.type === 'volume' && m.source === name)).map((c) => c.name);
    return { ...rec, mountpoint: this.state.volumeData(name), usedBy };
  }

  async volumeRm(name: string, opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force) {
      for (const c of await this.state.listContainers()) {
        if (c.mounts.some((m) => m.type === 'volume' && m.source === name)) await this.state.removeContainer(c.id);
      }
    }
    await this.state.removeVolume(name);
  }

  /** DKR-8: removes unused anonymous volumes (every unused volume with `all`); returns their names. */
  async volumePrune(opts: { all?: boolean } = {}): Promise<string[]> {
    const used = new Set((await this.state.listContainers()).flatMap((c) => c.mounts.filter((m) => m.type === 'volume').map((m) => m.source)));
    const gone: string[] = [];
    for (const v of await this.state.listVolumes()) {
      if (used.has(v.name) || (!v.anonymous && !opts.all)) continue;
      await this.state.removeVolume(v.name);
      gone.push(v.name);
    }
    return gone;
  }
}

const isTree = (source: string) => source.startsWith('memfs:');

/** A volume label that marks a seeding copy in progress (see seed()). */
const SEEDING = 'layerfs.seeding';

function normalTarget(target: string): string {
  if (!target.startsWith('/')) throw new StateError('BAD_INPUT', target, 'a mount target must be an absolute path');
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new StateError('BAD_INPUT', target, "a mount target may not contain '..'");
  if (parts.length === 0) throw new StateError('BAD_INPUT', target, 'cannot mount over /');
  return '/' + parts.join('/');
}
