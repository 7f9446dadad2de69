/**
 * NODE-FS tests: behaviours found by running Node's own test-fs-* files against `view.fs`, each
 * checked here the project's way. A scenario runs on Node's fs (temp directory) and on a layerfs
 * fs, once over a union view and once over MemfsCore; its log (what `note` and `run` recorded, and
 * the final tree unless `tree: false`) must be the same. Owners are left out of the tree when the
 * process is not root (the union's objects belong to uid 0).
 */
import test from 'ava';
import { record, type Scenario } from './scenario.js';
import { memfsSide, realSide, unionSide, type Side } from './sides.js';
import type { Flavour } from './compare.js';

export type LayerKind = 'union' | 'memfs';

const MAKE: Record<LayerKind, () => Side> = { union: unionSide, memfs: memfsSide };

export interface NodeTestOptions {
  layers?: LayerKind[];
  flavours?: Flavour[];
  /** Compare the final trees too (default true). */
  tree?: boolean;
  /** Run serially (the scenario spies on or patches something shared). */
  serial?: boolean;
  /**
   * Leave symlinks' sizes out of the tree: a link to an absolute path made by the scenario is
   * longer on the real side by its temp root (targets themselves are compared without it).
   */
  absoluteLinks?: boolean;
}

function trimTree(log: unknown[], absoluteLinks: boolean): unknown[] {
  const owners = process.getuid?.() !== 0;
  return log.map((step) => {
    if (!Array.isArray(step) || step[0] !== 'tree') return step;
    return [
      'tree',
      (step[1] as Array<Record<string, unknown>>).map((entry) => {
        const out = { ...entry };
        if (owners) {
          delete out.uid;
          delete out.gid;
        }
        if (absoluteLinks && out.type === 'symlink') delete out.size;
        return out;
      }),
    ];
  });
}

/** Registers `NODE-FS <title> [<layer>, <flavour>]` tests: the real side against each layer side. */
export function nodeTest(title: string, scenario: Scenario, opts: NodeTestOptions = {}): void {
  const layers = opts.layers ?? ['union', 'memfs'];
  const flavours = opts.flavours ?? ['sync'];
  for (const layer of layers) {
    for (const flavour of flavours) {
      const suffix = flavours.length > 1 ? `${layer}, ${flavour}` : layer;
      const register = opts.serial ? test.serial : test;
      register(`NODE-FS ${title} [${suffix}]`, async (t) => {
        const real = realSide();
        const side = MAKE[layer]();
        try {
          const trim = (log: unknown[]) => trimTree(opts.tree === false ? log.slice(0, -1) : log, opts.absoluteLinks ?? false);
          const expected = trim(await record(real, flavour, scenario));
          const actual = trim(await record(side, flavour, scenario));
          t.deepEqual(actual, expected);
        } finally {
          real.dispose();
          side.dispose();
        }
      });
    }
  }
}
