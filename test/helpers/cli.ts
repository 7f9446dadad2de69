/** The real `layerfs` command (bin/layerfs.js) in a child process, with a temporary state home. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = new URL('../../bin/layerfs.js', import.meta.url).pathname;
export const SAMPLE = new URL('../../images/sample.tar', import.meta.url).pathname;

export interface Result { code: number | null; stdout: string; stderr: string; out: Buffer }

/** Runs `layerfs --home HOME ARGS...` with `input` on stdin (LAYERFS_HOME is HOME too). */
export function layerfs(home: string, args: string[], input: string | Buffer = '', opts: { cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home, ...args], {
      env: { ...process.env, NO_COLOR: '1', LAYERFS_HOME: home }, cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const buf = Buffer.concat(out);
      resolve({ code, stdout: buf.toString(), stderr, out: buf });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** A temporary directory removed after the test. */
export async function tempDir(t: { teardown(fn: () => Promise<void>): void }, prefix = 'layerfs-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;
