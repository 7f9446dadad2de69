/**
 * The engine's state directory (home.ts says where it is), shared by every process that opens it:
 *
 *   <home>/lock                              the cross-process lock (atomic.ts)
 *   <home>/images/<id>/image.json            ImageRecord
 *   <home>/images/<id>/layout/               the image's directory, its blobs hard links to
 *                                            <home>/blobs/sha256/<hex>: an OCI layout of the one
 *                                            image (loaded from an OCI archive or layout, pulled,
 *                                            committed), or a docker save's manifest.json, config
 *                                            and layers (loaded from a docker-archive)
 *   <home>/images/<id>/archive.tar           or, in a state written before the blob store, a byte
 *                                            copy of the archive (still read, never written now)
 *   <home>/blobs/sha256/<hex>                content-addressed blobs, shared by every image that
 *                                            has them (src/registry/blob-store.ts); a blob no image
 *                                            links goes with the last image that did (removeImage)
 *                                            or with `system prune` (pruneBlobs)
 *   <home>/containers/<id>/container.json    ContainerRecord
 *   <home>/containers/<id>/layer.tar         the container's writable layer
 *   <home>/containers/<id>/layer.journal     what changed since layer.tar, appended (journal.ts)
 *   <home>/volumes/<name>/volume.json        VolumeRecord
 *   <home>/volumes/<name>/_data/             the volume's content
 *
 * Rules:
 * - Every change is made under the lock, and is atomic: a record directory appears whole (built as
 *   a `.new-*` directory, then renamed in) and disappears whole (renamed to `.trash-*`, then
 *   deleted); a record file is replaced by writeJsonAtomic.
 * - A container's record and its blobs change together (putContainer): the record names each
 *   blob's digest and is the commit point.
 * - A container's blobs are never held whole in memory (a layer may be gigabytes): they are
 *   streamed into a scratch file as they are written (putContainer, appendJournal), and read as
 *   windows onto their files (openSaved).
 * - Entries starting with '.' are the store's scratch; ids and names never start with '.'.
 * - `open` creates the layout and, under the lock, finishes or discards what killed writers left.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, existsSync, fstatSync, openSync } from 'node:fs';
import { mkdir, open as openFile, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { refAliases } from '../image/select.js';
import { FileRegion, sha256Of, type ByteSource } from '../source.js';
import { StateError } from '../core/errors.js';
import {
  cleanLeftovers,
  copyFileSynced,
  fsyncDir,
  moveIntoPlace,
  moveToTrash,
  readJson,
  scratchPath,
  withLock,
  writeFileAtomic,
  writeHashed,
  writeJsonAtomic,
  writeScratch,
  type Content,
  type Streamed,
} from '../core/atomic.js';
import { stateHome } from '../core/home.js';
import { CHECK, chainNext, committedTail, EMPTY_CHAIN, frameCheck, namedFrames, RECORD_EVERY, type Frame, type JournalEnd } from './journal.js';
import { writeLayout, writeLinkedLayout, type BlobLayout, type LayoutFile } from '../image/linked-layout.js';
import { BlobStore, type BlobStep } from '../registry/blob-store.js';
import { assertLayout, packLayout } from './pack-dir.js';
import {
  BLOB_NAMES,
  JOURNAL,
  CONTAINER_FIELDS,
  IMAGE_FIELDS,
  INPUT_FIELDS,
  VOLUME_FIELDS,
  checkKey,
  checkTag,
  shape,
  shortId,
  type BlobName,
  type ContainerInput,
  type ContainerRecord,
  type ImageRecord,
  type VolumeRecord,
} from './records.js';

function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

type Kind = 'images' | 'containers' | 'volumes';
const KIND_NAME: Record<Kind, string> = { images: 'image', containers: 'container', volumes: 'volume' };
const RECORD_FILE: Record<Kind, string> = { images: 'image.json', containers: 'container.json', volumes: 'volume.json' };
/** A blob a commit staged beside its final name: `.blob-<hex digest>-<name>`. */
const STAGED_BLOB = /^\.blob-([0-9a-f]{64})-(.+)$/;

export type { BlobLayout } from '../image/linked-layout.js';

export interface OpenOptions {
  /** How long to wait for the lock held by another live process (default 30 s). */
  lockTimeoutMs?: number;
}

/** Points in storing an image's files, for the crash tests: the blob store's, then the layout built. */
export type StoreStep = BlobStep | 'layout-linked';

export class State {
  /** Called after each step of storing an image's files (tests only). */
  onStep?: (step: StoreStep) => void;
  private store: Promise<BlobStore> | undefined;
  private constructor(
    readonly home: string,
    private readonly lockTimeoutMs: number,
  ) {}

