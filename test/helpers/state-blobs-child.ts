/**
 * Run by test/state-blobs.test.ts: loads an image into a state home and stops dead at the n-th
 * step of storing it (State.onStep: a blob fsynced in scratch, a blob placed under its digest, the
 * image's layout linked in scratch). It prints `at <n> <step>` and waits to be killed (SIGKILL),
 * so the kill lands exactly there; `finished` when the load ended first.
 *   tsx state-blobs-child.ts HOME N IMAGE
 */
import { Engine } from '../../src/engine/engine.js';

const [home, n, path] = process.argv.slice(2);
const engine = await Engine.open({ home: home! });
let seen = 0;
engine.state.onStep = (step) => {
  if (++seen !== Number(n)) return;
  process.stdout.write(`at ${seen} ${step}\n`);
  // Block this thread without returning to the event loop: nothing else may run after this point.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  process.exit(3);
};
await engine.load(path!);
process.stdout.write('finished\n');
