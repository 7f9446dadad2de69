/**
 * `layerfs create IMAGE`: a container without opening its shell, as `docker create` (state
 * `created`; `start` opens the shell later). It takes run's options for the container (name,
 * mounts, --volumes-from, --read-only), declared here once for both commands; prints the new
 * container's id (its record with --json).
 */
import type { Command } from 'commander';
import type { CreateOptions, MountSpec } from '../../engine/engine.js';
import { printJson } from '../output.js';
import { remoteOptions } from './registry.js';
import { openEngine } from './run-container.js';
import { collect, parseMountFlag, parseTmpfsFlag, parseVolumeFlag, parseVolumesFrom } from './run-options.js';
import { io } from '../io.js';

export interface ContainerFlags {
  name?: string;
  volume: string[];
  mount: string[];
  tmpfs: string[];
  volumesFrom: string[];
  readOnly?: boolean;
}

/** IMAGE of `run` and `create`; their help lists the global options (the registry ones among them). */
export const IMAGE_ARGUMENT =
  'stored image tag or id, the path of an image archive, or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (pulled first, with the global registry options: --creds, --tls-verify, --platform)';

/** The options `run` and `create` share. */
export function withContainerOptions(cmd: Command): Command {
  return cmd
    .option('--name <name>', 'name of the container (default: a generated one)')
    .option('-v, --volume <spec>', 'SRC:DST[:ro|:rw|:nocopy] (host path or volume name), or DST for an anonymous volume; repeatable', collect, [])
    .option('--mount <spec>', 'type=volume|bind|tmpfs,source=…,target=…[,readonly][,volume-nocopy]; repeatable', collect, [])
    .option('--tmpfs <dst>', 'an in-memory mount at DST; repeatable', collect, [])
    .option('--volumes-from <container>', 'CONTAINER[:ro|:rw]: mount its volumes and binds; repeatable', collect, [])
    .option('--read-only', 'make the root read-only (only mounts are writable)');
}

/** The engine's create options from the flags; a malformed flag is a usage error before anything is made. */
export function containerOptions(opts: ContainerFlags): CreateOptions {
  const mounts: MountSpec[] = [...opts.volume.map(parseVolumeFlag), ...opts.mount.map(parseMountFlag), ...opts.tmpfs.map(parseTmpfsFlag)];
  return { name: opts.name, mounts, volumesFrom: opts.volumesFrom.map(parseVolumesFrom), readOnly: opts.readOnly };
}

export function registerCreate(program: Command): void {
  withContainerOptions(
    program
      .command('create')
      .description('create a container from IMAGE without opening its shell (as docker create); open it later with start')
      .argument('<image>', IMAGE_ARGUMENT)
      .configureHelp({ showGlobalOptions: true }),
  ).action(async (image: string, opts: ContainerFlags, cmd: Command) => {
    const create = { ...containerOptions(opts), remote: remoteOptions(cmd) };
    const rec = await (await openEngine(cmd)).create(image, create);
    if (cmd.optsWithGlobals().json) return printJson(rec);
    io().stdout.write(`${rec.id}\n`);
  });
}
