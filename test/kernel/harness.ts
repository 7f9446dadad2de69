/**
 * One differential case = a layer spec + mount options + an op list. It runs once on a real overlay
 * mount and once per copy-up strategy on the emulator; per-op results, the merged tree and the upper
 * layer are compared. `shrink` minimises a failing case by dropping ops (then spec entries) while the
 * same kind of difference persists.
 */
import { openLayers, type CopyUpStrategy } from '../../src/index.js';
import { describeOptions, mountSpec, type KernelOptions, type Scratch } from './mount.js';
import { describeOp, kernelFs, kernelGuard, runOps, sameResult, shortJson, showResult, type FsLike, type Op, type Result } from '../ops/ops.js';
import { diffLines, emulatorUpperSnapshot, kernelUpperSnapshot, mergedSnapshot } from './snapshot.js';
import { sanitizeSpec } from './gen.js';
import { specTars, type Spec } from './spec.js';

export type Strategy = CopyUpStrategy;
export const STRATEGIES: Strategy[] = ['full', 'metadata', 'chunked'];

export interface Case {
  spec: Spec;
  opts: KernelOptions;
  ops: Op[];
}

export interface Outcome {
  results: Result[];
  merged: string[];
  /** null for a read-only view. */
  upper: string[] | null;
}

export interface Difference {
  /** 'op' (a per-op result), 'merged' (final merged tree), 'upper' (final upper layer), 'crash'. */
  where: 'op' | 'merged' | 'upper' | 'crash';
  /** Index of the first differing op (where === 'op'). */
  index?: number;
  /** A short key for "the same kind of difference" while shrinking. */
  key: string;
  text: string;
}

/** A read-only overlay needs two lowerdirs; both sides then get an extra empty bottom layer. */
export function effectiveSpec(c: Case): Spec {
  return c.opts.readOnly && c.spec.length < 2 ? [...Array(2 - c.spec.length).fill([]), ...c.spec] : c.spec;
}

export async function runKernel(scratch: Scratch, c: Case): Promise<Outcome> {
  const spec = effectiveSpec(c);
  const m = await mountSpec(scratch, spec, c.opts);
  try {
    process.umask(0o022);
    const results = runOps(kernelFs, m.mnt, c.ops, { guard: kernelGuard(m.mnt) });
    const merged = mergedSnapshot(kernelFs, m.mnt);
    const upper = m.upper ? await kernelUpperSnapshot(m.upper, m.mnt) : null;
    return { results, merged, upper };
  } finally {
    const r = m.release();
    if (!r.ok || r.lazy) console.error(`layerfs kernel tests: unmount of ${m.mnt}: ${r.err ?? 'needed umount -l'}`);
  }
}

const tarCache = new WeakMap<Spec, Promise<Buffer[]>>();

export async function runEmulator(c: Case, strategy: Strategy, kernel?: Outcome, tars?: Buffer[]): Promise<Outcome> {
  const spec = effectiveSpec(c);
  let layers = tars;
  if (!layers) {
    let p = tarCache.get(spec);
    if (!p) tarCache.set(spec, (p = specTars(spec)));
    layers = await p;
  }
  const view = await openLayers(layers, {
    copyUp: strategy,
    redirectDir: !!(c.opts.redirectDir || c.opts.metacopy),
    index: !!c.opts.index,
    readOnly: !!c.opts.readOnly,
    umask: 0o022,
  });
  try {
    const fsx = view.fs as unknown as FsLike;
    const results = runOps(fsx, '/', c.ops, { mirror: kernel?.results });
    const merged = mergedSnapshot(fsx, '/');
    const upper = c.opts.readOnly ? null : emulatorUpperSnapshot(view.upperEntries());
    return { results, merged, upper };
  } finally {
    view.close();
  }
}

/**
 * metacopy=on: the kernel's deferred data copy-up (first open for write after a metadata-only copy-up)
 * stamps the current time on the file (observed on 6.18; with full copy-up the lower mtime is kept).
 * That is an artefact of the on-disk metacopy format, while the emulator's copy-up strategies are meant
 * to be invisible, so for metacopy cases the mtime of regular files is masked on both sides.
 */
export function maskOutcome(c: Case, o: Outcome): Outcome {
  if (!c.opts.metacopy) return o;
  const results = o.results.map((r) => {
    if ('ok' in r && r.ok && typeof r.ok === 'object' && (r.ok as { type?: string }).type === 'file' && 'mtime' in (r.ok as object)) {
      return { ok: { ...(r.ok as object), mtime: '*' } };
    }
    return r;
  });
  const maskLine = (l: string): string => (/^\S+ file /.test(l) ? l.replace(/ mtime=\S+/, ' mtime=*') : l);
  return { results, merged: o.merged.map(maskLine), upper: o.upper?.map(maskLine) ?? null };
}

export function compareOutcomes(c: Case, k0: Outcome, e0: Outcome): Difference | undefined {
  const k = maskOutcome(c, k0);
  const e = maskOutcome(c, e0);
  for (let i = 0; i < c.ops.length; i++) {
    if (!sameResult(k.results[i], e.results[i])) {
      return {
        where: 'op',
        index: i,
        key: `op:${c.ops[i].op}`,
        text: `first difference at op ${i}: ${describeOp(c.ops[i])}\n  kernel:   ${showResult(k.results[i])}\n  emulator: ${showResult(e.results[i])}`,
      };
    }
  }
  const dm = diffLines(k.merged, e.merged);
  if (dm) return { where: 'merged', key: 'merged', text: `final merged tree differs:\n${dm}` };
  if (k.upper && e.upper) {
    const du = diffLines(k.upper, e.upper);
    if (du) return { where: 'upper', key: 'upper', text: `final upper layer differs:\n${du}` };
  }
  return undefined;
}

