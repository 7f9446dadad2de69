/**
 * `layerfs demo`: a narrated tour on the bundled image, with no input needed. Every number it
 * prints is measured as it goes (copy-up bytes, what the writable layer holds, where a path is
 * served from), so the tour teaches what the engine really did. Rules:
 * - it runs in a temporary state directory, unless one is given (--home or LAYERFS_HOME, as for
 *   every command): then its containers, volumes and images get names of their own for this run
 *   (`demo-<hex>-first`), so it can run any number of times on one home without touching what is
 *   there;
 * - it removes what it created (containers first: none is left bound to the deleted host
 *   directory), even when it fails part way or its output pipe closes.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../engine/engine.js';
import { humanSize, makeOut, paint, type Out } from '../output.js';
import { io } from '../io.js';

const SAMPLE = fileURLToPath(new URL('../../../images/sample.tar', import.meta.url));

function narrator(out: Out) {
  let step = 0;
  return {
    step: (title: string) => console.log(`\n${paint(out, 'bold', `${++step}. ${title}`)}`),
    say: (text: string) => console.log(`   ${text}`),
    fact: (text: string) => console.log(`   ${paint(out, 'green', '→')} ${text}`),
  };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('a narrated tour: copy-up, whiteouts, opaque directories, volumes, binds, --volumes-from, rm and commit')
    .option('--image <archive>', 'image to tour (default: the bundled images/sample.tar)', SAMPLE)
    .action(async (opts: { image: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ home?: string; debug?: boolean }>();
      const out = makeOut(g);
      const n = narrator(out);
      const scratch = mkdtempSync(join(tmpdir(), 'layerfs-demo-'));
      const given = g.home || io().env.LAYERFS_HOME || undefined;
      try {
        const { Engine } = await import('../../engine/engine.js');
        const engine = await Engine.open({ home: given ?? join(scratch, 'state') });
        const made = new Made(engine, given === undefined ? '' : `demo-${randomBytes(3).toString('hex')}-`);
        try {
          await tour(n, opts.image, engine, made, scratch);
        } finally {
          if (given !== undefined) await made.remove();
        }
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
}

/** What one run of the demo created in the state, to remove at the end; and its names. */
class Made {
  readonly containers: string[] = [];
  readonly volumes: string[] = [];
  readonly images: string[] = [];
  constructor(
    private readonly engine: Engine,
    readonly prefix: string,
  ) {}

  name(base: string): string {
    return this.prefix + base;
  }

  /** An image by path: loaded, and noted as made by this run when it was not in the state before. */
  async image(path: string): Promise<string> {
    const before = new Set((await this.engine.state.listImages()).map((i) => i.id));
    const img = await this.engine.load(path);
    if (!before.has(img.id)) this.images.push(img.id);
    return img.id;
  }

  async create(image: string, opts: Parameters<Engine['create']>[1] & { name: string }) {
    const rec = await this.engine.create(image, opts);
    this.containers.push(rec.id);
    return rec;
  }

  /** Containers first (with their anonymous volumes), then named volumes, then images. */
  async remove(): Promise<void> {
    for (const id of this.containers.reverse()) if (await this.engine.state.getContainer(id)) await this.engine.rm(id, { volumes: true });
    for (const v of this.volumes) if (await this.engine.state.getVolume(v)) await this.engine.state.removeVolume(v);
    for (const id of this.images.reverse()) if (await this.engine.state.getImage(id)) await this.engine.state.removeImage(id);
  }
}

