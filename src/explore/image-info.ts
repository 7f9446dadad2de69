/**
 * An image as `image inspect` and `history` show it (one JSON shape each, docs/json.md):
 * - ImageJson: podman's `image inspect` keys (Id, RepoTags, Created, Architecture, Os, Author,
 *   Config with Env, Cmd, Entrypoint, WorkingDir, User, Volumes, ExposedPorts, Labels, StopSignal,
 *   RootFS, Size = the layers' uncompressed bytes); a field the config lacks is left out;
 * - history (as `docker history` / `podman history`): the config's history newest first, empty
 *   layers included (size 0); each entry that made a layer gets that layer's uncompressed size,
 *   in order, bottom first; the newest entry carries the image id, the others `<missing>`.
 */
import type { LoadedImage } from '../image/index.js';

export interface ImageJson {
  Id: string;
  RepoTags: string[];
  Created?: string;
  Architecture?: string;
  Os?: string;
  Author?: string;
  Config: Record<string, unknown>;
  RootFS: { Type: string; Layers: string[] };
  Size: number;
}

const CONFIG_FIELDS = ['User', 'Env', 'Entrypoint', 'Cmd', 'WorkingDir', 'Volumes', 'ExposedPorts', 'Labels', 'StopSignal'] as const;

export function imageJson(image: LoadedImage, tags: string[] = image.tags): ImageJson {
  const c = image.config;
  const config: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) {
    const v = c.config[f];
    if (v !== undefined && v !== null && v !== '') config[f] = v;
  }
  const out: ImageJson = {
    Id: (image.configDigest ?? '').replace(/^sha256:/, ''), RepoTags: tags, Config: config,
    RootFS: { Type: c.rootfs.type, Layers: c.rootfs.diff_ids }, Size: image.layers.reduce((n, l) => n + l.size, 0),
  };
  if (c.created) out.Created = c.created;
  if (c.architecture) out.Architecture = c.architecture;
  if (c.os) out.Os = c.os;
  if (c.author) out.Author = c.author;
  return out;
}

export interface HistoryRow {
  /** The image id on the newest entry, else `<missing>` (as docker and podman print it). */
  id: string;
  created?: string;
  createdBy: string;
  /** Uncompressed bytes of the layer the entry made; 0 for an empty layer. */
  size: number;
  comment: string;
  emptyLayer: boolean;
  /** The layer it made (1 = bottom), when not empty. */
  layer?: number;
}

export function historyRows(image: LoadedImage): HistoryRow[] {
  let layer = 0;
  const rows = image.history.map((h): HistoryRow => {
    const empty = h.empty_layer === true;
    const l = empty ? undefined : image.layers[layer++];
    return {
      id: '<missing>', created: h.created, createdBy: h.created_by ?? '', size: l?.size ?? 0,
      comment: h.comment ?? '', emptyLayer: empty, ...(l ? { layer } : {}),
    };
  });
  // Layers the history does not account for (a config without history) are listed bare.
  for (; layer < image.layers.length; layer++) {
    rows.push({ id: '<missing>', createdBy: '', size: image.layers[layer]!.size, comment: '', emptyLayer: false, layer: layer + 1 });
  }
  rows.reverse();
  if (rows[0]) rows[0].id = (image.configDigest ?? '').replace(/^sha256:/, '');
  return rows;
}
