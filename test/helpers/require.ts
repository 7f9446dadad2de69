/**
 * One rule for a suite that cannot run here (no overlay mount, no tiny tmpfs for disk-full cases,
 * zstd-napi not built, podman/umoci missing): in CI (`CI=true`) the test FAILS, naming what is
 * missing, because CI installs everything; elsewhere it passes as a visible SKIPPED line.
 */

/** What of ava's ExecutionContext the rule uses (a test can hand in a recorder instead). */
export interface Judge {
  fail(message?: string): void;
  log(...values: unknown[]): void;
  pass(message?: string): void;
}

export const inCI = (env: NodeJS.ProcessEnv = process.env): boolean => env.CI === 'true' || env.CI === '1';

/**
 * Returns true when the test can go on (`missing` is empty); otherwise fails (CI) or logs and
 * passes (elsewhere) and returns false, and the caller returns.
 */
export function requireOrSkip(t: Judge, missing: string | false | null | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!missing) return true;
  if (inCI(env)) {
    t.fail(`cannot run in CI: ${missing} (CI=true: a suite that cannot run fails instead of skipping)`);
  } else {
    t.log(`SKIPPED: ${missing} (with CI=true this fails)`);
    t.pass();
  }
  return false;
}
