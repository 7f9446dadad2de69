/**
 * `docker save` / `podman save` archives: `manifest.json` is a JSON array of
 * `{ Config, RepoTags, Layers }` (moby `image/tarexport`). Legacy archives (Docker ≤ 24, podman)
 * name layers `<id>/layer.tar` (often links inside the tar) or `<sha>.tar`; Docker 25+ names them
 * `blobs/sha256/<hex>` inside an OCI layout. DA-1: when manifest.json exists it is used.
 */
import { createHash } from 'node:crypto';
import { ArchiveError } from '../core/errors.js';
import { parseConfig } from './config.js';
import type { ImagePlan, PlannedLayer } from './layers.js';
import { selectImage } from './select.js';
import { cleanPath, parseJson, readBytes, type Blob, type BlobStore } from './store.js';
import type { LayoutFile } from './linked-layout.js';
import { posix } from 'node:path';

interface ManifestItem {
  Config: string;
  RepoTags: string[];
  Layers: string[];
  /** The item as manifest.json has it (every field, also those not read here). */
  raw: unknown;
}

export interface ResolveOptions {
  tag?: string;
  verify: boolean;
}

function parseManifest(json: unknown, file: string): ManifestItem[] {
  const bad = (problem: string): never => {
    throw new ArchiveError('BAD_MANIFEST', file, `manifest.json: ${problem}`);
  };
  if (!Array.isArray(json)) bad(`expected a JSON array of images, found ${JSON.stringify(json)?.slice(0, 60)}`);
  return (json as unknown[]).map((item, i) => {
    if (typeof item !== 'object' || item === null) bad(`item ${i} is not an object`);
    const it = item as Record<string, unknown>;
    if (typeof it.Config !== 'string') bad(`item ${i} has no Config path`);
    const tags = it.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) bad(`item ${i} RepoTags must be an array of strings`);
    if (!Array.isArray(it.Layers) || it.Layers.some((l) => typeof l !== 'string')) bad(`item ${i} Layers must be an array of paths`);
    return { Config: it.Config as string, RepoTags: tags as string[], Layers: it.Layers as string[], raw: item };
  });
}

/**
 * DA-2: the digest a path names, if any: `<hex>.tar`, `<hex>.json`, `<hex>` or
 * `blobs/sha256/<hex>`. Legacy `<v1 id>/layer.tar` names none (a v1 id is not a content hash).
 */
export function digestNamedBy(path: string): string | undefined {
  const m = /^(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.tar|\.json)?$/.exec(path);
  return m ? `sha256:${m[1]}` : undefined;
}

export function resolveDockerArchive(store: BlobStore, opts: ResolveOptions): ImagePlan {
  const file = store.file;
  const mf = store.get('manifest.json');
  // Found by the fuzzer: a manifest.json member that is a directory, or a link to nothing.
  if (!mf) throw new ArchiveError('BAD_MANIFEST', file, 'manifest.json is not a regular file (a directory, device, or a link to nothing)');
  const items = parseManifest(parseJson(readBytes(mf, file, 'manifest.json', store.limits), file, 'manifest.json', store.limits), file);
  const chosen = selectImage(
    items.map((it) => ({ tags: it.RepoTags, value: it })),
    opts.tag,
    file,
  ).value;

  const cfgBlob = store.get(chosen.Config);
  if (!cfgBlob) throw new ArchiveError('MISSING_BLOB', file, `manifest.json names config ${JSON.stringify(chosen.Config)}, which the archive does not hold`);
  const cfgBytes = readBytes(cfgBlob, file, 'image config', store.limits);
  const configDigest = `sha256:${createHash('sha256').update(cfgBytes).digest('hex')}`;
  const named = digestNamedBy(cfgBlob.path);
  if (opts.verify && named !== undefined && named !== configDigest) {
    throw new ArchiveError('DIGEST_MISMATCH', file, `config ${cfgBlob.path}: sha256 is ${configDigest}, its name says ${named}`);
  }
  const config = parseConfig(parseJson(cfgBytes, file, `config ${chosen.Config}`, store.limits), file, `config ${chosen.Config}`);

  // The image's files as the state stores it: manifest.json of the chosen item alone, its config
  // and layers where the archive has their data, and a symlink for each name that led there.
  const files = new Map<string, LayoutFile>([['manifest.json', { path: 'manifest.json', bytes: Buffer.from(`${JSON.stringify([chosen.raw])}\n`) }]]);
  const keep = (named: string, blob: Blob, digest: string | undefined, layer?: number): void => {
    files.set(blob.path, { path: blob.path, blob: blob.source, ...(digest !== undefined ? { digest } : {}), ...(layer !== undefined ? { layer } : {}) });
    const from = cleanPath(named);
    if (from !== undefined && from !== blob.path && !files.has(from)) files.set(from, { path: from, symlink: posix.relative(posix.dirname(from), blob.path) });
  };
  keep(chosen.Config, cfgBlob, configDigest);
  const layers: PlannedLayer[] = chosen.Layers.map((path, i) => {
    const blob = store.get(path);
    if (!blob) {
      throw new ArchiveError('MISSING_BLOB', file, `layer ${i + 1}/${chosen.Layers.length}: manifest.json names ${JSON.stringify(path)}, which the archive does not hold`);
    }
    keep(path, blob, undefined, i);
    const shown = blob.path === path ? path : `${path} -> ${blob.path}`;
    return { path: shown, source: blob.source, expectedDigest: digestNamedBy(blob.path) };
  });
  return { tags: chosen.RepoTags, config, configDigest, layers, files: [...files.values()] };
}
