/**
 * The verbs users reach for first, through the real command: create, image inspect, history, tag,
 * rmi, image prune, volume create, rm -f, export -o -, load of an OCI ref name without a repository,
 * one diff shape. Expectations come from podman (run here, or as recorded in the fixtures' truth/),
 * skopeo and GNU tar, never from layerfs itself.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { BIN, json, layerfsIn as layerfs, SAMPLE, tempDir } from './helpers/cli.js';
import { FIXTURES } from './helpers/fixtures.js';
import { havePodman, podman } from './helpers/podman.js';

const VOLUMES_OCI = join(FIXTURES, 'volumes/oci-archive.tar');
const VOLUMES_DOCKER = join(FIXTURES, 'volumes/docker-archive.tar');
const LAYERS_DOCKER = join(FIXTURES, 'layers/docker-archive.tar');

test('create: a container that is created, not started (docker create); start opens its shell later', async (t) => {
  const h = await tempDir(t);
  const r = await layerfs(h, ['create', '--name', 'made', '-v', 'data:/data', SAMPLE]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^[0-9a-f]{64}\n$/);
  const ps = json<Array<{ id: string; name: string; state: string; mounts: Array<{ target: string }> }>>(await layerfs(h, ['--json', 'ps', '-a']));
  t.deepEqual(
    ps.map((c) => [c.id, c.name, c.state]),
    [[r.stdout.trim(), 'made', 'created']],
  );
  t.true(ps[0]!.mounts.some((m) => m.target === '/data'));
  const bad = await layerfs(h, ['create', '-v', 'x:relative', SAMPLE]);
  t.is(bad.code, 2, 'a bad mount is a usage error, before anything is made');
  t.is(json<unknown[]>(await layerfs(h, ['--json', 'ps', '-a'])).length, 1);
  const started = await layerfs(h, ['start', 'made', '-c', 'pwd']);
  t.is(started.stdout, '/srv/www\n', started.stderr);
});

test('image inspect: the Config podman recorded for the image (truth/config-summary.json); inspect --json carries the same shape', async (t) => {
  const h = await tempDir(t);
  t.is((await layerfs(h, ['load', VOLUMES_OCI])).code, 0);
  const r = await layerfs(h, ['image', 'inspect', 'localhost/volumes:latest']);
  t.is(r.code, 0, r.stderr);
  const [img] = json<Array<{ Id: string; RepoTags: string[]; Config: Record<string, unknown>; RootFS: { Layers: string[] } }>>(r);
  const want = JSON.parse(readFileSync(join(FIXTURES, 'volumes/truth/config-summary.json'), 'utf8')) as Record<string, unknown>;
  for (const k of ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'Volumes', 'ExposedPorts', 'Labels', 'StopSignal']) t.deepEqual(img!.Config[k], want[k], k);
  t.false('User' in img!.Config, 'an empty User is left out (podman: null)');
  t.deepEqual(img!.RepoTags, ['localhost/volumes:latest']);
  // The image id is the config digest, as podman reports it.
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', VOLUMES_DOCKER, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Config: string }>;
  t.is(img!.Id, manifest[0]!.Config.replace(/\.json$/, ''));
  const dive = await layerfs(h, ['--json', 'inspect', VOLUMES_OCI]);
  t.deepEqual(json<{ image: { Config: unknown } }>(dive).image.Config, img!.Config);
});

/** The volumes image as a docker archive with an ENV step (an empty layer) added to its history: GNU tar packs it. */
function withEmptyLayer(dir: string, tag: string): string {
  const src = join(dir, 'unpacked');
  mkdirSync(src);
  execFileSync('tar', ['-xf', VOLUMES_DOCKER, '-C', src]);
  const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags: string[] }>;
  const config = JSON.parse(readFileSync(join(src, manifest[0]!.Config), 'utf8')) as { history: Array<Record<string, unknown>>; config: { Labels?: Record<string, string> } };
  // One image per tag: the tag is in the config too (a label), so each gets an id of its own.
  config.config.Labels = { ...config.config.Labels, 'test.tag': tag };
  config.history.splice(1, 0, { created: '2023-11-14T22:13:20Z', created_by: '/bin/sh -c #(nop) ENV STEP=2', comment: 'an empty layer', empty_layer: true });
  const bytes = Buffer.from(JSON.stringify(config));
  const name = createHash('sha256').update(bytes).digest('hex') + '.json';
  writeFileSync(join(src, name), bytes);
  renameSync(join(src, manifest[0]!.Config), join(dir, 'old-config.json'));
  manifest[0]!.Config = name;
  manifest[0]!.RepoTags = [tag];
  writeFileSync(join(src, 'manifest.json'), JSON.stringify(manifest));
  execFileSync('bash', ['-c', 'rm -f repositories; true'], { cwd: src });
  const out = join(dir, 'with-empty.tar');
  execFileSync('tar', ['-cf', out, '-C', src, '.']);
  return out;
}

