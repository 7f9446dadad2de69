/**
 * Figure 2 with peers: the first 1-byte write into the middle of a lower file (open, pwrite at
 * size/2, close) or a chmod, timed by one harness (`measure`) for layerfs's strategies and for:
 *   - the kernel's overlayfs, a fresh mount per repetition (copy-up happens once per file), as
 *     mounted by default (the copy is fsynced) and with `volatile,metacopy=on` (its fastest: no
 *     sync, a chmod copies metadata only); bytes copied = the data the upper file maps;
 *   - unionfs over memfs volumes (no copy-up: the row says where the change really went);
 *   - @zenfs/core's CopyOnWriteFS over InMemory layers (copies the whole file up on first write);
 *   - a flat memfs Volume (the change made in place: nothing to copy).
 * Memory added is the growth of ArrayBuffer memory across the change after a forced GC, on a trial
 * of its own (layerfs and the JS peers); the kernel's copy lands in the page cache (and on disk),
 * which is not counted.
 */
import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Volume } from 'memfs';
import { Union } from 'unionfs';
import { CopyOnWriteFS, InMemory, fs as zfs, type FileSystem } from '@zenfs/core';
import { openLayers } from '../src/index.js';
import { heldBytes } from '../src/bench/copyup.js';
import type { CopyUpStrategy } from '../src/union/state.js';
import { mountOverlay, zenLayer, zenMount } from './peers.js';
import { figure, type Figure } from './stats.js';

// tsx runs without --expose-gc: the flag is set here and gc taken from a fresh context.
setFlagsFromString('--expose-gc');
const gc: () => void = global.gc ?? runInNewContext('gc');

export type Change = 'write' | 'chmod';
const PATH = '/data/big';

/** The calls the change makes; Node's fs, layerfs's, memfs, unionfs and zenfs all have them. */
interface OpFs {
  openSync(p: string, flags: string | number): number;
  writeSync(fd: number, b: Buffer, off: number, len: number, pos: number): number;
  closeSync(fd: number): void;
  chmodSync(p: string, mode: number): void;
}

/** One repetition on a fresh instance (made untimed). */
interface Trial {
  fs: OpFs;
  path: string;
  /** Open flags of the write: 'r+' unless given (the kernel: O_WRONLY). */
  flags?: string | number;
  /**
   * Untimed, always called: what the change copied, measured from what the writable layer holds
   * for the file afterwards, and where it landed; `counted`: what the fs says it copied (layerfs's
   * own counter, view.stats.copyUpBytes), for comparison. Tears the instance down.
   */
  finish(): { bytesCopied: number; counted?: number; where: string };
}

export interface Measured {
  ms: Figure;
  bytesCopied: number;
  counted?: number;
  memoryAdded: number;
  where: string;
}

/** The change itself: a 1-byte write into the middle of the file, or a chmod. */
function change(kind: Change, t: Trial, size: number): void {
  if (kind === 'chmod') {
    t.fs.chmodSync(t.path, 0o600);
  } else {
    const fd = t.fs.openSync(t.path, t.flags ?? 'r+');
    t.fs.writeSync(fd, Buffer.from('x'), 0, 1, size >> 1);
    t.fs.closeSync(fd);
  }
}

/**
 * Untimed repetitions before the timed ones, so that every row is timed with warm code alike (the
 * first rows of a run would otherwise pay for compiling): as many as fit in WARM_MS (at most
 * WARM_MAX, at least 3), the way a benchmark harness runs until the code is steady.
 */
let WARM_MS = 250;
const WARM_MAX = 3000;
/** The smoke run (bench/run.ts --smoke) checks that the benchmark works, not how fast: no long warm-up. */
export function setWarmupMs(ms: number): void {
  WARM_MS = ms;
}
/**
 * Times the change alone over `repeats` fresh trials, after untimed warm-ups. Memory added is
 * measured on one more trial, untimed, with a full GC forced just before the change: forcing a GC
 * right before a timed change would slow it (V8 drops caches at a GC), so the two are kept apart.
 * Bytes copied is the last trial's.
 */
export async function measure(repeats: number, size: number, kind: Change, fresh: () => Promise<Trial>, maxWarmups = WARM_MAX): Promise<Measured> {
  const samples: number[] = [];
  let last: ReturnType<Trial['finish']> = { bytesCopied: 0, where: '' };
  const warmUntil = Date.now() + WARM_MS;
  for (let w = 0; w < 3 || (w < maxWarmups && Date.now() < warmUntil); w++) {
    const t = await fresh();
    change(kind, t, size);
    t.finish();
  }
  for (let r = 0; r < repeats; r++) {
    const t = await fresh();
    try {
      const t0 = process.hrtime.bigint();
      change(kind, t, size);
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } finally {
      last = t.finish();
    }
  }
  const t = await fresh();
  let memoryAdded = 0;
  try {
    // Twice: buffers found dead by the first GC are freed by a background sweeper, which could
    // still be lowering the count during the change; the second GC waits for it.
    gc();
    gc();
    const mem0 = process.memoryUsage().arrayBuffers;
    change(kind, t, size);
    memoryAdded = Math.max(0, process.memoryUsage().arrayBuffers - mem0);
  } finally {
    t.finish();
  }
  return { ms: figure(samples), memoryAdded, ...last };
}

