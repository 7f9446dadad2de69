/**
 * `layerfs bench`: what the first change of a file costs under each copy-up strategy, on the
 * user's own image. For each path, strategy and operation, `repeat` trials on a fresh view each
 * (the copy-up happens once per view), timed around the operation alone:
 *   write     open r+, a 1-byte pwrite at size/2, close
 *   chmod     chmod 0600
 *   append    a 1-byte append
 *   truncate  truncate to size/2
 * Rule: bytes copied are measured from what the writable layer holds for the file afterwards (its
 * data store: a full copy, the chunks written, nothing for a metadata-only copy), not from the
 * view's counter. Memory added is the growth of ArrayBuffer memory across one more trial. With
 * `kernel`, the image is extracted once (flattened) as the lowerdir of the kernel's overlayfs,
 * mounted fresh per trial by default and with `volatile,metacopy=on`.
 */
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { LoadedImage } from '../image/index.js';
import { BufferData, ChunkedData, LowerData, CHUNK } from '../layer/data.js';
import { type Inode, isWhiteout } from '../layer/inode.js';
import { HostCore } from '../mounts/host-core.js';
import { copyTree } from '../mounts/copy-tree.js';
import type { CopyUpStrategy } from '../union/state.js';
import { View } from '../view.js';
import { mountOverlay } from './overlay.js';

export type { BenchOp } from './names.js';
import type { BenchOp } from './names.js';
export { BENCH_OPS, BENCH_STRATEGIES } from './names.js';
export const KERNEL_PEERS = [
  ['kernel', []],
  ['kernel volatile,metacopy=on', ['volatile', 'metacopy=on']],
] as const;

export interface BenchRow {
  path: string;
  size: number;
  /** A strategy, or a kernel mount. */
  how: string;
  op: BenchOp;
  /** Milliseconds: median, min, max over the trials. */
  ms: { median: number; min: number; max: number };
  /** Bytes of the file's data the writable layer (the upperdir for the kernel) holds afterwards. */
  bytesCopied: number;
  /** ArrayBuffer memory added by the operation (undefined for the kernel: its copy is in the page cache). */
  memoryAdded?: number;
}

export interface BenchOptions {
  paths: string[];
  strategies: readonly CopyUpStrategy[];
  ops: readonly BenchOp[];
  repeat: number;
  kernel: boolean;
  /** Called after each trial: trials done, of the total. */
  onProgress?: (done: number, total: number) => void;
}

/** The node fs calls an operation makes (a view's fs and Node's own both have them). */
interface OpFs {
  openSync(p: string, flags: string): number;
  writeSync(fd: number, b: Buffer, off: number, len: number, pos: number): number;
  closeSync(fd: number): void;
  chmodSync(p: string, mode: number): void;
  appendFileSync(p: string, data: string): void;
  truncateSync(p: string, len: number): void;
}

function runOp(fs: OpFs, op: BenchOp, path: string, size: number): void {
  if (op === 'chmod') fs.chmodSync(path, 0o600);
  else if (op === 'append') fs.appendFileSync(path, 'x');
  else if (op === 'truncate') fs.truncateSync(path, size >> 1);
  else {
    const fd = fs.openSync(path, 'r+');
    fs.writeSync(fd, Buffer.from('x'), 0, 1, size >> 1);
    fs.closeSync(fd);
  }
}

/** The upper inode of `path` (undefined: nothing was copied up). */
function upperInode(view: View, path: string): Inode | undefined {
  let node: Inode | undefined = view.core.s.upperRoot;
  for (const name of path.split('/').filter((p) => p !== '')) {
    const c = node?.children?.get(name);
    if (!c || isWhiteout(c)) return undefined;
    node = c;
  }
  return node;
}

/** Bytes of file data the writable layer stores for `path`: its own copy, or its chunks, or none. */
export function heldBytes(view: View, path: string): number {
  const data = upperInode(view, path)?.data;
  if (!data || data instanceof LowerData) return 0;
  if (data instanceof BufferData) return data.storedBytes;
  if (data instanceof ChunkedData) return data.heldBytes;
  return data.size;
}

