/**
 * Real podman (4.3, with runc) as ground truth for the CLI verbs: its output and exit code. A test
 * that needs it fails in CI when it is missing, and skips visibly elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

let store: string[] | undefined;

/**
 * podman's storage for this test process alone (`--root`, `--runroot` and `--tmpdir` in a temp dir:
 * `system reset` removes the tmpdir, by default /run/libpod, which every podman shares), to put before
 * the command: test files run in parallel, and in one shared store one file's `rmi` or `image
 * unmount` can pull a layer from under another file's container (containers/storage), failing
 * its `podman cp`. Reset and removed when the process exits.
 */
export function podmanStore(): string[] {
  if (!store) {
    const dir = mkdtempSync(join(tmpdir(), 'layerfs-podman-'));
    const args = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--storage-driver', 'overlay'];
    store = args;
    process.once('exit', () => {
      spawnSync('podman', [...args, 'system', 'reset', '--force'], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    });
  }
  return store;
}

export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function podman(args: string[], input?: string | Buffer): PodmanResult {
  const r = spawnSync('podman', [...podmanStore(), '--runtime', 'runc', ...args], { input, maxBuffer: 256 << 20 });
  // Other users of the same podman store print lock warnings (level=error msg="Refreshing …"): not ours.
  const stderr = String(r.stderr)
    .split('\n')
    .filter((l) => !/level=(error|warning) msg="Refreshing/.test(l))
    .join('\n');
  return { code: r.status ?? -1, stdout: String(r.stdout), stderr };
}

/** Raw stdout bytes (a tar stream); a failure throws with podman's words. */
export function podmanBytes(args: string[]): Buffer {
  const r = spawnSync('podman', [...podmanStore(), '--runtime', 'runc', ...args], { maxBuffer: 256 << 20 });
  if (r.status !== 0)
    throw new Error(
      `podman ${args.join(' ')} exited ${r.status}: ${String(r.stderr)
        .split('\n')
        .filter((l) => !/Refreshing/.test(l))
        .join('\n')}`,
    );
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
