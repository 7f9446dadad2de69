/**
 * The front door: an image file or directory (docker-archive, oci-archive, OCI layout) or a list
 * of plain layer tarballs → config + layers of entries, with every blob verified (OCI-3, DA-2).
 *
 * Opening cost grows with the number of entries, not bytes: tars are walked header by header and
 * file data stays in the archive (or, for compressed layers, in an anonymous spill file), read on
 * demand. The one pass over every byte is hashing/decompression, skipped where `verify: false`
 * allows it.
 */
import { openSync, fstatSync } from 'node:fs';
import { ArchiveError } from '../core/errors.js';
import { BufferSource, FileRegion, type ByteSource } from '../source.js';
import { layerHistory, type HistoryEntry, type ImageConfig } from './config.js';
import { detectImage, type ImageFormat } from './detect.js';
import { resolveDockerArchive } from './docker-archive.js';
import { openLayer, type ImagePlan, type LayerData, type PlannedLayer } from './layers.js';
import { resolveOciLayout } from './oci-layout.js';
import { Resources, type BlobStore } from './store.js';
import { DEFAULT_CONCURRENCY, openLayers } from './concurrent.js';
import { Budget, resolveLimits, type Limits } from '../archive/limits.js';
import type { OpenCache } from './cache/open-cache.js';
import type { LayoutFile } from './linked-layout.js';

export type { HistoryEntry, ImageConfig, ContainerConfig } from './config.js';
export type { LayerData } from './layers.js';
export { volumePaths } from './config.js';

export interface LoadOptions {
  /** Which image, when the archive holds several (DA-1): a RepoTag, short form, or OCI ref name. */
  tag?: string;
  /** Check blob digests and diff_ids (default true). */
  verify?: boolean;
  onWarning?: (msg: string) => void;
  /** Limits on what the archive may make the reader do; defaults and meaning in src/archive/limits.ts. */
  limits?: Partial<Limits>;
  /**
   * Progress of opening the layers: stored bytes hashed or decompressed so far, of the total of
   * every layer blob. Called often (per 1 MiB chunk) and once at the end of each layer.
   */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /**
   * Keep what opening learns (verified digests, the index of the headers, compressed layers'
   * uncompressed tar) by layer digest, and use what an earlier open kept (src/image/cache/open-cache.ts).
   */
  cache?: OpenCache;
  /**
   * Layers opened at once (default 4): each inflates on the zlib threadpool while another is
   * hashed and indexed. The result is the one-at-a-time open's (1) whatever this is (concurrent.ts).
   */
  concurrency?: number;
}

export interface LoadedImage {
  file: string;
  format: 'docker-archive' | 'oci-archive' | 'oci-layout' | 'layers';
  tags: string[];
  config: ImageConfig;
  configDigest?: string;
  /** Bottom first (OCI-1). */
  layers: LayerData[];
  /** The config's full history, `empty_layer` entries included. */
  history: HistoryEntry[];
  warnings: string[];
  /**
   * The image's own files as the state stores it (src/image/linked-layout.ts): windows onto the
   * archive, readable until close(). None for plain layer tarballs.
   */
  files?: LayoutFile[];
  /** Closes every file descriptor opened for this image (archive, blobs, spill files). */
  close(): void;
}

/** Opens the planned layers (a few at a time, results as in order: concurrent.ts); OCI-3: diff_ids and layers must be as many. */
async function openPlan(plan: ImagePlan, file: string, verify: boolean, res: Resources, warn: (m: string) => void, budget: Budget, opts: LoadOptions): Promise<LayerData[]> {
  const diffIds = plan.config.rootfs.diff_ids;
  if (diffIds.length !== plan.layers.length) {
    throw new ArchiveError('BAD_MANIFEST', file, `the manifest lists ${plan.layers.length} layer(s) but config.rootfs.diff_ids has ${diffIds.length}`);
  }
  const history = layerHistory(plan.config.history, plan.layers.length, file, warn);
  const count = plan.layers.length;
  const cache = opts.cache;
  return openLayers(count, { concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY, budget, res, warn, sizes: plan.layers.map((l) => l.source.size), onProgress: opts.onProgress }, (i, job) =>
    openLayer(plan.layers[i], i, count, diffIds[i], history[i], { file, verify, cache, ...job }),
  );
}

