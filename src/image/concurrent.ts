/**
 * Opening the layers of one image a few at a time (gzip inflates on the zlib threadpool while this
 * thread hashes and indexes another layer), with exactly the results of opening them one after
 * another: the same layers, the same warnings in the same order, the same error.
 *
 * Each layer is first opened alone: its own Budget (the image's limits, nothing used yet), its own
 * Resources, its warnings held back. Then the layers are taken bottom first, and a layer's result
 * is kept only when it is provably what the one-at-a-time open gives; else that layer, and every
 * layer above it, is opened again one at a time as before. Why that is exact: a layer's open
 * depends on the layers below it only through the Budget, and a Budget with more already used is
 * only stricter (the same bytes and members, checked against less room). So an open alone that
 * succeeded within the room the layers below left is the one-at-a-time open; any other outcome is
 * decided by opening the layer again with the image's Budget.
 *
 * Not through the Budget, but alike: the open cache. Where two layers of one image are the same
 * blob, one at a time the upper may be answered from the record the lower just wrote; opened
 * together, both may be built (each writes the same record atomically). The layer is the same.
 */
import { Budget, SharedUse, SharedUseFull } from '../archive/limits.js';
import type { LayerData } from './layers.js';
import { Resources } from './store.js';

/**
 * Layers open at once by default: libuv's threadpool size, so every layer in flight has a thread
 * to inflate on. More streams than cores still help: each stream's thread waits while this thread
 * takes the chunk it inflated, and another stream's inflate fills that gap (bench figure 8, 2 cores).
 */
export const DEFAULT_CONCURRENCY = 4;

/** What one layer's open is given: where its descriptors, limits, warnings and progress go. */
export interface JobContext {
  res: Resources;
  budget: Budget;
  onWarning: (m: string) => void;
  onRead?: (bytes: number) => void;
  /** Aborted when the layer's result can no longer be used (a layer below it failed). */
  signal?: AbortSignal;
}

export interface OpenLayersOptions {
  /** Layers open at once; 1 is the one-at-a-time open. */
  concurrency: number;
  /** The image's limits and what it has used of them. */
  budget: Budget;
  /** The image's descriptors: every kept layer's move here. */
  res: Resources;
  warn: (m: string) => void;
  /** Stored bytes of each layer, for progress. */
  sizes?: number[];
  onProgress?: (doneBytes: number, totalBytes: number) => void;
}

interface Alone {
  layer?: LayerData;
  error?: unknown;
  failed: boolean;
  /** Its descriptors joined the image's. */
  kept: boolean;
  res: Resources;
  budget: Budget;
  warnings: string[];
}

const settle = (p: Promise<Alone>): Promise<Alone | undefined> => p.catch(() => undefined);

