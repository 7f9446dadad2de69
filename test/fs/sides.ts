/**
 * The two sides of the fs-API differential tests:
 *
 * - `real`: Node's own `fs` inside a fresh directory under os.tmpdir() (chmod 0777 so that the
 *   directory the paths start from looks like memfs's root);
 * - `layer`: createFs(new MemfsCore(new Volume())), paths starting at its root '/'; or, once
 *   `useLayerSide(hostSide)` has been called in a test file, createFs(new HostCore(dir)) over a
 *   second fresh temp directory (the bind-mount core: the real fs again, through the confined walk);
 *   or `unionSide()`: a union view (what `view.fs` is) over one empty image layer.
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
import { buildLayer } from '../../src/layer/build.js';
import { flatten } from '../../src/layer/flatten.js';
import { HostCore } from '../../src/mounts/host-core.js';
import { MemfsCore } from '../../src/mounts/memfs-core.js';
import { UnionCore } from '../../src/union/core.js';

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
    fs: guardedFs(),
    p: (rel) => `${root}/${rel}`,
    root,
    dispose: () => nodeFs.rmSync(root, { recursive: true, force: true }),
  };
}

/** A descriptor number that is never open: the kernel answers EBADF, as for any closed one. */
const NEVER_OPEN = 2 ** 31 - 1;
const FD_CALLS = ['fstat', 'fchmod', 'fchown', 'futimes', 'ftruncate', 'fsync', 'fdatasync', 'read', 'write', 'readv', 'writev'];

/**
 * Node's fs, except that a descriptor this side has closed (and not been given again by open) is
 * never handed to the kernel: calls on it use a number that is never open, so they fail with
 * Node's own EBADF. Why: tests of one file run concurrently in one process, and some scenarios use
 * a descriptor after closing it ("close twice is EBADF", "fchmod after close"). On the real side
 * that number may already belong to another test (another real side, or a host side), whose file
 * would be closed or changed.
 */
function guardedFs(): typeof nodeFs {
  const stale = new Set<number>();
  const fs: Record<string, unknown> = { ...nodeFs };
  const raw = nodeFs as unknown as Record<string, (...args: unknown[]) => any>;
  const wrap = (name: string, fn: (...args: unknown[]) => unknown) => {
    const w = Object.defineProperty(fn, 'name', { value: name });
    // Keep util.promisify's custom forms (read, write: { bytesRead, buffer }).
    for (const key of Object.getOwnPropertySymbols(raw[name])) Object.defineProperty(w, key, Object.getOwnPropertyDescriptor(raw[name], key)!);
    fs[name] = w;
  };
  const fdOf = (fd: unknown) => (typeof fd === 'number' && stale.has(fd) ? NEVER_OPEN : fd);
  for (const base of FD_CALLS) {
    for (const name of [base, `${base}Sync`]) wrap(name, (fd, ...rest) => raw[name](fdOf(fd), ...rest));
  }
  for (const name of ['close', 'closeSync']) {
    wrap(name, (fd, ...rest) => {
      const real = fdOf(fd);
      if (typeof fd === 'number') stale.add(fd);
      return raw[name](real, ...rest);
    });
  }
  const opened = (fd: unknown) => {
    if (typeof fd === 'number') stale.delete(fd);
    return fd;
  };
  wrap('openSync', (...args) => opened(raw.openSync(...args)));
  wrap('open', (...args) => {
    const cb = args[args.length - 1];
    if (typeof cb !== 'function') return raw.open(...args);
    return raw.open(...args.slice(0, -1), (err: unknown, fd?: number) => cb(err, opened(fd)));
  });
  return fs as unknown as typeof nodeFs;
}

export function memfsSide(): Side {
  const fs = createFs(new MemfsCore(new Volume(), { umask: UMASK }));
  return { name: 'layer', fs, p: (rel) => `/${rel}`, root: '', dispose: () => {} };
}

/**
 * createFs(UnionCore) over one empty image layer: a view's own `fs`. Its new objects belong to
 * uid 0 (the view acts as root), so a run as another user differs from the real side in owners.
 */
export function unionSide(): Side {
  const fs = createFs(new UnionCore(flatten([buildLayer([], 0, 'base')]), { umask: UMASK }));
  return { name: 'layer', fs, p: (rel) => `/${rel}`, root: '', dispose: () => {} };
}

/** createFs(HostCore) over a fresh temp directory (mode 0777 like the real side's); paths start at its root '/'. */
export function hostSide(opts: { readOnly?: boolean } = {}): Side & { core: HostCore; dir: string } {
  const dir = nodeFs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-host-'));
  nodeFs.chmodSync(dir, 0o777);
  const core = new HostCore(dir, opts);
  const side = {
    name: 'layer' as const,
    fs: createFs(core),
    p: (rel: string) => `/${rel}`,
    root: '',
    core,
    dir,
    dispose: () => {
      live.delete(side);
      core.closeAll();
      nodeFs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(side);
  return side;
}

const live = new Set<Side>();

/** Disposes the host sides a test did not (for test.after.always: some tests dispose only the real side). */
export function disposeHostSides(): void {
  for (const side of [...live]) side.dispose();
}

let makeLayerSide: () => Side = memfsSide;

/** Makes `layerSide()` (and so `bothSides()`) build this side instead, for the rest of the test file. */
export function useLayerSide(make: () => Side): void {
  makeLayerSide = make;
}

export function layerSide(): Side {
  return makeLayerSide();
}

export function bothSides(): [Side, Side] {
  return [realSide(), layerSide()];
}
