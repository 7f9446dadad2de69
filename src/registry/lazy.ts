/**
 * The lazy view of a registry image, for ls, tree, cat and find: the manifest and the config are
 * fetched (verified, the config stored), and each layer is read where it lies:
 * - a layer already in the blob store: from the file;
 * - an uncompressed layer (`...layer.v1.tar`, `...rootfs.diff.tar`): by Range requests
 *   (range-source.ts), so opening walks its tar headers only and `cat` reads the file's blocks;
 * - a zstd:chunked layer (zstd with the TOC annotations, src/archive/zstd-chunked.ts): its TOC by
 *   one Range request while the image is opened (checked against manifest-checksum when the layer
 *   is opened), each file's frames by one Range request on its first read (checked against the
 *   file's TOC digest before any byte is handed out); nothing else of the blob is fetched, so its
 *   digest and diff_id are not checked (a pull checks them). A TOC that cannot name every member
 *   (a name that is not UTF-8 arrives as U+FFFD) makes the layer read whole, by ranges, verified;
 * - an eStargz layer (gzip with the `containerd.io/snapshot/stargz/toc.digest` annotation,
 *   src/archive/estargz.ts): its footer by one Range request while the image is opened, its TOC
 *   by another when the layer is opened (checked against the annotation), each file's gzip
 *   members by one Range request on its first read (checked against its TOC digest), as for
 *   zstd:chunked;
 * - a gzip layer (`...tar+gzip`, `...rootfs.diff.tar.gzip`; the bytes still say what it is,
 *   OCI-2) of a registry that serves ranges (a probe of its first bytes, skipped when the open
 *   cache has the layer): the first open reads it by ONE streaming GET (range-source.ts
 *   StreamedSource) that inflates it with the gzip index builder, hashing digest and diff_id on
 *   the way (checked: every byte passes), under the limits; the open cache keeps the layer record
 *   and its index (`cache/layers/<hex>.gzi`), not the blob and not the tar (OCI-22). Files read in
 *   that process come from the spill file; in later ones the layer opens from the record and each
 *   read is a Range request of the index spans it needs, checked against their sha256 (OCI-21);
 * - another compressed layer, or any layer of a registry that does not serve ranges: fetched
 *   whole into the blob store (verified), then read as after a pull.
 * A registry reached over HTTPS without certificate checks is read as after a pull too (the
 * worker's fetch cannot skip them). What was fetched is counted until the image is closed.
 * Opens use the state directory's open cache (src/image/cache/open-cache.ts) for every layer but
 * those read by ranges.
 */
import { fstatSync, openSync } from 'node:fs';
import { resolveLimits, type Limits } from '../archive/limits.js';
import { stateHome } from '../core/home.js';
import { loadStore, type LoadedImage, type LoadOptions } from '../image/index.js';
import { Resources, type Blob, type BlobStore as ImageBlobStore } from '../image/store.js';
import { BufferSource, FileRegion, type ByteSource } from '../source.js';
import { ArchiveError } from '../core/errors.js';
import { openSpill } from '../archive/spill.js';
import { tocPosition } from '../archive/zstd-chunked.js';
import { estargzTocDigest, FOOTER_SIZE } from '../archive/estargz.js';
import { readChunkedLayer, readEstargzLayer } from '../layer/chunked.js';
import type { PreparedLayer } from '../image/store.js';
import { BlobStore } from './blob-store.js';
import { fetchBlob } from './blobs.js';
import { RegistryClient, repoScope } from './client.js';
import { layoutIndex, resolveManifest } from './pull.js';
import { BLOCK, ExactRangeSource, RangeFetcher, RangeSource, StreamedSource } from './range-source.js';
import { OpenCache } from '../image/cache/open-cache.js';
import { discard, readLimited } from './http.js';
import { formatReference, localTag, parseReference } from './reference.js';
import type { RemoteOptions, Transfer } from './store-image.js';

