/**
 * Image verbs: `images` (the stored images; --json for scripts) and `load ARCHIVE` (a
 * docker-archive, oci-archive or OCI layout, told by content; `--tag T` picks the image tagged T
 * in an archive that holds several). A tag is on one image only: tagging moves it from the image
 * that had it (that one keeps its other tags, or none, as Docker's dangling images).
 */
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Engine } from '../../engine/engine.js';
import type { ImageRecord } from '../../engine/records.js';
import { humanSize, makeOut, printJson } from '../output.js';
import { ago, printTable } from './lifecycle-table.js';
import { openEngine } from './run-container.js';

/** Puts `tag` on the image `rec` (rewriting its record), taking it off any other image first. */
export async function tagImage(engine: Engine, rec: ImageRecord, tag: string): Promise<ImageRecord> {
  for (const other of await engine.state.listImages()) {
    if (other.id !== rec.id && other.tags.includes(tag)) await engine.state.putImage({ ...other, tags: other.tags.filter((t) => t !== tag) });
  }
  const next = { ...rec, tags: rec.tags.includes(tag) ? rec.tags : [...rec.tags, tag] };
  await engine.state.putImage(next);
  return next;
}

export function registerImageVerbs(program: Command): void {
  program
    .command('images')
    .description('list the stored images')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const imgs = await engine.state.listImages();
      const rows = await Promise.all(imgs.map(async (i) => ({ ...i, size: (await stat(engine.state.imageArchive(i.id))).size })));
      rows.sort((a, b) => b.created.localeCompare(a.created));
      if (g.json) return printJson(rows);
      printTable(makeOut(g), ['TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'FORMAT'], rows.map((r) => [
        r.tags.join(', ') || '<none>', r.id.slice(0, 12), ago(r.created), humanSize(r.size), r.format,
      ]));
    });

  program
    .command('load')
    .description('store an image archive (docker-archive, oci-archive or OCI layout)')
    .argument('<archive>', 'path of the archive, or of an OCI layout directory')
    .option('--tag <tag>', 'the image to take from an archive holding several')
    .action(async (path: string, opts: { tag?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const rec = await engine.load(path, { tag: opts.tag });
      if (g.json) return printJson(rec);
      process.stdout.write(rec.tags.length > 0 ? rec.tags.map((t) => `Loaded image: ${t}\n`).join('') : `Loaded image ID: sha256:${rec.id}\n`);
    });
}
