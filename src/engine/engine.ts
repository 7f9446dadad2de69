/**
 * The engine: images, containers and volumes kept in a state directory (like /var/lib/docker),
 * with Docker's rules for mounts and lifecycles (semantics.md §3):
 * - DKR-1 named volumes are created on first use; anonymous ones get a random name;
 * - DKR-2 an EMPTY volume mounted over an image directory with content gets a copy of it (once;
 *   `noCopy` leaves it to the next mount), even when the mount is read-only; as podman does it,
 *   at the start (open), not at create (DKR-17…19: see start() and create());
 * - DKR-3 a non-empty volume or any bind mount hides the image content; binds are never seeded;
 * - DKR-6 --volumes-from copies the other container's volume and bind mounts (mode kept, or forced
 *   with 'ro'/'rw'); an explicit mount for the same target wins;
 * - DKR-7 `rm -v` removes the container's anonymous volumes, never named ones;
 * - DKR-8 `volume prune` removes unused anonymous volumes, all unused ones with `all`;
 * - the image's VOLUME entries give each new container its own anonymous volumes.
 */
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { FileRegion } from '../source.js';
import { join } from 'node:path';
import { constants as C } from 'node:fs';
import type { Volume } from 'memfs';
import { StateError } from '../core/errors.js';
import { OpenCache } from '../image/cache/open-cache.js';
import { loadImage, loadLayers, type LoadedImage } from '../image/index.js';
import { normalizeRef } from '../image/select.js';
import { openImage } from '../open.js';
import { copyTree } from '../mounts/copy-tree.js';
import { HostCore } from '../mounts/host-core.js';
import type { CopyUpStrategy } from '../union/state.js';
import type { View } from '../view.js';
import { inodeOf, walk } from '../union/walk.js';
import { Container } from './container.js';
import { tarBlocks } from '../out/tar-write.js';
import { writeCommitLayer } from '../out/commit.js';
import { ociLayoutFiles, type LayerBlob } from '../out/image-write.js';
import { upperEntries } from '../union/upper.js';
import { scratchPath } from '../core/atomic.js';
import { BlobStore } from '../registry/blob-store.js';
import { addTags, imagePrune as pruneImages, rmi as rmiImage, tag as tagImage, type RmiResult, type TagMove } from './images.js';
import { readVolumeOrigin, writeVolumeOrigin, type VolumeOrigin } from './volume-origin.js';
import { replay } from './journal.js';
import { normalTarget } from './targets.js';
import { checkKey, JOURNAL, newId, shortId, type ContainerRecord, type ImageRecord, type Mount, type VolumeRecord } from './records.js';
import { noSuchImage, State } from './state.js';
import { isRegistryRef } from '../registry/reference.js';
import type { RemoteOptions } from '../registry/store-image.js';
import type { PullResult } from './pull.js';

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
  /** A docker:// IMAGE: how its registry is reached (credentials, TLS, platform), as for pull. */
  remote?: RemoteOptions;
}

