/**
 * `layerfs demo`: a narrated tour on the bundled image, with no input needed. Every number it
 * prints is measured as it goes (copy-up bytes, what the writable layer holds, where a path is
 * served from), so the tour teaches what the engine really did.
 */
import type { Command } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../engine/engine.js';
import { openImage } from '../../index.js';
import { humanSize, makeOut, paint, type Out } from '../output.js';

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
      try {
        await tour(n, opts.image, g.home ?? join(scratch, 'state'), scratch);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
}

async function tour(n: ReturnType<typeof narrator>, image: string, home: string, scratch: string): Promise<void> {
  const engine = await Engine.open({ home });
  const img = await engine.load(image);
  const view = await openImage(image);
  n.step(`The image ${img.tags[0] ?? img.id.slice(0, 12)}: ${view.image.layers.length} read-only layers`);
  for (const l of view.image.layers) n.say(`layer ${l.index + 1}: ${humanSize(l.size).padStart(8)}  ${l.history?.created_by ?? ''}`);
  const volumes = Object.keys(view.image.config.config.Volumes ?? {});
  view.close();

  n.step('A container: the layers, plus a writable layer of its own, plus mounts');
  const rec = await engine.create(img.id, { name: 'first', mounts: [{ type: 'volume', source: 'site', target: volumes[0] ?? '/srv/www' }] });
  const c = await engine.open(rec.id);
  const seeded = c.fs.readdirSync(volumes[0] ?? '/srv/www');
  n.say(`the named volume "site" was empty, so it was seeded from the image's ${volumes[0]}: ${seeded.join(', ')}`);

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
  n.say(`podman-style diff of the container: ${c.view.diff().map((d) => `${d.kind} ${d.path}`).join(', ')}`);
  await c.close();

  n.step('A bind mount shows a host directory; the host sees writes at once');
  const host = join(scratch, 'host-dir');
  mkdirSync(host);
  const b = await engine.open((await engine.create(img.id, { name: 'bound', mounts: [{ type: 'bind', source: host, target: '/mnt/host' }] })).id);
  b.fs.writeFileSync('/mnt/host/hello.txt', 'written in the container\n');
  n.fact(`the host file ${join(host, 'hello.txt')} now says: ${readFileSync(join(host, 'hello.txt'), 'utf8').trim()}`);
  await b.close();

  n.step('--volumes-from shares the first container\'s volumes');
  const s = await engine.open((await engine.create(img.id, { name: 'sidecar', volumesFrom: [{ container: 'first' }] })).id);
  n.fact(`the sidecar reads /srv/www/visits.txt: ${s.fs.readFileSync('/srv/www/visits.txt', 'utf8').trim()}`);
  await s.close();

  n.step('commit keeps the container layer, never the volume');
  const committed = join(scratch, 'committed.tar');
  const first = await engine.open('first');
  await first.view.commit(committed, { tag: 'localhost/demo-committed:latest' });
  await first.close();
  const fromCommit = await engine.open((await engine.create(committed, { name: 'from-commit' })).id);
  n.fact(`in the committed image, /etc/os-release exists: ${fromCommit.fs.existsSync('/etc/os-release')} (the whiteout was committed)`);
  n.fact(`and /srv/www/visits.txt exists: ${fromCommit.fs.existsSync('/srv/www/visits.txt')} (volume data is not committed)`);
  await fromCommit.close();

  n.step('rm drops the container layer; the named volume survives');
  await engine.rm('first');
  const again = await engine.open((await engine.create(img.id, { name: 'again', mounts: [{ type: 'volume', source: 'site', target: '/srv/www' }] })).id);
  n.fact(`a new container on the same image: /etc/os-release exists: ${again.fs.existsSync('/etc/os-release')} (the layer change is gone)`);
  n.fact(`with the same volume: /srv/www/visits.txt says ${again.fs.readFileSync('/srv/www/visits.txt', 'utf8').trim()} (volume data survives rm)`);
  await again.close();
  n.say('');
}

function upper(c: { view: { upperEntries(): Array<{ type: string; path: string }> } }, path: string): string {
  return c.view.upperEntries().filter((e) => e.path === path).map((e) => `${e.type} ${e.path}`).join(' + ') || 'nothing';
}
