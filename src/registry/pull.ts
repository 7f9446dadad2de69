/**
 * Fetching an image from a registry into the blob store: manifest (an index resolved by
 * platform), config, layers. Blobs already stored are not fetched again; layers come down three
 * at a time. What was fetched is counted against the image's size (manifest + config + layers).
 */
import { writeFile, open as openFile } from 'node:fs/promises';
import { formatBytes } from '../archive/limits.js';
import type { BlobLayout } from '../image/linked-layout.js';
import type { BlobStore } from './blob-store.js';
import { fetchBlob } from './blobs.js';
import type { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { getManifest, imageManifest, indexEntries, INDEX_TYPES, OCI_INDEX, type Descriptor, type FetchedManifest, type ImageManifest, type Platform } from './manifest.js';
import { hostPlatform, pickPlatform } from './platform.js';
import type { Reference } from './reference.js';

export interface ResolveOptions {
  /** Which manifest of an index (default: the host's platform). */
  platform?: Platform;
}

export interface ResolvedImage {
  manifest: FetchedManifest;
  image: ImageManifest;
  /** The descriptor of the manifest (the index entry, platform included, when there was an index). */
  descriptor: Descriptor;
  /** manifest + config + layers, in bytes. */
  size: number;
}

/** The image manifest `ref` names, through an index when it is one. */
export async function resolveManifest(client: RegistryClient, ref: Reference, opts: ResolveOptions = {}): Promise<ResolvedImage> {
  const where = `${ref.registry}/${ref.repository}`;
  let m = await getManifest(client, ref.repository, ref.digest ?? ref.tag!);
  let descriptor: Descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  if (INDEX_TYPES.has(m.mediaType)) {
    const chosen = pickPlatform(indexEntries(m, `index ${where}@${m.digest}`), opts.platform ?? hostPlatform(), `${where}@${m.digest}`);
    m = await getManifest(client, ref.repository, chosen.digest);
    if (INDEX_TYPES.has(m.mediaType)) throw new RegistryError('BAD_MANIFEST', `${where}@${m.digest}`, 'an index entry for a platform is another index, not an image manifest');
    descriptor = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, ...(chosen.platform ? { platform: chosen.platform } : {}) };
  }
  const image = imageManifest(m, `manifest ${where}@${m.digest}`);
  const size = m.bytes.length + image.config.size + image.layers.reduce((s, l) => s + l.size, 0);
  return { manifest: m, image, descriptor, size };
}

export interface FetchOptions extends ResolveOptions {
  /** Bytes of blobs fetched so far, of those still missing from the store. */
  onProgress?: (done: number, total: number) => void;
  /** Layers fetched at once (default 3). */
  concurrency?: number;
}

export interface FetchedImage extends ResolvedImage {
  /** The layout of the image over the store's blobs: index.json and every blob digest. */
  layout: BlobLayout;
  /** Blob bytes fetched now (manifests are counted by the client). */
  blobBytes: number;
}

async function storeBytes(store: BlobStore, digest: string, bytes: Uint8Array): Promise<void> {
  if (await store.has(digest, bytes.length)) return;
  await writeFile(store.partial(digest), bytes);
  const fh = await openFile(store.partial(digest), 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await store.commit(digest);
}

export async function fetchImage(client: RegistryClient, ref: Reference, store: BlobStore, opts: FetchOptions = {}): Promise<FetchedImage> {
  const resolved = await resolveManifest(client, ref, opts);
  const { image, manifest } = resolved;
  const where = `${ref.registry}/${ref.repository}@${manifest.digest}`;
  // Configs are JSON documents: the same limit as manifests, checked before a byte is fetched.
  if (image.config.size > client.limits.maxJsonBytes) {
    throw new RegistryError('LIMIT', where, `the config is ${image.config.size} bytes; JSON documents over ${formatBytes(client.limits.maxJsonBytes)} are refused (limits.maxJsonBytes)`);
  }
  const blobs = [image.config, ...image.layers];
  const missing: Descriptor[] = [];
  for (const d of blobs) if (!missing.some((x) => x.digest === d.digest) && !(await store.has(d.digest, d.size))) missing.push(d);
  const total = missing.reduce((s, d) => s + d.size, 0);
  let done = 0;
  let blobBytes = 0;
  const queue = [...missing];
  const worker = async (): Promise<void> => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
      const r = await fetchBlob(client, ref.repository, d, store, (n) => opts.onProgress?.((done += n), total));
      blobBytes += r.fetched;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 3, Math.max(1, missing.length)) }, worker));
  await storeBytes(store, manifest.digest, manifest.bytes);
  return { ...resolved, blobBytes, layout: { index: layoutIndex(resolved, ref), blobs: [manifest.digest, ...blobs.map((d) => d.digest)] } };
}

/** The index.json of the one-image layout a registry image is opened from. */
export function layoutIndex(resolved: ResolvedImage, ref: Reference): Buffer {
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [{ ...resolved.descriptor, annotations: { 'org.opencontainers.image.ref.name': ref.tag ?? 'latest' } }],
  };
  return Buffer.from(`${JSON.stringify(index)}\n`);
}
