/**
 * `layerfs cp SRC DEST`: host to container or container to host (`CONTAINER:PATH` on one side), with
 * docker cp's rules (src/engine/copy.ts); `-` on the host side is a tar stream on stdin/stdout.
 * A copy into a container writes its layer (or its volumes) and saves the layer; a container whose
 * shell is open is refused (that shell holds the layer and would write it back over the copy).
 */
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { UsageError } from '../output.js';
import { openEngine, refuseRunning } from './run-container.js';
import { io } from '../io.js';

/** io().stdout as a sink a pipeline may end (stdout itself is never closed). */
export function stdoutSink(): Writable {
  return new Writable({
    write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void) {
      if (io().stdout.write(chunk)) cb();
      else io().stdout.once('drain', () => cb());
    },
  });
}

export function registerCp(program: Command): void {
  program
    .command('cp')
    .description('copy files between a container and the host (docker cp): cp [-a] SRC CONTAINER:DEST, cp [-a] CONTAINER:SRC DEST; - is a tar stream')
    .argument('<src>', 'host path, CONTAINER:PATH, or - (a tar stream on stdin)')
    .argument('<dest>', 'host path, CONTAINER:PATH, or - (a tar stream on stdout)')
    .option('-a, --archive', "keep the source's uid/gid (else files get the container's user inside it, the caller's on the host)")
    .addHelpText(
      'after',
      `
Rules (docker cp's): a file goes into DEST when DEST is a directory, else becomes DEST (whose parent
must exist; DEST/ must be an existing directory). A directory becomes DEST when DEST is missing, goes
inside DEST under its own name when DEST is a directory, or gives DEST its contents with SRC/. ;
a directory onto a file is refused. Symlinks are copied as links; modes and times are kept.`,
    )
    .action(async (srcArg: string, destArg: string, opts: { archive?: boolean }, cmd: Command) => {
      // The engine loads when the command runs, not for --help (CLI-7).
      const { copyIn, copyInTar, copyOut, copyOutTar, splitCopyArg } = await import('../../engine/copy.js');
      const src = splitCopyArg(srcArg);
      const dest = splitCopyArg(destArg);
      if ((src.container === undefined) === (dest.container === undefined)) {
        throw new UsageError('cp copies between the host and a container: exactly one of SRC and DEST must be CONTAINER:PATH');
      }
      const engine = await openEngine(cmd);
      const ref = (src.container ?? dest.container)!;
      const rec = await engine.state.resolveContainer(ref);
      if (dest.container !== undefined) refuseRunning(rec, 'copy into');
      const c = await engine.open(rec.id);
      try {
        if (dest.container !== undefined) {
          if (src.path === '-') await copyInTar(c, io().stdin, dest.path, opts);
          else copyIn(c, src.path, dest.path, opts);
          await c.save();
        } else if (dest.path === '-') await copyOutTar(c, src.path, stdoutSink());
        else copyOut(c, src.path, dest.path, opts);
      } finally {
        c.dispose();
      }
    });
}
