/**
 * layerfs: container image layers under a writable layer, with the kernel's overlayfs rules,
 * through a Node-compatible `fs`.
 *
 *   const view = await openImage('image.tar');
 *   view.fs.writeFileSync('/etc/motd', 'hi');   // copy-up
 *   view.diff();                                 // [{ kind: 'C', path: '/etc' }, ...]
 */
import { loadImage, loadLayers, type LoadedImage, type LoadOptions } from './image/index.js';
import type { UnionOptions } from './union/state.js';
import { View } from './view.js';
import { isRegistryRef } from './registry/reference.js';
import { loadRemote, type RemoteOptions } from './registry/store-image.js';

export interface OpenOptions extends UnionOptions, LoadOptions, RemoteOptions {
  /** For a docker:// image: the state directory whose blob store keeps what is fetched (default stateHome()). */
  home?: string;
}

/** A view over a loaded image; the image's files are closed again if the view cannot be made. */
function viewOf(image: LoadedImage, opts: OpenOptions): View {
  try {
    return View.fromImage(image, opts);
  } catch (e) {
    image.close();
    throw e;
  }
}

/**
 * Opens a docker-archive, oci-archive or OCI layout directory (format told by content), or an
 * image in a registry: `docker://HOST[:PORT]/REPO[:TAG|@DIGEST]` (src/registry/).
 */
export async function openImage(path: string, opts: OpenOptions = {}): Promise<View> {
  if (isRegistryRef(path)) return viewOf((await loadRemote(path, opts)).image, opts);
  return viewOf(await loadImage(path, opts), opts);
}

/** Opens plain layer tarballs (tar, tar+gzip, tar+zstd; paths or Buffers), bottom layer first. */
export async function openLayers(layers: Array<string | Uint8Array>, opts: OpenOptions = {}): Promise<View> {
  return viewOf(await loadLayers(layers, opts), opts);
}

export { View } from './view.js';
export { Engine, type CreateOptions, type MountSpec } from './engine/engine.js';
export { Container } from './engine/container.js';
export { stateHome } from './engine/home.js';
export { OpenCache, type CacheStats, type CacheUsage } from './cache/open-cache.js';
export { ArchiveError, FsError, StateError } from './errors.js';
export { RegistryError } from './registry/errors.js';
export { parseReference, type Reference } from './registry/reference.js';
export type { Entry, EntryType, FileType } from './entry.js';
export type { Change } from './out/diff.js';
export type { CopyUpStrategy, CopyUpStats, UnionOptions } from './union/state.js';
export type { LoadOptions, LoadedImage } from './image/index.js';