const UNCOMPRESSED = new Set(['application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar']);
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const GZIP = new Set(['application/vnd.oci.image.layer.v1.tar+gzip', 'application/vnd.docker.image.rootfs.diff.tar.gzip']);
/** The probe of a gzip layer: its first bytes, enough to tell the compression (OCI-2). */
const PROBE = 512;

/** An image's files as the layout reader asks for them, from memory, the blob store or ranges. */
class RemoteStore implements ImageBlobStore {
  constructor(
    readonly file: string,
    private readonly blobs: Map<string, ByteSource>,
    readonly limits: Limits,
    private readonly prepared: Map<string, PreparedLayer>,
  ) {}
  has(path: string): boolean {
    return this.blobs.has(path);
  }
  get(path: string): Blob | undefined {
    const source = this.blobs.get(path);
    const layer = this.prepared.get(path);
    return source && (layer ? { source, path, layer } : { source, path });
  }
}

/**
 * Bytes [start, start + length) of a blob by a Range request (the first block of an uncompressed
 * layer, a zstd:chunked TOC), which also tells whether the registry serves ranges: undefined when
 * it answers anything but 206 with those bytes (the layer is then fetched whole, as a pull does).
 */
async function firstBlock(client: RegistryClient, repository: string, digest: string, length: number, start = 0): Promise<Buffer | undefined> {
  const res = await client.request(`/v2/${repository}/blobs/${digest}`, [repoScope(repository, 'pull')], { headers: { range: `bytes=${start}-${start + length - 1}` } });
  if (res.status !== 206) {
    discard(res);
    return undefined;
  }
  const body = await readLimited(res, length, () => new Error('longer than asked')).catch(() => undefined);
  if (body) client.count(body.length);
  return body?.length === length ? body : undefined;
}

/**
 * The uncompressed tar of a zstd:chunked layer read through its TOC: not fetched (that is the
 * whole blob); what needs it whole (export-layer) is told to pull the image.
 */
class NoTar implements ByteSource {
  constructor(
    private readonly format: string,
    private readonly where: string,
    /** Not the tar's (unknown without it): the blob's, so that a reader asks, and is told. */
    readonly size: number,
  ) {}
  read(): number {
    throw new ArchiveError('MISSING_BLOB', this.where, `the uncompressed tar of a ${this.format} layer read through its table of contents is not fetched; \`layerfs pull\` the image first`);
  }
}

export interface LazyImage {
  image: LoadedImage;
  /** fetchedBytes grows as the view reads. */
  transfer: Transfer;
  /** Range requests made so far. */
  readonly rangeRequests: number;
}