test('history: created, created_by, size and comment of each step, newest first, empty layers included, as podman history', async (t) => {
  if (!havePodman(t)) return;
  const h = await tempDir(t);
  const tag = `localhost/lfv-history-${process.pid}:latest`;
  const archive = withEmptyLayer(h, tag);
  const loaded = podman(['load', '-i', archive]);
  t.is(loaded.code, 0, loaded.stderr);
  t.teardown(() => void podman(['rmi', '-f', tag]));
  const want = JSON.parse(podman(['history', '--format', 'json', tag]).stdout) as Array<{ id: string; CreatedBy: string; size: number; comment?: string; created: string }>;
  t.is(want.length, 3);
  const r = await layerfs(h, ['--json', 'history', archive]);
  t.is(r.code, 0, r.stderr);
  const got = json<Array<{ id: string; createdBy: string; size: number; comment: string; created: string; emptyLayer: boolean }>>(r);
  // The newest step carries an image id (podman names the stored image whose top layer it is), the others <missing>.
  const idOrMissing = (id: string) => (id === '<missing>' ? id : /^[0-9a-f]{64}$/.test(id) ? 'id' : id);
  t.deepEqual(
    got.map((g) => [idOrMissing(g.id), g.createdBy, g.size, g.comment, Date.parse(g.created)]),
    want.map((w) => [idOrMissing(w.id), w.CreatedBy, w.size, w.comment ?? '', Date.parse(w.created)]),
  );
  t.deepEqual(
    got.map((g) => g.emptyLayer),
    [false, true, false],
  );
  const text = await layerfs(h, ['history', archive]);
  t.regex(text.stdout, /^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n/);
  t.regex(text.stdout, /<missing> .*ENV STEP=2 +0 B +an empty layer\n/);
});

test("tag, rmi and image prune: podman's rules, messages and exit codes", async (t) => {
  if (!havePodman(t)) return;
  const h = await tempDir(t);
  const p = `lfv-verbs-${process.pid}`;
  const one = `localhost/${p}:one`;
  // An image of its own in podman's store (a new config over the volumes image's layers).
  const archive = withEmptyLayer(h, one);
  const steps = [
    ['tag', one, `${p}:two`],
    ['create', '--name', `${p}-c`, `${p}:two`],
    ['rmi', `${p}:two`],
    ['rmi', one],
    ['rmi', `${p}-nosuch`],
  ];
  t.is(podman(['load', '-i', archive]).code, 0);
  t.teardown(() => {
    podman(['rm', '-f', `${p}-c`]);
    podman(['rmi', '-f', one]);
  });
  const pod = steps.map((s) => podman(s[0] === 'create' ? [...s, 'true'] : s));
  t.is((await layerfs(h, ['load', archive])).code, 0);
  const ours = [];
  for (const s of steps) ours.push(await layerfs(h, s));
  for (const [i, s] of steps.entries()) t.is(ours[i]!.code, pod[i]!.code, `${s.join(' ')}: podman exits ${pod[i]!.code} (${pod[i]!.stderr.trim()}); layerfs: ${ours[i]!.stderr}`);
  t.is(ours[2]!.stdout, pod[2]!.stdout, 'rmi of one of two tags: Untagged');
  t.regex(ours[3]!.stderr, new RegExp(`^layerfs: ${one}: image is in use by container [0-9a-f]{12} \\(${p}-c\\)`));
  t.true(json<Array<{ tags: string[] }>>(await layerfs(h, ['--json', 'images']))[0]!.tags.includes(one), 'the refused rmi kept the image');
  // image prune (podman's rule, not run on podman's shared store): an image a container uses stays.
  const prune = await layerfs(h, ['image', 'prune', '-a', '-f']);
  t.deepEqual([prune.code, prune.stdout], [0, '']);
  t.is((await layerfs(h, ['rm', `${p}-c`])).code, 0);
  const gone = await layerfs(h, ['rmi', one]);
  t.regex(gone.stdout, new RegExp(`^Untagged: ${one}\\nDeleted: [0-9a-f]{64}\\n$`));
  // A dangling image (its tag moved to another image) is what a plain prune removes; a tagged one stays.
  await layerfs(h, ['load', LAYERS_DOCKER]);
  const moved = await layerfs(h, ['tag', VOLUMES_DOCKER, 'localhost/layers:latest']);
  t.regex(moved.stderr, /^layerfs: tag localhost\/layers:latest moved from image [0-9a-f]{12} \(now untagged\)\n$/);
  const pruned = await layerfs(h, ['image', 'prune']);
  t.regex(pruned.stdout, /^[0-9a-f]{64}\n$/);
  t.deepEqual(
    json<Array<{ tags: string[] }>>(await layerfs(h, ['--json', 'images'])).map((i) => i.tags),
    [['localhost/volumes:latest', 'localhost/layers:latest']],
  );
});

