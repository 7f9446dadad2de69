/**
 * A second process for the lock tests (test/state-store.test.ts), run with `node --import=tsx`:
 *   count <home> <n>   open the state, print "ready", wait for a line on stdin, then n times, under
 *                      the lock: read the volume "counter", yield, write it back with count + 1;
 *                      then sleep a little outside the lock.
 *                      Prints one JSON line: the counts it read, with the time of the first and last.
 *   hold <home>        take the lock, print "locked", and wait to be killed.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { State } from '../../src/engine/state.js';

const [mode, home, n] = process.argv.slice(2);
const state = await State.open(home!);

if (mode === 'hold') {
  await state.withLock(async () => {
    console.log('locked');
    await sleep(60_000);
  });
} else if (mode === 'count') {
  console.log('ready');
  await once(process.stdin, 'data');
  process.stdin.pause();
  const seen: number[] = [];
  for (let i = 0; i < Number(n); i++) {
    await state.withLock(async () => {
      const vol = await state.getVolume('counter');
      const count = Number(vol!.labels.count);
      seen.push(count);
      // A yield between the read and the write: without the lock, the other process would
      // read the same count here and one increment would be lost.
      await sleep(1);
      await state.putVolume({ ...vol!, labels: { count: String(count + 1) } });
    });
    // Work outside the lock, as a real caller has: the other process gets its turns.
    await sleep(2);
  }
  console.log(JSON.stringify({ seen }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
