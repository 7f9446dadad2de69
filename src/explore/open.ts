/**
 * The IMAGE argument of every explore command: an archive or OCI layout path if one exists
 * there, else the tag, id or id prefix of an image in the state directory (`--home`). Looking an
 * image up never adds anything to the state; what opening learns is kept in its open cache
 * (`<home>/cache`, src/image/cache/open-cache.ts), for archive paths too.
 */
import { existsSync } from 'node:fs';
import { OpenCache } from '../image/cache/open-cache.js';
import { stateHome } from '../core/home.js';
import { loadImage, type LoadedImage, type LoadOptions } from '../image/index.js';
import { isRegistryRef } from '../registry/reference.js';
import type { RemoteOptions, Transfer } from '../registry/store-image.js';

// The state's records and the registry client are loaded only when IMAGE needs them: an archive
// path opens without either, and a stored image without the engine's containers and mounts
// (every explore command pays for what it loads: bench figures 4 and 5).

export async function resolveSource(ref: string, home?: string): Promise<{ path: string; tag?: string }> {
  if (existsSync(ref)) return { path: ref };
  const { State, noSuchImage } = await import('../engine/state.js');
  const state = await State.open(home);
  const rec = await state.resolveImage(ref).catch((e: unknown) => {
    throw noSuchImage(ref, e);
  });
  return state.imageSource(rec);
}

/**
 * A docker:// reference is read lazily (src/registry/lazy.ts: uncompressed layers by Range
 * requests, others fetched into the blob store of `home`; no image record); `onTransfer` gets
 * what it cost, a count that grows while the image is read.
 */
export async function loadRef(ref: string, opts: LoadOptions & RemoteOptions & { home?: string; onTransfer?: (t: Transfer) => void } = {}): Promise<LoadedImage> {
  if (isRegistryRef(ref)) {
    const { loadLazy } = await import('../registry/lazy.js');
    const { image, transfer } = await loadLazy(ref, opts);
    opts.onTransfer?.(transfer);
    return image;
  }
  const { home, ...load } = opts;
  const { path, tag } = await resolveSource(ref, home);
  // A stored image's own archive tag picks it in its archive (IMAGE is the image, not a name in it).
  return loadImage(path, { cache: OpenCache.ofHome(stateHome({ home })), ...load, tag: tag ?? load.tag });
}
