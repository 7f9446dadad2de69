/**
 * What `history` and `image inspect` need of a registry image: the manifest and the config, and
 * not one layer byte. The config is fetched like any blob (verified, into the blob store, so a
 * later pull does not fetch it again).
 */
import { readFile } from 'node:fs/promises';
import { formatBytes } from '../archive/limits.js';
import { stateHome } from '../core/home.js';
import { parseConfig, type ImageConfig } from '../image/config.js';
import { BlobStore } from './blob-store.js';
import { fetchBlob } from './blobs.js';
import { RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { resolveManifest, type ResolvedImage } from './pull.js';
import { formatReference, parseReference } from './reference.js';
import type { RemoteOptions, Transfer } from './store-image.js';

export interface RemoteConfig {
  config: ImageConfig;
  configDigest: string;
  resolved: ResolvedImage;
  transfer: Transfer;
}

export async function remoteConfig(refText: string, opts: RemoteOptions & { home?: string } = {}): Promise<RemoteConfig> {
  const ref = parseReference(refText);
  const client = RegistryClient.for(ref, opts);
  try {
    const resolved = await resolveManifest(client, ref, opts);
    const d = resolved.image.config;
    const where = `${ref.registry}/${ref.repository}@${d.digest}`;
    if (d.size > client.limits.maxJsonBytes) {
      throw new RegistryError('LIMIT', where, `the config is ${d.size} bytes; JSON documents over ${formatBytes(client.limits.maxJsonBytes)} are refused (limits.maxJsonBytes)`);
    }
    const store = await BlobStore.open(opts.home ?? stateHome());
    const { path } = await fetchBlob(client, ref.repository, d, store);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, 'utf8'));
    } catch (e) {
      throw new RegistryError('BAD_MANIFEST', where, `the config is not JSON: ${(e as Error).message}`);
    }
    const config = parseConfig(json, formatReference(ref), `config ${d.digest}`);
    return {
      config,
      configDigest: d.digest,
      resolved,
      transfer: { reference: formatReference(ref), manifestDigest: resolved.manifest.digest, fetchedBytes: client.fetched, imageBytes: resolved.size },
    };
  } finally {
    await client.close();
  }
}
