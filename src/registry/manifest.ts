/**
 * Manifests and indexes from a registry (OCI image-spec and Docker's v2 schema 2):
 * - `Accept` lists every type read here, so the registry never down-converts to schema 1;
 * - the body is read up to `limits.maxJsonBytes` (LIMIT past it, reading stops there);
 * - its sha256 must equal `Docker-Content-Digest` when the registry sends one, and the digest
 *   asked for when the reference has one (DIGEST_MISMATCH names both);
 * - an index is resolved to one manifest by platform (platform.ts).
 */
import { createHash } from 'node:crypto';
import { formatBytes } from '../archive/limits.js';
import { repoScope, type RegistryClient } from './client.js';
import { RegistryError } from './errors.js';
import { header, readLimited } from './http.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];
export const INDEX_TYPES = new Set([OCI_INDEX, DOCKER_LIST]);

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  bytes: Buffer;
  digest: string;
  mediaType: string;
  json: Record<string, unknown>;
}

export interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** GET (the default) or HEAD of `/v2/<repo>/manifests/<tag or digest>`, checked as the header says. */
export async function getManifest(client: RegistryClient, repository: string, reference: string): Promise<FetchedManifest> {
  const where = `${client.registry}/${repository}@${reference}`;
  const res = await client.request(`/v2/${repository}/manifests/${reference}`, [repoScope(repository, 'pull')], { headers: { accept: MANIFEST_TYPES.join(', ') } });
  if (res.status !== 200) await client.fail(res, `manifest ${where}`);
  const limit = client.limits.maxJsonBytes;
  const bytes = await readLimited(res, limit, (n) => new RegistryError('LIMIT', where, `the manifest is ${n} bytes or more; manifests over ${formatBytes(limit)} are refused (limits.maxJsonBytes)`));
  client.count(bytes.length);
  const digest = sha256(bytes);
  const claimed = header(res, 'docker-content-digest');
  if (claimed !== undefined && claimed !== digest) {
    throw new RegistryError('DIGEST_MISMATCH', where, `the manifest's sha256 is ${digest}, but Docker-Content-Digest says ${claimed}`);
  }
  if (DIGEST.test(reference) && reference !== digest) {
    throw new RegistryError('DIGEST_MISMATCH', where, `the manifest's sha256 is ${digest}, not the digest asked for`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new RegistryError('BAD_MANIFEST', where, `the manifest is not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RegistryError('BAD_MANIFEST', where, 'the manifest is not a JSON object');
  const doc = json as Record<string, unknown>;
  const type = (typeof doc.mediaType === 'string' ? doc.mediaType : undefined) ?? header(res, 'content-type')?.split(';')[0]?.trim() ?? '';
  const mediaType = MANIFEST_TYPES.includes(type) ? type : Array.isArray(doc.manifests) ? OCI_INDEX : Array.isArray(doc.layers) ? OCI_MANIFEST : type;
  if (!MANIFEST_TYPES.includes(mediaType)) {
    throw new RegistryError('BAD_MANIFEST', where, `media type ${JSON.stringify(type)} is none of ${MANIFEST_TYPES.join(', ')} (schema 1 manifests are not read)`);
  }
  return { bytes, digest, mediaType, json: doc };
}

export function descriptor(v: unknown, where: string): Descriptor {
  const d = v as Record<string, unknown> | null;
  if (typeof d !== 'object' || d === null) throw new RegistryError('BAD_MANIFEST', where, `expected a descriptor, found ${JSON.stringify(v)}`);
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) throw new RegistryError('BAD_MANIFEST', where, `digest ${JSON.stringify(d.digest)} is not sha256: and 64 hex digits`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new RegistryError('BAD_MANIFEST', where, `size ${JSON.stringify(d.size)} is not a byte count`);
  if (typeof d.mediaType !== 'string') throw new RegistryError('BAD_MANIFEST', where, 'mediaType is missing');
  return d as unknown as Descriptor;
}

export function indexEntries(m: FetchedManifest, where: string): Descriptor[] {
  if (!Array.isArray(m.json.manifests)) throw new RegistryError('BAD_MANIFEST', where, 'an index needs a manifests array');
  return (m.json.manifests as unknown[]).map((d, i) => descriptor(d, `${where} manifests[${i}]`));
}

export function imageManifest(m: FetchedManifest, where: string): ImageManifest {
  if (!Array.isArray(m.json.layers)) throw new RegistryError('BAD_MANIFEST', where, 'an image manifest needs a layers array');
  return {
    config: descriptor(m.json.config, `${where} config`),
    layers: (m.json.layers as unknown[]).map((d, i) => descriptor(d, `${where} layers[${i}]`)),
  };
}
