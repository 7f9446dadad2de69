/**
 * `layerfs inspect`: per layer, what it is (digest, sizes, the command that made it) and what it
 * changed in the flattened view (A/M/D counts, changes.py rules); for the image, wasted space and
 * efficiency (waste.ts); in CI mode, which thresholds are crossed.
 */
import { countChanges, stepChanges } from './changes.js';
import type { Stack } from './stack.js';
import type { LayerReport } from './shapes.js';
import { waste, type Waste } from './waste.js';

export type { LayerReport };

export interface InspectReport {
  file: string;
  format: string;
  tags: string[];
  layers: LayerReport[];
  waste: Waste;
}

export function inspect(stack: Stack): InspectReport {
  const img = stack.image;
  const w = waste(stack);
  const wasted = new Map<number, number>();
  for (const p of w.paths) for (const c of p.copies) wasted.set(c.layer, (wasted.get(c.layer) ?? 0) + c.bytes);
  const layers = img.layers.map(
    (l, i): LayerReport => ({
      layer: i + 1,
      digest: l.digest,
      diffId: l.diffId,
      mediaType: l.mediaType,
      size: l.size,
      compressedSize: l.compressedSize,
      createdBy: l.history?.created_by ?? null,
      ...countChanges(stepChanges(stack, i + 1)),
      wastedBytes: wasted.get(i + 1) ?? 0,
    }),
  );
  return { file: img.file, format: img.format, tags: img.tags, layers, waste: w };
}

export interface Thresholds {
  /** Fail when efficiency < this ratio. */
  lowestEfficiency?: number;
  /** Fail when wasted bytes > this. */
  highestWastedBytes?: number;
  /** Fail when wasted / user bytes > this ratio. */
  highestUserWastedRatio?: number;
}

export interface CiResult {
  pass: boolean;
  checks: Array<{ rule: string; limit: number; value: number; pass: boolean }>;
}

/** Rule (dive's CI rules): each given threshold is one check; the image fails if any fails. */
export function ciCheck(w: Waste, t: Thresholds): CiResult {
  const checks: CiResult['checks'] = [];
  if (t.lowestEfficiency !== undefined) {
    checks.push({ rule: 'lowest-efficiency', limit: t.lowestEfficiency, value: w.efficiency, pass: w.efficiency >= t.lowestEfficiency });
  }
  if (t.highestWastedBytes !== undefined) {
    checks.push({ rule: 'highest-wasted-bytes', limit: t.highestWastedBytes, value: w.wastedBytes, pass: w.wastedBytes <= t.highestWastedBytes });
  }
  if (t.highestUserWastedRatio !== undefined) {
    checks.push({ rule: 'highest-user-wasted-percent', limit: t.highestUserWastedRatio, value: w.userWastedRatio, pass: w.userWastedRatio <= t.highestUserWastedRatio });
  }
  return { pass: checks.every((c) => c.pass), checks };
}
