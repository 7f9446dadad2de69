/**
 * `layerfs pull REF`: a registry image into the state directory (its blobs, then the image record
 * over them).
 */
import { BlobStore } from '../registry/blob-store.js';
import { RegistryClient } from '../registry/client.js';
import { fetchImage } from '../registry/pull.js';
import { formatReference, localTag, parseReference } from '../registry/reference.js';
import type { RemoteOptions, Transfer } from '../registry/store-image.js';
import type { ImageRecord } from './records.js';
import type { State } from './state.js';

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
