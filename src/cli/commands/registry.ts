/**
 * Registry verbs: `pull REF`, `push IMAGE REF`, `login HOST`, and the options every command that
 * may touch a registry takes (a docker:// IMAGE anywhere): `--tls-verify=false`, `--creds
 * USER:PASS`, `--platform OS/ARCH[/VARIANT]`. Each prints what it fetched against the image's
 * size (a summary line, or `--json`); pull and push show a bar per image on a TTY.
 */
import type { Command } from 'commander';
import type { SingleBar } from 'cli-progress';
import { parsePlatform } from '../../registry/platform.js';
import type { RemoteOptions, Transfer } from '../../registry/store-image.js';
import { humanSize, printJson, UsageError } from '../output.js';
import { openEngine } from './run-container.js';
import { io } from '../io.js';

interface RemoteFlags {
  tlsVerify?: string;
  creds?: string;
  platform?: string;
  json?: boolean;
}

/** The registry options of the command line (global ones included). */
export function remoteOptions(cmd: Command): RemoteOptions {
  const g = cmd.optsWithGlobals() as RemoteFlags;
  if (g.tlsVerify !== undefined && g.tlsVerify !== 'true' && g.tlsVerify !== 'false') {
    throw new UsageError(`--tls-verify must be true or false, got ${JSON.stringify(g.tlsVerify)}`);
  }
  return { tlsVerify: g.tlsVerify !== 'false', creds: g.creds, platform: g.platform ? parsePlatform(g.platform) : undefined };
}

/** "fetched 1.2 MiB of the image's 30 MiB (4.0%)". */
export function transferLine(t: Transfer): string {
  const pct = t.imageBytes > 0 ? ((100 * t.fetchedBytes) / t.imageBytes).toFixed(1) : '0.0';
  return `${t.reference}: fetched ${humanSize(t.fetchedBytes)} of the image's ${humanSize(t.imageBytes)} (${pct}%)`;
}

/** A bar (bytes and rate) on stderr when it is a TTY; nothing otherwise. */
async function progressBar(label: string): Promise<{ onProgress?: (done: number, total: number) => void; stop(): void }> {
  if (!io().stderr.isTTY) return { stop: () => undefined };
  // Loaded when a command runs: --help loads no progress bar (CLI-7).
  const { default: cliProgress } = await import('cli-progress');
  let bar: SingleBar | undefined;
  const t0 = Date.now();
  return {
    onProgress: (done, total) => {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: `${label} {bar} {percentage}% | {doneH} of {totalH} | {rate}/s`, hideCursor: true, clearOnComplete: true, stream: io().stderr },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { doneH: humanSize(0), totalH: humanSize(total), rate: humanSize(0) });
      }
      bar.update(done, { doneH: humanSize(done), totalH: humanSize(total), rate: humanSize(Math.round(done / Math.max(0.001, (Date.now() - t0) / 1000))) });
    },
    stop: () => bar?.stop(),
  };
}

export function registerRegistry(program: Command): void {
  program
    .option('--tls-verify <bool>', 'verify registry TLS certificates (default true; loopback registries may be plain HTTP)')
    .option('--creds <user:pass>', 'registry credentials (before any auth file)')
    .option('--platform <os/arch[/variant]>', "which image of a multi-platform index (default: this host's)");

  program
    .command('pull')
    .description('store an image from a registry: docker://HOST[:PORT]/REPO[:TAG|@DIGEST]')
    .argument('<ref>', 'the registry reference')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as RemoteFlags;
      const engine = await openEngine(cmd);
      const bar = await progressBar(ref);
      try {
        const r = await engine.pull(ref, { ...remoteOptions(cmd), onProgress: bar.onProgress });
        bar.stop();
        if (g.json) return printJson(r);
        io().stdout.write(`${r.image.tags[r.image.tags.length - 1] ?? r.image.id}: sha256:${r.image.id}\n${transferLine(r)}\n`);
      } finally {
        bar.stop();
      }
    });

  program
    .command('push')
    .description('upload a stored image (tag or id) to a registry: blobs it lacks, then the manifest')
    .argument('<image>', 'tag or id of a stored image')
    .argument('<ref>', 'docker://HOST[:PORT]/REPO[:TAG]')
    .option('--chunk-size <bytes>', 'upload blobs over this size in chunks of it (default: one PUT per blob)')
    .action(async (image: string, ref: string, opts: { chunkSize?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as RemoteFlags;
      const chunkSize = opts.chunkSize === undefined ? undefined : Number(opts.chunkSize);
      if (chunkSize !== undefined && !(Number.isSafeInteger(chunkSize) && chunkSize > 0)) throw new UsageError(`--chunk-size must be a positive byte count, got ${JSON.stringify(opts.chunkSize)}`);
      const engine = await openEngine(cmd);
      const bar = await progressBar(ref);
      try {
        const { pushImage } = await import('../../registry/push.js');
        const r = await pushImage(engine.state, image, ref, { ...remoteOptions(cmd), chunkSize, onProgress: bar.onProgress });
        bar.stop();
        if (g.json) return printJson(r);
        const counts = (a: string) => r.blobs.filter((b) => b.action === a).length;
        io().stdout.write(
          `${r.reference}: ${r.manifestDigest}\nblobs: ${counts('uploaded')} uploaded, ${counts('mounted')} mounted, ${counts('exists')} already there; sent ${humanSize(r.uploadedBytes)} of the image's ${humanSize(r.imageBytes)}\n`,
        );
      } finally {
        bar.stop();
      }
    });

  program
    .command('login')
    .description('check credentials against a registry and save them in the podman auth file')
    .argument('<registry>', 'HOST[:PORT]')
    .requiredOption('-u, --username <user>', 'user name')
    .option('-p, --password <pass>', 'password (default: read from stdin)')
    .action(async (registry: string, opts: { username: string; password?: string }, cmd: Command) => {
      const password = opts.password ?? (await readStdin()).replace(/\r?\n$/, '');
      if (password === '') throw new UsageError('no password: give --password or pipe it on stdin');
      // Checked by asking for a token the way a pull would, so a wrong password is refused here.
      const { RegistryClient, repoScope } = await import('../../registry/client.js');
      const { RegistryError } = await import('../../registry/errors.js');
      const { parseReference } = await import('../../registry/reference.js');
      const { saveCredentials } = await import('../../registry/credentials.js');
      const ref = parseReference(`docker://${registry}/layerfs-login-check:latest`);
      const client = RegistryClient.for(ref, { ...remoteOptions(cmd), creds: `${opts.username}:${password}` });
      try {
        const res = await client.request('/v2/', [repoScope(ref.repository, 'pull')]);
        await res.body.dump();
        if (res.status !== 200) throw new RegistryError('UNAUTHORIZED', registry, `the registry answered HTTP ${res.status} to the credentials`);
      } finally {
        await client.close();
      }
      const file = await saveCredentials(ref.registry, opts.username, password);
      if ((cmd.optsWithGlobals() as RemoteFlags).json) return printJson({ registry: ref.registry, authFile: file });
      io().stdout.write(`Login Succeeded (saved in ${file})\n`);
    });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of io().stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
