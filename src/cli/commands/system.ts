/**
 * `system df`: what the state directory holds (stored images, the open cache and each cached
 * layer; a blob several images share counted once); `system prune`: drops the open cache
 * (`<home>/cache`, src/image/cache/open-cache.ts), which the next command on an image rebuilds, and
 * the blobs no image links (State.pruneBlobs). Both take --json. Neither touches images or containers.
 */
import type { Command } from 'commander';
import { stateHome } from '../../core/home.js';
import { humanSize, makeOut, printJson } from '../output.js';
import { printTable } from './lifecycle-table.js';
import { openEngine } from './run-container.js';
import { io } from '../io.js';

export function registerSystem(program: Command): void {
  const system = program.command('system').description('what the state directory holds (df), and dropping the open cache (prune)');

  system
    .command('df')
    .description('disk used by stored images and by the open cache (per cached layer)')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { json?: boolean; home?: string };
      const engine = await openEngine(cmd);
      const images = await engine.state.listImages();
      // A blob several images share is counted once.
      const imageBytes = await engine.state.imageBytes(images.map((i) => i.id));
      const { OpenCache } = await import('../../image/cache/open-cache.js');
      const cache = OpenCache.ofHome(stateHome({ home: g.home })).usage();
      if (g.json) return printJson({ home: engine.state.home, images: { count: images.length, bytes: imageBytes }, cache });
      const out = makeOut(g);
      printTable(
        out,
        ['TYPE', 'TOTAL', 'SIZE'],
        [
          ['Images', String(images.length), humanSize(imageBytes)],
          ['Open cache (layers)', String(cache.layers.length), humanSize(cache.bytes)],
        ],
      );
      if (cache.layers.length === 0) return;
      io().stdout.write('\n');
      printTable(
        out,
        ['CACHED LAYER', 'INDEX', 'DATA', 'STATE'],
        cache.layers.map((l) => [
          l.digest.slice(7, 19),
          humanSize(l.recordBytes),
          l.dataBytes ? humanSize(l.dataBytes) : l.indexBytes ? `${humanSize(l.indexBytes)} (gzip index)` : '-',
          l.complete ? 'ready' : 'data only (a write was cut short)',
        ]),
      );
    });

  system
    .command('prune')
    .description('drop the open cache (the next command on each image rebuilds it) and blobs no image uses')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as { json?: boolean; home?: string };
      const { OpenCache } = await import('../../image/cache/open-cache.js');
      const gone = await OpenCache.ofHome(stateHome({ home: g.home })).prune();
      // Blobs no image links: fetched by docker:// views, or left by a killed load or pull.
      const engine = await openEngine(cmd);
      const blobs = await engine.state.pruneBlobs();
      const bytes = gone.bytes + blobs.bytes;
      if (g.json) return printJson({ removedLayers: gone.layers.length, ...(blobs.count > 0 ? { removedBlobs: blobs.count } : {}), reclaimedBytes: bytes });
      const unused = blobs.count > 0 ? `Deleted blobs no image uses: ${blobs.count}\n` : '';
      io().stdout.write(`Deleted the open cache: ${gone.layers.length} layer(s)\n${unused}Total reclaimed space: ${humanSize(bytes)}\n`);
    });
}
