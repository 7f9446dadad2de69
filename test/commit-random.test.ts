/**
 * DKR-12 commit checked by real tools over the random differential cases (test/kernel/gen.ts, the
 * same seed as kernel-random): for a sample of LAYERFS_COMMIT_CASES cases (default 30; every case of
 * a run with `npm run fuzz -- --kernel --commit`), the ops run on the kernel and on the emulator, the
 * view is committed, and umoci's flattening of the image (and podman's, for every fifth sampled case)
 * must be the kernel's merged tree (test/kernel/commit-check.ts says what is left out, and why).
 * The copy-up strategy turns with the case. Needs root (overlay mounts), umoci and podman.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { requireOrSkip } from './helpers/require.js';
import { setup, skipped } from './kernel/ava.js';
import { commitDifference, type Flattener } from './kernel/commit-check.js';
import { genCase } from './kernel/gen.js';
import { runKernel, STRATEGIES } from './kernel/harness.js';

const env = setup(test);
const SEED = Number(process.env.LAYERFS_KERNEL_SEED ?? 0x1a7e5f5);
const CASES = Number(process.env.LAYERFS_COMMIT_CASES ?? 30);
/** Sampled across the first 500 cases (kernel-random's count in npm test). */
const STRIDE = Math.max(1, Math.floor(500 / CASES));

test.serial(`DKR-12 commit of random cases, flattened by umoci and podman, is the kernel's merged tree (seed ${SEED})`, async (t) => {
  if (skipped(t, env)) return;
  const missing = ['umoci', 'podman'].filter((c) => spawnSync(c, ['--version']).status !== 0);
  if (!requireOrSkip(t, missing.length > 0 && `${missing.join(', ')} not installed (.ci/run installs them)`)) return;
  t.timeout(10 * 60_000);
  let checked = 0;
  let podman = 0;
  for (let n = 0, i = 0; n < CASES; i += STRIDE) {
    const c = genCase(SEED, i);
    if (c.opts.readOnly) continue; // a read-only view has no writable layer to commit
    const strategy = STRATEGIES[n % STRATEGIES.length]!;
    const flatteners: Flattener[] = n % 5 === 0 ? ['umoci', 'podman'] : ['umoci'];
    const kernel = await runKernel(env.scratch!, c);
    const d = await commitDifference(c, strategy, kernel, flatteners, `case${i}`);
    if (d) return t.fail(`seed ${SEED} case ${i}: ${d}\nreplay: LAYERFS_KERNEL_SEED=${SEED} LAYERFS_KERNEL_CASE=${i} npx ava test/kernel-random.test.ts`);
    checked++;
    if (flatteners.includes('podman')) podman++;
    n++;
  }
  t.log(`${checked} cases committed and flattened by umoci (${podman} by podman too), every one the kernel's merged tree`);
  t.is(checked, CASES);
});
