/**
 * `volume ls|inspect|rm|prune`, as Docker has them. A volume lives outside every layer: it
 * survives `rm` of its containers (anonymous ones go with `rm -v` or `run --rm`, DKR-7), and
 * `prune` removes unused anonymous volumes (every unused one with -a, DKR-8). `rm -f` removes the
 * containers that use the volume first.
 */
import type { Command } from 'commander';
import { makeOut, printJson } from '../output.js';
import { ago, forEachArg, printTable } from './lifecycle-table.js';
import { openEngine } from './run-container.js';
import { io } from '../io.js';

export function registerVolumeVerbs(program: Command): void {
  const volume = program.command('volume').description('manage volumes: ls, inspect, rm, prune');

  volume
    .command('ls')
    .description('list volumes')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const vols = await Promise.all((await engine.volumes()).map((v) => engine.volumeInspect(v.name)));
      if (g.json) return printJson(vols);
      printTable(
        makeOut(g),
        ['VOLUME NAME', 'KIND', 'CREATED', 'USED BY'],
        vols.map((v) => [v.name, v.anonymous ? 'anonymous' : 'named', ago(v.created), v.usedBy.join(', ') || '-']),
      );
    });

  volume
    .command('inspect')
    .description('show a volume: where its data lives and which containers use it')
    .argument('<name...>', 'volume names')
    .action(async (names: string[], _opts: unknown, cmd: Command) => {
      const engine = await openEngine(cmd);
      printJson(await Promise.all(names.map((n) => engine.volumeInspect(n))));
    });

  volume
    .command('rm')
    .description('remove volumes (refused while a container uses one, unless -f)')
    .argument('<name...>', 'volume names')
    .option('-f, --force', 'remove the containers using the volume first')
    .action(async (names: string[], opts: { force?: boolean }, cmd: Command) => {
      const engine = await openEngine(cmd);
      await forEachArg(names, async (n) => {
        await engine.volumeRm(n, { force: opts.force });
        io().stdout.write(`${n}\n`);
      });
    });

  volume
    .command('prune')
    .description('remove unused anonymous volumes (all unused volumes with -a)')
    .option('-a, --all', 'also remove unused named volumes')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const gone = await engine.volumePrune({ all: opts.all });
      if (g.json) return printJson(gone);
      io().stdout.write(gone.length > 0 ? `Deleted volumes:\n${gone.join('\n')}\n` : 'No volumes to remove\n');
    });
}
