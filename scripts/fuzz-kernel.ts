/**
 * The kernel differential fuzzer on demand: N seeded random cases (test/kernel/gen.ts), each run on a
 * real overlay mount and on the emulator with every copy-up strategy (test/kernel/harness.ts). Every
 * case that differs is minimised (harness `shrink`) and written to test/corpus/kernel/<seed>-<case>.json
 * (JSON spec + options + ops, both sides' results, the difference as text); a summary is printed.
 *
 *   npm run fuzz -- --kernel [--cases N] [--seed S]     # default 10,000 cases, a time-based seed
 *   npm run fuzz -- --kernel --commit                   # also commit every agreeing case: umoci's
 *                                                       # flattening (podman's for every tenth) must be
 *                                                       # the kernel's merged tree (test/kernel/commit-check.ts)
 *
 * Needs root on Linux (overlay + tmpfs mounts) and python3, as test/kernel-random.test.ts does;
 * without them it prints why and exits 2. Exit code 1 when any difference was found.
 * Replay one: LAYERFS_KERNEL_SEED=S LAYERFS_KERNEL_CASE=i npx ava test/kernel-random.test.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genCase } from '../test/kernel/gen.js';
import { checkCase, explain, kernelProbe, runEmulator, runKernel, shrink, STRATEGIES, type Case, type CaseReport, type Difference, type Outcome, type Strategy } from '../test/kernel/harness.js';
import { commitDifference } from '../test/kernel/commit-check.js';
import { canMount, describeOptions, Scratch } from '../test/kernel/mount.js';

export interface KernelFuzzResult {
  cases: number;
  ops: number;
  skippedOps: number;
  differing: number;
  /** Cases whose commit was flattened (with --commit), and those whose flattening differed. */
  committed: number;
  commitDiffering: Array<{ caseIndex: number; strategy: Strategy; text: string }>;
  /** Distinct differences (by signature) with the file each was written to. */
  distinct: Array<{ signature: string; file: string; caseIndex: number; strategy: Strategy; ops: number }>;
  seconds: number;
}

/** Roughly "the same bug" (as in test/kernel-random.test.ts). */
function signature(c: Case, d: Difference): string {
  if (d.where !== 'op' || d.index === undefined) return `${d.key}|${c.ops.map((o) => o.op).join(',')}`;
  const lines = d.text.split('\n');
  return `${d.key}|${lines[1]?.replace(/"mtime":[^,}]+/, '')}|${lines[2]?.replace(/"mtime":[^,}]+/, '')}`;
}

