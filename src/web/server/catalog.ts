/**
 * The images the server shows: those of the state directory, and those named on the command line
 * (an archive or OCI layout path is shown without being stored; a docker:// reference is read
 * lazily from its registry as the explore commands read it, src/registry/lazy.ts, and says how many
 * bytes that has fetched; a tag or id is a stored image).
 * Each image is opened once, when first asked for, and kept open as a Stack (explore/stack.ts)
 * until the server stops: every tree, file and waste answer reads that one Stack.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Engine, imageIdOf } from '../../engine/engine.js';
import type { ImageRecord } from '../../engine/records.js';
import { StateError } from '../../core/errors.js';
import { loadImage, type LoadedImage } from '../../image/index.js';
import { Stack } from '../../explore/stack.js';
import { loadRef } from '../../explore/open.js';
import { isRegistryRef } from '../../registry/reference.js';
import type { RemoteOptions, Transfer } from '../../registry/store-image.js';

export interface ImageListing extends Omit<ImageRecord, 'created'> {
  created: string | null;
  /** Bytes of the archive (or of the packed OCI layout, for a stored one; of the manifest, config and layers for a docker:// one). */
  size: number;
  /** In the state directory (false: a command-line archive or docker:// image shown in place). */
  stored: boolean;
  /** A docker:// image: the bytes fetched from its registry so far (it grows as the image is read). */
  fetchedBytes?: number;
}

interface Given {
  id: string;
  path: string;
  image: LoadedImage;
  /** A docker:// image's transfer (loadRef's count of bytes fetched). */
  transfer?: Transfer;
}

export class Catalog {
  /** Command-line archives, by image id. */
  private readonly given = new Map<string, Given>();
  /** Ids in the order the command line named them (archives and stored refs). */
  readonly named: string[] = [];
  private readonly stacks = new Map<string, Promise<Stack>>();

  constructor(
    readonly engine: Engine,
    /** How docker:// images' registries are reached (credentials, TLS, platform), for the explorer and the lab. */
    readonly remote: RemoteOptions = {},
  ) {}

  /**
   * Adds a command-line IMAGE: an archive/OCI layout path or a docker:// reference (opened now, so
   * a bad one fails at start), or a stored ref.
   */
  async add(ref: string): Promise<string> {
    let id: string;
    const remote = isRegistryRef(ref);
    if (remote || existsSync(ref)) {
      let transfer: Transfer | undefined;
      const image = remote ? await loadRef(ref, { ...this.remote, home: this.engine.state.home, onTransfer: (t) => (transfer = t) }) : await loadImage(ref);
      id = imageIdOf(image);
      if (this.given.has(id) || (await this.engine.state.getImage(id))) image.close();
      else {
        this.given.set(id, { id, path: ref, image, transfer });
        this.stacks.set(id, Promise.resolve(new Stack(image)));
      }
    } else {
      id = (await this.engine.state.resolveImage(ref)).id;
    }
    if (!this.named.includes(id)) this.named.push(id);
    return id;
  }

  async list(): Promise<ImageListing[]> {
    const out: ImageListing[] = [];
    const stored = await this.engine.state.listImages();
    for (const r of stored) out.push({ ...r, size: await this.engine.state.imageBytes([r.id]), stored: true });
    for (const g of this.given.values()) {
      if (stored.some((r) => r.id === g.id)) continue;
      out.push({
        id: g.id,
        tags: g.image.tags,
        source: g.path,
        format: formatOf(g.image),
        configDigest: g.image.configDigest ?? `sha256:${g.id}`,
        created: null,
        size: g.transfer ? g.transfer.imageBytes : (await stat(g.path)).size,
        stored: false,
        ...(g.transfer ? { fetchedBytes: g.transfer.fetchedBytes } : {}),
      });
    }
    return out.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
  }

  /** The id of an image: a command-line one, or a stored one by tag, id or id prefix. */
  async resolve(ref: string): Promise<string> {
    if (this.given.has(ref)) return ref;
    try {
      return (await this.engine.state.resolveImage(ref)).id;
    } catch (e) {
      if (e instanceof StateError && e.code === 'NOT_FOUND') {
        const hit = [...this.given.keys()].filter((id) => id.startsWith(ref) || this.given.get(id)!.image.tags.includes(ref));
        if (hit.length === 1) return hit[0];
      }
      throw e;
    }
  }

  /** What `engine.create` takes for this image: its id when stored, else the archive path or docker:// reference (stored, or pulled with `remote`, on the way). */
  createRef(id: string): string {
    return this.given.get(id)?.path ?? id;
  }

  async stack(ref: string): Promise<{ id: string; stack: Stack }> {
    const id = await this.resolve(ref);
    let p = this.stacks.get(id);
    if (!p) {
      const state = this.engine.state;
      p = state
        .getImage(id)
        .then((rec) => {
          const { path, tag } = rec ? state.imageSource(rec) : { path: state.imageArchive(id), tag: undefined };
          return loadImage(path, { tag });
        })
        .then((image) => new Stack(image));
      this.stacks.set(id, p);
      // A failed open is not kept: the next call tries again.
      p.catch(() => this.stacks.delete(id));
    }
    return { id, stack: await p };
  }

  async close(): Promise<void> {
    for (const p of this.stacks.values()) {
      try {
        (await p).image.close();
      } catch {
        /* it never opened */
      }
    }
    this.stacks.clear();
  }
}

/** The state stores a layout as the OCI archive it packs into, and plain tarballs as a docker-archive. */
function formatOf(image: LoadedImage): ImageRecord['format'] {
  return image.format === 'layers' ? 'docker-archive' : image.format;
}
