/**
 * A stored image as the blobs a registry takes: the config's exact bytes (its digest is the image
 * id, so it is never re-serialised), and each layer blob as stored (compressed or not), with its
 * digest and the OCI media type its magic bytes tell (OCI-2: never the name or a recorded type).
 */
import { createHash } from 'node:crypto';
import { ArchiveError } from '../core/errors.js';
import { detectCompression, readHead } from '../archive/compression.js';
import { resolveLimits } from '../archive/limits.js';
import { detectImage } from '../image/detect.js';
import { resolveDockerArchive } from '../image/docker-archive.js';
import { blobPath, resolveOciLayout } from '../image/oci-layout.js';
import { parseJson, readBytes, Resources } from '../image/store.js';
import type { ByteSource } from '../source.js';
import { sha256 } from './manifest.js';

export interface LayerPart {
  digest: string;
  size: number;
  mediaType: string;
  source: ByteSource;
}

export interface ImageParts {
  config: Buffer;
  configDigest: string;
  layers: LayerPart[];
  close(): void;
}

const LAYER_TYPE = { none: 'application/vnd.oci.image.layer.v1.tar', gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd' };
const CHUNK = 1 << 20;

/** Streams a ByteSource in 1 MiB chunks (reads are synchronous: the source is a local file). */
export async function* chunks(src: ByteSource, start = 0, end = src.size): AsyncGenerator<Buffer> {
  for (let pos = start; pos < end; pos += CHUNK) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, end - pos));
    const n = src.read(buf, 0, buf.length, pos);
    if (n !== buf.length) throw new Error(`short read at ${pos + n} of ${end}`);
    yield buf;
  }
}

function digestOf(src: ByteSource): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = 0; pos < src.size; pos += CHUNK) {
    const n = src.read(buf, 0, Math.min(CHUNK, src.size - pos), pos);
    h.update(buf.subarray(0, n));
  }
  return `sha256:${h.digest('hex')}`;
}

export async function imageParts(path: string, opts: { tag?: string } = {}): Promise<ImageParts> {
  const res = new Resources();
  try {
    const limits = resolveLimits();
    const { format, store } = await detectImage(path, res, () => undefined, limits);
    const plan = format === 'docker-archive' ? resolveDockerArchive(store, { tag: opts.tag, verify: true }) : resolveOciLayout(store, { tag: opts.tag, verify: true, onWarning: () => undefined });
    if (!plan.configDigest) throw new ArchiveError('BAD_MANIFEST', path, 'the image names no config digest');
    let config: Buffer | undefined;
    const candidates =
      format === 'docker-archive'
        ? (parseJson(readBytes(store.get('manifest.json')!, path, 'manifest.json', limits), path, 'manifest.json') as Array<{ Config?: unknown }>)
            .map((m) => m.Config)
            .filter((c): c is string => typeof c === 'string')
        : [blobPath(plan.configDigest)];
    for (const c of candidates) {
      const blob = store.get(c);
      const bytes = blob && readBytes(blob, path, 'config', limits);
      if (bytes && sha256(bytes) === plan.configDigest) {
        config = bytes;
        break;
      }
    }
    if (!config) throw new ArchiveError('MISSING_BLOB', path, `the config ${plan.configDigest} is not in the image`);
    const layers = plan.layers.map((l) => {
      const kind = detectCompression(readHead(l.source), l.source.size) ?? 'none';
      return { digest: l.expectedDigest ?? digestOf(l.source), size: l.source.size, mediaType: LAYER_TYPE[kind], source: l.source };
    });
    return { config, configDigest: plan.configDigest, layers, close: () => res.closeAll() };
  } catch (e) {
    res.closeAll();
    throw e;
  }
}
