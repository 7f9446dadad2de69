/**
 * How a test runs one of its TypeScript child scripts: with plain node on the script's compiled
 * twin when the tests run compiled (.build/, scripts/test-tree.mjs writes the .js beside the .ts),
 * else through tsx. A tsx loader costs ~0.5 s of CPU a process; the crash tests start dozens.
 */
import { existsSync } from 'node:fs';

export function nodeArgs(script: string): string[] {
  const js = script.replace(/\.ts$/, '.js');
  return js !== script && existsSync(js) ? ['--enable-source-maps', js] : ['--import=tsx', script];
}