test('volume create: a named volume; an existing name is refused, naming it', async (t) => {
  const h = await tempDir(t);
  const r = await layerfs(h, ['volume', 'create', 'cache']);
  t.is(r.stdout, 'cache\n', r.stderr);
  const again = await layerfs(h, ['volume', 'create', 'cache']);
  t.is(again.code, 1);
  t.is(again.stderr, 'layerfs: cache: a volume with this name already exists\n');
  const vols = json<Array<{ name: string; anonymous: boolean }>>(await layerfs(h, ['--json', 'volume', 'ls']));
  t.deepEqual(
    vols.map((v) => [v.name, v.anonymous]),
    [['cache', false]],
  );
});

test('rm -f: a running container is removed, its shell killed; a missing one is no error (podman rm -f)', async (t) => {
  const h = await tempDir(t);
  t.is((await layerfs(h, ['create', '--name', 'live', SAMPLE])).code, 0);
  const child = spawn(process.execPath, [BIN, '--home', h, 'start', 'live'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  for (let i = 0; i < 200; i++) {
    const ps = json<Array<{ state: string }>>(await layerfs(h, ['--json', 'ps']));
    if (ps.length === 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const refused = await layerfs(h, ['rm', 'live']);
  t.is(refused.code, 1, 'without -f a running container is refused');
  const r = await layerfs(h, ['rm', '-f', 'live']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'live\n');
  t.is(await exited, 'SIGKILL');
  t.deepEqual(json(await layerfs(h, ['--json', 'ps', '-a'])), []);
  const missing = await layerfs(h, ['rm', '-f', 'nosuch']);
  t.deepEqual([missing.code, missing.stdout, missing.stderr], [0, '', '']);
});

test('export -o - writes the tar to stdout: the same bytes as -o FILE', async (t) => {
  const h = await tempDir(t);
  const file = join(h, 'x.tar');
  t.is((await layerfs(h, ['export', SAMPLE, '-o', file])).code, 0);
  const r = await layerfs(h, ['export', SAMPLE, '-o', '-']);
  t.is(r.code, 0, r.stderr);
  t.true(r.out.equals(readFileSync(file)));
  t.true(execFileSync('tar', ['-t'], { input: r.out, encoding: 'utf8' }).split('\n').includes('etc/motd'));
});

test('load: an OCI ref name without a repository is tagged as podman loads it; a load that moves a tag says so', async (t) => {
  if (!havePodman(t)) return;
  const h = await tempDir(t);
  // skopeo writes the archives with the bare ref name `latest`.
  const a = join(h, 'a.tar');
  const b = join(h, 'b.tar');
  execFileSync('skopeo', ['copy', '-q', `oci-archive:${join(FIXTURES, 'layers/oci-archive.tar')}`, `oci-archive:${a}:latest`]);
  execFileSync('skopeo', ['copy', '-q', `oci-archive:${VOLUMES_OCI}`, `oci-archive:${b}:latest`]);
  const pod = podman(['load', '-i', a]);
  t.is(pod.code, 0, pod.stderr);
  t.teardown(() => void podman(['untag', 'localhost/latest:latest']));
  const podLine = pod.stdout.split('\n').find((l) => l.startsWith('Loaded image'));
  const first = await layerfs(h, ['load', a]);
  t.is(first.stdout, `${podLine}\n`, first.stderr);
  const second = await layerfs(h, ['load', b]);
  t.is(second.stdout, `${podLine}\n`);
  const images = json<Array<{ id: string; tags: string[] }>>(await layerfs(h, ['--json', 'images']));
  const old = images.find((i) => i.tags.length === 0)!;
  t.truthy(old, 'the first image lost the tag');
  t.is(second.stderr, `The image localhost/latest:latest already exists, renaming the old one with ID sha256:${old.id} to empty string\n`);
});

test("diff: one JSON shape for a container and for two images ({kind: A|C|D, path}, podman's words)", async (t) => {
  const h = await tempDir(t);
  await layerfs(h, ['run', '--name', 'd', SAMPLE, '-c', 'echo x >> /etc/motd; rm /etc/app.conf; echo n > /new']);
  const c = json<Array<Record<string, unknown>>>(await layerfs(h, ['--json', 'diff', 'd']));
  const commit = await layerfs(h, ['commit', 'd', 'localhost/d:1']);
  t.is(commit.code, 0, commit.stderr);
  const i = json<Array<Record<string, unknown>>>(await layerfs(h, ['--json', 'diff', SAMPLE, 'localhost/d:1']));
  for (const list of [c, i]) {
    for (const e of list) {
      t.true(['A', 'C', 'D'].includes(e.kind as string));
      t.deepEqual(
        Object.keys(e).filter((k) => !['kind', 'path', 'fields', 'before', 'after'].includes(k)),
        [],
      );
    }
  }
  const pick = (l: Array<Record<string, unknown>>) =>
    l
      .filter((e) => e.path !== '/etc' && e.path !== '/')
      .map((e) => `${e.kind} ${e.path}`)
      .sort();
  t.deepEqual(pick(i), pick(c));
});