function collector(opts: LoadOptions): { warnings: string[]; warn: (m: string) => void } {
  const warnings: string[] = [];
  return {
    warnings,
    warn: (m) => {
      warnings.push(m);
      opts.onWarning?.(m);
    },
  };
}

export async function loadImage(path: string, opts: LoadOptions = {}): Promise<LoadedImage> {
  const res = new Resources();
  try {
    const early: string[] = [];
    const { format, store } = await detectImage(
      path,
      res,
      (m) => {
        early.push(m);
        opts.onWarning?.(m);
      },
      resolveLimits(opts.limits),
    );
    const image = await loadStore(store, format, res, opts);
    image.warnings.unshift(...early);
    return image;
  } catch (e) {
    res.closeAll();
    throw e;
  }
}

/**
 * Loads an image from a BlobStore already made (the lazy view of a registry image builds one over
 * Range reads: src/registry/lazy.ts). `res` is closed by the image's close(), or on failure.
 */
export async function loadStore(store: BlobStore, format: ImageFormat, res: Resources, opts: LoadOptions = {}): Promise<LoadedImage> {
  const path = store.file;
  const { warnings, warn } = collector(opts);
  const verify = opts.verify ?? true;
  const limits = resolveLimits(opts.limits);
  try {
    const plan = format === 'docker-archive' ? resolveDockerArchive(store, { tag: opts.tag, verify }) : resolveOciLayout(store, { tag: opts.tag, verify, onWarning: warn });
    const layers = await openPlan(plan, path, verify, res, warn, new Budget(limits), opts);
    for (const f of plan.files ?? []) if ('layer' in f && f.layer !== undefined && f.digest === undefined) f.digest = layers[f.layer]!.digest;
    return {
      file: path,
      format,
      tags: plan.tags,
      config: plan.config,
      configDigest: plan.configDigest,
      layers,
      history: plan.config.history,
      warnings,
      ...(plan.files ? { files: plan.files } : {}),
      close: () => res.closeAll(),
    };
  } catch (e) {
    res.closeAll();
    throw e;
  }
}

export { GOARCH } from '../core/platform.js';
import { GOARCH } from '../core/platform.js';

/** A layer already open: a window onto a file the caller keeps open (and closes), named for messages. */
export interface LayerSource {
  label: string;
  source: ByteSource;
}

/**
 * Plain layer tarballs, bottom first: tar, tar.gz or tar.zst (sniffed), as paths, in-memory bytes
 * or sources already open. Digests and diff_ids are computed; the config is synthesised with those
 * diff_ids.
 */
export async function loadLayers(layers: Array<string | Uint8Array | LayerSource>, opts: LoadOptions = {}): Promise<LoadedImage> {
  const res = new Resources();
  const { warnings, warn } = collector(opts);
  const labels = layers.map((l, i) => (typeof l === 'string' ? l : l instanceof Uint8Array ? `<buffer ${i + 1}>` : l.label));
  const file = labels.join(', ');
  const budget = new Budget(resolveLimits(opts.limits));
  try {
    const out = await openLayers(layers.length, { concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY, budget, res, warn }, async (i, job) => {
      const l = layers[i];
      let source: ByteSource;
      if (typeof l === 'string') {
        let fd: number;
        try {
          fd = job.res.track(openSync(l, 'r'));
        } catch (e) {
          throw new ArchiveError('MISSING_BLOB', l, `layer ${i + 1}/${layers.length} cannot be opened: ${(e as Error).message}`);
        }
        source = new FileRegion(fd, 0, fstatSync(fd).size);
      } else if (l instanceof Uint8Array) {
        source = new BufferSource(Buffer.from(l.buffer, l.byteOffset, l.byteLength));
      } else {
        source = l.source;
      }
      const planned: PlannedLayer = { path: labels[i], source };
      // No manifest: the computed digests are the truth, so hashing is never skipped.
      return openLayer(planned, i, layers.length, undefined, undefined, { file: labels[i], verify: false, cache: opts.cache, ...job });
    });
    const config: ImageConfig = {
      architecture: GOARCH[process.arch] ?? process.arch,
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: out.map((l) => l.diffId) },
      history: [],
    };
    return { file, format: 'layers', tags: [], config, layers: out, history: [], warnings, close: () => res.closeAll() };
  } catch (e) {
    res.closeAll();
    throw e;
  }
}
