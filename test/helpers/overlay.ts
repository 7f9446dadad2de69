/**
 * The kernel as the oracle of a changed image tree: the image's layers extracted by GNU tar into
 * lowerdirs, OCI whiteouts turned into the kernel's (`.wh.NAME` → a character device 0/0,
 * `DIR/.wh..wh..opq` → `trusted.overlay.opaque=y` on DIR; OVL-3, OVL-4, OCI-5, OCI-7), mounted with
 * overlayfs over an upper and work dir of our own. Changes made through `hostFs(mnt)` then give the
 * tree a container would have, which `manifestOf(mnt)` describes. Needs root.
 */
import * as nodeFs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './tools.js';

// biome-ignore lint/complexity/noUselessStringRaw: Python source, raw so that a backslash in it reaches Python as written
const TO_KERNEL_WHITEOUTS = String.raw`
import os, stat, sys
for top in sys.argv[1:]:
    for d, dirs, files in os.walk(os.fsencode(top)):
        for n in files:
            p = os.path.join(d, n)
            if n == b'.wh..wh..opq':
                os.unlink(p); os.setxattr(d, b'trusted.overlay.opaque', b'y')
            elif n.startswith(b'.wh.'):
                os.unlink(p); os.mknod(os.path.join(d, n[4:]), stat.S_IFCHR | 0o000, os.makedev(0, 0))
`;

export interface KernelMount {
  mnt: string;
  release(): void;
}

/** Why an overlay cannot be mounted here, or undefined when it can (root on Linux). */
export function overlayProblem(): string | undefined {
  if (process.platform !== 'linux') return `overlayfs needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'mounting overlayfs needs root';
  return undefined;
}

/** Mounts the layers of `ociArchive` (an OCI archive with uncompressed layers) as a writable overlay. */
export async function mountImage(ociArchive: string, work: string, opts: { index?: boolean; redirectDir?: boolean } = {}): Promise<KernelMount> {
  const base = mkdtempSync(join(work, 'kernel-'));
  const layout = join(base, 'layout');
  mkdirSync(layout);
  await run('tar', ['-xf', ociArchive, '-C', layout]);
  const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.split(':')[1]!);
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
  const lowers: string[] = [];
  for (const [i, layer] of (manifest.layers as Array<{ digest: string }>).entries()) {
    const dir = join(base, `l${i}`);
    mkdirSync(dir);
    await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', blob(layer.digest), '-C', dir]);
    lowers.push(dir);
  }
  await run('python3', ['-c', TO_KERNEL_WHITEOUTS, ...lowers]);
  const [upper, wd, mnt] = ['upper', 'work', 'merged'].map((d) => join(base, d));
  for (const d of [upper!, wd!, mnt!]) mkdirSync(d);
  const options = [
    `lowerdir=${[...lowers].reverse().join(':')}`,
    `upperdir=${upper}`,
    `workdir=${wd}`,
    `index=${opts.index ? 'on' : 'off'}`,
    `redirect_dir=${opts.redirectDir ? 'on' : 'off'}`,
    'metacopy=off',
  ];
  await run('mount', ['-t', 'overlay', 'overlay', '-o', options.join(','), mnt!]);
  return {
    mnt: mnt!,
    release() {
      if (spawnSync('umount', [mnt!]).status !== 0) spawnSync('umount', ['-l', mnt!]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Argument positions that are paths, for the fs calls the export tests make. */
const PATH_ARGS: Record<string, number[]> = {
  writeFileSync: [0],
  appendFileSync: [0],
  unlinkSync: [0],
  rmSync: [0],
  mkdirSync: [0],
  chmodSync: [0],
  chownSync: [0],
  lchownSync: [0],
  openSync: [0],
  utimesSync: [0],
  truncateSync: [0],
  rmdirSync: [0],
  renameSync: [0, 1],
  linkSync: [0, 1],
  symlinkSync: [1],
};

/** Node's own fs with every absolute path taken below `root` (symlink targets left as they are). */
export function hostFs(root: string): typeof nodeFs {
  return new Proxy(nodeFs, {
    get(target, name: string) {
      const f = (target as unknown as Record<string, unknown>)[name];
      const at = PATH_ARGS[name];
      if (typeof f !== 'function' || !at) return f;
      return (...args: unknown[]) => (f as (...a: unknown[]) => unknown)(...args.map((a, i) => (at.includes(i) ? join(root, a as string) : a)));
    },
  });
}