  /**
   * Opens (creating if need be) the state at `home` (default: stateHome()). Under the lock, it
   * deletes the scratch entries of dead writers and settles every container's interrupted blob
   * commit, so that what it then reads is a committed state.
   */
  static async open(home: string = stateHome(), opts: OpenOptions = {}): Promise<State> {
    const state = new State(resolve(home), opts.lockTimeoutMs ?? 30_000);
    await state.withLock(async () => {
      await cleanLeftovers(state.home);
      for (const kind of Object.keys(RECORD_FILE) as Kind[]) {
        const dir = join(state.home, kind);
        await mkdir(dir, { recursive: true });
        await cleanLeftovers(dir);
        // One level down only: a volume's _data is the user's, whatever its names look like.
        for (const key of await state.keys(kind)) await cleanLeftovers(join(dir, key));
      }
      // A blob copy a killed load left (a .tmp-* scratch file; .partial-* downloads are kept to resume).
      await cleanLeftovers(join(state.home, 'blobs')).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
      // The layout's own entries are made durable, so a power loss cannot take a directory away.
      await fsyncDir(state.home);
      await fsyncDir(dirname(state.home));
      for (const id of await state.keys('containers')) await state.settle(id);
    });
    return state;
  }

  /** Runs `fn` holding the state's cross-process lock (re-entrant; see atomic.ts withLock). */
  withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return withLock(this.home, fn, { timeoutMs: this.lockTimeoutMs });
  }

  // ---- images ----

  async listImages(): Promise<ImageRecord[]> {
    return this.list('images', (id) => this.getImage(id));
  }

  async getImage(id: string): Promise<ImageRecord | undefined> {
    const file = this.recordFile('images', checkKey(this.kindDir('images'), 'image id', id, 'id'));
    const raw = await readJson(file);
    return raw === undefined ? undefined : this.owned(file, 'id', id, shape<ImageRecord>('MALFORMED', file, raw, IMAGE_FIELDS));
  }

  /**
   * The image whose id (also as `sha256:<id>`) or tag is `ref` (a tag also by its short forms:
   * `app` for `localhost/app:latest`, refAliases), or whose id alone starts with it.
   */
  async resolveImage(ref: string): Promise<ImageRecord> {
    const images = await this.listImages();
    const exact = images.filter((i) => i.tags.includes(ref));
    return resolveRef(this.kindDir('images'), 'image', ref, images, (i) => (exact.length > 0 ? exact.includes(i) : i.tags.some((t) => refAliases(t).has(ref))));
  }

  /** What opens a stored image: its archive, and the tag that picks it there when it holds several. */
  imageSource(rec: ImageRecord): { path: string; tag?: string } {
    return { path: this.imageArchive(rec.id), ...(rec.archiveTag !== undefined ? { tag: rec.archiveTag } : {}) };
  }

  /** Where an image's archive is (for a pulled image: its OCI layout directory). */
  imageArchive(id: string): string {
    const dir = join(this.kindDir('images'), checkKey(this.kindDir('images'), 'image id', id, 'id'));
    return existsSync(join(dir, 'layout')) ? join(dir, 'layout') : join(dir, 'archive.tar');
  }

  /** Where a content-addressed blob is (it may not be there). */
  blobPath(digest: string): string {
    const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
    if (!m) throw new StateError('BAD_NAME', join(this.home, 'blobs'), `not a sha256 digest: ${JSON.stringify(digest)}`);
    return join(this.home, 'blobs', 'sha256', m[1]!);
  }

  /**
   * Adds an image, or rewrites an existing image's record (its files never change: pass none). A
   * new image comes as
   * - the files of its directory (LayoutFile[], what loadImage read: LoadedImage.files): each blob
   *   is put in the blob store (hashed as it is copied, checked against its digest, fsynced, never
   *   rewritten), then `layout/` is built with hard links to them (writeLayout);
   * - a one-image layout over blobs the store has (BlobLayout: a pull);
   * - or, as the state kept every image before the blob store, an archive file (a path, copied;
   *   an OCI layout directory is packed into an OCI archive) or its bytes, kept as archive.tar.
   * All of it happens under the lock; the image directory is built in scratch and renamed in whole,
   * the commit point. A kill before that leaves blobs no image links (whole and verified: the store
   * puts nothing else under a digest), which `system prune` removes (pruneBlobs); blobs this call
   * added are removed again when it fails.
   * A tag lives on one image only: tagging with a tag another image has is refused (untag that one
   * first), so no crash can leave a tag on two images or on none.
   */
  async putImage(record: ImageRecord, archive?: string | Uint8Array | BlobLayout | LayoutFile[]): Promise<void> {
    const dir = this.kindDir('images');
    const rec = shape<ImageRecord>('BAD_INPUT', dir, record, IMAGE_FIELDS);
    checkKey(dir, 'image id', rec.id, 'id');
    for (const t of rec.tags) checkTag(dir, t);
    await this.withLock(async () => {
      for (const other of await this.listImages()) {
        const taken = other.id !== rec.id ? rec.tags.find((t) => other.tags.includes(t)) : undefined;
        if (taken !== undefined) throw new StateError('EXISTS', this.recordFile('images', other.id), `tag "${taken}" is on image ${shortId(other.id)}`);
      }
      const exists = (await this.getImage(rec.id)) !== undefined;
      if (exists && archive !== undefined) throw new StateError('EXISTS', join(dir, rec.id), 'image already exists (its archive cannot be replaced)');
      if (exists) return writeJsonAtomic(this.recordFile('images', rec.id), rec);
      if (archive === undefined) throw new StateError('BAD_INPUT', join(dir, rec.id), 'a new image needs its archive');
      let kind: 'file' | 'dir' | undefined;
      if (Array.isArray(archive)) return this.createLinked(rec, archive);
      if (isBlobLayout(archive)) {
        const layout = archive;
        return this.create('images', rec.id, rec, (staged) => writeLinkedLayout(join(staged, 'layout'), (d) => this.blobPath(d), layout));
      }
      if (typeof archive === 'string') {
        kind = await stat(archive).then(
          (s) => (s.isFile() ? 'file' : s.isDirectory() ? 'dir' : undefined),
          (e: NodeJS.ErrnoException) => {
            if (e.code === 'ENOENT') throw new StateError('BAD_INPUT', archive, 'the image archive does not exist');
            throw e;
          },
        );
        if (!kind) throw new StateError('BAD_INPUT', archive, 'the image must be an archive file or an OCI layout directory');
        if (kind === 'dir') assertLayout(archive);
      }
      await this.create('images', rec.id, rec, async (staged) => {
        const dest = join(staged, 'archive.tar');
        // An OCI layout directory is kept as the OCI archive it packs into (src/engine/pack-dir.ts).
        if (typeof archive !== 'string') await writeFileAtomic(dest, archive);
        else if (kind === 'dir') await packLayout(archive, dest);
        else await copyFileSynced(archive, dest);
      });
    });
  }

  /** putImage of an image's files: its blobs into the store, then its directory over them (under the lock). */
  private async createLinked(rec: ImageRecord, files: LayoutFile[]): Promise<void> {
    const store = await this.blobs();
    const digests = new Map<LayoutFile, string>();
    const added: string[] = [];
    try {
      for (const f of files) {
        if (!('blob' in f)) continue;
        const put = await store.put(f.blob, { expected: f.digest, file: rec.source, what: f.path });
        digests.set(f, put.digest);
        if (put.placed) added.push(put.digest);
      }
      await this.create('images', rec.id, rec, async (staged) => {
        await writeLayout(join(staged, 'layout'), (d) => store.path(d), files, digests);
        this.onStep?.('layout-linked');
      });
    } catch (e) {
      // What this call added and nothing links goes again.
      const mine = new Set<string>();
      for (const d of added) {
        const st = await stat(store.path(d)).catch(() => undefined);
        if (st) mine.add(`${st.dev}:${st.ino}`);
      }
      if (mine.size > 0) await store.collect(mine);
      throw e;
    }
  }

  /** The blob store of this state (src/registry/blob-store.ts), opened once; `onStep` is passed on. */
  private async blobs(): Promise<BlobStore> {
    this.store ??= BlobStore.open(this.home);
    const store = await this.store;
    store.onStep = this.onStep && ((step) => this.onStep!(step));
    return store;
  }

  /**
   * The bytes the images `ids` hold, each file once: a blob several of them link counts once
   * (`system df`); for one image, every blob it has, shared with other images or not (`images`).
   */
  async imageBytes(ids: string[]): Promise<number> {
    const seen = new Set<string>();
    let bytes = 0;
    for (const id of ids) {
      const dir = join(this.kindDir('images'), checkKey(this.kindDir('images'), 'image id', id, 'id'));
      // Its layout's files, or the archive a state written before the blob store kept (not the record).
      for (const f of [...(await filesUnder(join(dir, 'layout'))), ...(await filesUnder(join(dir, 'archive.tar')))]) {
        const key = `${f.dev}:${f.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        bytes += f.size;
      }
    }
    return bytes;
  }

  /**
   * `system prune`: removes every blob no image links (fetched by a docker:// view, or left by a
   * load or pull that was killed or failed before its image was in place); returns their count
   * and bytes. Under the lock, so no load or pull links a blob meanwhile.
   */
  async pruneBlobs(): Promise<{ count: number; bytes: number }> {
    return this.withLock(async () => (await this.blobs()).collect());
  }

  /**
   * Removes an image; refused (IN_USE) while a container uses it. The blobs it linked that no
   * other image links go with it (under the lock, as images are linked under it).
   */
  async removeImage(id: string): Promise<void> {
    const dir = join(this.kindDir('images'), checkKey(this.kindDir('images'), 'image id', id, 'id'));
    await this.withLock(async () => {
      const linked = new Set((await filesUnder(join(dir, 'layout'))).filter((f) => f.nlink > 1).map((f) => `${f.dev}:${f.ino}`));
      await this.remove('images', id, (c) => c.image === id);
      if (linked.size > 0) await (await this.blobs()).collect(linked);
    });
  }

  // ---- containers ----

  async listContainers(): Promise<ContainerRecord[]> {
    return this.list('containers', (id) => this.getContainer(id));
  }

  async getContainer(id: string): Promise<ContainerRecord | undefined> {
    const file = this.recordFile('containers', checkKey(this.kindDir('containers'), 'container id', id, 'id'));
    const raw = await readJson(file);
    return raw === undefined ? undefined : this.owned(file, 'id', id, shape<ContainerRecord>('MALFORMED', file, raw, CONTAINER_FIELDS));
  }

  /** The container whose id or name is `ref`, or whose id alone starts with it. */
  async resolveContainer(ref: string): Promise<ContainerRecord> {
    return resolveRef(this.kindDir('containers'), 'container', ref, await this.listContainers(), (c) => c.name === ref);
  }

  /**
   * Creates or rewrites a container's record, with new contents for any of its blobs, as one atomic
   * change: after a kill at any moment, the record and every blob are all old or all new. Its image
   * must exist and its name must be free.
   *
   * A blob's content may be bytes or a stream of chunks (a container layer's tar, tarBlocks, can be
   * gigabytes): it is never held whole. Before the lock is taken (so a long write does not hold
   * every other process up), each new blob is streamed into a `.tmp-*` scratch file in the
   * containers directory, hashed and counted as it goes, and fsynced. Then, under the lock, a new
   * container is built whole in a scratch directory (the blobs renamed into it) and renamed in;
   * for an existing one:
   *   1. each new blob is renamed to `.blob-<digest>-<name>` beside its final name;
   *   2. the record, naming the new digests, replaces the old one: the commit point;
   *   3. each staged blob is renamed over its final name.
   * A kill before 2 leaves staged blobs no record names (discarded by settle) or scratch files
   * (deleted by open); a kill after 2 leaves staged blobs the record names (renamed into place by
   * settle, which open, openSaved and readBlob run). So read blobs through openSaved or readBlob
   * (which hold the lock and settle), not from the file directly.
   */
  async putContainer(record: ContainerInput, blobs: Partial<Record<BlobName, Content>> = {}): Promise<ContainerRecord> {
    const input = this.checkInput(record, Object.keys(blobs));
    return this.withScratch(blobs, (written) => this.withLock(() => this.commitContainer(input, written)));
  }

  /** Replaces one blob of a container (its record's digest with it, atomically: see putContainer). */
  async putBlob(id: string, name: BlobName, data: Content): Promise<ContainerRecord> {
    const dir = join(this.kindDir('containers'), checkKey(this.kindDir('containers'), 'container id', id, 'id'));
    const current = async (): Promise<ContainerRecord> => {
      const rec = await this.getContainer(id);
      if (rec === undefined) throw new StateError('NOT_FOUND', dir, 'no such container');
      return rec;
    };
    // A missing container is refused before its blob is written, and again under the lock.
    this.checkInput(await current(), [name]);
    return this.withScratch({ [name]: data }, (written) => this.withLock(async () => this.commitContainer(this.checkInput(await current(), [name]), written)));
  }

  /** A container record as a caller gives it, checked (BAD_INPUT, BAD_NAME), with the blob names it comes with. */
  private checkInput(record: ContainerInput, blobNames: string[]): ContainerInput {
    const dir = this.kindDir('containers');
    const input = shape<ContainerInput>('BAD_INPUT', dir, record, INPUT_FIELDS);
    checkKey(dir, 'container id', input.id, 'id');
    checkKey(dir, 'container name', input.name, 'name');
    checkKey(this.kindDir('images'), 'image id', input.image, 'id');
    for (const m of input.mounts) if (m.type === 'volume') checkKey(this.kindDir('volumes'), 'volume name', m.source, 'name');
    for (const name of blobNames) {
      if (!(BLOB_NAMES as readonly string[]).includes(name)) throw new StateError('BAD_NAME', join(dir, input.id), `no blob is named ${JSON.stringify(name)}`);
    }
    return input;
  }

  /**
   * Streams each blob into a scratch file of the containers directory (writeScratch: hashed,
   * counted, fsynced), runs `use` with them, and removes whichever `use` did not rename into place.
   */
  private async withScratch<T>(blobs: Partial<Record<BlobName, Content>>, use: (written: Written[]) => Promise<T>): Promise<T> {
    const written: Written[] = [];
    try {
      for (const [name, content] of Object.entries(blobs) as Array<[BlobName, Content]>) {
        written.push({ name, ...(await writeScratch(join(this.kindDir('containers'), name), content)) });
      }
      return await use(written);
    } finally {
      for (const w of written) await rm(w.tmp, { force: true });
    }
  }

  /** putContainer's commit, under the lock, of blobs already written to scratch files. */
  private async commitContainer(input: ContainerInput, written: Written[]): Promise<ContainerRecord> {
    const dir = this.kindDir('containers');
    if ((await this.getImage(input.image)) === undefined) {
      throw new StateError('NOT_FOUND', join(this.kindDir('images'), input.image), `container ${shortId(input.id)} names image ${shortId(input.image)}, which does not exist`);
    }
    const clash = (await this.listContainers()).find((c) => c.name === input.name && c.id !== input.id);
    if (clash !== undefined) throw new StateError('EXISTS', this.recordFile('containers', clash.id), `the name "${input.name}" is taken by container ${shortId(clash.id)}`);
    await this.settle(input.id);
    const old = await this.getContainer(input.id);
    const refs = Object.fromEntries(written.map((w) => [w.name, { digest: w.digest, size: w.size }]));
    const rec: ContainerRecord = { ...input, blobs: { ...old?.blobs, ...refs } };
    // A new layer.tar holds everything the journal said: it starts a new journal.
    if (refs['layer.tar'] !== undefined) delete rec.blobs[JOURNAL];
    if (old === undefined) {
      // create() fsyncs the directory (writing the record in it) before renaming it in.
      await this.create('containers', rec.id, rec, async (staged) => {
        for (const w of written) await rename(w.tmp, join(staged, w.name));
      });
      return rec;
    }
    const home = join(dir, rec.id);
    const staged = written.map((w) => ({ ...w, path: join(home, `.blob-${w.digest.slice(7)}-${w.name}`) }));
    try {
      for (const s of staged) await rename(s.tmp, s.path);
      // The staged names are durable before the record names them.
      if (staged.length > 0) await fsyncDir(home);
    } catch (e) {
      for (const s of staged) await rm(s.path, { force: true });
      throw e;
    }
    await writeJsonAtomic(this.recordFile('containers', rec.id), rec);
    for (const s of staged) await rename(s.path, join(home, s.name));
    if (old.blobs[JOURNAL] !== undefined && rec.blobs[JOURNAL] === undefined) await rm(join(home, JOURNAL), { force: true });
    if (staged.length > 0) await fsyncDir(home);
    return rec;
  }

  /**
   * A container's blob read whole into memory (for small blobs: tests and tools; the engine opens a
   * container's layer with openSaved), checked against the digest in its record (CORRUPT if it
   * differs); undefined when the container has no such blob.
   */
  async readBlob(id: string, name: BlobName): Promise<Buffer | undefined> {
    checkKey(this.kindDir('containers'), 'container id', id, 'id');
    return this.withLock(async () => {
      await this.settle(id);
      const rec = await this.getContainer(id);
      if (rec === undefined) throw new StateError('NOT_FOUND', join(this.kindDir('containers'), id), 'no such container');
      const ref = rec.blobs[name];
      if (ref === undefined) return undefined;
      const file = join(this.kindDir('containers'), id, name);
      const data = await readFile(file).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') throw new StateError('CORRUPT', file, `is missing, but ${RECORD_FILE.containers} records ${ref.digest}`);
        throw e;
      });
      const digest = sha256(data);
      if (digest !== ref.digest || data.length !== ref.size) {
        throw new StateError('CORRUPT', file, `holds ${digest} (${data.length} bytes), but ${RECORD_FILE.containers} records ${ref.digest} (${ref.size} bytes)`);
      }
      return data;
    });
  }

  /**
   * Appends one frame to a container's journal (journal.ts): its bytes, streamed (its tar may hold
   * a big file) and hashed as they are written, then its check, then one fdatasync; the frame
   * commits itself. Bytes past the committed frames (a torn tail) are cut off first. The record is
   * written too when this frame starts the journal, or RECORD_EVERY bytes after it last named it.
   * A kill leaves the journal as it was or with the frame, never half of it. It is written under
   * the lock: the end it starts from must not move meanwhile. Returns the journal's committed end.
   */
  async appendJournal(id: string, frame: Content): Promise<JournalEnd> {
    checkKey(this.kindDir('containers'), 'container id', id, 'id');
    return this.withLock(async () => {
      await this.settle(id);
      const rec = await this.getContainer(id);
      if (rec === undefined) throw new StateError('NOT_FOUND', join(this.kindDir('containers'), id), 'no such container');
      const recorded = rec.blobs[JOURNAL];
      const file = join(this.kindDir('containers'), id, JOURNAL);
      const fh = await openFile(file, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
      let next: JournalEnd;
      try {
        // A journal the record does not name is stale (settle deletes it): this frame starts anew.
        const from = recorded ? committedTail(file, new FileRegion(fh.fd, 0, (await fh.stat()).size), recorded).end : { digest: EMPTY_CHAIN, size: 0 };
        await fh.truncate(from.size);
        const added = await writeHashed(fh, from.size, frame, false);
        const digest = chainNext(from.digest, added.digest);
        const check = frameCheck(digest);
        await fh.write(check, 0, CHECK, from.size + added.size);
        await fh.datasync();
        next = { digest, size: from.size + added.size + CHECK };
      } finally {
        await fh.close();
      }
      if (recorded === undefined) await fsyncDir(dirname(file));
      if (recorded === undefined || next.size - recorded.size > RECORD_EVERY) {
        await writeJsonAtomic(this.recordFile('containers', id), { ...rec, blobs: { ...rec.blobs, [JOURNAL]: next } });
      }
      return next;
    });
  }

  /**
   * A container's saved layer as one commit has it: its record, layer.tar and the journal's
   * committed frames, each a window onto its file, never read whole (a layer may be gigabytes).
   * The files are opened under the lock, so they are the ones the record names even when a later
   * save renames new ones in (a descriptor keeps its file), and the record's rules keep what they
   * hold in place (layer.tar is replaced, never rewritten; a journal grows past its committed
   * frames only). layer.tar is checked against the record's digest and the frames the record
   * names against its chain digest (CORRUPT, naming the file, if not); the frames after them
   * commit themselves (journal.ts). `close()` lets go of the descriptors.
   */
  async openSaved(id: string): Promise<SavedLayer> {
    const dir = join(this.kindDir('containers'), checkKey(this.kindDir('containers'), 'container id', id, 'id'));
    const fds: number[] = [];
    const close = (): void => {
      for (const fd of fds.splice(0)) closeSync(fd);
    };
    const openCommitted = (name: string, what: string): FileRegion => {
      const file = join(dir, name);
      let fd: number;
      try {
        fd = openSync(file, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new StateError('CORRUPT', file, `is missing, but ${RECORD_FILE.containers} ${what}`);
        throw e;
      }
      fds.push(fd);
      return new FileRegion(fd, 0, fstatSync(fd).size);
    };
    try {
      const { rec, base, journal, tail } = await this.withLock(async () => {
        await this.settle(id);
        const rec = await this.getContainer(id);
        if (rec === undefined) throw new StateError('NOT_FOUND', dir, 'no such container');
        const layerRef = rec.blobs['layer.tar'];
        const journalRef = rec.blobs[JOURNAL];
        const journal = journalRef && openCommitted(JOURNAL, `commits ${journalRef.size} bytes of it`);
        return {
          rec,
          base: layerRef && openCommitted('layer.tar', `records ${layerRef.digest}`),
          journal,
          // The frames past what the record names are found under the lock: a later append cuts
          // off what is past them.
          tail: journal && journalRef && committedTail(join(dir, JOURNAL), journal, journalRef),
        };
      });
      // Checked after the lock is let go: the descriptors hold the committed files.
      const layerRef = rec.blobs['layer.tar'];
      if (base !== undefined && layerRef !== undefined) {
        const digest = sha256Of(base);
        if (digest !== layerRef.digest || base.size !== layerRef.size) {
          throw new StateError('CORRUPT', join(dir, 'layer.tar'), `holds ${digest} (${base.size} bytes), but ${RECORD_FILE.containers} records ${layerRef.digest} (${layerRef.size} bytes)`);
        }
      }
      const journalRef = rec.blobs[JOURNAL];
      const frames = journal !== undefined && journalRef !== undefined && tail !== undefined ? [...namedFrames(join(dir, JOURNAL), journal, journalRef), ...tail.frames] : [];
      return { rec, base, frames, journalSize: tail?.end.size ?? 0, close };
    } catch (e) {
      close();
      throw e;
    }
  }

  async removeContainer(id: string): Promise<void> {
    checkKey(this.kindDir('containers'), 'container id', id, 'id');
    await this.remove('containers', id);
  }

  // ---- volumes ----

  async listVolumes(): Promise<VolumeRecord[]> {
    return this.list('volumes', (name) => this.getVolume(name));
  }

  async getVolume(name: string): Promise<VolumeRecord | undefined> {
    const file = this.recordFile('volumes', checkKey(this.kindDir('volumes'), 'volume name', name, 'name'));
    const raw = await readJson(file);
    return raw === undefined ? undefined : this.owned(file, 'name', name, shape<VolumeRecord>('MALFORMED', file, raw, VOLUME_FIELDS));
  }

  /** Creates a volume (with an empty `_data`), or rewrites an existing volume's record. */
  async putVolume(record: VolumeRecord): Promise<void> {
    const dir = this.kindDir('volumes');
    const rec = shape<VolumeRecord>('BAD_INPUT', dir, record, VOLUME_FIELDS);
    checkKey(dir, 'volume name', rec.name, 'name');
    await this.withLock(async () => {
      if ((await this.getVolume(rec.name)) !== undefined) return writeJsonAtomic(this.recordFile('volumes', rec.name), rec);
      await this.create('volumes', rec.name, rec, (staged) => mkdir(join(staged, '_data'), { mode: 0o755 }).then(() => undefined));
    });
  }

  /** The content directory of a volume. */
  volumeData(name: string): string {
    return join(this.kindDir('volumes'), checkKey(this.kindDir('volumes'), 'volume name', name, 'name'), '_data');
  }

  /** Removes a volume and its content; refused (IN_USE) while a container mounts it. */
  async removeVolume(name: string): Promise<void> {
    checkKey(this.kindDir('volumes'), 'volume name', name, 'name');
    await this.remove('volumes', name, (c) => c.mounts.some((m) => m.type === 'volume' && m.source === name));
  }

  // ---- shared ----

  private kindDir(kind: Kind): string {
    return join(this.home, kind);
  }

  private recordFile(kind: Kind, key: string): string {
    return join(this.home, kind, key, RECORD_FILE[kind]);
  }

  /** The record directories of a kind: scratch entries and foreign names are not records. */
  private async keys(kind: Kind): Promise<string[]> {
    const names = await readdir(this.kindDir(kind)).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
    const valid = kind === 'volumes' ? /^[A-Za-z0-9][A-Za-z0-9_.-]*$/ : /^[0-9a-f]{64}$/;
    return names.filter((n) => valid.test(n) && !n.includes('..')).sort();
  }

  /** Every record of a kind; one removed while listing (no record file any more) is left out. */
  private async list<T>(kind: Kind, get: (key: string) => Promise<T | undefined>): Promise<T[]> {
    const out: T[] = [];
    for (const key of await this.keys(kind)) {
      const rec = await get(key);
      if (rec !== undefined) out.push(rec);
    }
    return out;
  }

  /** A record must name the directory it lives in. */
  private owned<T>(file: string, field: string, key: string, rec: T): T {
    const value = (rec as Record<string, unknown>)[field];
    if (value !== key) throw new StateError('MALFORMED', file, `records ${field} ${JSON.stringify(value)}, but lives in ${JSON.stringify(key)}`);
    return rec;
  }

  /** Builds a record directory in scratch (the record, plus what `fill` writes) and renames it in. */
  private async create(kind: Kind, key: string, rec: unknown, fill: (staged: string) => Promise<void>): Promise<void> {
    const final = join(this.kindDir(kind), key);
    const staged = scratchPath('new', final);
    await mkdir(staged);
    try {
      await fill(staged);
      await writeJsonAtomic(join(staged, RECORD_FILE[kind]), rec);
      await moveIntoPlace(staged, final);
    } catch (e) {
      await rm(staged, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Removes a record directory whole: renamed to trash under the lock, deleted after. Refused
   * (IN_USE) while a container matches `usedBy`.
   */
  private async remove(kind: Kind, key: string, usedBy?: (c: ContainerRecord) => boolean): Promise<void> {
    const path = join(this.kindDir(kind), key);
    const trash = await this.withLock(async () => {
      const what = `${KIND_NAME[kind]} ${kind === 'volumes' ? key : shortId(key)}`;
      if (
        !(await stat(this.recordFile(kind, key)).then(
          () => true,
          () => false,
        ))
      )
        throw new StateError('NOT_FOUND', path, `no such ${KIND_NAME[kind]}: ${key}`);
      const users = usedBy === undefined ? [] : (await this.listContainers()).filter(usedBy);
      if (users.length > 0) throw new StateError('IN_USE', path, `${what} is used by container ${users.map((c) => `${shortId(c.id)} (${c.name})`).join(', ')}`);
      return moveToTrash(path);
    });
    if (trash !== undefined) await rm(trash, { recursive: true, force: true });
  }

  /**
   * Finishes or discards a blob commit that a killed writer left in a container (under the lock):
   * a staged blob whose digest the record names was committed, and is renamed into place; any
   * other staged blob was not, and is deleted.
   */
  private async settle(id: string): Promise<void> {
    const dir = join(this.kindDir('containers'), id);
    const names: string[] = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      throw e;
    });
    const staged = names.filter((n) => STAGED_BLOB.test(n));
    const journal = names.includes(JOURNAL);
    if (staged.length === 0 && !journal) return;
    const rec = await this.getContainer(id);
    // A journal the record does not name was compacted into layer.tar by a writer killed before it
    // deleted the file.
    if (journal && rec !== undefined && rec.blobs[JOURNAL] === undefined) await rm(join(dir, JOURNAL), { force: true });
    if (staged.length === 0) return;
    for (const n of staged) {
      const [, hex, name] = STAGED_BLOB.exec(n)!;
      if (rec?.blobs[name as BlobName]?.digest === `sha256:${hex}`) await rename(join(dir, n), join(dir, name!));
      else await rm(join(dir, n), { force: true });
    }
    await fsyncDir(dir);
  }
}

/** A blob streamed into a scratch file, to be renamed into place. */
interface Written extends Streamed {
  name: BlobName;
  tmp: string;
}

/** A container's saved layer, as State.openSaved gives it. */
export interface SavedLayer {
  rec: ContainerRecord;
  /** layer.tar (undefined when the container has none), checked against the record. */
  base?: ByteSource;
  /** The journal's committed frames, in order. */
  frames: Frame[];
  /** The journal's committed length (0 when there is none). */
  journalSize: number;
  /** Closes the files the layer and frames are windows onto. */
  close(): void;
}

/** The regular files under `dir` (`dir` itself when it is one; none when it does not exist), with their inodes, link counts and sizes. */
async function filesUnder(dir: string): Promise<Array<{ dev: number; ino: number; nlink: number; size: number }>> {
  const out: Array<{ dev: number; ino: number; nlink: number; size: number }> = [];
  const walk = async (d: string): Promise<void> => {
    const names = await readdir(d, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      if (e.code === 'ENOTDIR') return undefined;
      throw e;
    });
    if (names === undefined) {
      const st = await stat(d);
      if (st.isFile()) out.push({ dev: st.dev, ino: st.ino, nlink: st.nlink, size: st.size });
      return;
    }
    for (const n of names) {
      const p = join(d, n.name);
      if (n.isDirectory()) await walk(p);
      else if (n.isFile()) {
        const st = await stat(p);
        out.push({ dev: st.dev, ino: st.ino, nlink: st.nlink, size: st.size });
      }
    }
  };
  await walk(dir);
  return out;
}

function isBlobLayout(v: unknown): v is BlobLayout {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && Array.isArray((v as BlobLayout).blobs);
}

/**
 * Resolves a reference as Docker does: an exact id (or `sha256:<id>`) first, then a name or tag,
 * then a prefix of one id only (AMBIGUOUS, listing them, when several ids start with it).
 */
function resolveRef<T extends { id: string }>(dir: string, what: string, ref: string, records: T[], named: (r: T) => boolean): T {
  const id = ref.startsWith('sha256:') ? ref.slice(7) : ref;
  const exact = records.find((r) => r.id === id);
  if (exact !== undefined) return exact;
  const byName = records.find(named);
  if (byName !== undefined) return byName;
  const matches = /^[0-9a-f]{1,63}$/.test(id) ? records.filter((r) => r.id.startsWith(id)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    // Listed by short id, or in full where two short ids are the same.
    const shorts = matches.map((r) => shortId(r.id));
    const shown = new Set(shorts).size === shorts.length ? shorts : matches.map((r) => r.id);
    throw new StateError('AMBIGUOUS', dir, `${what} prefix "${ref}" matches ${matches.length} ids: ${shown.join(', ')}`);
  }
  throw new StateError('NOT_FOUND', dir, `no ${what} has the id, ${what === 'image' ? 'tag' : 'name'} or id prefix "${ref}"`);
}

/**
 * The error for an IMAGE argument that is neither a stored image nor an existing file: one that
 * looks like a path (absolute, ./ or ../, or ending .tar, .tgz, .gz, .zst) says the file does not
 * exist; anything else keeps the store's "no image has the tag …".
 */
export function noSuchImage(ref: string, e: unknown): unknown {
  if (!(e instanceof StateError) || e.code !== 'NOT_FOUND') return e;
  if (!/^(\/|\.\.?\/|~)/.test(ref) && !/\.(tar|tgz|gz|zst)$/.test(ref)) return e;
  return new StateError('NOT_FOUND', ref, `${ref}: no such file or directory (and no stored image has that tag or id)`);
}
