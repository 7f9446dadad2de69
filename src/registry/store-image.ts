/**
 * The short-lived view of a docker:// reference that is not pulled: its blobs go to the blob store,
 * linked into a scratch layout that is gone once the image is open (its files stay open by
 * descriptor). `layerfs pull`, which stores the image in the state, is src/engine/pull.ts.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchPath } from '../core/atomic.js';
import { stateHome } from '../core/home.js';
import { writeLinkedLayout } from '../image/linked-layout.js';
import { loadImage, type LoadedImage, type LoadOptions } from '../image/index.js';
import { BlobStore } from './blob-store.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { fetchImage, type FetchOptions } from './pull.js';
import { formatReference, parseReference } from './reference.js';

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