export async function fuzzKernel(opts: {
  cases: number;
  seed: number;
  outDir: string;
  log?: (s: string) => void;
  /** The case generator (default test/kernel/gen.ts genCase); replaceable to check this script itself. */
  gen?: (seed: number, index: number) => Case;
  /** Commit each case that agrees and compare umoci's (every tenth: podman's too) flattening with the kernel. */
  commit?: boolean;
}): Promise<KernelFuzzResult> {
  const gen = opts.gen ?? genCase;
  const scratch = Scratch.create();
  const started = Date.now();
  const res: KernelFuzzResult = { cases: 0, ops: 0, skippedOps: 0, differing: 0, committed: 0, commitDiffering: [], distinct: [], seconds: 0 };
  const seen = new Set<string>();
  try {
    for (let i = 0; i < opts.cases; i++) {
      if (i > 0 && i % 1000 === 0) opts.log?.(`… ${i} cases, ${res.differing} differing`);
      const c = gen(opts.seed, i);
      res.cases++;
      res.ops += c.ops.length;
      let rep: CaseReport;
      try {
        rep = await checkCase(scratch, c);
      } catch (e) {
        opts.log?.(`case ${i}: harness error (${(e as Error).message}); skipped`);
        continue;
      }
      res.skippedOps += rep.kernel.results.filter((r) => 'skip' in r).length;
      if (!rep.diffs.length) {
        if (opts.commit && !c.opts.readOnly) {
          const strategy = STRATEGIES[i % STRATEGIES.length]!;
          const text = await commitDifference(c, strategy, rep.kernel, i % 10 === 0 ? ['umoci', 'podman'] : ['umoci'], `case${i}`).catch((e: Error) => `harness error: ${e.message}`);
          res.committed++;
          if (text) {
            res.commitDiffering.push({ caseIndex: i, strategy, text });
            opts.log?.(
              `COMMIT DIFFERENCE case ${i} (${strategy}): ${text}\nreplay: LAYERFS_KERNEL_SEED=${opts.seed} LAYERFS_KERNEL_CASE=${i} LAYERFS_COMMIT_CASES=1 npx ava test/commit-random.test.ts\n`,
            );
          }
        }
        continue;
      }
      res.differing++;
      const { strategy, diff } = rep.diffs[0];
      const small = await shrink(c, diff, kernelProbe(scratch, strategy));
      let k: Outcome | undefined;
      let e: Outcome | undefined;
      try {
        k = await runKernel(scratch, small.c);
        e = await runEmulator(small.c, strategy, k);
      } catch {
        /* written with what we have */
      }
      const text = await explain(scratch, small.c, strategy, small.d);
      mkdirSync(opts.outDir, { recursive: true });
      const file = join(opts.outDir, `${opts.seed}-${i}.json`);
      writeFileSync(
        file,
        `${JSON.stringify(
          {
            seed: opts.seed,
            case: i,
            strategy,
            strategiesDiffering: rep.diffs.map((d) => d.strategy),
            options: small.c.opts,
            optionsText: describeOptions(small.c.opts),
            layers: small.c.spec,
            ops: small.c.ops,
            kernel: k ?? null,
            emulator: e ?? null,
            difference: { where: small.d.where, index: small.d.index, key: small.d.key, text: small.d.text },
            originalOps: c.ops.length,
            shrinkProbes: small.probes,
            replay: `LAYERFS_KERNEL_SEED=${opts.seed} LAYERFS_KERNEL_CASE=${i} npx ava test/kernel-random.test.ts`,
            note: 'written by scripts/fuzz-kernel.ts (npm run fuzz -- --kernel)',
          },
          null,
          2,
        )}\n`,
      );
      const sig = signature(small.c, small.d);
      if (!seen.has(sig)) {
        seen.add(sig);
        res.distinct.push({ signature: sig, file, caseIndex: i, strategy, ops: small.c.ops.length });
        opts.log?.(`DIFFERENCE case ${i} (${strategy}), minimised to ${small.c.ops.length} ops -> ${file}\n${text}\n`);
      } else {
        opts.log?.(`difference case ${i} (${strategy}), same signature as an earlier one -> ${file}`);
      }
    }
  } finally {
    scratch.dispose();
  }
  res.seconds = (Date.now() - started) / 1000;
  return res;
}

export async function main(argv: string[]): Promise<number> {
  const arg = (name: string, def: number): number => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? Number(argv[i + 1]) : def;
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer`);
    return v;
  };
  const cases = arg('cases', 10_000);
  const seed = arg('seed', Date.now() % 2 ** 31);
  const m = await canMount();
  if (!m.ok) {
    console.error(`kernel fuzz: overlayfs not available here (${m.reason}); run as root on Linux`);
    return 2;
  }
  const outDir = fileURLToPath(new URL('../test/corpus/kernel/', import.meta.url));
  console.log(`kernel differential fuzz: ${cases} cases, seed ${seed}`);
  const commit = argv.includes('--commit');
  const r = await fuzzKernel({ cases, seed, outDir, commit, log: (s) => console.log(s) });
  console.log(`${r.cases} cases, ${r.ops} ops (${r.skippedOps} skipped by safety guards) in ${r.seconds.toFixed(1)} s`);
  if (commit)
    console.log(
      `${r.committed} commits flattened: ${r.commitDiffering.length ? `${r.commitDiffering.length} differ from the kernel (cases ${r.commitDiffering.map((d) => d.caseIndex).join(', ')})` : "every one the kernel's merged tree"}`,
    );
  console.log(r.differing ? `${r.differing} differing case(s), ${r.distinct.length} distinct: ${r.distinct.map((d) => `${d.file} [${d.signature.split('|')[0]}]`).join(', ')}` : 'no differences');
  return r.differing || r.commitDiffering.length ? 1 : 0;
}