/** Runs the emulator side with one strategy and compares; an emulator crash is a difference too. */
export async function diffStrategy(c: Case, strategy: Strategy, k: Outcome, tars?: Buffer[]): Promise<Difference | undefined> {
  let e: Outcome;
  try {
    e = await runEmulator(c, strategy, k, tars);
  } catch (err) {
    return { where: 'crash', key: 'crash', text: `emulator threw outside any op: ${(err as Error).stack ?? String(err)}` };
  }
  return compareOutcomes(c, k, e);
}

export interface CaseReport {
  kernel: Outcome;
  diffs: Array<{ strategy: Strategy; diff: Difference }>;
}

/** Kernel once, emulator once per strategy. */
export async function checkCase(scratch: Scratch, c: Case, strategies: Strategy[] = STRATEGIES): Promise<CaseReport> {
  const kernel = await runKernel(scratch, c);
  const tars = await specTars(effectiveSpec(c));
  const diffs: CaseReport['diffs'] = [];
  for (const s of strategies) {
    const d = await diffStrategy(c, s, kernel, tars);
    if (d) diffs.push({ strategy: s, diff: d });
  }
  return { kernel, diffs };
}

/** Kernel + emulator(strategy) on a candidate case; undefined when they agree or the case is invalid. */
export function kernelProbe(scratch: Scratch, strategy: Strategy): (c: Case) => Promise<Difference | undefined> {
  return async (c) => {
    let k: Outcome;
    try {
      k = await runKernel(scratch, c);
    } catch {
      return undefined; // e.g. an invalid spec after dropping an entry
    }
    return diffStrategy(c, strategy, k);
  };
}

/**
 * Greedy minimisation: drop ops one at a time (last first), then spec entries, then empty layers, then
 * mount options, keeping each removal while `probe` still reports a difference with the same key.
 * `budget` caps the number of probes.
 */
export async function shrink(c: Case, d: Difference, probe: (c: Case) => Promise<Difference | undefined>, budget = 400): Promise<{ c: Case; d: Difference; probes: number }> {
  let cur = c;
  let curD = d;
  let runs = 0;
  const attempt = async (cand: Case): Promise<boolean> => {
    if (runs >= budget) return false;
    runs++;
    try {
      const nd = await probe({ ...cand, spec: sanitizeSpec(cand.spec) });
      if (!nd || nd.key !== curD.key) return false;
      cur = { ...cand, spec: sanitizeSpec(cand.spec) };
      curD = nd;
      return true;
    } catch {
      return false;
    }
  };
  let changed = true;
  while (changed && runs < budget) {
    changed = false;
    // Ops after the first differing op cannot matter to it: cut them in one go.
    if (curD.where === 'op' && curD.index !== undefined && curD.index + 1 < cur.ops.length) {
      if (await attempt({ ...cur, ops: cur.ops.slice(0, curD.index + 1) })) changed = true;
    }
    for (let i = cur.ops.length - 1; i >= 0; i--) {
      if (i >= cur.ops.length) continue;
      if (await attempt({ ...cur, ops: cur.ops.filter((_, j) => j !== i) })) changed = true;
    }
    for (let l = cur.spec.length - 1; l >= 0; l--) {
      if (l >= cur.spec.length) continue;
      for (let j = cur.spec[l].length - 1; j >= 0; j--) {
        if (l >= cur.spec.length || j >= cur.spec[l].length) continue;
        const spec = cur.spec.map((layer, li) => (li === l ? layer.filter((_, jj) => jj !== j) : layer));
        if (await attempt({ ...cur, spec })) changed = true;
      }
      if (l < cur.spec.length && cur.spec[l].length === 0 && cur.spec.length > 1) {
        if (await attempt({ ...cur, spec: cur.spec.filter((_, li) => li !== l) })) changed = true;
      }
    }
    for (const key of ['metacopy', 'index', 'redirectDir'] as const) {
      if (cur.opts[key]) {
        const opts = { ...cur.opts };
        delete opts[key];
        if (await attempt({ ...cur, opts })) changed = true;
      }
    }
  }
  return { c: cur, d: curD, probes: runs };
}

/** A failing case as text: options, spec, ops with both results, the difference. */
export function formatCase(c: Case, k: Outcome | undefined, e: Outcome | undefined, strategy: Strategy, d: Difference): string {
  const lines: string[] = [];
  lines.push(`options: ${describeOptions(c.opts)} (${JSON.stringify(c.opts)}), emulator copyUp: ${strategy}`);
  lines.push('layers (bottom first):');
  for (const [i, layer] of c.spec.entries()) lines.push(`  L${i}: ${shortJson(layer)}`);
  lines.push(`ops (${c.ops.length}):`);
  c.ops.forEach((op, i) => {
    const kr = k ? showResult(k.results[i]) : '?';
    const er = e ? showResult(e.results[i]) : '?';
    const mark = k && e && kr !== er ? '  <-- DIFFERS' : '';
    lines.push(`  ${String(i).padStart(2)}: ${describeOp(op)}\n        kernel: ${kr}${kr === er ? '' : `   emulator: ${er}`}${mark}`);
  });
  lines.push(d.text);
  lines.push(`ops as JSON: ${shortJson(c.ops)}`);
  return lines.join('\n');
}

/** Re-runs a (minimised) case on both sides and formats it. */
export async function explain(scratch: Scratch, c: Case, strategy: Strategy, d: Difference): Promise<string> {
  let k: Outcome | undefined;
  let e: Outcome | undefined;
  try {
    k = await runKernel(scratch, c);
    e = await runEmulator(c, strategy, k);
  } catch {
    /* formatted with what we have */
  }
  return formatCase(c, k, e, strategy, d);
}
