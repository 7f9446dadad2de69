/**
 * The two sides of the fs-API differential tests:
 *
 * - `real`: Node's own `fs` inside a fresh directory under os.tmpdir() (chmod 0777 so that the
 *   directory the paths start from looks like memfs's root);
 * - `layer`: createFs(new MemfsCore(new Volume())), paths starting at its root '/'.
 *
 * A scenario gets `p(rel)` to spell a path on its side: the side's root + '/' + rel, with no
 * normalisation (trailing slashes, '.' and '..' stay), and `fs` of the side. Results are made
 * comparable by `norm` (the real side's root is cut out of every string).
 */
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Volume } from 'memfs';
import { createFs, type LayerFs } from '../../src/fs/node-fs.js';
import { MemfsCore } from '../../src/mounts/memfs-core.js';

/** The creation mask both sides use: the real side's is the process's, set here once. */
export const UMASK = 0o022;
process.umask(UMASK);

export type AnyFs = typeof nodeFs | LayerFs;

export interface Side {
  name: 'real' | 'layer';
  fs: AnyFs;
  /** The side's spelling of `rel` (relative to the scenario's root). */
  p(rel: string): string;
  /** The absolute root, cut out of results. '' on the layer side. */
  root: string;
  dispose(): void;
}

export function realSide(): Side {
  const root = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-fsapi-'));
  nodeFs.chmodSync(root, 0o777);
  return {
    name: 'real',
    fs: nodeFs,
    p: (rel) => `${root}/${rel}`,
    root,
    dispose: () => nodeFs.rmSync(root, { recursive: true, force: true }),
  };
}

export function layerSide(): Side {
  const fs = createFs(new MemfsCore(new Volume(), { umask: UMASK }));
  return { name: 'layer', fs, p: (rel) => `/${rel}`, root: '', dispose: () => {} };
}

export function bothSides(): [Side, Side] {
  return [realSide(), layerSide()];
}
