/**
 * commit: the writable layer becomes a new layer on top of the image's own layers (DKR-12), written
 * as a docker-archive, an oci-archive or an OCI layout directory that podman, skopeo and umoci load.
 */
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WHITEOUT_PREFIX, type Entry } from '../entry.js';
import { ArchiveError } from '../core/errors.js';
import { FileRegion } from '../source.js';
import { writeImage, type ImageFormat, type LayerBlob, type WrittenImage } from './image-write.js';
import { writeTarSync } from './tar-write.js';

export interface CommitOptions {
  format?: ImageFormat;
  /** Full reference for the new image, e.g. `localhost/app:v2`. */
  tag?: string;
  /** The history entry's created_by (default `layerfs commit`). */
  createdBy?: string;
  comment?: string;
}

export interface CommitResult extends WrittenImage {
  /** The new layer: blob digest (= diff_id, it is written uncompressed) and size. */
  layer: { digest: string; diffId: string; size: number };
}

/**
 * OCI-8: no real file may be called `.wh.*`. The kernel lets such a name be created through the
 * overlay (§8), but a layer holding it would mean a whiteout: refuse to commit it.
 */
function refuseReservedNames(entries: Entry[], dest: string): void {
  for (const e of entries) {
    if (e.type === 'whiteout' || e.type === 'opaque') continue;
    const base = e.path.slice(e.path.lastIndexOf('/') + 1);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      throw new ArchiveError('BAD_WHITEOUT', dest, `cannot commit /${e.path}: names starting with ${WHITEOUT_PREFIX} are reserved for whiteouts (OCI-8)`);
    }
  }
}

/** The new image's config: the base's, with the new layer's diff_id and history entry (DKR-12). */
function commitConfig(baseConfig: Record<string, unknown>, diffId: string, opts: CommitOptions): Record<string, unknown> {
  const created = new Date().toISOString();
  const config = structuredClone(baseConfig) as { rootfs?: { diff_ids?: string[] }; history?: unknown[]; created?: string };
  config.rootfs = { type: 'layers', diff_ids: [...(config.rootfs?.diff_ids ?? []), diffId] } as never;
  const entry: Record<string, string> = { created, created_by: opts.createdBy ?? 'layerfs commit' };
  if (opts.comment) entry.comment = opts.comment;
  config.history = [...(config.history ?? []), entry];
  config.created = created;
  return config as Record<string, unknown>;
}

/** A committed layer written to a file: its blob (uncompressed, so digest = diff_id) and the new config. */
export interface CommittedLayer {
  layer: LayerBlob;
  config: Record<string, unknown>;
}

/**
 * Writes the new layer (the writable layer's entries) as a tar to `layerPath`, synchronously, and
 * makes the new config. The layer's `blob` and `tar` read `fd`, the file opened for reading; the
 * caller closes it. OCI-8: a reserved name is refused first (BAD_WHITEOUT naming `dest`).
 */
export function writeCommitLayer(entries: Entry[], baseConfig: Record<string, unknown>, layerPath: string, dest: string, opts: CommitOptions = {}): CommittedLayer & { fd: number } {
  refuseReservedNames(entries, dest);
  const w = writeTarSync(entries, layerPath);
  const fd = openSync(layerPath, 'r');
  const src = new FileRegion(fd, 0, w.size);
  const layer: LayerBlob = { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: w.digest, size: w.size, blob: src, diffId: w.diffId, tar: src };
  return { layer, config: commitConfig(baseConfig, w.diffId, opts), fd };
}

/**
 * The new layer is written synchronously, before the first await: the image is the view as it was
 * when commit() was called, even if the view changes while the rest (base layers) is written.
 */
export async function commitLayers(entries: Entry[], base: { config: Record<string, unknown>; layers: LayerBlob[] }, dest: string, opts: CommitOptions = {}): Promise<CommitResult> {
  refuseReservedNames(entries, dest);
  const tmp = mkdtempSync(join(tmpdir(), 'layerfs-commit-'));
  try {
    const { layer, config, fd } = writeCommitLayer(entries, base.config, join(tmp, 'layer.tar'), dest, opts);
    try {
      const out = await writeImage({ config, layers: [...base.layers, layer], tag: opts.tag }, dest, opts.format ?? 'docker-archive');
      return { ...out, layer: { digest: layer.digest, diffId: layer.diffId, size: layer.size } };
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