export async function loadLazy(refText: string, opts: RemoteOptions & LoadOptions & { home?: string } = {}): Promise<LazyImage> {
  const ref = parseReference(refText);
  const client = RegistryClient.for(ref, opts);
  const res = new Resources();
  let fetcher: RangeFetcher | undefined;
  try {
    const resolved = await resolveManifest(client, ref, opts);
    const home = opts.home ?? stateHome();
    const store = await BlobStore.open(home);
    const cache = opts.cache ?? OpenCache.ofHome(home);
    const auth = await client.authorize([repoScope(ref.repository, 'pull')], ref.repository);
    const base = await client.baseUrl();
    const ranged = client.verified || base.startsWith('http:');
    fetcher = new RangeFetcher(auth ? { authorization: auth } : {});
    const files = new Map<string, ByteSource>([
      ['oci-layout', new BufferSource(Buffer.from('{"imageLayoutVersion":"1.0.0"}'))],
      ['index.json', new BufferSource(layoutIndex(resolved, ref))],
      [`blobs/sha256/${resolved.manifest.digest.slice(7)}`, new BufferSource(resolved.manifest.bytes)],
    ]);
    const prepared = new Map<string, PreparedLayer>();
    const fromStore = (digest: string) => {
      const fd = res.track(openSync(store.path(digest), 'r'));
      return new FileRegion(fd, 0, fstatSync(fd).size);
    };
    for (const d of [resolved.image.config, ...resolved.image.layers]) {
      const path = `blobs/sha256/${d.digest.slice(7)}`;
      if (files.has(path)) continue;
      const where = `${ref.registry}/${ref.repository}@${d.digest}`;
      const url = `${base}/v2/${ref.repository}/blobs/${d.digest}`;
      const stored = await store.has(d.digest, d.size);
      const toc = !stored && ranged && d.mediaType === ZSTD && d !== resolved.image.config ? tocPosition(d.annotations, d.size, { file: where }) : undefined;
      if (toc) {
        const bytes = await firstBlock(client, ref.repository, d.digest, toc.length, toc.offset);
        if (bytes) {
          const blob = new ExactRangeSource(fetcher, url, d.size, where);
          blob.seed(toc.offset, bytes);
          files.set(path, blob);
          const spill = () => res.track(openSpill());
          prepared.set(path, { open: (o) => readChunkedLayer(blob, toc, { ...o, spill }), tar: new NoTar('zstd:chunked', where, d.size) });
          continue;
        }
      }
      const esgz = !stored && ranged && GZIP.has(d.mediaType) && d !== resolved.image.config && d.size > FOOTER_SIZE ? estargzTocDigest(d.annotations, { file: where }) : undefined;
      if (esgz) {
        const footer = await firstBlock(client, ref.repository, d.digest, FOOTER_SIZE, d.size - FOOTER_SIZE);
        if (footer) {
          const blob = new ExactRangeSource(fetcher, url, d.size, where);
          blob.seed(d.size - FOOTER_SIZE, footer);
          files.set(path, blob);
          const spill = () => res.track(openSpill());
          prepared.set(path, { open: (o) => readEstargzLayer(blob, esgz, { ...o, spill }), tar: new NoTar('eStargz', where, d.size) });
          continue;
        }
      }
      if (!stored && ranged && UNCOMPRESSED.has(d.mediaType) && d !== resolved.image.config && d.size > 0) {
        const first = await firstBlock(client, ref.repository, d.digest, Math.min(d.size, BLOCK));
        if (first) {
          const src = new RangeSource(fetcher, url, d.size, where);
          src.seed(0, first);
          files.set(path, src);
          continue;
        }
      }
      if (!stored && ranged && GZIP.has(d.mediaType) && d !== resolved.image.config && d.size > 0) {
        const known = cache.has(d.digest);
        const head = known ? undefined : await firstBlock(client, ref.repository, d.digest, Math.min(d.size, PROBE));
        if (known || head) {
          const src = new StreamedSource(fetcher, url, d.size, where);
          if (head) src.seed(0, head);
          files.set(path, src);
          continue;
        }
      }
      await fetchBlob(client, ref.repository, d, store);
      files.set(path, fromStore(d.digest));
    }
    const remote = new RemoteStore(formatReference(ref), files, resolveLimits(opts.limits), prepared);
    // Manifest and config were verified as they came; an uncompressed layer read by ranges cannot be.
    const image = await loadStore(remote, 'oci-layout', res, { ...opts, verify: false, cache });
    // Named as a pull would tag it (`host/repo:tag`), not by the layout's ref.name (the tag alone).
    image.tags = [localTag(ref)];
    const f = fetcher;
    const closeImage = image.close;
    image.close = () => {
      closeImage();
      f.close();
    };
    const headerBytes = client.fetched;
    const transfer: Transfer = {
      reference: formatReference(ref),
      manifestDigest: resolved.manifest.digest,
      imageBytes: resolved.size,
      get fetchedBytes() {
        return headerBytes + f.fetched;
      },
    };
    return {
      image,
      transfer,
      get rangeRequests() {
        return f.requests;
      },
    };
  } catch (e) {
    res.closeAll();
    fetcher?.close();
    throw e;
  } finally {
    await client.close();
  }
}
