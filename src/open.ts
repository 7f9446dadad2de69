/**
 * openImage and openLayers: an image or plain layers under a writable layer, as a View. The
 * registry client is loaded only for a docker:// image (an archive opens without it).
 */
import { loadImage, loadLayers, type LoadedImage, type LoadOptions } from './image/index.js';
import type { UnionOptions } from './union/state.js';
import { View } from './view.js';
import { isRegistryRef } from './registry/reference.js';
import type { RemoteOptions } from './registry/store-image.js';

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
  if (isRegistryRef(path)) {
    const { loadRemote } = await import('./registry/store-image.js');
    return viewOf((await loadRemote(path, opts)).image, opts);
  }
  return viewOf(await loadImage(path, opts), opts);
}

/** Opens plain layer tarballs (tar, tar+gzip, tar+zstd; paths or Buffers), bottom layer first. */
export async function openLayers(layers: Array<string | Uint8Array>, opts: OpenOptions = {}): Promise<View> {
  return viewOf(await loadLayers(layers, opts), opts);
}
