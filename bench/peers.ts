/**
 * Figure 1 with peers: the same N-layer tree built for layerfs, the kernel's overlayfs, unionfs over
 * memfs volumes, @zenfs/core's CopyOnWrite backend stacked as a chain, and a flat memfs Volume.
 *
 * The tree: /usr/share/pkg is a directory in every layer; FILES entries are spread round-robin over
 * the N layers (so a readdir returns the same count at every depth), and bottom.txt is only in the
 * bottom layer. Each peer gets N lower layers plus an empty writable layer on top.
 */
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Volume } from 'memfs';
import { Union } from 'unionfs';
import { CopyOnWriteFS, InMemory, fs as zfs, mount as zmount, umount as zumount, type FileSystem } from '@zenfs/core';
import { BufferSource } from '../src/source.js';
import { openLayers } from '../src/index.js';
import { dir, file, tarBuffer } from './layers.js';
import { figure, type Figure } from './stats.js';

export const FILES = 1024;
const DIR = '/usr/share/pkg';
export const BOTTOM = `${DIR}/bottom.txt`;
export const MISSING = `${DIR}/missing`;

/** The files of each layer, bottom first: path → content. */
export function layerFiles(depth: number): Array<Array<[string, string]>> {
  const layers: Array<Array<[string, string]>> = Array.from({ length: depth }, () => []);
  for (let k = 0; k < FILES; k++) layers[k % depth].push([`${DIR}/f${k}`, `${k}\n`]);
  layers[0].push([BOTTOM, 'bottom\n']);
  return layers;
}

/** One peer opened on the tree: the three operations and how to close it. */
export interface PeerFs {
  stat(p: string): unknown;
  statMissing(p: string): unknown;
  readdir(p: string): string[];
  /** The kernel only: ns of the first stat of `p` on a fresh mount of the same layers (cold overlay dentries). */
  coldStat?(p: string): number;
  close(): void | Promise<void>;
}

export interface Peer {
  name: string;
  open(depth: number): Promise<PeerFs | string>; // a string: skipped, with the reason
}

function nodeLike(fs: { statSync: (p: string) => unknown; readdirSync: (p: string) => unknown }, close: () => void | Promise<void>): PeerFs {
  return {
    stat: (p) => fs.statSync(p),
    statMissing: (p) => {
      try {
        return fs.statSync(p);
      } catch {
        return undefined;
      }
    },
    readdir: (p) => fs.readdirSync(p) as string[],
    close,
  };
}

const layerfsPeer: Peer = {
  name: 'layerfs',
  async open(depth) {
    const tars: Buffer[] = [];
    for (const files of layerFiles(depth)) {
      tars.push(await tarBuffer([dir('usr'), dir('usr/share'), dir('usr/share/pkg'), ...files.map(([p, c]) => file(p.slice(1), new BufferSource(Buffer.from(c))))]));
    }
    const view = await openLayers(tars);
    const fs = view.fs;
    return {
      stat: (p) => fs.statSync(p),
      // layerfs and memfs take throwIfNoEntry; the peers that do not are caught (a JS throw, ~10 µs).
      statMissing: (p) => fs.statSync(p, { throwIfNoEntry: false }),
      readdir: (p) => fs.readdirSync(p) as string[],
      close: () => view.close(),
    };
  },
};

const memfsFlat: Peer = {
  name: 'memfs (flat)',
  async open(depth) {
    const json: Record<string, string> = {};
    for (const files of layerFiles(depth)) for (const [p, c] of files) json[p] = c;
    const vol = Volume.fromJSON(json);
    return {
      stat: (p) => vol.statSync(p),
      statMissing: (p) => vol.statSync(p, { throwIfNoEntry: false }),
      readdir: (p) => vol.readdirSync(p) as string[],
      close: () => {},
    };
  },
};

const unionfsPeer: Peer = {
  name: 'unionfs+memfs',
  async open(depth) {
    const ufs = new Union();
    // unionfs looks in the volume used last first: bottom first, the empty upper last.
    for (const files of layerFiles(depth)) ufs.use(Volume.fromJSON(Object.fromEntries(files)) as never);
    const upper = new Volume();
    upper.mkdirSync(DIR, { recursive: true });
    ufs.use(upper as never);
    return nodeLike(ufs, () => {});
  },
};

let zenSeq = 0;
/** A @zenfs/core InMemory layer holding `dirs` and `files` (written through a temporary mount). */
export function zenLayer(dirs: string[], files: Array<[string, string | Uint8Array]>): FileSystem {
  const layer = InMemory.create({});
  const at = `/_zen_build${zenSeq++}`;
  zmount(at, layer);
  try {
    for (const d of dirs) zfs.mkdirSync(at + d, { recursive: true });
    for (const [p, c] of files) zfs.writeFileSync(at + p, c);
  } finally {
    zumount(at);
  }
  return layer;
}

/** Mounts `top` at a fresh point of zenfs's global VFS; returns the point and its unmount. */
export function zenMount(top: FileSystem): { at: string; close: () => void } {
  const at = `/_zen${zenSeq++}`;
  zmount(at, top);
  return { at, close: () => zumount(at) };
}