/**
 * layerfs: a view of the one-file layer at `layerPath` with `strategy`. Bytes copied: what the
 * writable layer's inode of the file holds afterwards (its own copy, its chunks, or nothing for a
 * metadata-only copy: src/bench/copyup.ts heldBytes, as `layerfs bench` measures it); the view's
 * counter beside it.
 */
export const layerfsTrial = (layerPath: string, strategy: CopyUpStrategy) => async (): Promise<Trial> => {
  const view = await openLayers([layerPath], { copyUp: strategy });
  return {
    fs: view.fs as unknown as OpFs,
    path: PATH,
    finish() {
      try {
        return { bytesCopied: heldBytes(view, PATH), counted: view.stats.copyUpBytes, where: 'writable layer' };
      } finally {
        view.close();
      }
    },
  };
};

/** A peer: per size, an untimed fixture that makes fresh trials, or a string (skipped: why). */
interface CopyPeer {
  name: string;
  /** What the row measures, printed under the table. */
  note: string;
  /** false: the change's memory is not JS memory (the kernel's page cache), shown as n/a. */
  jsMemory: boolean;
  prepare(size: number, content: Buffer): { fresh(change: Change): Promise<Trial>; close(): void } | string;
}

function volumeWith(content?: Buffer): InstanceType<typeof Volume> {
  const vol = new Volume();
  vol.mkdirSync('/data', { recursive: true });
  if (content) vol.writeFileSync(PATH, content);
  return vol;
}

/** Whether `change` is visible in the file at PATH of `vol` (for a write, the byte at size/2). */
function changedIn(vol: InstanceType<typeof Volume>, change: Change, size: number): boolean {
  if (!vol.existsSync(PATH)) return false;
  if (change === 'chmod') return (Number(vol.statSync(PATH).mode) & 0o777) === 0o600;
  const b = Buffer.alloc(1);
  const fd = vol.openSync(PATH, 'r');
  vol.readSync(fd, b, 0, 1, size >> 1);
  vol.closeSync(fd);
  return b[0] === 'x'.charCodeAt(0);
}

/** A peer over memfs volumes: nothing to set up per size, everything made fresh per repetition. */
const memPeer = (name: string, note: string, trial: (content: Buffer, size: number, change: Change) => Trial): CopyPeer => ({
  name,
  note,
  jsMemory: true,
  prepare: (size, content) => ({ fresh: async (change) => trial(content, size, change), close() {} }),
});

const memfsFlat = memPeer('memfs (flat)', 'one memfs Volume holding the file: the change is made in place (no layers, nothing to copy)', (content, size, change) => {
  const vol = volumeWith(content);
  return { fs: vol as unknown as OpFs, path: PATH, finish: () => ({ bytesCopied: 0, where: changedIn(vol, change, size) ? 'in place' : 'lost' }) };
});

const unionfsPeer = memPeer(
  'unionfs+memfs',
  'unionfs over a lower memfs Volume holding the file and an empty upper one: unionfs has no copy-up; "where" is checked after each change (the lower volume changed in place, the upper holds the file, or neither)',
  (content, size, change) => {
    const lower = volumeWith(content);
    const upper = volumeWith();
    const ufs = new Union().use(lower as never).use(upper as never);
    return {
      fs: ufs as unknown as OpFs,
      path: PATH,
      finish: () =>
        changedIn(upper, change, size)
          ? { bytesCopied: upper.statSync(PATH).size as number, where: 'upper volume' }
          : { bytesCopied: 0, where: changedIn(lower, change, size) ? 'lower volume, in place (no copy-up)' : 'lost' },
    };
  },
);

const zenfsPeer: CopyPeer = {
  name: 'zenfs CoW',
  note: "@zenfs/core CopyOnWriteFS over an InMemory layer holding the file and an empty InMemory writable layer, mounted in zenfs's VFS; bytes copied = the size of the file in the writable layer afterwards",
  jsMemory: true,
  prepare(_size, content) {
    const lower = zenLayer(['/data'], [[PATH, content]]); // read-only under every trial
    return {
      fresh: async () => {
        const upper: FileSystem = InMemory.create({});
        const { at, close } = zenMount(new CopyOnWriteFS(lower, upper));
        return {
          fs: zfs as unknown as OpFs,
          path: at + PATH,
          finish() {
            close();
            const copied = upper.existsSync(PATH);
            return { bytesCopied: copied ? upper.statSync(PATH).size : 0, where: copied ? 'writable layer' : 'lost' };
          },
        };
      },
      close() {},
    };
  },
};

/**
 * Bytes of data the file at `p` maps (its extents, delayed allocation included, from `filefrag`):
 * a metacopy upper file maps none but holds an xattr block. st_blocks × 512 where filefrag fails.
 */
