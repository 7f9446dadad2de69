/**
 * Image verbs: `images` (the stored images; --json for scripts) and `load ARCHIVE` (a
 * docker-archive, oci-archive or OCI layout, told by content; `--tag T` picks the image tagged T
 * in an archive that holds several). A tag is on one image only: tagging or loading moves it from
 * the image that had it (that one keeps its other tags, or none, as Docker's dangling images), and
 * load says so on stderr as Docker does. An OCI ref name without a repository (`latest`) is taken
 * as a name, as podman loads it (`localhost/latest:latest`).
 */
import type { Command } from 'commander';
import type { Engine } from '../../engine/engine.js';
import type { TagMove } from '../../engine/images.js';
import type { ImageRecord } from '../../engine/records.js';
import { humanSize, makeOut, printJson } from '../output.js';
import { ago, printTable } from './lifecycle-table.js';
import { openEngine } from './run-container.js';
import { io } from '../io.js';

/** Puts `tag` on the image `rec` (rewriting its record), taking it off any other image first. */
export async function tagImage(engine: Engine, rec: ImageRecord, tag: string): Promise<ImageRecord> {
  const { addTags } = await import('../../engine/images.js');
  return (await addTags(engine.state, rec, [tag])).image;
}

/**
 * What a load that moved a tag says (stderr), in Docker's words when the other image is left with
 * no tag ("renaming the old one … to empty string"), else naming the image that keeps its others.
 */
export function tagMoveNote(m: TagMove): string {
  return m.from.tags.length === 0
    ? `The image ${m.tag} already exists, renaming the old one with ID sha256:${m.from.id} to empty string`
    : `The tag ${m.tag} moved from image sha256:${m.from.id} (still tagged ${m.from.tags.join(', ')})`;
}

export function registerImageVerbs(program: Command): void {
  program
    .command('images')
    .description('list the stored images')
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const imgs = await engine.state.listImages();
      const rows = await Promise.all(imgs.map(async (i) => ({ ...i, size: await engine.state.imageBytes([i.id]) })));
      rows.sort((a, b) => b.created.localeCompare(a.created));
      if (g.json) return printJson(rows);
      printTable(
        makeOut(g),
        ['TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'FORMAT'],
        rows.map((r) => [r.tags.join(', ') || '<none>', r.id.slice(0, 12), ago(r.created), humanSize(r.size), r.format]),
      );
    });

  program
    .command('load')
    .description('store an image archive (docker-archive, oci-archive or OCI layout)')
    .argument('<archive>', 'path of the archive, or of an OCI layout directory')
    .option('--tag <tag>', 'the image to take from an archive holding several')
    .action(async (path: string, opts: { tag?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const moved: TagMove[] = [];
      const rec = await engine.load(path, { tag: opts.tag, onMove: (m) => moved.push(m) });
      for (const m of moved) io().stderr.write(`${tagMoveNote(m)}\n`);
      if (g.json) return printJson({ ...rec, moved: moved.map((m) => ({ tag: m.tag, from: m.from.id })) });
      io().stdout.write(rec.tags.length > 0 ? rec.tags.map((t) => `Loaded image: ${t}\n`).join('') : `Loaded image ID: sha256:${rec.id}\n`);
    });
}
