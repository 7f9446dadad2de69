/**
 * Commit checked by real tools over a differential case: the ops run on the emulator, the view is
 * committed, and the image is flattened by umoci (`umoci unpack` of the OCI layout) and by podman
 * (`podman load` of the docker archive, `podman image mount`); each flattened tree must be the
 * kernel's merged tree after the same ops (mergedSnapshot lines). Two things are not the layer's
 * to carry and are left out of the comparison:
 * - the root's own attributes: on overlayfs they are the upperdir's (OVL-26), and commit writes no
 *   entry for "/", as podman commit writes none (root-attributes.test.ts checks that against
 *   podman), so a flattened root shows the image's;
 * - link counts: the merged view counts a lower file's names in its layer (a name deleted above
 *   still counts, overlayfs(5)), a flattened tree its real names; which names share a file is
 *   still compared (the `links` lines).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayers } from '../../src/index.js';
import { podmanStore } from '../helpers/podman.js';
import { effectiveSpec, type Case, type Outcome, type Strategy } from './harness.js';
import { kernelFs, runOps, type FsLike } from '../ops/ops.js';
import { diffLines, mergedSnapshot } from './snapshot.js';
import { specTars } from './spec.js';

export type Flattener = 'umoci' | 'podman';

function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, cmd === 'podman' ? [...podmanStore(), ...args] : args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

const comparable = (lines: string[]): string[] => lines.filter((l) => !l.startsWith('/ ')).map((l) => l.replace(/ nlink=\d+/, ''));

/** The first difference between the kernel's merged tree and each flattened commit, or undefined. */
export async function commitDifference(c: Case, strategy: Strategy, kernel: Outcome, flatteners: Flattener[], tag: string): Promise<string | undefined> {
  const view = await openLayers(await specTars(effectiveSpec(c)), {
    copyUp: strategy,
    redirectDir: !!(c.opts.redirectDir || c.opts.metacopy),
    index: !!c.opts.index,
    umask: 0o022,
  });
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-commit-case-'));
  try {
    runOps(view.fs as unknown as FsLike, '/', c.ops, { mirror: kernel.results });
    const want = comparable(kernel.merged);
    for (const f of flatteners) {
      let root: string;
      let release = (): void => {};
      if (f === 'umoci') {
        await view.commit(join(dir, 'oci'), { format: 'oci-layout', tag });
        tool('umoci', ['unpack', '--image', `${join(dir, 'oci')}:${tag}`, join(dir, 'bundle')]);
        root = join(dir, 'bundle', 'rootfs');
      } else {
        const ref = `localhost/layerfs-commit-case:${tag}`;
        await view.commit(join(dir, 'image.tar'), { format: 'docker-archive', tag: ref });
        tool('podman', ['load', '-q', '-i', join(dir, 'image.tar')]);
        root = tool('podman', ['image', 'mount', ref]).trim();
        release = () => {
          spawnSync('podman', [...podmanStore(), 'image', 'unmount', ref], { stdio: 'ignore' });
          spawnSync('podman', [...podmanStore(), 'rmi', '-f', ref], { stdio: 'ignore' });
        };
      }
      try {
        const d = diffLines(want, comparable(mergedSnapshot(kernelFs, root)));
        if (d) return `${f}'s flattening of the commit (copyUp ${strategy}) differs from the kernel's merged tree:\n${d}`;
      } finally {
        release();
      }
    }
    return undefined;
  } finally {
    view.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
