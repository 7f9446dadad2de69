/**
 * The kernel's overlayfs, mounted for benchmarks (bench/ and `layerfs bench --kernel`): needs root
 * (CAP_SYS_ADMIN); callers unmount before removing what they made.
 */
import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';

/** A kernel overlay mount made by `mountOverlay`: the merged dir, the upper dir, and its unmount. */
export interface Overlay {
  dir: string;
  upper: string;
  unmount(): void;
}

/**
 * Mounts the kernel's overlayfs of `lowers` (bottom first) at `base`/m, with a fresh, empty upper
 * (`base`/u) and work dir (`base`/w); `options` are added to the mount options (e.g. `volatile`).
 * Returns why when the mount fails. Callers unmount before removing `base`.
 */
export function mountOverlay(base: string, lowers: string[], options: string[] = []): Overlay | string {
  const [upper, work, dir] = ['u', 'w', 'm'].map((d) => join(base, d));
  for (const d of [upper, work]) {
    nodeFs.rmSync(d, { recursive: true, force: true });
    nodeFs.mkdirSync(d);
  }
  nodeFs.mkdirSync(dir, { recursive: true });
  // overlayfs lists lowerdirs top first; the whole list must fit in one page of mount options.
  const opts = [`lowerdir=${[...lowers].reverse().join(':')}`, `upperdir=${upper}`, `workdir=${work}`, ...options].join(',');
  const res = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', opts, dir], { encoding: 'utf8' });
  if (res.status !== 0) return `mount failed: ${(res.stderr || res.error?.message || `exit ${res.status}`).trim()}`;
  return {
    dir,
    upper,
    unmount() {
      // A busy mount is detached lazily rather than left behind.
      if (spawnSync('umount', [dir]).status !== 0 && spawnSync('umount', ['-l', dir]).status !== 0) throw new Error(`cannot unmount ${dir}`);
    },
  };
}
