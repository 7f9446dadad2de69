/**
 * OCI image layout (image-spec `image-layout.md`), as a directory or inside a tar: `oci-layout`,
 * `index.json`, `blobs/<alg>/<encoded>`. index.json → (nested index → platform) → manifest →
 * config + layers. Tags are the descriptor annotations `org.opencontainers.image.ref.name` and
 * `io.containerd.image.name`.
 */
import { createHash } from 'node:crypto';
import { ArchiveError } from '../core/errors.js';
import { parseConfig } from './config.js';
import type { ImagePlan, PlannedLayer } from './layers.js';
import type { LayoutFile } from './linked-layout.js';
import { selectImage } from './select.js';
import { parseJson, readBytes, type BlobStore } from './store.js';

interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface ResolveOptions {
  tag?: string;
  verify: boolean;
  onWarning: (message: string) => void;
}

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_NESTING = 8;

/** Only sha256 is computed, so only sha256 digests are accepted; the hex also makes a safe path. */
const DIGEST = /^sha256:([0-9a-f]{64})$/;

function bad(file: string, problem: string): never {
  throw new ArchiveError('BAD_MANIFEST', file, problem);
}

function descriptor(v: unknown, file: string, where: string): Descriptor {
  if (typeof v !== 'object' || v === null) bad(file, `${where}: expected a descriptor object, found ${JSON.stringify(v)}`);
  const d = v as Record<string, unknown>;
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) bad(file, `${where}: digest is ${JSON.stringify(d.digest)}, expected "sha256:" and 64 hex digits`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) bad(file, `${where}: size is ${JSON.stringify(d.size)}, expected a byte count`);
  if (d.mediaType !== undefined && typeof d.mediaType !== 'string') bad(file, `${where}: mediaType must be a string`);
  return d as unknown as Descriptor;
}

export function blobPath(digest: string): string {
  return `blobs/sha256/${DIGEST.exec(digest)![1]}`;
}

function tagsOf(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  return [...new Set([a[CONTAINERD_NAME], a[REF_NAME]].filter((t): t is string => typeof t === 'string' && t !== ''))];
}

const platformName = (d: Descriptor): string => (d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : 'unknown platform');

/** Attestations and other non-images in a platform index are skipped. */
function isImageForPlatform(d: Descriptor): boolean {
  return d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && d.platform?.os !== 'unknown';
}

/** Several platforms of one image: prefer linux/amd64, else the first, with a warning. */
function pickPlatform(ds: Descriptor[], file: string, where: string, warn: (m: string) => void): Descriptor {
  const usable = ds.filter(isImageForPlatform);
  if (usable.length === 0) bad(file, `${where} lists no image manifests`);
  if (usable.length === 1) return usable[0];
  const amd64 = usable.find((d) => d.platform?.os === 'linux' && d.platform.architecture === 'amd64');
  if (amd64) return amd64;
  warn(`${file}: ${where} has no linux/amd64 image; using ${platformName(usable[0])} of ${usable.map(platformName).join(', ')}`);
  return usable[0];
}

