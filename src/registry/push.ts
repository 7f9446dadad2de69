/**
 * `layerfs push IMAGE REF` (distribution spec, "push"):
 * - each blob (config and layers) is first asked for with HEAD: one the registry has is skipped;
 * - when the image came from the same registry (its record's source), a missing blob is mounted
 *   from the source repository (`POST .../uploads/?mount=DIGEST&from=REPO`); a 202 answer means the
 *   registry would not mount it, and the upload it opened is used instead;
 * - an upload is one PUT (monolithic) or, for blobs over `chunkSize`, PATCHes with Content-Range and
 *   a closing PUT; the registry's 201 must name the same digest;
 * - the manifest (OCI image manifest over the config and layers as stored) goes last, so the tag
 *   never points at missing blobs; the registry's Docker-Content-Digest must equal ours.
 */
import { Readable } from 'node:stream';
import { RegistryClient, repoScope, type ClientOptions } from './client.js';
import { RegistryError } from './errors.js';
import { header } from './http.js';
import { chunks, imageParts, type LayerPart } from './image-parts.js';
import { OCI_MANIFEST, sha256 } from './manifest.js';
import { formatReference, isRegistryRef, parseReference, type Reference } from './reference.js';
import { BufferSource, type ByteSource } from '../source.js';

export interface PushOptions extends ClientOptions {
  /** Blobs over this many bytes go up in PATCH chunks of this size (default: monolithic always). */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface PushResult {
  reference: string;
  manifestDigest: string;
  /** Per blob: what was done with it. */
  blobs: Array<{ digest: string; size: number; action: 'exists' | 'mounted' | 'uploaded' }>;
  uploadedBytes: number;
  imageBytes: number;
  fetchedBytes: number;
}

interface Blob {
  digest: string;
  size: number;
  mediaType: string;
  source: ByteSource;
}

/** What push needs of the state directory (src/engine/state.ts is one): a stored image and its layout. */
export interface PushSource<R extends { source: string }> {
  resolveImage(ref: string): Promise<R>;
  imageSource(rec: R): { path: string; tag?: string };
}

export async function pushImage<R extends { source: string }>(state: PushSource<R>, imageRef: string, destText: string, opts: PushOptions = {}): Promise<PushResult> {
  const dest = parseReference(destText);
  if (dest.digest) throw new RegistryError('BAD_REFERENCE', destText, "push to a tag, not a digest (the digest is the manifest's own)");
  const rec = await state.resolveImage(imageRef);
  const { path, tag } = state.imageSource(rec);
  const parts = await imageParts(path, { tag });
  const client = RegistryClient.for(dest, opts);
  try {
    let from: Reference | undefined;
    if (isRegistryRef(rec.source)) {
      const src = parseReference(rec.source);
      if (src.registry === dest.registry && src.repository !== dest.repository) from = src;
    }
    const scopes = [repoScope(dest.repository, 'pull,push'), ...(from ? [repoScope(from.repository, 'pull')] : [])];
    await client.authorize(scopes, dest.repository);
    const config: Blob = { digest: parts.configDigest, size: parts.config.length, mediaType: 'application/vnd.oci.image.config.v1+json', source: new BufferSource(parts.config) };
    const blobs: Blob[] = [config, ...parts.layers];
    const imageBytes = blobs.reduce((s, b) => s + b.size, 0);
    let done = 0;
    const result: PushResult['blobs'] = [];
    let uploadedBytes = 0;
    for (const b of blobs) {
      if (result.some((r) => r.digest === b.digest)) continue;
      const action = await pushBlob(client, dest, b, scopes, from, opts.chunkSize, (n) => {
        uploadedBytes += n;
        opts.onProgress?.((done += n), imageBytes);
      });
      if (action !== 'uploaded') opts.onProgress?.((done += b.size), imageBytes);
      result.push({ digest: b.digest, size: b.size, action });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
        layers: parts.layers.map((l: LayerPart) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
      }),
    );
    const digest = sha256(manifest);
    const where = `${dest.registry}/${dest.repository}:${dest.tag}`;
    const res = await client.request(`/v2/${dest.repository}/manifests/${dest.tag}`, scopes, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body: manifest });
    if (res.status !== 201 && res.status !== 200) await client.fail(res, `manifest upload to ${where}`);
    await res.body.dump();
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && claimed !== digest) throw new RegistryError('DIGEST_MISMATCH', where, `the registry stored the manifest as ${claimed}, but its sha256 is ${digest}`);
    return { reference: formatReference(dest), manifestDigest: digest, blobs: result, uploadedBytes, imageBytes: imageBytes + manifest.length, fetchedBytes: client.fetched };
  } finally {
    parts.close();
    await client.close();
  }
}