async function tour(n: ReturnType<typeof narrator>, image: string, engine: Engine, made: Made, scratch: string): Promise<void> {
  const { openImage } = await import('../../open.js');
  const img = (await engine.state.getImage(await made.image(image)))!;
  const [first, site, bound, sidecar, fromCommitName, againName] = ['first', 'site', 'bound', 'sidecar', 'from-commit', 'again'].map((b) => made.name(b));
  made.volumes.push(site);
  const view = await openImage(image);
  n.step(`The image ${img.tags[0] ?? img.id.slice(0, 12)}: ${view.image.layers.length} read-only layers`);
  for (const l of view.image.layers) n.say(`layer ${l.index + 1}: ${humanSize(l.size).padStart(8)}  ${l.history?.created_by ?? ''}`);
  const volumes = Object.keys(view.image.config.config.Volumes ?? {});
  view.close();

  n.step('A container: the layers, plus a writable layer of its own, plus mounts');
  const rec = await made.create(img.id, { name: first, mounts: [{ type: 'volume', source: site, target: volumes[0] ?? '/srv/www' }] });
  const c = await engine.open(rec.id);
  const seeded = c.fs.readdirSync(volumes[0] ?? '/srv/www');
  n.say(`the named volume "${site}" was empty, so it was seeded from the image's ${volumes[0]}: ${seeded.join(', ')}`);

  n.step('Copy-up: the first write to a file of a lower layer copies it into the writable layer');
  const big = '/usr/lib/libbig.so';
  const size = c.fs.statSync(big).size;
  const before = c.view.stats.copyUpBytes;
  const fd = c.fs.openSync(big, 'r+');
  c.fs.writeSync(fd, 'X', Math.floor(size / 2));
  c.fs.closeSync(fd);
  n.fact(`writing 1 byte into ${big} (${humanSize(size)}) copied ${humanSize(c.view.stats.copyUpBytes - before)} (overlayfs copies the whole file)`);
  const chunked = await openImage(image, { copyUp: 'chunked' });
  const cfd = chunked.fs.openSync(big, 'r+');
  chunked.fs.writeSync(cfd, 'X', Math.floor(size / 2));
  chunked.fs.closeSync(cfd);
  n.fact(`the same write with copyUp: 'chunked' stores ${humanSize(chunked.stats.copyUpBytes)}: only the 4 KiB chunk it touched`);
  chunked.close();

  n.step('A whiteout: deleting a file of a lower layer');
  c.fs.rmSync('/etc/os-release');
  n.fact(`/etc/os-release is gone from the view; the writable layer holds: ${upper(c, 'etc/os-release')}`);

  n.step('An opaque directory: a deleted directory made again');
  c.fs.rmSync('/var/cache/app', { recursive: true });
  c.fs.mkdirSync('/var/cache/app');
  n.fact(`/var/cache/app is empty again (${c.fs.readdirSync('/var/cache/app').length} entries): the writable layer holds ${upper(c, 'var/cache/app')}`);

  n.step('Volumes bypass the layers');
  c.fs.writeFileSync('/srv/www/visits.txt', '1\n');
  const w = c.where('/srv/www/visits.txt');
  n.fact(`/srv/www/visits.txt is served by the ${w.kind} "${w.source}", not by the container layer`);
  n.say(
    `podman-style diff of the container: ${c.view
      .diff()
      .map((d: { kind: string; path: string }) => `${d.kind} ${d.path}`)
      .join(', ')}`,
  );
  await c.close();

  n.step('A bind mount shows a host directory; the host sees writes at once');
  const host = join(scratch, 'host-dir');
  mkdirSync(host);
  const b = await engine.open((await made.create(img.id, { name: bound, mounts: [{ type: 'bind', source: host, target: '/mnt/host' }] })).id);
  b.fs.writeFileSync('/mnt/host/hello.txt', 'written in the container\n');
  n.fact(`the host file ${join(host, 'hello.txt')} now says: ${readFileSync(join(host, 'hello.txt'), 'utf8').trim()}`);
  await b.close();

  n.step("--volumes-from shares the first container's volumes");
  const s = await engine.open((await made.create(img.id, { name: sidecar, volumesFrom: [{ container: first }] })).id);
  n.fact(`the sidecar reads /srv/www/visits.txt: ${s.fs.readFileSync('/srv/www/visits.txt', 'utf8').trim()}`);
  await s.close();

  n.step('commit keeps the container layer, never the volume');
  const committed = join(scratch, 'committed.tar');
  const opened = await engine.open(first);
  await opened.view.commit(committed, { tag: `localhost/${made.name('demo-committed')}:latest` });
  await opened.close();
  await made.image(committed);
  const fromCommit = await engine.open((await made.create(committed, { name: fromCommitName })).id);
  n.fact(`in the committed image, /etc/os-release exists: ${fromCommit.fs.existsSync('/etc/os-release')} (the whiteout was committed)`);
  n.fact(`and /srv/www/visits.txt exists: ${fromCommit.fs.existsSync('/srv/www/visits.txt')} (volume data is not committed)`);
  await fromCommit.close();

  n.step('rm drops the container layer; the named volume survives');
  await engine.rm(first);
  const again = await engine.open((await made.create(img.id, { name: againName, mounts: [{ type: 'volume', source: site, target: '/srv/www' }] })).id);
  n.fact(`a new container on the same image: /etc/os-release exists: ${again.fs.existsSync('/etc/os-release')} (the layer change is gone)`);
  n.fact(`with the same volume: /srv/www/visits.txt says ${again.fs.readFileSync('/srv/www/visits.txt', 'utf8').trim()} (volume data survives rm)`);
  await again.close();
  n.say('');
}

function upper(c: { view: { upperEntries(): Array<{ type: string; path: string }> } }, path: string): string {
  return (
    c.view
      .upperEntries()
      .filter((e) => e.path === path)
      .map((e) => `${e.type} ${e.path}`)
      .join(' + ') || 'nothing'
  );
}
