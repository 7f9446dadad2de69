/**
 * layerfs: container image layers under a writable layer, with the kernel's overlayfs rules,
 * through a Node-compatible `fs`.
 *
 *   const view = await openImage('image.tar');
 *   view.fs.writeFileSync('/etc/motd', 'hi');   // copy-up
 *   view.diff();                                 // [{ kind: 'C', path: '/etc' }, ...]
 */
export { openImage, openLayers, type OpenOptions } from './open.js';
export { View } from './view.js';
export { Engine, type CreateOptions, type MountSpec } from './engine/engine.js';
export { Container } from './engine/container.js';
export { stateHome } from './core/home.js';
export { OpenCache, type CacheStats, type CacheUsage } from './image/cache/open-cache.js';
export { ArchiveError, FsError, StateError } from './core/errors.js';
export { RegistryError } from './registry/errors.js';
export { parseReference, type Reference } from './registry/reference.js';
export type { Entry, EntryType, FileType } from './entry.js';
export type { Change } from './out/diff.js';
export type { CopyUpStrategy, CopyUpStats, UnionOptions } from './union/state.js';
export type { LoadOptions, LoadedImage } from './image/index.js';