/** Opens layers 0…count-1 with `open`, a few at a time; see the file comment. */
export async function openLayers(count: number, opts: OpenLayersOptions, open: (i: number, ctx: JobContext) => Promise<LayerData>): Promise<LayerData[]> {
  const { budget, res, warn, onProgress } = opts;
  const sizes = opts.sizes ?? [];
  const total = sizes.reduce((s, n) => s + n, 0);
  // Progress: each layer counts at most its own size, however often it is read (a cache record
  // found unusable after hashing, a layer opened again), and exactly its size once it is kept;
  // so the figure only grows and ends at the total.
  const counted = new Array<number>(count).fill(0);
  let done = 0;
  const counter = (i: number): ((n: number) => void) | undefined => {
    if (!onProgress) return undefined;
    return (n) => {
      const add = Math.min(n, (sizes[i] ?? 0) - counted[i]);
      if (add <= 0) return;
      counted[i] += add;
      onProgress((done += add), total);
    };
  };
  const finished = (i: number): void => {
    if (!onProgress) return;
    done += (sizes[i] ?? 0) - counted[i];
    counted[i] = sizes[i] ?? 0;
    onProgress(done, total);
  };

  const width = Math.max(1, Math.floor(opts.concurrency));
  // What the layers opened alone use together (archive/limits.ts SharedUse).
  const shared = new SharedUse(budget);
  const aborts: AbortController[] = [];
  const tasks: Array<Promise<Alone>> = [];
  // Rule: the lowest layer that fails decides the error. A failure seen at layer i makes every
  // layer above i useless: they are aborted and no more are started.
  let lowest = count;
  const stopAbove = (i: number): void => {
    if (i >= lowest) return;
    lowest = i;
    for (let j = i + 1; j < aborts.length; j++) aborts[j].abort();
  };
  let next = 0;
  let inFlight = 0;
  const fill = (): void => {
    // Layers start bottom first, at most `width` at once, none above a failed one.
    while (inFlight < width && next < lowest) {
      const i = next++;
      inFlight++;
      const ac = new AbortController();
      aborts[i] = ac;
      const alone: Alone = { failed: false, kept: false, res: new Resources(), budget: new Budget(budget.limits, shared), warnings: [] };
      const ctx: JobContext = { res: alone.res, budget: alone.budget, onWarning: (m) => alone.warnings.push(m), onRead: counter(i), signal: ac.signal };
      // A layer that throws at once fails like one whose promise rejects.
      tasks[i] = new Promise<LayerData>((resolve) => resolve(open(i, ctx))).then(
        (layer) => {
          alone.layer = layer;
          inFlight--;
          fill();
          return alone;
        },
        (error: unknown) => {
          alone.error = error;
          alone.failed = true;
          inFlight--;
          stopAbove(i);
          fill();
          return alone;
        },
      );
    }
  };

  const layers: LayerData[] = [];
  let alone = width > 1 && count > 1;
  if (alone) fill();
  try {
    for (let i = 0; i < count; i++) {
      if (alone) {
        // Started: every layer below i is done, and i is not above a failed layer.
        const r = await tasks[i];
        const fits = !r.failed && budget.bytes + r.budget.bytes <= budget.limits.maxUncompressedBytes && budget.entries + r.budget.entries <= budget.limits.maxEntries;
        if (fits) {
          // Kept: its use of the limits, its descriptors and its warnings join the image's, in layer order.
          budget.bytes += r.budget.bytes;
          budget.entries += r.budget.entries;
          res.adopt(r.res);
          r.kept = true;
          for (const w of r.warnings) warn(w);
          layers.push(r.layer!);
          finished(i);
          continue;
        }
        // Not kept: the layers above are stopped and waited for (no write may still use a
        // descriptor when it is closed), and their descriptors closed; from here on, one at a time.
        alone = false;
        stopAbove(i);
        await Promise.all(tasks.map(settle));
        for (const t of tasks.slice(i + 1)) (await settle(t))?.res.closeAll();
        // Rule: a layer that failed alone with nothing used below it failed exactly as it would one
        // at a time: its warnings, then its error. Else it is opened again with the image's Budget.
        // (Stopped by what the others used together is no such failure: SharedUse.)
        if (r.failed && !(r.error instanceof SharedUseFull) && budget.bytes === 0 && budget.entries === 0) {
          res.adopt(r.res);
          r.kept = true;
          for (const w of r.warnings) warn(w);
          throw r.error;
        }
        r.res.closeAll();
      }
      // One at a time, as before: the image's Budget, Resources and warnings.
      layers.push(await open(i, { res, budget, onWarning: warn, onRead: counter(i) }));
      finished(i);
    }
    return layers;
  } finally {
    // Rule: whatever is thrown, nothing a layer opened alone stays open unless it was kept: every
    // layer still running is stopped and waited for, then the descriptors of those not kept are
    // closed (the image's own Resources are closed by the caller on failure).
    for (const ac of aborts) ac.abort();
    for (const r of await Promise.all(tasks.map(settle))) if (r && !r.kept) r.res.closeAll();
  }
}
