/**
 * Run by test/save-stream.test.ts and test/slow/save-stream.test.ts (through save-stream.ts's
 * runChild) in its own process, so that its peak RSS is the cost of one job, with the default
 * spill budget:
 *   save HOME BIG MORE   creates container `big` of the sample image; writes BIG pseudo-random bytes
 *                        (pseudoRandom('big')) into /big.bin through its fs, 1 MiB at a time, and
 *                        syncs (too big for the journal: the layer is saved whole as layer.tar); then
 *                        MORE bytes (pseudoRandom('more')) into /more.bin, and syncs (one journal
 *                        frame, smaller than layer.tar); lets it go without saving again
 *   commit HOME          opens `big` (layer.tar and the journal), commits it into the state as
 *                        localhost/big:1 (the `commit` command's commitContainer), then closes it,
 *                        which compacts the journal into a new layer.tar
 * Prints one JSON line: { maxRssKiB, ... } (process.resourceUsage().maxRSS, and what it made).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { commitContainer } from '../../src/cli/commands/lifecycle-containers.js';
import type { Container } from '../../src/engine/container.js';
import { Engine } from '../../src/engine/engine.js';
import { pseudoRandom } from './save-stream.js';

const SAMPLE = fileURLToPath(new URL('../../images/sample.tar', import.meta.url));
const [mode, home, big, more] = process.argv.slice(2);
const engine = await Engine.open({ home: home! });

function write(c: Container, path: string, seed: string, size: number): void {
  const fd = c.fs.openSync(path, 'w');
  let pos = 0;
  for (const piece of pseudoRandom(seed, size)) {
    c.fs.writeSync(fd, piece, 0, piece.length, pos);
    pos += piece.length;
  }
  c.fs.closeSync(fd);
}

const size = (path: string): number | undefined => statSync(path, { throwIfNoEntry: false })?.size;
let report: Record<string, unknown>;
if (mode === 'save') {
  const rec = await engine.create(SAMPLE, { name: 'big' });
  const c = await engine.open(rec.id);
  write(c, '/big.bin', 'big', Number(big));
  await c.sync();
  // A file changed in the millisecond of a sync's clock counts as changed at the next (journal.ts):
  // the wait keeps /big.bin out of the next frame.
  await sleep(5);
  write(c, '/more.bin', 'more', Number(more));
  await c.sync();
  c.dispose();
  const dir = join(home!, 'containers', rec.id);
  report = { id: rec.id, layerBytes: size(join(dir, 'layer.tar')), journalBytes: size(join(dir, 'layer.journal')) };
} else if (mode === 'commit') {
  const rec = await engine.state.resolveContainer('big');
  const c = await engine.open(rec.id, { start: false });
  let image: Awaited<ReturnType<typeof commitContainer>>;
  try {
    image = await commitContainer(engine, c, rec, 'localhost/big:1');
  } finally {
    await c.close();
  }
  report = { id: rec.id, imageId: image.id };
} else {
  throw new Error(`save-stream child: no mode ${JSON.stringify(mode)} (save or commit)`);
}
process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, ...report })}\n`);