export function resolveOciLayout(store: BlobStore, opts: ResolveOptions): ImagePlan {
  const file = store.file;

  // The image's files as the state stores it: its oci-layout, an index.json of the chosen entry
  // alone, and every blob read on the way (indexes, manifest, config, layers).
  const files: LayoutFile[] = [];
  /** A JSON blob by descriptor; OCI-3 with verify: its bytes must hash to the digest. */
  const fetch = (d: Descriptor, what: string): unknown => {
    const path = blobPath(d.digest);
    const blob = store.get(path);
    if (!blob) throw new ArchiveError('MISSING_BLOB', file, `${what} ${d.digest} (${path}) is not in the archive`);
    files.push({ path, blob: blob.source, digest: d.digest });
    const bytes = readBytes(blob, file, what, store.limits);
    if (opts.verify) {
      const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      if (got !== d.digest) throw new ArchiveError('DIGEST_MISMATCH', file, `${what} ${path}: sha256 is ${got}, expected ${d.digest}`);
      if (bytes.length !== d.size) throw new ArchiveError('DIGEST_MISMATCH', file, `${what} ${path}: ${bytes.length} bytes, the descriptor says ${d.size}`);
    }
    return parseJson(bytes, file, `${what} ${path}`, store.limits);
  };

  const layoutBlob = store.get('oci-layout');
  if (layoutBlob) files.push({ path: 'oci-layout', bytes: readBytes(layoutBlob, file, 'oci-layout', store.limits) });
  if (!layoutBlob) {
    opts.onWarning(`${file}: no oci-layout file; reading index.json anyway`);
  } else {
    const layout = parseJson(readBytes(layoutBlob, file, 'oci-layout', store.limits), file, 'oci-layout', store.limits) as { imageLayoutVersion?: unknown };
    if (typeof layout?.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
      opts.onWarning(`${file}: oci-layout imageLayoutVersion is ${JSON.stringify(layout?.imageLayoutVersion)}, expected "1.0.0"`);
    }
  }
  const indexBlob = store.get('index.json');
  if (!indexBlob) throw new ArchiveError('NOT_AN_IMAGE', file, 'an OCI layout needs index.json, and there is none');
  const index = parseJson(readBytes(indexBlob, file, 'index.json', store.limits), file, 'index.json', store.limits) as { manifests?: unknown };
  if (!Array.isArray(index?.manifests)) bad(file, 'index.json: manifests must be an array');
  const top = (index.manifests as unknown[]).map((d, i) => descriptor(d, file, `index.json manifests[${i}]`));

  // Same tag on several entries that carry platforms: one image for several platforms.
  const tiebreak = (ms: Array<{ value: Descriptor }>): Descriptor | undefined =>
    ms.every((m) => m.value.platform)
      ? pickPlatform(
          ms.map((m) => m.value),
          file,
          'index.json',
          opts.onWarning,
        )
      : undefined;
  const chosen = selectImage(
    top.map((d) => ({ tags: tagsOf(d), value: d })),
    opts.tag,
    file,
    tiebreak,
  );

  files.push({ path: 'index.json', bytes: Buffer.from(`${JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [chosen.value] })}\n`) });

  // Follow nested indexes down to an image manifest.
  let d = chosen.value;
  let manifest: Record<string, unknown>;
  for (let depth = 0; ; depth++) {
    if (depth > MAX_NESTING) bad(file, `indexes nested more than ${MAX_NESTING} deep at ${d.digest}`);
    const json = fetch(d, 'manifest');
    if (typeof json !== 'object' || json === null) bad(file, `manifest ${d.digest} is not a JSON object`);
    const doc = json as Record<string, unknown>;
    const kind = d.mediaType ?? (doc.mediaType as string | undefined);
    if ((kind !== undefined && INDEX_TYPES.has(kind)) || (kind === undefined && Array.isArray(doc.manifests))) {
      if (!Array.isArray(doc.manifests)) bad(file, `index ${d.digest}: manifests must be an array`);
      const ds = (doc.manifests as unknown[]).map((x, i) => descriptor(x, file, `index ${d.digest} manifests[${i}]`));
      d = pickPlatform(ds, file, `index ${d.digest}`, opts.onWarning);
      continue;
    }
    manifest = doc;
    break;
  }
  const manifestDigest = d.digest;
  const cfgDesc = descriptor(manifest.config, file, `manifest ${manifestDigest} config`);
  const config = parseConfig(fetch(cfgDesc, 'config'), file, `config ${cfgDesc.digest}`);
  if (!Array.isArray(manifest.layers)) bad(file, `manifest ${manifestDigest}: layers must be an array`);
  const descs = (manifest.layers as unknown[]).map((x, i) => descriptor(x, file, `manifest ${manifestDigest} layers[${i}]`));
  const layers: PlannedLayer[] = descs.map((ld, i) => {
    const path = blobPath(ld.digest);
    const blob = store.get(path);
    if (!blob) throw new ArchiveError('MISSING_BLOB', file, `layer ${i + 1}/${descs.length}: blob ${ld.digest} (${path}) is not in the archive`);
    files.push({ path, blob: blob.source, digest: ld.digest });
    const planned: PlannedLayer = { path, source: blob.source, expectedDigest: ld.digest, expectedSize: ld.size, mediaType: ld.mediaType };
    if (blob.layer) planned.prepared = blob.layer;
    return planned;
  });
  return { tags: chosen.tags, config, configDigest: cfgDesc.digest, layers, files: [...new Map(files.map((f) => [f.path, f])).values()] };
}
