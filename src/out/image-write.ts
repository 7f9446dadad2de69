/**
 * Writes an image made of existing layer blobs plus new ones, in the three layouts readers know:
 * an OCI layout directory, an oci-archive (that layout as a tar) and a docker-archive
 * (manifest.json, `<config>.json`, uncompressed `<diff_id>.tar` layers). Digests are sha256 of the
 * bytes as written (OCI-3); the config's diff_ids are sha256 of the uncompressed layers.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, openSync, closeSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '../entry.js';
import { ArchiveError } from '../core/errors.js';
import { BufferSource, readAll, type ByteSource } from '../source.js';
import { writeTar } from './tar-write.js';

export interface LayerBlob {
  mediaType: string;
  /** Digest and size of the blob as stored (compressed or not). */
  digest: string;
  size: number;
  blob: ByteSource;
  /** The uncompressed tar and its digest (the diff_id). */
  diffId: string;
  tar: ByteSource;
}

export interface ImageParts {
  config: Record<string, unknown>;
  layers: LayerBlob[];
  /** Full reference, e.g. `localhost/app:latest`. */
  tag?: string;
}

export type ImageFormat = 'oci-layout' | 'oci-archive' | 'docker-archive';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const REF_NAME = 'org.opencontainers.image.ref.name';

const hex = (digest: string) => digest.slice('sha256:'.length);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export interface WrittenImage {
  configDigest: string;
  manifestDigest: string;
}

/**
 * The index's `org.opencontainers.image.ref.name`: the full reference, as `podman save` writes it
 * (`localhost/app:v1`). podman load names the image after it (a bare `v1` would load as
 * `localhost/v1:latest`); skopeo (`oci-archive:X:localhost/app:v1`) and umoci (`--image
 * DIR:localhost/app:v1`) accept it as is. No tag: `latest`.
 */
function refName(tag: string | undefined): string {
  return tag || 'latest';
}

function file(path: string, content: ByteSource, mtime = 0): Entry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime, size: content.size, content };
}

function dir(path: string): Entry {
  return { path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 0 };
}

/** The files of an OCI image layout, as entries; `keep`: descriptors to list before the new one. */
function ociFiles(parts: ImageParts, keep: unknown[] = []): { files: Entry[]; out: WrittenImage } {
  const config = json(parts.config);
  const configDigest = sha(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, digest: configDigest, size: config.length },
    layers: parts.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  });
  const manifestDigest = sha(manifest);
  const index = json({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      ...keep,
      {
        mediaType: OCI_MANIFEST,
        digest: manifestDigest,
        size: manifest.length,
        annotations: { [REF_NAME]: refName(parts.tag) },
      },
    ],
  });
  const blobs = new Map<string, ByteSource>();
  for (const l of parts.layers) blobs.set(l.digest, l.blob);
  blobs.set(configDigest, new BufferSource(config));
  blobs.set(manifestDigest, new BufferSource(manifest));
  const files = [
    file('oci-layout', new BufferSource(json({ imageLayoutVersion: '1.0.0' }))),
    file('index.json', new BufferSource(index)),
    dir('blobs'),
    dir('blobs/sha256'),
    ...[...blobs].map(([d, src]) => file(`blobs/sha256/${hex(d)}`, src)),
  ];
  return { files, out: { configDigest, manifestDigest } };
}

/** docker save's layout: uncompressed layers named by diff_id, as podman and skopeo write it. */
function dockerFiles(parts: ImageParts): { files: Entry[]; out: WrittenImage } {
  const config = json(parts.config);
  const configDigest = sha(config);
  const layerFiles = new Map<string, ByteSource>();
  for (const l of parts.layers) layerFiles.set(`${hex(l.diffId)}.tar`, l.tar);
  const manifest = json([
    {
      Config: `${hex(configDigest)}.json`,
      RepoTags: parts.tag ? [parts.tag] : [],
      Layers: parts.layers.map((l) => `${hex(l.diffId)}.tar`),
    },
  ]);
  const files = [file(`${hex(configDigest)}.json`, new BufferSource(config)), ...[...layerFiles].map(([name, src]) => file(name, src)), file('manifest.json', new BufferSource(manifest))];
  return { files, out: { configDigest, manifestDigest: sha(manifest) } };
}

function writeFileFrom(path: string, src: ByteSource): void {
  const fd = openSync(path, 'w');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < src.size; ) {
      const n = src.read(buf, 0, Math.min(buf.length, src.size - pos), pos);
      if (n <= 0) throw new Error(`short read writing ${path}`);
      writeSync(fd, buf, 0, n);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Committing into an existing OCI layout adds the image to it, as skopeo and umoci do: every
 * descriptor of DEST/index.json stays, except one already carrying the same ref name (replaced).
 */
function existingDescriptors(dest: string, ref: string): unknown[] {
  const path = join(dest, 'index.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  let index: { manifests?: unknown };
  try {
    index = JSON.parse(text) as { manifests?: unknown };
  } catch (e) {
    throw new ArchiveError('BAD_MANIFEST', path, `cannot add an image to this OCI layout: ${(e as Error).message}`);
  }
  if (!Array.isArray(index.manifests)) {
    throw new ArchiveError('BAD_MANIFEST', path, 'cannot add an image to this OCI layout: index.json has no manifests list');
  }
  return index.manifests.filter((m) => (m as { annotations?: Record<string, unknown> })?.annotations?.[REF_NAME] !== ref);
}

/**
 * The files of a one-image OCI layout (untagged: no ref name), for the state to store: small files
 * as bytes, blobs as their sources by digest (State.putImage puts them in the blob store).
 */
export function ociLayoutFiles(parts: ImageParts): { files: Array<{ path: string; bytes: Buffer } | { path: string; blob: ByteSource; digest: string }>; out: WrittenImage } {
  const { files, out } = ociFiles(parts);
  const index = files.find((f) => f.path === 'index.json')!;
  // The state keeps the image untagged (its tags are in its record), as a docker save with no RepoTags.
  const doc = JSON.parse(readAll(index.content!).toString()) as { manifests: Array<{ annotations?: unknown }> };
  delete doc.manifests[0]!.annotations;
  return {
    files: files
      .filter((f) => f.type === 'file')
      .map((f) => {
        if (f.path.startsWith('blobs/sha256/')) return { path: f.path, blob: f.content!, digest: `sha256:${f.path.slice(13)}` };
        return { path: f.path, bytes: f === index ? json(doc) : readAll(f.content!) };
      }),
    out,
  };
}

export async function writeImage(parts: ImageParts, dest: string, format: ImageFormat): Promise<WrittenImage> {
  const keep = format === 'oci-layout' ? existingDescriptors(dest, refName(parts.tag)) : [];
  const { files, out } = format === 'docker-archive' ? dockerFiles(parts) : ociFiles(parts, keep);
  if (format === 'oci-layout') {
    mkdirSync(dest, { recursive: true });
    for (const f of files) {
      const p = join(dest, f.path);
      if (f.type === 'dir') mkdirSync(p, { recursive: true });
      else writeFileFrom(p, f.content!);
    }
  } else {
    await writeTar(files, dest);
  }
  return out;
}