export class Engine {
  /** What opening images learns, kept in `<home>/cache` (src/image/cache/open-cache.ts). */
  readonly cache: OpenCache;
  private constructor(
    readonly state: State,
    readonly copyUp: CopyUpStrategy,
  ) {
    this.cache = OpenCache.ofHome(state.home);
  }

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
    const image = await loadImage(path, { tag: opts.tag, cache: this.cache });
    try {
      const id = imageIdOf(image);
      const oci = image.format === 'oci-archive' || image.format === 'oci-layout';
      const tags = [...new Set(image.tags.map((t) => (oci && !t.includes('/') ? normalizeRef(t) : t)))];
      let rec = await this.state.getImage(id);
      if (!rec) {
        // The record's format is the one the state kept before the blob store (an OCI layout
        // directory as the OCI archive it packed into), so a load shows what it always showed.
        const format = image.format === 'layers' ? 'docker-archive' : image.format === 'oci-layout' ? 'oci-archive' : image.format;
        rec = { id, tags: [], source: path, format, configDigest: `sha256:${id}`, created: new Date().toISOString(), ...(opts.tag !== undefined ? { archiveTag: opts.tag } : {}) };
        // The image's blobs go into the blob store, shared with every other image that has them;
        // the image is its directory of links to them (State.putImage).
        await this.state.putImage(rec, image.files ?? path);
      }
      const { image: tagged, moved } = await addTags(this.state, rec, tags);
      for (const m of moved) opts.onMove?.(m);
      return tagged;
    } finally {
      image.close();
    }
  }

  /**
   * `commit`: the view's image plus its writable layer as a new image in the state, untagged
   * (DKR-12; the caller tags it). It is stored as an OCI layout over the blob store: the new layer
   * (uncompressed, written before the first await, so the image is the view as it is now), its
   * config and manifest are put in the store, and each base layer is the blob the base image
   * stored, as it is (compressed or not), so base layers are linked, never copied. A base layer
   * the store does not have (an image of a state written before the blob store) is stored as its
   * uncompressed tar, as a commit always wrote it. The config is the same either way (diff_ids
   * only), and so is the image id.
   */
  async commitImage(view: View, opts: { createdBy: string; source: string }): Promise<ImageRecord> {
    const store = await BlobStore.open(this.state.home);
    const layerPath = scratchPath('tmp', join(store.root, 'commit-layer'));
    const baseConfig = structuredClone(view.image.config) as unknown as Record<string, unknown>;
    try {
      const { layer, config, fd } = writeCommitLayer(upperEntries(view.core.s, true), baseConfig, layerPath, opts.source, { createdBy: opts.createdBy });
      const fds = [fd];
      try {
        // The new layer was hashed as it was written: it goes into the store as it is, not copied.
        await store.adopt(layerPath, layer.digest);
        const layers: LayerBlob[] = [];
        for (const l of view.image.layers) {
          // The base's own blob, opened in the store (so it stays whole while it is linked again);
          // none there (or removed meanwhile by a prune): the layer's tar.
          const bfd = (await store.has(l.digest, l.compressedSize)) ? openIfThere(store.path(l.digest)) : undefined;
          if (bfd !== undefined) fds.push(bfd);
          layers.push(
            bfd !== undefined
              ? { mediaType: ociLayerType(l.mediaType), digest: l.digest, size: l.compressedSize, blob: new FileRegion(bfd, 0, l.compressedSize), diffId: l.diffId, tar: l.tar }
              : { mediaType: ociLayerType(''), digest: l.diffId, size: l.tar.size, blob: l.tar, diffId: l.diffId, tar: l.tar },
          );
        }
        const { files, out } = ociLayoutFiles({ config, layers: [...layers, layer] });
        const id = out.configDigest.slice(7);
        // (A new layer adopted above that no image ends up linking, as when this very image is
        // stored already or the put fails, is a whole blob that `system prune` removes.)
        const existing = await this.state.getImage(id);
        if (existing) return existing;
        const rec: ImageRecord = { id, tags: [], source: opts.source, format: 'oci-layout', configDigest: out.configDigest, created: new Date().toISOString() };
        await this.state.putImage(rec, files);
        return rec;
      } finally {
        for (const f of fds) closeSync(f);
      }
    } finally {
      rmSync(layerPath, { force: true });
    }
  }

  /** `pull`: a registry image (docker://...) into the state; see src/registry/store-image.ts. */
  async pull(ref: string, opts: RemoteOptions = {}): Promise<PullResult> {
    // The registry client is loaded by the commands that reach a registry only.
    const { pullImage } = await import('./pull.js');
    return pullImage(this.state, ref, opts);
  }

  /** tag: puts NEW_TAG (in podman's full form) on the image REF (an archive is loaded), moving it from any other image. */
  /** A docker:// `ref` is pulled first, with `remote`'s registry options. */
  async tag(ref: string, newTag: string, remote: RemoteOptions = {}): ReturnType<typeof tagImage> {
    return tagImage(this.state, (await this.image(ref, remote)).id, newTag);
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
    if (name !== undefined && (await this.state.getVolume(name))) throw new StateError('EXISTS', name, `${name}: a volume with this name already exists`);
    const rec: VolumeRecord = { name: name ?? newId(), anonymous: name === undefined, created: new Date().toISOString(), labels };
    await this.state.putVolume(rec);
    return rec;
  }

  /**
   * An image by tag, id or id prefix, or an archive path or docker:// reference (loaded or pulled on
   * the way; `remote` says how the registry is reached).
   */
  async image(ref: string, remote: RemoteOptions = {}): Promise<ImageRecord> {
    if (isRegistryRef(ref)) return (await this.pull(ref, remote)).image;
    try {
      return await this.state.resolveImage(ref);
    } catch (e) {
      if (e instanceof StateError && e.code === 'NOT_FOUND' && existsSync(ref)) return this.load(ref);
      throw noSuchImage(ref, e);
    }
  }

  private openImageView(img: ImageRecord, upper?: Parameters<typeof openImage>[1]): Promise<View> {
    const { path, tag } = this.state.imageSource(img);
    return openImage(path, { copyUp: this.copyUp, cache: this.cache, tag, ...upper });
  }

  /**
   * The mounts a new container gets: explicit ones, --volumes-from, then the image's VOLUMEs.
   * Nothing is created here: a volume to make has `create` set (an anonymous one no name yet).
   */
  private async mountsFor(view: View, opts: CreateOptions): Promise<Planned[]> {
    const out = new Map<string, Planned>();
    for (const m of opts.mounts ?? []) {
      const target = normalTarget(m.target);
      if (m.type === 'bind' && isTree(m.source!) && !opts.trees?.[m.source!.slice(6)]) {
        throw new StateError('BAD_INPUT', m.source!, `bind source ${m.source} names a memfs tree that was not passed in trees`);
      }
      if (m.type === 'tmpfs') out.set(target, { type: 'tmpfs', source: 'tmpfs', target, readOnly: m.readOnly ?? false });
      else if (m.type === 'bind') out.set(target, { type: 'bind', source: m.source!, target, readOnly: m.readOnly ?? false, createSource: m.createSource });
      else {
        if (m.source !== undefined) checkKey(this.state.home, 'volume name', m.source, 'name');
        const exists = m.source !== undefined && (await this.state.getVolume(m.source)) !== undefined;
        out.set(target, { type: 'volume', source: m.source ?? '', target, readOnly: m.readOnly ?? false, ...(m.noCopy ? { noCopy: true } : {}), create: !exists });
      }
    }
    for (const from of opts.volumesFrom ?? []) {
      const other = await this.state.resolveContainer(from.container);
      for (const m of other.mounts) {
        if (m.type === 'tmpfs' || out.has(m.target)) continue;
        out.set(m.target, { ...m, readOnly: from.mode ? from.mode === 'ro' : m.readOnly });
      }
    }
    for (const target of Object.keys(view.image.config.config.Volumes ?? {}).map(normalTarget)) {
      if (!out.has(target)) out.set(target, { type: 'volume', source: '', target, readOnly: false, create: true });
    }
    return [...out.values()];
  }

  /**
   * Creates a container (docker create). Every argument and mount is checked before anything is
   * made: a refused create leaves no volume, bind directory or record behind (DKR-19). The
   * volumes it needs are then created (DKR-1); a volume's first-mount work waits for the start.
   */
  async create(imageRef: string, opts: CreateOptions = {}): Promise<ContainerRecord> {
    const img = await this.image(imageRef, opts.remote);
    const view = await this.openImageView(img);
    try {
      if (opts.name !== undefined) {
        checkKey(this.state.home, 'container name', opts.name, 'name');
        const clash = (await this.state.listContainers()).find((c) => c.name === opts.name);
        if (clash) throw new StateError('EXISTS', opts.name, `the name "${opts.name}" is taken by container ${shortId(clash.id)}`);
      }
      const planned = await this.mountsFor(view, opts);
      const image = img.tags[0] ?? shortId(img.id);
      for (const m of planned) {
        const st = view.core.tryStat(m.target, false);
        const isDir = st !== undefined && (st.mode & C.S_IFMT) === C.S_IFDIR;
        // A volume over a file or symlink of the image cannot be mounted.
        if (st && !isDir && m.type !== 'bind') {
          throw new StateError('MOUNT_REFUSED', m.target, `cannot mount a ${m.type} over ${m.target}: it is not a directory in image ${image}`);
        }
        if (m.type !== 'bind' || isTree(m.source)) continue;
        if (!existsSync(m.source)) {
          if (m.createSource) continue;
          throw new StateError('BAD_INPUT', m.source, `invalid mount config for type "bind": bind source path does not exist`);
        }
        // DKR-20: runc mounts a file only over a file, a directory only over a directory.
        const fileSource = !statSync(m.source).isDirectory();
        if (st && fileSource === isDir) {
          throw new StateError(
            'MOUNT_REFUSED',
            m.source,
            `cannot mount ${m.source} over ${m.target}: ${fileSource ? 'a file over a directory' : 'a directory over a file'} of image ${image} (not a directory; are you trying to mount a directory onto a file, or the other way round?)`,
          );
        }
      }
      // Everything checked: now make what the mounts need.
      const made: string[] = [];
      try {
        for (const m of planned) {
          if (m.type === 'bind' && m.createSource && !isTree(m.source) && !existsSync(m.source)) mkdirSync(m.source, { recursive: true });
          if (m.type === 'volume' && m.create) {
            const rec: VolumeRecord = { name: m.source || newId(), anonymous: m.source === '', created: new Date().toISOString(), labels: {} };
            await this.state.putVolume(rec);
            made.push(rec.name);
            m.source = rec.name;
          }
        }
        const rec = {
          id: newId(),
          name: opts.name ?? `layerfs_${Date.now().toString(36)}`,
          image: img.id,
          mounts: planned.map(({ create: _, createSource: __, ...m }) => m),
          state: 'created' as const,
          created: new Date().toISOString(),
          labels: (opts.readOnly ? { 'layerfs.read-only': 'true' } : {}) as Record<string, string>,
        };
        return await this.state.putContainer(rec, { 'layer.tar': tarBlocks(view.layerEntries()) });
      } catch (e) {
        for (const v of made) await this.state.removeVolume(v).catch(() => undefined);
        throw e;
      }
    } finally {
      view.close();
    }
  }

  /**
   * What starting a container does to its mounts, in order (podman 4.3 with runc, DKR-17…18):
   * - a mount point missing from the image and the container layer is made in the container
   *   layer (a directory, or an empty file for the bind of a file), so `diff` shows it only after
   *   the first start;
   * - DKR-2: an empty volume mounted over an image directory gets a copy of it (not with nocopy);
   * - DKR-17: at a volume's first mount, its root directory takes the owner and mode of the
   *   directory it is mounted over (even with nocopy, even when nothing is copied); a later mount
   *   elsewhere changes neither, even when it copies.
   */
  private async start(view: View, rec: ContainerRecord): Promise<void> {
    for (const m of rec.mounts) {
      const inImage = view.core.tryStat(m.target, false);
      if (!inImage) {
        const file = m.type === 'bind' && !isTree(m.source) && existsSync(m.source) && !statSync(m.source).isDirectory();
        view.fs.mkdirSync(file ? m.target.slice(0, m.target.lastIndexOf('/')) || '/' : m.target, { recursive: true, mode: 0o755 });
        if (file) view.fs.writeFileSync(m.target, '', { mode: 0o644 });
      }
      if (m.type !== 'volume') continue;
      const vol = await this.state.getVolume(m.source);
      if (!vol) throw new StateError('NOT_FOUND', m.source, `container ${rec.name} mounts volume ${m.source}, which does not exist`);
      const data = this.state.volumeData(m.source);
      const first = vol.labels[MOUNTED] !== 'true';
      const root = statSync(data);
      if (!m.noCopy && inImage && (inImage.mode & C.S_IFMT) === C.S_IFDIR) await this.seed(view, m.target, m.source);
      const over = view.core.stat(m.target, true);
      const [mode, uid, gid] = first ? [over.mode & 0o7777, over.uid, over.gid] : [root.mode & 0o7777, root.uid, root.gid];
      chmodSync(data, mode);
      try {
        chownSync(data, uid, gid);
      } catch (e) {
        // Not root: the host will not give the directory away; its mode is still set.
        if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      }
      if (first) {
        const now = (await this.state.getVolume(m.source))!;
        await this.state.putVolume({ ...now, labels: { ...now.labels, [MOUNTED]: 'true' } });
      }
    }
  }

  /**
   * DKR-2: copy the image's directory into the volume, if the volume is empty. The copy is marked
   * pending in the volume's record while it runs: a copy cut short (disk full, a kill) is found by
   * the next start, which empties the volume and copies again, so a volume is never left half
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

  /**
   * Opens a container's filesystem: image layers, its saved layer (layer.tar with the journal's
   * frames replayed over it, journal.ts), its mounts. With `start` (the default) it is started:
   * its mounts' start work is done (see start()); `start: false` only looks (diff, commit, export).
   */
  async open(ref: string, opts: { trees?: Record<string, Volume>; start?: boolean } = {}): Promise<Container> {
    const found = await this.state.resolveContainer(ref);
    // Record, layer.tar and journal are of one commit (openSaved opens them under one lock); their
    // file data stays in those files, read when asked for, so a layer of any size opens in bounded memory.
    const saved = await this.state.openSaved(found.id);
    let layer: LoadedImage | undefined;
    let view: View;
    const { rec, base, frames } = saved;
    try {
      const img = (await this.state.getImage(rec.image))!;
      const home = join(this.state.home, 'containers', rec.id);
      const blobs =
        base || frames.length > 0
          ? [base ? { label: join(home, 'layer.tar'), source: base } : EMPTY_TAR, ...frames.map((f, i) => ({ label: `${join(home, JOURNAL)} (frame ${i + 1})`, source: f.tar }))]
          : [];
      layer = blobs.length > 0 ? await loadLayers(blobs, { verify: false }) : undefined;
      const upper = layer
        ? replay(
            layer.layers[0]!.entries,
            layer.layers.slice(1).map((l) => l.entries),
            frames.map((f) => f.drop),
          )
        : [];
      view = await this.openImageView(img, { upper });
    } catch (e) {
      layer?.close();
      saved.close();
      throw e;
    }
    const loaded = layer;
    const release = {
      close: () => {
        loaded?.close();
        saved.close();
      },
    };
    let container: Container | undefined;
    try {
      // memfs is loaded for a container with a tmpfs only.
      const memfs = rec.mounts.some((m) => m.type === 'tmpfs') ? await import('memfs') : undefined;
      container = new Container(this.state, rec, view, release, rec.labels['layerfs.read-only'] === 'true', opts.trees ?? {}, () => new memfs!.Volume(), saved.journalSize);
      if (opts.start !== false) {
        await this.start(view, rec);
        // The mount points the start made are saved at once.
        await container.sync();
      }
      return container;
    } catch (e) {
      if (container) container.dispose();
      else {
        view.close();
        release.close();
      }
      throw e;
    }
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

/** An image's id in the state: its config digest's hex (Docker's rule), or for plain layer tarballs the start of their diff_ids. */
export function imageIdOf(image: LoadedImage): string {
  return (
    image.configDigest?.slice(7)
    ?? image.layers
      .map((l) => l.diffId.slice(7))
      .join('')
      .slice(0, 64)
  );
}

function openIfThere(path: string): number | undefined {
  try {
    return openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The OCI media type of a layer whose stored media type is `type` (Docker's or OCI's; none: a tar). */
function ociLayerType(type: string): string {
  if (/gzip$/.test(type)) return 'application/vnd.oci.image.layer.v1.tar+gzip';
  if (/zstd$/.test(type)) return 'application/vnd.oci.image.layer.v1.tar+zstd';
  return 'application/vnd.oci.image.layer.v1.tar';
}

/** An empty tar (two zero blocks): the base of a journal when a container has no layer.tar. */
const EMPTY_TAR = Buffer.alloc(1024);

/** A volume label that marks a seeding copy in progress (see seed()). */
const SEEDING = 'layerfs.seeding';
/** A volume label set at the volume's first mount (DKR-17: its root's owner and mode are set then). */
const MOUNTED = 'layerfs.mounted';

/** A mount of a container being created: `create` when its volume is to be made. */
type Planned = Mount & { create?: boolean; createSource?: boolean };
