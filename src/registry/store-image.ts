/**
 * A registry image in the state directory: `pull` (blobs, then the image record over them) and the
 * short-lived view of a docker:// reference that is not pulled (the same blobs, linked into a
 * scratch layout that is gone once the image is open: its files stay open by descriptor).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchPath } from '../engine/atomic.js';
import { stateHome } from '../engine/home.js';
import { writeLinkedLayout } from '../engine/linked-layout.js';
import type { ImageRecord } from '../engine/records.js';
import type { State } from '../engine/state.js';
import { loadImage, type LoadedImage, type LoadOptions } from '../image/index.js';
import { BlobStore } from './blob-store.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { fetchImage, type FetchOptions } from './pull.js';
import { formatReference, localTag, parseReference } from './reference.js';

export interface RemoteOptions extends ClientOptions, FetchOptions {}

/** What a command that touched a registry reports. */
export interface Transfer {
  reference: string;
  manifestDigest: string;
  /** Bytes received from the registry by this command. */
  fetchedBytes: number;
  /** The image as stored in the registry: manifest + config + layers. */
  imageBytes: number;
}

export interface PullResult extends Transfer {
  image: ImageRecord;
}

/**
 * `layerfs pull REF`: the image's blobs into `<home>/blobs`, then its record (tagged `host/repo:tag`;
 * the tag moves from any other image that had it, as with docker pull). Pulling an image that is
 * stored already fetches its manifests only.
 */
export async function pullImage(state: State, refText: string, opts: RemoteOptions = {}): Promise<PullResult> {
  const ref = parseReference(refText);
  const client = RegistryClient.for(ref, opts);
  try {
    const store = await BlobStore.open(state.home);
    const got = await fetchImage(client, ref, store, opts);
    const id = got.image.config.digest.slice(7);
    const tag = localTag(ref);
    const image = await state.withLock(async () => {
      for (const other of await state.listImages()) {
        if (other.id !== id && other.tags.includes(tag)) await state.putImage({ ...other, tags: other.tags.filter((t) => t !== tag) });
      }
      const existing = await state.getImage(id);
      if (existing) {
        const rec = { ...existing, tags: existing.tags.includes(tag) ? existing.tags : [...existing.tags, tag] };
        await state.putImage(rec);
        return rec;
      }
      const rec: ImageRecord = { id, tags: [tag], source: formatReference(ref), format: 'oci-layout', configDigest: got.image.config.digest, created: new Date().toISOString() };
      await state.putImage(rec, got.layout);
      return rec;
    });
    return { image, reference: formatReference(ref), manifestDigest: got.manifest.digest, fetchedBytes: client.fetched, imageBytes: got.size };
  } finally {
    await client.close();
  }
}

/**
 * Opens a docker:// reference without adding an image record: its blobs go to the blob store of
 * `home` (so a later pull fetches nothing again), and the image is loaded from a scratch layout.
 */
export async function loadRemote(refText: string, opts: RemoteOptions & LoadOptions & { home?: string } = {}): Promise<{ image: LoadedImage; transfer: Transfer }> {
  const ref = parseReference(refText);
  const client = RegistryClient.for(ref, opts);
  try {
    const store = await BlobStore.open(opts.home ?? stateHome());
    const got = await fetchImage(client, ref, store, opts);
    const dir = scratchPath('new', join(store.root, 'view'));
    try {
      await writeLinkedLayout(dir, (d) => store.path(d), got.layout);
      const image = await loadImage(dir, opts);
      image.file = formatReference(ref);
      return { image, transfer: { reference: formatReference(ref), manifestDigest: got.manifest.digest, fetchedBytes: client.fetched, imageBytes: got.size } };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  } finally {
    await client.close();
  }
}
