/**
 * How a test runs one of its TypeScript child scripts: with plain node on the script's compiled
 * twin when the tests run compiled (.build/, scripts/test-tree.mjs writes the .js beside the .ts),
 * else through tsx. A tsx loader costs ~0.5 s of CPU a process; the crash tests start dozens.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export function nodeArgs(script: string): string[] {
  const js = script.replace(/\.ts$/, '.js');
  return js !== script && existsSync(js) ? ['--enable-source-maps', js] : ['--import=tsx', script];
}

/**
 * Runs a child script until its stdout holds `marker` (it then stands still there), and SIGKILLs
 * it: 'killed'. A child that exits 0 first, having printed `finished`, gives 'finished'; anything
 * else is an error with what the child printed.
 */
export function killAtMarker(script: string, args: string[], marker: string): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes(marker)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && out.includes(marker)) resolve('killed');
      else if (code === 0 && out.includes('finished')) resolve('finished');
      else reject(new Error(`the child did not stop at ${JSON.stringify(marker)} (exit ${code} ${signal}): ${out} ${err}`));
    });
  });
}

/** Runs the child script with `args` until it says `at <point>` (stopHere), then SIGKILLs it (the crash tests). */
export async function killAt(script: string, args: string[], point: string): Promise<void> {
  if ((await killAtMarker(script, args, `at ${point}\n`)) !== 'killed') throw new Error(`the child finished before ${point}`);
}

/**
 * In a child: says `at <what>` and blocks this thread without returning to the event loop, so
 * that nothing else runs before the parent's SIGKILL lands.
 */
export function stopHere(what: string): void {
  process.stdout.write(`at ${what}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  process.exit(3);
}
