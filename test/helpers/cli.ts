/** The real `layerfs` command (bin/layerfs.js) in a child process, with a temporary state home. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';

export const BIN = new URL('../../bin/layerfs.js', import.meta.url).pathname;
export const SAMPLE = new URL('../../images/sample.tar', import.meta.url).pathname;

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  out: Buffer;
}

/** Runs `layerfs --home HOME ARGS...` with `input` on stdin (LAYERFS_HOME is HOME too). */
export function layerfs(home: string, args: string[], input: string | Buffer = '', opts: { cwd?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home, ...args], {
      env: { ...process.env, NO_COLOR: '1', LAYERFS_HOME: home },
      cwd: opts.cwd,
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

/**
 * `layerfs ARGS...` run in this process (runCli, src/cli/program.ts): the same command line and
 * code as the bin, with stdin, stdout and stderr of its own, for the commands that neither take
 * over the process (run's shell, serve) nor test the process itself (exit on a closed pipe, the
 * modules --help loads); a spawned `node bin/layerfs.js` costs ~0.4 s of CPU a command.
 */
export async function layerfsHere(args: string[], opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Result & { code: number }> {
  const { runCli } = await import('../../src/cli/program.js');
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, done) {
        into.push(Buffer.from(chunk));
        done();
      },
    });
  const stdin = Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]);
  const { code } = await runCli(args, { stdout: sink(out), stderr: sink(err), stdin, env: { ...process.env, NO_COLOR: '1', ...opts.env } });
  const buf = Buffer.concat(out);
  return { code, stdout: buf.toString(), stderr: Buffer.concat(err).toString(), out: buf };
}

/** layerfs(HOME, ARGS, INPUT) in this process (layerfsHere); one given a cwd is spawned (a process has one cwd). */
export function layerfsIn(home: string, args: string[], input: string | Buffer = '', opts: { cwd?: string } = {}): Promise<Result> {
  if (opts.cwd !== undefined) return layerfs(home, args, input, opts);
  return layerfsHere(['--home', home, ...args], { input, env: { LAYERFS_HOME: home } });
}
