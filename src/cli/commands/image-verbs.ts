/**
 * `image inspect`, `history`, `tag`, `rmi`, `image prune` and `volume create`, as podman has them
 * (messages and exit codes checked against podman 4.3; rules in src/engine/images.ts):
 * - `image inspect IMAGE...` prints a JSON array of ImageJson (src/explore/image-info.ts), as
 *   podman and docker do, with or without --json;
 * - `history IMAGE`: IMAGE, CREATED, CREATED BY, SIZE, COMMENT, newest first, empty layers included;
 * - `rmi`: "Untagged: T" / "Deleted: ID" lines; an image a container uses exits 2 (podman's code
 *   for an image in use, which scripts test), an unknown one 1;
 * - `image prune [-a]`: the ids removed, one a line;
 * - `volume create [NAME]`: prints the name; a name that exists is refused (podman; docker
 *   accepts it again).
 */
import type { Command } from 'commander';
import { StateError } from '../../core/errors.js';
import { humanSize, makeOut, printJson } from '../output.js';
import { ago, printTable } from './lifecycle-table.js';
import { openEngine } from './run-container.js';
import { remoteOptions } from './registry.js';
import { io, setExitCode } from '../io.js';

const IMAGE = 'archive path, OCI layout, or tag/id of a stored image';

export async function imageInspect(refs: string[], _opts: unknown, cmd: Command): Promise<void> {
  const [{ imageJson }, { imageFacts }] = await Promise.all([import('../../explore/image-info.js'), import('./image-info.js')]);
  const out = [];
  for (const ref of refs) {
    const { facts, transfer } = await imageFacts(ref, cmd);
    out.push({ ...imageJson(facts), ...(transfer ? { Transfer: transfer } : {}) });
  }
  printJson(out);
}

export function registerImageVerbs2(program: Command): void {
  const image = program.commands.find((c) => c.name() === 'image') ?? program.command('image').description("image verbs in Docker's long form: image inspect, image prune");
  image
    .command('inspect')
    .description('the image as podman image inspect shows it: Config (Env, Cmd, Entrypoint, WorkingDir, User, Volumes, ExposedPorts, Labels), RootFS, Size (JSON)')
    .argument('<image...>', IMAGE)
    .action(imageInspect);

  image
    .command('prune')
    .description('remove the dangling images (no tag) no container uses; with -a every image no container uses')
    .option('-a, --all', 'also remove tagged images no container uses')
    .option('-f, --force', 'do not ask (layerfs never asks; accepted for scripts written for docker)')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const gone = await (await openEngine(cmd)).imagePrune({ all: opts.all });
      if (g.json) return printJson(gone.map((i) => ({ id: i.id, tags: i.tags })));
      for (const i of gone) io().stdout.write(`${i.id}\n`);
    });

  program
    .command('history')
    .description('the layers of an image and the history that made them, newest first (as docker history)')
    .argument('<image>', IMAGE)
    .option('--no-trunc', 'do not shorten the id and CREATED BY')
    .action(async (ref: string, opts: { trunc: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const [{ historyRows }, { imageFacts }] = await Promise.all([import('../../explore/image-info.js'), import('./image-info.js')]);
      const rows = historyRows((await imageFacts(ref, cmd)).facts);
      if (g.json) return printJson(rows);
      const cut = (s: string, n: number) => (opts.trunc && s.length > n ? s.slice(0, n - 1) + '…' : s);
      // A docker:// image's layers were not read: its SIZE is the compressed blob's, marked so.
      const size = (r: (typeof rows)[number]) => (r.size !== undefined ? humanSize(r.size) : `${humanSize(r.blobSize ?? 0)} (compressed)`);
      printTable(
        makeOut(g),
        ['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'],
        rows.map((r) => [r.id === '<missing>' || !opts.trunc ? r.id : r.id.slice(0, 12), r.created ? ago(r.created) : '-', cut(r.createdBy.replace(/\s+/g, ' '), 45), size(r), r.comment]),
      );
    });

  program
    .command('tag')
    .description('give a stored image another tag (localhost/ and :latest are added as podman adds them); the tag moves from any image that had it')
    .argument('<image>', 'tag or id of a stored image, or docker://HOST[:PORT]/REPO[:TAG|@DIGEST] (pulled first, with the global registry options: --creds, --tls-verify, --platform)')
    .argument('<new-tag>', 'e.g. app:v2 (stored as localhost/app:v2)')
    .action(async (ref: string, newTag: string, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const r = await (await openEngine(cmd)).tag(ref, newTag, remoteOptions(cmd));
      if (g.json) return printJson({ image: r.image, tag: r.tag, moved: r.moved.map((m) => ({ tag: m.tag, from: m.from.id })) });
      for (const m of r.moved) io().stderr.write(`layerfs: tag ${m.tag} moved from image ${m.from.id.slice(0, 12)}${m.from.tags.length ? '' : ' (now untagged)'}\n`);
    });

  program
    .command('rmi')
    .description('remove an image tag, or the image (refused while a container uses it: exit 2, as podman)')
    .argument('<image...>', 'tags or ids of stored images')
    .option('-f, --force', 'also remove the containers that use it; remove an image by id whatever its tags')
    .action(async (refs: string[], opts: { force?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const results = [];
      for (const ref of refs) {
        try {
          const r = await engine.rmi(ref, { force: opts.force });
          results.push({ ref, ...r });
          if (!g.json) {
            for (const t of r.untagged) io().stdout.write(`Untagged: ${t}\n`);
            if (r.deleted) io().stdout.write(`Deleted: ${r.deleted}\n`);
          }
        } catch (e) {
          // podman: 2 for an image in use, 1 for one that is not there (the last error decides).
          io().stderr.write(`layerfs: ${(e as Error).message}\n`);
          setExitCode(e instanceof StateError && e.code === 'IN_USE' && /in use/.test(e.message) ? 2 : 1);
        }
      }
      if (g.json) printJson(results);
    });

  const volume = program.commands.find((c) => c.name() === 'volume');
  (volume ?? program.command('volume'))
    .command('create')
    .description('create a named volume (anonymous, with a random name, without NAME)')
    .argument('[name]', 'letters, digits, _ . - (starting with a letter or digit)')
    .option('-l, --label <key=value>', 'a label; repeatable', (v: string, l: string[]) => [...l, v], [] as string[])
    .action(async (name: string | undefined, opts: { label: string[] }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const labels = Object.fromEntries(
        opts.label.map((l) => {
          const eq = l.indexOf('=');
          return eq < 0 ? [l, ''] : [l.slice(0, eq), l.slice(eq + 1)];
        }),
      );
      const rec = await (await openEngine(cmd)).volumeCreate(name, labels);
      if (g.json) return printJson(rec);
      io().stdout.write(`${rec.name}\n`);
    });
}