function stats(samples: number[]): BenchRow['ms'] {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Bytes of data the host file maps (its extents by filefrag; st_blocks where filefrag fails). */
function mappedBytes(p: string): number {
  const st = nodeFs.statSync(p);
  const r = spawnSync('filefrag', ['-v', '-b1', p], { encoding: 'utf8' });
  if (r.status !== 0) return st.blocks * 512;
  let bytes = 0;
  for (const m of r.stdout.matchAll(/^\s*\d+:\s*(\d+)\.\.\s*(\d+):/gm)) bytes += Number(m[2]) - Number(m[1]) + 1;
  return bytes;
}

/** The `count` largest regular files of the image (paths with a leading '/'), largest first; a hard-linked file once, by its first name. */
export function largestFiles(image: LoadedImage, count: number): string[] {
  const view = View.fromImage(image, { readOnly: true });
  return view
    .entries()
    .filter((e) => e.type === 'file')
    .sort((a, b) => b.size - a.size || (a.path < b.path ? -1 : 1))
    .slice(0, count)
    .map((e) => `/${e.path}`);
}

/** Why `path` cannot be benchmarked (not in the image, or not a regular file), or undefined. */
export function pathProblem(image: LoadedImage, path: string): string | undefined {
  const view = View.fromImage(image, { readOnly: true });
  let st: nodeFs.Stats;
  try {
    st = view.fs.lstatSync(path);
  } catch {
    return `${path}: no such file in the image`;
  }
  if (st.isDirectory()) return `${path}: is a directory (copy-up cost is measured on regular files)`;
  if (!st.isFile()) return `${path}: not a regular file`;
  return undefined;
}

/**
 * Mounting overlayfs needs CAP_SYS_ADMIN, not uid 0 as such: read the effective capabilities (bit
 * 21) where /proc says them, else fall back to the uid.
 */
function canMount(): boolean {
  const status = nodeFs.existsSync('/proc/self/status') ? nodeFs.readFileSync('/proc/self/status', 'utf8') : '';
  const caps = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!caps) return process.getuid?.() === 0;
  return ((BigInt(`0x${caps[1]}`) >> 21n) & 1n) === 1n;
}

export async function copyUpBench(image: LoadedImage, opts: BenchOptions): Promise<{ rows: BenchRow[]; kernelSkipped?: string }> {
  const sizes = new Map<string, number>();
  const probe = View.fromImage(image, { readOnly: true });
  for (const p of opts.paths) sizes.set(p, probe.fs.statSync(p).size as number);
  // Rule: --kernel without root says so and runs the rest.
  const root = canMount();
  const kernelSkipped = opts.kernel && !root ? 'the kernel rows need root (to mount overlayfs); they were left out' : undefined;
  const kernel = opts.kernel && root;
  let lower: string | undefined;
  const hows = kernel ? [...opts.strategies, ...KERNEL_PEERS.map((k) => k[0])] : [...opts.strategies];
  const total = opts.paths.length * hows.length * opts.ops.length * (opts.repeat + 1);
  let done = 0;
  const tick = (): void => opts.onProgress?.(++done, total);
  const rows: BenchRow[] = [];
  const base = kernel ? nodeFs.mkdtempSync(join(tmpdir(), 'lfb')) : undefined;
  try {
    if (base) {
      // The image flattened once into the lowerdir (what every trial's mount sits on).
      lower = join(base, 'l');
      nodeFs.mkdirSync(lower);
      const host = new HostCore(lower);
      try {
        copyTree(probe.core, '/', host, '/');
      } finally {
        host.closeAll();
      }
    }
    for (const path of opts.paths) {
      const size = sizes.get(path)!;
      for (const how of hows) {
        for (const op of opts.ops) {
          const samples: number[] = [];
          let bytesCopied = 0;
          let memoryAdded: number | undefined;
          for (let r = 0; r <= opts.repeat; r++) {
            if (how.startsWith('kernel')) {
              const ov = mountOverlay(base!, [lower!], [...KERNEL_PEERS.find((k) => k[0] === how)![1]]);
              if (typeof ov === 'string') throw new Error(`cannot mount overlayfs for --kernel: ${ov}`);
              try {
                const t0 = now();
                runOp(nodeFs as unknown as OpFs, op, join(ov.dir, path), size);
                const ms = now() - t0;
                if (r > 0) samples.push(ms); // the first trial warms the code and the page cache
                const up = join(ov.upper, path);
                bytesCopied = nodeFs.existsSync(up) ? mappedBytes(up) : 0;
              } finally {
                ov.unmount();
              }
            } else {
              const view = View.fromImage(image, { copyUp: how as CopyUpStrategy });
              try {
                const mem0 = process.memoryUsage().arrayBuffers;
                const t0 = now();
                runOp(view.fs as unknown as OpFs, op, path, size);
                const ms = now() - t0;
                if (r > 0) samples.push(ms);
                else memoryAdded = Math.max(0, process.memoryUsage().arrayBuffers - mem0);
                bytesCopied = heldBytes(view, path);
              } finally {
                view.core.s.spill.close();
              }
            }
            tick();
          }
          rows.push({ path, size, how, op, ms: stats(samples), bytesCopied, ...(memoryAdded !== undefined ? { memoryAdded } : {}) });
        }
      }
    }
  } finally {
    if (base) nodeFs.rmSync(base, { recursive: true, force: true });
  }
  return { rows, ...(kernelSkipped ? { kernelSkipped } : {}) };
}

/** Chunked copy-up's unit, for readers of the rows. */
export const CHUNK_BYTES = CHUNK;
