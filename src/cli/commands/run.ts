/**
 * `layerfs run` and `layerfs start`: a container and a shell on its filesystem; plus the
 * Docker-like lifecycle verbs (ps, rm, diff, commit, images, load, volume …), registered from
 * lifecycle-*.ts. `run` creates the container (its mounts read as Docker reads them, see
 * run-options.ts), opens the shell, and on exit saves the container layer; with `--rm` it then
 * removes the container and its anonymous volumes (DKR-7). The command exits with the shell's
 * status.
 */
import type { Command } from 'commander';
import { containerOptions, IMAGE_ARGUMENT, registerCreate, withContainerOptions, type ContainerFlags } from './create.js';
import { remoteOptions } from './registry.js';
import { registerContainerVerbs } from './lifecycle-containers.js';
import { registerCp } from './cp.js';
import { registerImageVerbs2 } from './image-verbs.js';
import { registerImageVerbs } from './lifecycle-images.js';
import { registerVolumeVerbs } from './lifecycle-volumes.js';
import { openEngine, shell } from './run-container.js';
import { setExitCode } from '../io.js';

interface RunOptions extends ContainerFlags {
  rm?: boolean;
  command?: string;
}

export function registerRun(program: Command): void {
  withContainerOptions(
    program
      .command('run')
      .description('create a container from IMAGE (a stored tag or id, an image archive, or docker://…) and open a shell on its filesystem')
      .argument('<image>', IMAGE_ARGUMENT)
      .configureHelp({ showGlobalOptions: true }),
  )
    .option('--rm', 'remove the container and its anonymous volumes when the shell exits')
    .option('-c, --command <script>', "run these shell commands ('cmd; cmd') instead of reading stdin")
    .addHelpText(
      'after',
      '\nShell commands: ls cat echo touch head tail wc grep find du rm mkdir mv cp ln chmod stat where cd pwd env export help exit;\n; && || | > >> $VAR and globs (type help in the shell).',
    )
    .action(async (image: string, opts: RunOptions, cmd: Command) => {
      // Options are checked before anything is created: a usage error leaves no state behind.
      const create = { ...containerOptions(opts), remote: remoteOptions(cmd) };
      const engine = await openEngine(cmd);
      const rec = await engine.create(image, create);
      let status: number;
      try {
        status = await shell(engine, rec.id, { script: opts.command, json: cmd.optsWithGlobals().json });
      } finally {
        if (opts.rm) await engine.rm(rec.id, { volumes: true });
      }
      setExitCode(status);
    });

  program
    .command('start')
    .description('open the shell again on an existing container (its layer is kept from the last time)')
    .argument('<container>', 'container name or id (or id prefix)')
    .option('-c, --command <script>', "run these shell commands ('cmd; cmd') instead of reading stdin")
    .action(async (ref: string, opts: { command?: string }, cmd: Command) => {
      const engine = await openEngine(cmd);
      setExitCode(await shell(engine, ref, { script: opts.command, json: cmd.optsWithGlobals().json }));
    });

  registerCreate(program);
  registerContainerVerbs(program);
  registerImageVerbs(program);
  registerVolumeVerbs(program);
  registerImageVerbs2(program);
  registerCp(program);
}
