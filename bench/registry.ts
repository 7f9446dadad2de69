/**
 * Figure 7, registry: pull of a synthetic image (gzip layers) from a loopback docker-registry by
 * layerfs, against `skopeo copy` of the same image to a local directory, in the same run; and the
 * bytes fetched, as a share of the image, by `image inspect` (manifest and config) and by the
 * lazy `cat` of one small file (an uncompressed copy of the image, read by Range requests; the
 * gzip image, fetched whole by the first command, which keeps its gzip index; the same cat in a
 * second command, which reads the spans it needs through the cached index; a zstd:chunked copy
 * made by skopeo, read through its tables of contents). Skipped, loudly, when docker-registry or skopeo is missing.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { openLayers } from '../src/index.js';
import { loadLazy } from '../src/registry/lazy.js';
import { pushImage } from '../src/registry/push.js';
import { remoteConfig } from '../src/registry/remote-config.js';
import { View } from '../src/view.js';
import { BufferSource } from '../src/source.js';
import { registryMissing, skopeoCopy, startRegistry } from '../test/helpers/registry.js';
import { dir, file, tarBuffer } from './layers.js';
import { figure, type Figure } from './stats.js';
import type { Mode } from './load.js';

export interface RegistryResult {
  imageBytes: number;
  pull: { layerfs: Figure; skopeo: Figure; ratio: number };
  /** fetched / image size. */
  /** catChunked: zstd:chunked layers, read through their tables of contents (absent in results before it was measured). */
  /** catGzipIndexed: gzip layers, a cat in a second command (the gzip index cached by the first; absent before it was measured). */
  share: { imageInspect: number; catLazy: number; catGzip: number; catGzipIndexed?: number; catChunked?: number };
}

export async function registryFigure(mode: Mode, repeats: number, scratch: string, log: (s: string) => void): Promise<RegistryResult | undefined> {
  const missing = registryMissing();
  if (missing) {
    log(`*** registry figure SKIPPED: ${missing} ***`);
    return undefined;
  }
  const [files, size] = mode === 'smoke' ? [8, 16 << 10] : mode === 'full' ? [200, 1 << 20] : [64, 512 << 10];
  const entries = [dir('data'), file('data/small.txt', new BufferSource(Buffer.from('the one file cat reads\n')))];
  for (let i = 0; i < files; i++) entries.push(file(`data/f${i}.bin`, new BufferSource(randomBytes(size))));
  const reg = await startRegistry();
  const chunkedReg = await startRegistry();
  const work = mkdtempSync(join(scratch, 'registry-'));
  try {
    const view = await openLayers([await tarBuffer(entries)]);
    const archive = join(work, 'bench.tar');
    await view.commit(archive, { format: 'oci-archive', tag: 'bench:latest' });
    view.close();
    await skopeoCopy(`oci-archive:${archive}`, `docker://${reg.host}/bench:gzip`);
    // The zstd:chunked copy in a registry of its own: on one registry skopeo reuses the layer it
    // pushed already (its blob info cache knows it), whatever compression was asked for.
    await skopeoCopy(`oci-archive:${archive}`, `docker://${chunkedReg.host}/bench:zstd-chunked`, ['--dest-compress-format', 'zstd:chunked']);
    const engine = await Engine.open({ home: join(work, 'home') });
    const img = await engine.load(archive);
    await pushImage(engine.state, img.id, `docker://${reg.host}/bench:plain`);
    const ref = `docker://${reg.host}/bench:gzip`;
    const ours: number[] = [];
    const theirs: number[] = [];
    let imageBytes = 0;
    for (let i = 0; i < repeats; i++) {
      // Alternated, each into an empty place, so neither gets a warmer cache.
      const home = join(work, `pull-${i}`);
      let t = performance.now();
      const r = await (await Engine.open({ home })).pull(ref);
      ours.push(performance.now() - t);
      imageBytes = r.imageBytes;
      t = performance.now();
      execFileSync('skopeo', ['copy', '-q', '--src-tls-verify=false', ref, `dir:${join(work, `skopeo-${i}`)}`]);
      theirs.push(performance.now() - t);
      rmSync(home, { recursive: true, force: true });
      rmSync(join(work, `skopeo-${i}`), { recursive: true, force: true });
    }
    const inspect = await remoteConfig(ref, { home: join(work, 'inspect') });
    // A second cat of a tag uses the first one's state directory (its open cache).
    const catShare = async (tag: string): Promise<number> => {
      const host = tag === 'zstd-chunked' ? chunkedReg.host : reg.host;
      const lazy = await loadLazy(`docker://${host}/bench:${tag}`, { home: join(work, `cat-${tag}`) });
      const media = lazy.image.layers.map((l) => l.mediaType).join(', ');
      if (!media.includes(tag === 'zstd-chunked' ? 'zstd' : tag === 'gzip' ? 'gzip' : '.tar')) throw new Error(`bench:${tag} has layers of ${media}`);
      const v = View.fromImage(lazy.image, { readOnly: true });
      try {
        v.fs.readFileSync('/data/small.txt');
        return lazy.transfer.fetchedBytes / lazy.transfer.imageBytes;
      } finally {
        v.close();
      }
    };
    const layerfs = figure(ours);
    const skopeo = figure(theirs);
    return {
      imageBytes,
      pull: { layerfs, skopeo, ratio: layerfs.median / skopeo.median },
      share: {
        imageInspect: inspect.transfer.fetchedBytes / inspect.transfer.imageBytes,
        catLazy: await catShare('plain'),
        catGzip: await catShare('gzip'),
        catGzipIndexed: await catShare('gzip'),
        catChunked: await catShare('zstd-chunked'),
      },
    };
  } finally {
    await reg.stop();
    await chunkedReg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

export function registryMarkdown(r: RegistryResult): string {
  const ms = (f: Figure) => `${f.median.toFixed(0)} ms (${f.min.toFixed(0)}–${f.max.toFixed(0)})`;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  return (
    `## Registry\n\nA ${(r.imageBytes / 2 ** 20).toFixed(1)} MiB image (gzip layers) from a loopback docker-registry.\n\n`
    + '| what | figure |\n|---|---|\n'
    + `| layerfs pull | ${ms(r.pull.layerfs)} |\n| skopeo copy (to a dir: destination) | ${ms(r.pull.skopeo)} |\n| layerfs / skopeo | ${r.pull.ratio.toFixed(2)}× |\n`
    + `| image inspect: fetched / image | ${pct(r.share.imageInspect)} |\n| cat of one file, uncompressed layers (Range): fetched / image | ${pct(r.share.catLazy)} |\n`
    + `| cat of one file, gzip layers (fetched whole, indexed): fetched / image | ${pct(r.share.catGzip)} |\n`
    + (r.share.catGzipIndexed !== undefined ? `| cat of one file, gzip layers, in a second command (index cached): fetched / image | ${pct(r.share.catGzipIndexed)} |\n` : '')
    + (r.share.catChunked !== undefined ? `| cat of one file, zstd:chunked layers (table of contents, then the file's frames): fetched / image | ${pct(r.share.catChunked)} |\n` : '')
  );
}
