/**
 * ava glue shared by the kernel differential test files: one scratch tmpfs per test file, a visible
 * skip when overlayfs cannot be mounted, and the emulator side run (all copy-up strategies) and
 * compared after the kernel side.
 */
import type { ExecutionContext, TestFn } from 'ava';
import { canMount, Scratch } from './mount.js';
import { diffStrategy, explain, runKernel, STRATEGIES, type Case, type Outcome, type Strategy } from './harness.js';
import { requireOrSkip } from '../helpers/require.js';

export interface Env {
  scratch?: Scratch;
  /** Why kernel tests cannot run here (not root, mount refused). */
  noKernel?: string;
  /** Why the emulator side is not run (LAYERFS_KERNEL_ONLY: harness self-check). */
  noEmulator?: string;
}

/** Registers before/after hooks that set up `env` for a test file. */
export function setup(test: TestFn): Env {
  const env: Env = {};
  test.before(async () => {
    const m = await canMount();
    if (!m.ok) {
      env.noKernel = m.reason;
      return;
    }
    env.scratch = Scratch.create();
    if (process.env.LAYERFS_KERNEL_ONLY) env.noEmulator = 'LAYERFS_KERNEL_ONLY is set';
  });
  test.after.always(() => {
    env.scratch?.dispose();
  });
  return env;
}

/** True when the kernel side cannot run: the test then fails in CI, or passes as a visible skip elsewhere. */
export function skipped(t: ExecutionContext, env: Env): boolean {
  return !requireOrSkip(t, env.noKernel && `kernel overlayfs not available here (${env.noKernel}); run as root on Linux to compare with the kernel`);
}

/**
 * Runs `c` on the kernel, hands the outcome to `expect` (assertions from the rule / observed kernel,
 * never from the emulator), then runs the emulator with every strategy and fails on any difference.
 */
export async function differential(t: ExecutionContext, env: Env, c: Case, expect: (k: Outcome) => void, strategies: Strategy[] = STRATEGIES): Promise<void> {
  if (skipped(t, env)) return;
  const k = await runKernel(env.scratch!, c);
  expect(k);
  if (env.noEmulator) {
    t.log(`emulator side SKIPPED (${env.noEmulator}); kernel side checked`);
    return;
  }
  for (const s of strategies) {
    const d = await diffStrategy(c, s, k);
    if (d) t.fail(`emulator (copyUp=${s}) differs from the kernel\n${await explain(env.scratch!, c, s, d)}`);
  }
}