async function pushBlob(
  client: RegistryClient,
  dest: Reference,
  b: Blob,
  scopes: string[],
  from: Reference | undefined,
  chunkSize: number | undefined,
  onBytes: (n: number) => void,
): Promise<'exists' | 'mounted' | 'uploaded'> {
  const where = `${dest.registry}/${dest.repository}@${b.digest}`;
  const head = await client.request(`/v2/${dest.repository}/blobs/${b.digest}`, scopes, { method: 'HEAD' });
  await head.body.dump();
  if (head.status === 200) return 'exists';
  if (head.status !== 404) await client.fail(head, `HEAD of blob ${b.digest}`);
  const mount = from ? `?mount=${encodeURIComponent(b.digest)}&from=${encodeURIComponent(from.repository)}` : '';
  const start = await client.request(`/v2/${dest.repository}/blobs/uploads/${mount}`, scopes, { method: 'POST', headers: { 'content-length': '0' } });
  if (from && start.status === 201) {
    await start.body.dump();
    return 'mounted';
  }
  if (start.status !== 202) await client.fail(start, `starting the upload of blob ${b.digest}`);
  await start.body.dump();
  let location = uploadUrl(await client.baseUrl(), start, where);
  if (chunkSize !== undefined && b.size > chunkSize) {
    for (let pos = 0; pos < b.size; pos += chunkSize) {
      const end = Math.min(b.size, pos + chunkSize);
      const res = await client.request(location, scopes, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(end - pos), 'content-range': `${pos}-${end - 1}` },
        body: Readable.from(counted(chunks(b.source, pos, end), onBytes)),
      });
      if (res.status !== 202) await client.fail(res, `uploading bytes ${pos}-${end - 1} of blob ${b.digest}`);
      await res.body.dump();
      location = uploadUrl(location, res, where);
    }
    const url = new URL(location);
    url.searchParams.set('digest', b.digest);
    const fin = await client.request(url.href, scopes, { method: 'PUT', headers: { 'content-length': '0' } });
    return finish(client, fin, b, where);
  }
  const url = new URL(location);
  url.searchParams.set('digest', b.digest);
  const res = await client.request(url.href, scopes, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(b.size) },
    body: Readable.from(counted(chunks(b.source), onBytes)),
  });
  return finish(client, res, b, where);
}

async function finish(client: RegistryClient, res: Awaited<ReturnType<RegistryClient['request']>>, b: Blob, where: string): Promise<'uploaded'> {
  if (res.status !== 201) await client.fail(res, `finishing the upload of blob ${b.digest}`);
  await res.body.dump();
  const claimed = header(res, 'docker-content-digest');
  if (claimed !== undefined && claimed !== b.digest) throw new RegistryError('DIGEST_MISMATCH', where, `the registry stored the blob as ${claimed}`);
  return 'uploaded';
}

/** The upload session's Location, absolute (registries often send a path). */
function uploadUrl(base: string, res: { headers: Record<string, string | string[] | undefined>; url: string }, where: string): string {
  const loc = header(res as never, 'location');
  if (!loc) throw new RegistryError('BAD_RESPONSE', where, 'the registry opened an upload without a Location header');
  return new URL(loc, base).href;
}

async function* counted(src: AsyncGenerator<Buffer>, onBytes: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const c of src) {
    yield c;
    onBytes(c.length);
  }
}
