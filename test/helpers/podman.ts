/**
 * Real podman (4.3, with runc) as ground truth for the CLI verbs: its output and exit code. A test
 * that needs it fails in CI when it is missing, and skips visibly elsewhere.
 */
import { spawnSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';

export interface PodmanResult { code: number; stdout: string; stderr: string }

export function podman(args: string[], input?: string | Buffer): PodmanResult {
  const r = spawnSync('podman', ['--runtime', 'runc', ...args], { input, maxBuffer: 256 << 20 });
  // Other users of the same podman store print lock warnings (level=error msg="Refreshing …"): not ours.
  const stderr = String(r.stderr).split('\n').filter((l) => !/level=(error|warning) msg="Refreshing/.test(l)).join('\n');
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr };
}

/** Raw stdout bytes (a tar stream); a failure throws with podman's words. */
export function podmanBytes(args: string[]): Buffer {
  const r = spawnSync('podman', ['--runtime', 'runc', ...args], { maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${String(r.stderr).split('\n').filter((l) => !/Refreshing/.test(l)).join('\n')}`);
  return r.stdout;
}

/** False (the test is done) when podman is not there: a failure in CI, a visible skip elsewhere. */
export function havePodman(t: ExecutionContext): boolean {
  if (spawnSync('podman', ['--version']).status === 0) return true;
  if (process.env.CI === 'true') t.fail('podman is not installed (.ci/run installs it)');
  else {
    t.log('SKIPPED: podman is not installed; these expectations come from it');
    t.pass();
  }
  return false;
}
