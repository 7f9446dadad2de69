/**
 * `layerfs serve [IMAGE...]`: the web explorer and container lab (src/web/server, docs/api.md).
 * Rules: the first stdout line is exactly `layerfs: serving URL`; it runs until SIGINT or SIGTERM,
 * then saves the containers open in the lab and exits 0 (1 if one could not be saved).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_UPLOAD_LIMIT, isLoopback } from '../../web/server/defaults.js';
import { parseSize, UsageError } from '../output.js';
import { io, setExitCode } from '../io.js';
import { remoteOptions } from './registry.js';

interface ServeOpts {
  port: string;
  host: string;
  open?: boolean;
  bindRoot?: string;
  uploadLimit?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('the web explorer and container lab on http://127.0.0.1 (API: docs/api.md)')
    .argument('[image...]', 'archive paths, OCI layouts, docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (read lazily, with the global registry options), or tags/ids of stored images to show first')
    .option('--port <n>', 'port to listen on (0: any free port)', '0')
    .option('--host <host>', 'address to listen on; a non-loopback one requires the token printed at start', '127.0.0.1')
    .option('--open', 'open the page in a browser')
    .option('--bind-root <dir>', 'allow bind mounts in the lab, only of paths inside DIR (none without it)')
    .option('--upload-limit <size>', `largest archive the page may upload (default ${DEFAULT_UPLOAD_LIMIT / 1024 ** 3}G)`)
    .action(async (images: string[], opts: ServeOpts, cmd: Command) => {
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65535) throw new UsageError(`--port must be a port number 0..65535, got ${JSON.stringify(opts.port)}`);
      let bindRoot: string | undefined;
      if (opts.bindRoot !== undefined) {
        bindRoot = resolve(opts.bindRoot);
        if (!existsSync(bindRoot) || !statSync(bindRoot).isDirectory()) throw new UsageError(`--bind-root ${opts.bindRoot}: not a directory`);
      }
      const uploadLimit = opts.uploadLimit === undefined ? undefined : parseSize(opts.uploadLimit);
      const { home } = cmd.optsWithGlobals() as { home?: string };
      const { createServer } = await import('../../web/server/server.js');
      const server = await createServer({ home, images, host: opts.host, port, bindRoot, uploadLimit, remote: remoteOptions(cmd) });
      const url = await server.listen();
      io().stdout.write(`layerfs: serving ${url}\n`);
      if (!isLoopback(opts.host)) io().stderr.write('layerfs: listening beyond this machine: the token in the URL is required for every API call\n');
      if (opts.open) {
        const { default: open } = await import('open');
        await open(url).catch((e: Error) => io().stderr.write(`layerfs: could not open a browser: ${e.message}\n`));
      }
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      try {
        await server.close();
      } catch (e) {
        io().stderr.write(`layerfs: ${(e as Error).message}\n`);
        setExitCode(1);
      }
    });
}