function dataBytes(p: string, st: nodeFs.Stats): number {
  const r = spawnSync('filefrag', ['-v', '-b1', p], { encoding: 'utf8' });
  if (r.status !== 0) return st.blocks * 512;
  let bytes = 0;
  for (const m of r.stdout.matchAll(/^\s*\d+:\s*(\d+)\.\.\s*(\d+):/gm)) bytes += Number(m[2]) - Number(m[1]) + 1;
  return bytes;
}

// biome-ignore lint/complexity/useSimpleNumberKeys: statfs(2) magic numbers, written in hex as the kernel headers do
const FS_TYPES: Record<number, string> = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs' };
const fsType = (p: string) => FS_TYPES[nodeFs.statfsSync(p).type] ?? `fs 0x${nodeFs.statfsSync(p).type.toString(16)}`;

function kernelPeer(name: string, options: string[], how: string): CopyPeer {
  return {
    name,
    note: `the kernel's overlayfs${options.length ? ` with ${options.join(',')}` : ''} (${how}); lower and upper in the temp dir (${fsType(tmpdir())}), a fresh mount and empty upper per repetition, page cache warm; the write is open(O_WRONLY) + pwrite + close; bytes copied = the data the upper file maps afterwards (its extents, by filefrag: a metacopy upper holds xattrs only), memory n/a (the copy is in the page cache)`,
    jsMemory: false,
    prepare(_size, content) {
      const base = nodeFs.mkdtempSync(join(tmpdir(), 'ovc'));
      const lower = join(base, 'l');
      nodeFs.mkdirSync(join(lower, 'data'), { recursive: true });
      nodeFs.writeFileSync(join(lower, PATH), content);
      const probe = mountOverlay(base, [lower], options);
      if (typeof probe === 'string') {
        nodeFs.rmSync(base, { recursive: true, force: true });
        return probe;
      }
      probe.unmount();
      return {
        fresh: async () => {
          const ov = mountOverlay(base, [lower], options);
          if (typeof ov === 'string') throw new Error(ov);
          return {
            fs: nodeFs,
            path: ov.dir + PATH,
            flags: nodeFs.constants.O_WRONLY,
            finish() {
              ov.unmount();
              const st = nodeFs.statSync(ov.upper + PATH, { throwIfNoEntry: false });
              return { bytesCopied: st ? dataBytes(ov.upper + PATH, st) : 0, where: st ? 'upperdir' : 'lost' };
            },
          };
        },
        close: () => nodeFs.rmSync(base, { recursive: true, force: true }),
      };
    },
  };
}

const PEERS: CopyPeer[] = [
  kernelPeer('kernel overlayfs', [], 'default options, as Docker mounts it: the copy-up is fsynced'),
  kernelPeer('kernel volatile+metacopy', ['volatile', 'metacopy=on'], 'no sync; a chmod copies metadata only'),
  zenfsPeer,
  unionfsPeer,
  memfsFlat,
];

export interface PeerCopyRow {
  peer: string;
  size: number;
  change: Change;
  skipped?: string;
  ms?: Figure;
  bytesCopied?: number;
  /** Absent: not JS memory (n/a). */
  memoryAdded?: number;
  where?: string;
  vsBufferCopy?: number;
  vsMemcpy?: number;
}

export const peerNotes = (): Array<{ peer: string; note: string }> => PEERS.map((p) => ({ peer: p.name, note: p.note }));

/** Every peer at one size, both changes; `base` is the same run's Buffer copy and memcpy of `size` bytes. */
export async function peerCopyUps(repeats: number, size: number, content: Buffer, base: { bufferCopy: Figure; memcpy: Figure }, log: (s: string) => void): Promise<PeerCopyRow[]> {
  const rows: PeerCopyRow[] = [];
  for (const peer of PEERS) {
    const fixture = peer.prepare(size, content);
    if (typeof fixture === 'string') {
      log(`  ${peer.name} ${size} B: skipped (${fixture})`);
      for (const change of ['write', 'chmod'] as const) rows.push({ peer: peer.name, size, change, skipped: fixture });
      continue;
    }
    try {
      for (const change of ['write', 'chmod'] as const) {
        // The kernel runs no JS to warm: a few repetitions warm its caches, more would only cost mounts.
        const m = await measure(repeats, size, change, () => fixture.fresh(change), peer.jsMemory ? undefined : 3);
        rows.push({
          peer: peer.name,
          size,
          change,
          ms: m.ms,
          bytesCopied: m.bytesCopied,
          memoryAdded: peer.jsMemory ? m.memoryAdded : undefined,
          where: m.where,
          vsBufferCopy: m.ms.median / base.bufferCopy.median,
          vsMemcpy: m.ms.median / base.memcpy.median,
        });
        log(`  ${peer.name} ${size} B ${change}: ${m.ms.median.toFixed(3)} ms, ${m.bytesCopied} B copied, ${m.where}`);
      }
    } finally {
      fixture.close();
    }
  }
  return rows;
}