const zenfsPeer: Peer = {
  name: 'zenfs CoW chain',
  async open(depth) {
    const layers = layerFiles(depth);
    let top: FileSystem = zenLayer([DIR], layers[0]);
    for (let i = 1; i < depth; i++) top = new CopyOnWriteFS(top, zenLayer([DIR], layers[i]));
    top = new CopyOnWriteFS(top, zenLayer([DIR], [])); // the empty writable layer
    const { at, close } = zenMount(top);
    const fs = nodeLike(zfs, close);
    return {
      stat: (p) => fs.stat(at + p),
      statMissing: (p) => fs.statMissing(at + p),
      readdir: (p) => fs.readdir(at + p),
      close: fs.close,
    };
  },
};

/** The kernel overlay mount lives in src/bench/overlay.ts (`layerfs bench --kernel` mounts it too). */
export { mountOverlay, type Overlay } from '../src/bench/overlay.js';
import { mountOverlay, type Overlay } from '../src/bench/overlay.js';

const kernelPeer: Peer = {
  name: 'kernel overlayfs',
  async open(depth) {
    // Short paths: the whole lowerdir list must fit in one page of mount options.
    const base = nodeFs.mkdtempSync(join(tmpdir(), 'ovl'));
    const layers = layerFiles(depth);
    for (let i = 0; i < depth; i++) {
      nodeFs.mkdirSync(join(base, `${i}`, DIR), { recursive: true });
      for (const [p, c] of layers[i]) nodeFs.writeFileSync(join(base, `${i}`, p), c);
    }
    const lowers = layers.map((_, i) => join(base, `${i}`));
    const ov = mountOverlay(base, lowers);
    if (typeof ov === 'string') {
      nodeFs.rmSync(base, { recursive: true, force: true });
      return ov;
    }
    let mounted: Overlay | undefined = ov;
    const m = ov.dir;
    return {
      stat: (p) => nodeFs.statSync(m + p),
      statMissing: (p) => nodeFs.statSync(m + p, { throwIfNoEntry: false }),
      readdir: (p) => nodeFs.readdirSync(m + p),
      coldStat(p) {
        mounted?.unmount();
        mounted = undefined;
        const again = mountOverlay(base, lowers);
        if (typeof again === 'string') throw new Error(again);
        mounted = again;
        const t0 = process.hrtime.bigint();
        nodeFs.statSync(m + p);
        return Number(process.hrtime.bigint() - t0);
      },
      close: () => {
        mounted?.unmount();
        nodeFs.rmSync(base, { recursive: true, force: true });
      },
    };
  },
};

export const PEERS: Peer[] = [layerfsPeer, memfsFlat, kernelPeer, unionfsPeer, zenfsPeer];

/**
 * Per-operation time in ns as a Figure over `repeats` samples; each sample repeats the operation
 * enough times to last ~`sampleMs` (calibrated once), at least once.
 */
export function perOp(repeats: number, sampleMs: number, fn: () => void): Figure {
  let ops = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= sampleMs / 4 || ops >= 1 << 20) {
      ops = Math.max(1, Math.round((ops * sampleMs) / Math.max(ms, 1e-3)));
      break;
    }
    ops *= 8;
  }
  // Operations slower than a whole sample get fewer repeats so the quick run stays short.
  const n = ops === 1 && repeats > 3 ? 3 : repeats;
  const samples: number[] = [];
  for (let r = 0; r < n; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / ops);
  }
  return figure(samples);
}

export interface PeerRow {
  peer: string;
  depth: number;
  skipped?: string;
  statNs?: Figure;
  missingNs?: Figure;
  readdirNs?: Figure;
  entries?: number;
}

export async function peerLookups(depths: number[], repeats: number, sampleMs: number, log: (s: string) => void): Promise<PeerRow[]> {
  const rows: PeerRow[] = [];
  for (const peer of PEERS) {
    for (const depth of depths) {
      const fs = await peer.open(depth);
      if (typeof fs === 'string') {
        log(`  ${peer.name} depth ${depth}: skipped (${fs})`);
        rows.push({ peer: peer.name, depth, skipped: fs });
        continue;
      }
      try {
        const entries = fs.readdir(DIR).length;
        if (fs.statMissing(MISSING) !== undefined) throw new Error(`${peer.name}: ${MISSING} exists`);
        fs.stat(BOTTOM); // warm the caches (the kernel's dentry cache: the warm-cache figure)
        const statNs = perOp(repeats, sampleMs, () => fs.stat(BOTTOM));
        const missingNs = perOp(repeats, sampleMs, () => fs.statMissing(MISSING));
        const readdirNs = perOp(repeats, sampleMs, () => fs.readdir(DIR));
        rows.push({ peer: peer.name, depth, statNs, missingNs, readdirNs, entries });
        log(
          `  ${peer.name} depth ${depth}: stat ${(statNs.median / 1e3).toFixed(2)} µs, missing ${(missingNs.median / 1e3).toFixed(2)} µs, readdir(${entries}) ${(readdirNs.median / 1e3).toFixed(1)} µs`,
        );
        if (fs.coldStat) {
          // One sample per fresh mount: the first stat walks every layer's dentries, none cached yet.
          const cold = figure(Array.from({ length: repeats }, () => fs.coldStat!(BOTTOM)));
          rows.push({ peer: `${peer.name} (cold)`, depth, statNs: cold });
          log(`  ${peer.name} (cold) depth ${depth}: first stat after a fresh mount ${(cold.median / 1e3).toFixed(2)} µs`);
        }
      } finally {
        await fs.close();
      }
    }
  }
  return rows;
}
