/**
 * The seeded random differential suite: LAYERFS_KERNEL_CASES cases (default 250 in npm test, 5000 in npm run test:slow) of random lower
 * layers + random op sequences, each run on ONE real overlay mount and on the emulator with every
 * copy-up strategy (full, metadata, chunked). The first difference is minimised (ops dropped, then
 * spec entries, while the same kind of difference persists) and printed with the seed, the case
 * index, the minimised op list with both sides' results and the first differing op; the test fails.
 *
 *   LAYERFS_KERNEL_SEED=n        run seed (default fixed, so CI is reproducible)
 *   LAYERFS_KERNEL_CASES=n       number of cases
 *   LAYERFS_KERNEL_CASE=i        run only case i (replay)
 *   LAYERFS_KERNEL_KEEP_GOING=n  collect up to n distinct differences before failing (triage)
 *   LAYERFS_KERNEL_ONLY=1        kernel side only (harness self-check)
 */
import test from 'ava';
import { setup, skipped } from './kernel/ava.js';
import { genCase } from './kernel/gen.js';
import { checkCase, explain, kernelProbe, runKernel, shrink, type Case, type Difference } from './kernel/harness.js';
import { describeOptions } from './kernel/mount.js';

const env = setup(test);

/** Roughly "the same bug": where it shows, and for op differences the op and both answers. */
function signature(c: Case, d: Difference): string {
  if (d.where !== 'op' || d.index === undefined) return `${d.key}|${c.ops.map((o) => o.op).join(',')}`;
  const lines = d.text.split('\n');
  return `${d.key}|${lines[1]?.replace(/"mtime":[^,}]+/, '')}|${lines[2]?.replace(/"mtime":[^,}]+/, '')}`;
}

const SEED = Number(process.env.LAYERFS_KERNEL_SEED ?? 0x1a7e5f5);
const CASES = Number(process.env.LAYERFS_KERNEL_CASES ?? 250);
const ONLY = process.env.LAYERFS_KERNEL_CASE;
const KEEP_GOING = Number(process.env.LAYERFS_KERNEL_KEEP_GOING ?? 1);

test.serial(`random differential cases (seed ${SEED})`, async (t) => {
  if (skipped(t, env)) return;
  t.timeout(15 * 60_000);
  const indices = ONLY !== undefined ? [Number(ONLY)] : Array.from({ length: CASES }, (_, i) => i);
  const started = Date.now();
  const byOptions = new Map<string, number>();
  let ops = 0;
  let skippedOps = 0;
  const found = new Map<string, string>();

  for (const i of indices) {
    const c: Case = genCase(SEED, i);
    byOptions.set(describeOptions(c.opts), (byOptions.get(describeOptions(c.opts)) ?? 0) + 1);
    ops += c.ops.length;
    if (env.noEmulator) {
      const k = await runKernel(env.scratch!, c);
      skippedOps += k.results.filter((r) => 'skip' in r).length;
      continue;
    }
    const rep = await checkCase(env.scratch!, c);
    skippedOps += rep.kernel.results.filter((r) => 'skip' in r).length;
    for (const { strategy, diff } of rep.diffs) {
      const small = await shrink(c, diff, kernelProbe(env.scratch!, strategy));
      const sig = signature(small.c, small.d);
      if (found.has(sig)) break;
      const text = await explain(env.scratch!, small.c, strategy, small.d);
      found.set(
        sig,
        [
          `DIFFERENCE seed=${SEED} case=${i} strategy=${strategy} (original: ${c.ops.length} ops, minimised: ${small.c.ops.length})`,
          `replay: LAYERFS_KERNEL_SEED=${SEED} LAYERFS_KERNEL_CASE=${i} npx ava test/kernel-random.test.ts`,
          text,
        ].join('\n'),
      );
      break; // one strategy's minimised difference per case is enough
    }
    if (found.size >= KEEP_GOING) break;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  t.log(`${indices.length} cases, ${ops} ops (${skippedOps} skipped by safety guards) in ${secs}s; options: ${[...byOptions].map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (env.noEmulator) t.log(`emulator side SKIPPED (${env.noEmulator}); kernel side ran every case`);
  for (const text of found.values()) t.log(text);
  if (found.size) t.fail(`${found.size} difference(s) between the emulator and the kernel; see the log above`);
  else t.pass();
});
