/**
 * A View: an image's read-only layers under one writable layer, seen through a Node-compatible
 * `fs`. It is the library's main object: open one with openImage() or openLayers().
 */
import type { Writable } from 'node:stream';
import type { Entry } from './entry.js';
import { createFs, type LayerFs } from './fs/node-fs.js';
import type { LoadedImage } from './image/index.js';
import { buildLayer, type LayerTree } from './layer/build.js';
import { flatten } from './layer/flatten.js';
import { commitLayers, type CommitOptions, type CommitResult } from './out/commit.js';
import { changes, type Change } from './out/diff.js';
import { manifest } from './out/manifest.js';
import { writeTar, type Written } from './out/tar-write.js';
import { UnionCore } from './union/core.js';
import type { CopyUpStats, UnionOptions } from './union/state.js';
import { mergedEntries } from './union/tree.js';
import { layerEntries, upperEntries } from './union/upper.js';

export class View {
  readonly core: UnionCore;
  readonly fs: LayerFs;

  /** @internal use openImage() or openLayers() */
  constructor(
    readonly image: LoadedImage,
    private readonly trees: LayerTree[],
    private readonly opts: UnionOptions,
    depth = trees.length,
  ) {
    this.core = new UnionCore(flatten(trees.slice(0, depth)), opts);
    this.fs = createFs(this.core);
  }

  static fromImage(image: LoadedImage, opts: UnionOptions = {}): View {
    const trees = image.layers.map((l, i) => buildLayer(l.entries, i, image.file));
    return new View(image, trees, opts);
  }

  /** Copy-up counters of this view (objects and bytes), for benchmarks and teaching. */
  get stats(): CopyUpStats {
    return this.core.s.stats;
  }

  get layerCount(): number {
    return this.trees.length;
  }

  /** A read-only view of the first `n` layers (what the image looked like after layer n). */
  atLayer(n: number): View {
    if (!Number.isInteger(n) || n < 0 || n > this.trees.length) {
      throw new RangeError(`layer must be 0..${this.trees.length}, got ${n}`);
    }
    return new View(this.image, this.trees, { ...this.opts, readOnly: true }, n);
  }

  /** The writable layer as entries: whiteouts, opaque markers, new and copied-up objects. */
  upperEntries(): Entry[] {
    return upperEntries(this.core.s);
  }

  /** The writable layer as a container saves it: the root's own entry first (OVL-26), then upperEntries(). */
  layerEntries(): Entry[] {
    return layerEntries(this.core.s);
  }

  /** The merged filesystem as entries, parents first, names in byte order. */
  entries(): Entry[] {
    return [...mergedEntries(this.core.s)];
  }

  /** A/C/D changes of the writable layer, by podman's rules (`podman diff`). */
  diff(): Change[] {
    const root = this.core.s.upperRoot;
    return root ? changes(root, this.core.s.lowerRoot) : [];
  }

  /** A/C/D changes that layer `n` (1-based) made to the layers below it, by podman's rules. */
  layerDiff(n: number): Change[] {
    if (!Number.isInteger(n) || n < 1 || n > this.trees.length) {
      throw new RangeError(`layer must be 1..${this.trees.length}, got ${n}`);
    }
    return changes(this.trees[n - 1].root, flatten(this.trees.slice(0, n - 1)));
  }

  /** The merged tree in the fixtures' manifest format (see out/manifest.ts). */
  manifest(): string {
    return manifest(mergedEntries(this.core.s));
  }

  /** The flattened filesystem as one tar (`docker export`). */
  export(dest: string | Writable): Promise<Written> {
    return writeTar(mergedEntries(this.core.s), dest);
  }

  /**
   * Writes the image's layers plus the writable layer as a new image (DKR-12). Base layers are
   * written uncompressed, so their diff_ids stay and their digests are those of the tar.
   */
  commit(dest: string, opts: CommitOptions = {}): Promise<CommitResult> {
    const layers = this.image.layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: l.diffId,
      size: l.tar.size,
      blob: l.tar,
      diffId: l.diffId,
      tar: l.tar,
    }));
    const config = structuredClone(this.image.config) as unknown as Record<string, unknown>;
    // commitLayers writes the new layer before it first awaits: the image is the view as it is
    // now (docker commit pauses the container), so it is imported statically, not on demand.
    return commitLayers(upperEntries(this.core.s, true), { config, layers }, dest, opts);
  }

  close(): void {
    this.core.s.spill.close();
    this.image.close();
  }
}
