/**
 * An image as `image inspect` and `history` show it, one JSON shape each (docs/json.md), whether
 * the image is local or a docker:// reference whose manifest and config only were fetched:
 * - ImageJson: podman's `image inspect` keys (Id, Digest, RepoTags, Created, Architecture, Os,
 *   Author, Config with Env, Cmd, Entrypoint, WorkingDir, User, Volumes, ExposedPorts, Labels,
 *   StopSignal, RootFS, Size = the layers' uncompressed bytes); a field the image lacks is left
 *   out, and so is Size when the layers were not read (a remote image);
 * - history (as `docker history` / `podman history`): the config's history newest first, empty
 *   layers included (size 0); each entry that made a layer gets that layer, in order, bottom
 *   first; the newest entry carries the image id, the others `<missing>`.
 */
import type { HistoryEntry, ImageConfig } from '../image/config.js';
import type { LoadedImage } from '../image/index.js';

/** What both shapes are made of; a local image and a remote manifest+config both give it. */
export interface ImageFacts {
  configDigest: string;
  /** The manifest's digest, when the image came by one (a registry). */
  manifestDigest?: string;
  config: ImageConfig;
  tags: string[];
  /** Bottom first: the stored blob's digest and size, and the uncompressed size when known. */
  layers: Array<{ digest: string; blobSize: number; size?: number }>;
}

export function localFacts(image: LoadedImage, tags: string[] = image.tags): ImageFacts {
  return {
    configDigest: image.configDigest ?? '',
    config: image.config,
    tags,
    layers: image.layers.map((l) => ({ digest: l.digest, blobSize: l.compressedSize, size: l.size })),
  };
}

export interface ImageJson {
  Id: string;
  Digest?: string;
  RepoTags: string[];
  Created?: string;
  Architecture?: string;
  Os?: string;
  Variant?: string;
  Author?: string;
  Config: Record<string, unknown>;
  RootFS: { Type: string; Layers: string[] };
  Size?: number;
}

const CONFIG_FIELDS = ['User', 'Env', 'Entrypoint', 'Cmd', 'WorkingDir', 'Volumes', 'ExposedPorts', 'Labels', 'StopSignal'] as const;
const bare = (digest: string) => digest.replace(/^sha256:/, '');

export function imageJson(f: ImageFacts): ImageJson {
  const c = f.config as ImageConfig & { variant?: string };
  const config: Record<string, unknown> = {};
  for (const k of CONFIG_FIELDS) {
    const v = c.config[k];
    if (v !== undefined && v !== null && v !== '') config[k] = v;
  }
  const out: ImageJson = { Id: bare(f.configDigest), RepoTags: f.tags, Config: config, RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids } };
  if (f.manifestDigest) out.Digest = f.manifestDigest;
  if (c.created) out.Created = c.created;
  if (c.architecture) out.Architecture = c.architecture;
  if (c.os) out.Os = c.os;
  if (c.variant) out.Variant = c.variant;
  if (c.author) out.Author = c.author;
  if (f.layers.every((l) => l.size !== undefined)) out.Size = f.layers.reduce((n, l) => n + l.size!, 0);
  return out;
}

export interface HistoryRow {
  /** The image id on the newest entry, else `<missing>` (as docker and podman print it). */
  id: string;
  created?: string;
  createdBy: string;
  /** Uncompressed bytes of the layer the entry made; 0 for an empty layer; left out when not known (a remote image). */
  size?: number;
  /** The stored (compressed) blob's bytes of the layer the entry made, as the manifest gives them. */
  blobSize?: number;
  comment: string;
  emptyLayer: boolean;
  /** The layer it made (1 = bottom), when not empty. */
  layer?: number;
}

export function historyRows(f: ImageFacts): HistoryRow[] {
  let n = 0;
  const row = (h: HistoryEntry | undefined): HistoryRow => {
    const empty = h?.empty_layer === true;
    const l = empty ? undefined : f.layers[n++];
    const r: HistoryRow = { id: '<missing>', created: h?.created, createdBy: h?.created_by ?? '', comment: h?.comment ?? '', emptyLayer: empty };
    if (!l) r.size = 0;
    if (l) {
      if (l.size !== undefined) r.size = l.size;
      r.blobSize = l.blobSize;
      r.layer = n;
    }
    if (r.created === undefined) delete r.created;
    return r;
  };
  const rows = (f.config.history ?? []).map(row);
  // Layers the history does not account for (a config without history) are listed bare.
  while (n < f.layers.length) rows.push(row(undefined));
  rows.reverse();
  if (rows[0]) rows[0].id = bare(f.configDigest);
  return rows;
}
