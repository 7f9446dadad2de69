/**
 * Container verbs, as Docker has them: `ps [-a]` (running ones, all with -a), `rm [-v] [-f]`
 * (anonymous volumes too with -v, DKR-7; a running container is refused, or killed with -f), `diff` (A/C/D of the
 * container layer against its image, podman's rules), `commit` (the image plus the container layer
 * as a new image, DKR-12, stored under TAG and written to -o when given). Volumes are never part
 * of a diff or a commit: they are not in the container layer.
 * Reading a container (diff, commit) never writes its layer back: a shell may have it open.
 */
import { imagesDiff } from './explore-files.js';
import { Option, type Command } from 'commander';
import type { Container } from '../../engine/container.js';
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord, ImageRecord } from '../../engine/records.js';
import { makeOut, paint, printJson } from '../output.js';
import { ago, forEachArg, printTable } from './lifecycle-table.js';
import { tagImage } from './lifecycle-images.js';
import { StateError } from '../../core/errors.js';
import { killShell, liveStatus, openEngine, refuseRunning, statusText } from './run-container.js';
import { io } from '../io.js';

async function imageName(engine: Engine, id: string): Promise<string> {
  const img = await engine.state.getImage(id);
  return img?.tags[0] ?? id.slice(0, 12);
}

/** A container as `ps --json` (and the web API) show it. */
export async function containerRow(engine: Engine, c: ContainerRecord) {
  return {
    id: c.id,
    name: c.name,
    image: await imageName(engine, c.image),
    imageId: c.image,
    state: liveStatus(c),
    status: statusText(c),
    created: c.created,
    mounts: c.mounts,
    readOnly: c.labels['layerfs.read-only'] === 'true',
  };
}

/**
 * commit: the container's image layers plus its layer as a new image in the state, tagged `tag`
 * (DKR-12; volumes are not in it); with `output`, also written there in `format`.
 */
export async function commitContainer(
  engine: Engine,
  c: Container,
  rec: ContainerRecord,
  tag: string,
  opts: { output?: string; format?: 'docker-archive' | 'oci-archive' | 'oci-layout' } = {},
): Promise<ImageRecord> {
  const createdBy = `layerfs commit ${rec.name}`;
  // The stored image is made untagged over the blob store (its base layers linked, not copied),
  // then tagged: the tag moves from any older image.
  const stored = await engine.commitImage(c.view, { createdBy, source: opts.output ?? `commit of container ${rec.name}` });
  if (opts.output) await c.view.commit(opts.output, { tag, format: opts.format ?? 'docker-archive', createdBy });
  return await tagImage(engine, stored, tag);
}

/** Opens a container to read it, and lets it go without saving its layer. */
async function reading<T>(engine: Engine, ref: string, use: (c: Container, rec: ContainerRecord) => Promise<T>): Promise<T> {
  const rec = await engine.state.resolveContainer(ref);
  const c = await engine.open(rec.id, { start: false });
  try {
    return await use(c, rec);
  } finally {
    c.dispose();
  }
}

/** diff CONTAINER: the A/C/D list of its layer (--json: [{kind, path}]). */
export async function containerDiff(ref: string, _opts: unknown, cmd: Command): Promise<void> {
  const g = cmd.optsWithGlobals();
  const engine = await openEngine(cmd);
  const changes = await reading(engine, ref, async (c) => c.view.diff());
  if (g.json) return printJson(changes);
  const out = makeOut(g);
  const style = { A: 'green', C: 'yellow', D: 'red' } as const;
  for (const ch of changes) io().stdout.write(`${paint(out, style[ch.kind], ch.kind)} ${ch.path}\n`);
}

export function registerContainerVerbs(program: Command): void {
  program
    .command('ps')
    .description('list containers (running ones; all with -a)')
    .option('-a, --all', 'show every container, not only running ones')
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const recs = (await engine.state.listContainers()).filter((c) => opts.all || liveStatus(c) === 'running');
      recs.sort((a, b) => b.created.localeCompare(a.created));
      const rows = await Promise.all(recs.map((c) => containerRow(engine, c)));
      if (g.json) return printJson(rows);
      printTable(
        makeOut(g),
        ['CONTAINER ID', 'IMAGE', 'CREATED', 'STATUS', 'MOUNTS', 'NAME'],
        rows.map((r) => [
          r.id.slice(0, 12),
          r.image,
          ago(r.created),
          r.status,
          r.mounts.map((m) => `${m.type === 'tmpfs' ? 'tmpfs' : m.type === 'volume' ? m.source.slice(0, 12) : m.source}:${m.target}${m.readOnly ? ':ro' : ''}`).join(', ') || '-',
          r.name,
        ]),
      );
    });

  program
    .command('rm')
    .description('remove containers and their layers (with -v their anonymous volumes too; named volumes stay)')
    .argument('<container...>', 'container names or ids')
    .option('-v, --volumes', 'also remove the anonymous volumes of the container')
    .option('-f, --force', 'remove a running container too (its shell is killed, as docker rm -f kills); a missing one is no error')
    .action(async (refs: string[], opts: { volumes?: boolean; force?: boolean }, cmd: Command) => {
      const engine = await openEngine(cmd);
      await forEachArg(refs, async (ref) => {
        const rec = await engine.state.resolveContainer(ref).catch((e: unknown) => {
          // podman rm -f: a container that is not there is not an error (exit 0, nothing printed).
          if (opts.force && e instanceof StateError && e.code === 'NOT_FOUND') return undefined;
          throw e;
        });
        if (!rec) return;
        if (opts.force) await killShell(rec);
        else refuseRunning(rec, 'remove');
        await engine.rm(rec.id, { volumes: opts.volumes });
        io().stdout.write(`${rec.name}\n`);
      });
    });

  // `diff CONTAINER` as Docker has it (also `container diff`, Docker's long form); `diff IMAGE_A
  // IMAGE_B` compares two images (the same as `diff-images`).
  program
    .command('container')
    .description("container verbs in Docker's long form: container diff")
    .command('diff')
    .description('changes of the container layer against the image: A added, C changed, D deleted (volumes are not in it)')
    .argument('<container>', 'container name or id')
    .action(containerDiff);
  program
    .command('diff')
    .description('diff CONTAINER: A/C/D of its layer (volumes are not in it); diff IMAGE_A IMAGE_B: what differs between two images')
    .argument('<container-or-image>', 'a container name or id; or the first image')
    .argument('[image-b]', 'the second image: compare two images')
    .action((first: string, second: string | undefined, opts: unknown, cmd: Command) => (second === undefined ? containerDiff(first, opts, cmd) : imagesDiff(first, second, cmd)));

  program
    .command('commit')
    .description('make a new image of the container: its image layers plus the container layer (not its volumes)')
    .argument('<container>', 'container name or id')
    .argument('<tag>', 'tag of the new image, e.g. localhost/app:v2')
    .option('-o, --output <path>', 'also write the image there')
    .addOption(new Option('--format <format>', 'format of the -o output').choices(['docker-archive', 'oci-archive', 'oci-layout']).default('docker-archive'))
    .action(async (ref: string, tag: string, opts: { output?: string; format: 'docker-archive' | 'oci-archive' | 'oci-layout' }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const engine = await openEngine(cmd);
      const img = await reading(engine, ref, (c, rec) => commitContainer(engine, c, rec, tag, opts));
      if (g.json) return printJson(img);
      io().stdout.write(`sha256:${img.id}\n`);
    });
}
