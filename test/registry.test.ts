/**
 * Pull, inspect and push against a real registry (Debian's docker-registry, distribution 2.8),
 * filled by skopeo from the fixture images. Ground truth: the fixtures' truth/ manifests (podman),
 * skopeo (which verifies every digest it copies back), podman pull and run, the registry's own
 * storage.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createHash, randomBytes } from 'node:crypto';
import { Engine, openImage, RegistryError, View } from '../src/index.js';
import { loadLazy } from '../src/registry/lazy.js';
import { pushImage } from '../src/registry/push.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { registryMissing, skopeoCopy, startRegistry, storedBlob, type Registry } from './helpers/registry.js';
import { run } from './helpers/tools.js';
import { podmanStore } from './helpers/podman.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const missing = registryMissing();
if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPING test/registry.test.ts: ${missing} ***\n\n`);
const rtest = missing && process.env.CI !== 'true' ? test.skip : test.serial;

let reg: Registry;
let work: string;
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** An OCI layout with an index of two platforms: layers as linux/amd64, whiteouts as linux/arm64/v8. */
async function multiPlatformLayout(dir: string): Promise<void> {
  const entries = [];
  for (const [image, platform] of [
    ['layers', { os: 'linux', architecture: 'amd64' }],
    ['whiteouts', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
  ] as const) {
    await run('tar', ['-xf', join(FIXTURES, image, 'oci-archive-gzip.tar'), '-C', dir]);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<Record<string, unknown>> };
    const { annotations: _, ...d } = index.manifests[0]!;
    entries.push({ ...d, platform });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  writeFileSync(join(dir, 'blobs', 'sha256', sha(index).slice(7)), index);
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: sha(index), size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
    }),
  );
}

test.before(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`the registry tests need ${missing}`);
    return;
  }
  work = mkdtempSync(join(tmpdir(), 'layerfs-registry-test-'));
  reg = await startRegistry();
  const multi = join(work, 'multi');
  mkdirSync(multi);
  await multiPlatformLayout(multi);
  // One copy at a time into a repository: the three `layers` tags share the config blob, and
  // distribution 2.8's filesystem driver can answer 500 to a HEAD of a blob link another upload is
  // writing at that moment (seen under load: "trying to reuse blob ... 500 Internal Server Error").
  await Promise.all([
    (async () => {
      await skopeoCopy(`oci-archive:${join(FIXTURES, 'layers/oci-archive-gzip.tar')}`, `docker://${reg.host}/layers:gzip`);
      await skopeoCopy(`oci-archive:${join(FIXTURES, 'layers/oci-archive-zstd.tar')}`, `docker://${reg.host}/layers:zstd`);
      await skopeoCopy(`docker-archive:${join(FIXTURES, 'layers/docker-archive.tar')}`, `docker://${reg.host}/layers:docker`);
    })(),
    skopeoCopy(`oci-archive:${join(FIXTURES, 'whiteouts/oci-archive-gzip.tar')}`, `docker://${reg.host}/whiteouts:gzip`),
    skopeoCopy(`oci:${multi}:multi`, `docker://${reg.host}/multi:latest`, ['--all']),
  ]);
});

test.after.always(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const home = () => mkdtempSync(join(work, 'home-'));

for (const [tag, image] of [
  ['layers:gzip', 'layers'],
  ['layers:zstd', 'layers'],
  ['layers:docker', 'layers'],
  ['whiteouts:gzip', 'whiteouts'],
] as const) {
  rtest(`OCI-1 registry: pulled ${tag} flattens to the fixture's truth (and every step)`, async (t) => {
    const engine = await Engine.open({ home: home() });
    const r = await engine.pull(`docker://${reg.host}/${tag}`);
    t.deepEqual(r.image.tags, [`${reg.host}/${tag}`]);
    t.is(r.fetchedBytes, r.imageBytes, 'a first pull fetches every byte of the image once');
    const view = await openImage(engine.state.imageArchive(r.image.id));
    try {
      t.is(view.manifest(), truth(image, 'rootfs.manifest'));
      for (let i = 1; i <= view.layerCount; i++) t.is(view.atLayer(i).manifest(), truth(image, `step-${i}.manifest`));
    } finally {
      view.close();
    }
  });
}

rtest('registry: an uncompressed image pushed by layerfs is copied back by skopeo and pulls to the truth', async (t) => {
  const h = home();
  const engine = await Engine.open({ home: h });
  const loaded = await engine.load(join(FIXTURES, 'layers/oci-archive.tar'));
  const pushed = await pushImage(engine.state, loaded.id, `docker://${reg.host}/layers:plain`);
  // The config is the gzip image's too, which skopeo put in the same repository already.
  t.deepEqual(
    pushed.blobs.map((b) => b.action),
    ['exists', 'uploaded', 'uploaded', 'uploaded', 'uploaded'],
  );
  // skopeo verifies each blob against its digest while copying.
  await skopeoCopy(`docker://${reg.host}/layers:plain`, `oci:${join(work, 'plain-back')}:x`);
  const manifest = JSON.parse(storedBlob(reg, pushed.manifestDigest).toString()) as { layers: Array<{ mediaType: string }> };
  t.true(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar'));
  const other = await Engine.open({ home: home() });
  const r = await other.pull(`docker://${reg.host}/layers:plain`);
  const view = await openImage(other.state.imageArchive(r.image.id));
  try {
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
  } finally {
    view.close();
  }
});

rtest('registry: --platform picks from an index; the default is the host; no match lists what is offered', async (t) => {
  const engine = await Engine.open({ home: home() });
  const arm = await engine.pull(`docker://${reg.host}/multi:latest`, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
  const armView = await openImage(engine.state.imageArchive(arm.image.id));
  try {
    t.is(armView.manifest(), truth('whiteouts', 'rootfs.manifest'));
  } finally {
    armView.close();
  }
  if (process.arch === 'x64') {
    const host = await engine.pull(`docker://${reg.host}/multi:latest`);
    const v = await openImage(engine.state.imageArchive(host.image.id));
    try {
      t.is(v.manifest(), truth('layers', 'rootfs.manifest'));
    } finally {
      v.close();
    }
  }
  const e = await t.throwsAsync(engine.pull(`docker://${reg.host}/multi:latest`, { platform: { os: 'linux', architecture: 's390x' } }), { instanceOf: RegistryError });
  t.is(e!.code, 'NO_PLATFORM');
  t.regex(e!.message, /no manifest for linux\/s390x; the index offers linux\/amd64, linux\/arm64\/v8/);
});

rtest('registry: the same layer is never fetched twice (a second pull, and an image sharing layers, fetch manifests only)', async (t) => {
  const engine = await Engine.open({ home: home() });
  const first = await engine.pull(`docker://${reg.host}/layers:gzip`);
  const blobs = readdirSync(join(engine.state.home, 'blobs', 'sha256')).sort();
  const again = await engine.pull(`docker://${reg.host}/layers:gzip`);
  const manifestBytes = storedBlob(reg, again.manifestDigest).length;
  t.is(again.fetchedBytes, manifestBytes);
  t.is(again.image.id, first.image.id);
  t.deepEqual(readdirSync(join(engine.state.home, 'blobs', 'sha256')).sort(), blobs);
});

rtest('registry: a partial blob left by an interrupted pull is resumed, not fetched again', async (t) => {
  const engine = await Engine.open({ home: home() });
  const probe = await Engine.open({ home: home() });
  const full = await probe.pull(`docker://${reg.host}/whiteouts:gzip`);
  const layout = JSON.parse(readFileSync(join(probe.state.imageArchive(full.image.id), 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(storedBlob(reg, layout.manifests[0]!.digest).toString()) as { layers: Array<{ digest: string; size: number }> };
  const big = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const bytes = storedBlob(reg, big.digest);
  mkdirSync(join(engine.state.home, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(engine.state.home, 'blobs', `.partial-${big.digest.slice(7)}`), bytes.subarray(0, bytes.length >> 1));
  const r = await engine.pull(`docker://${reg.host}/whiteouts:gzip`);
  t.is(r.fetchedBytes, full.fetchedBytes - (bytes.length >> 1));
  t.deepEqual(readFileSync(engine.state.blobPath(big.digest)), bytes);
  t.false(existsSync(join(engine.state.home, 'blobs', `.partial-${big.digest.slice(7)}`)));
});

rtest('registry: docker:// is taken by openImage, Engine.create and the CLI, which reports bytes fetched', async (t) => {
  const h = home();
  const view = await openImage(`docker://${reg.host}/layers:gzip`, { home: h });
  try {
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
  } finally {
    view.close();
  }
  const engine = await Engine.open({ home: h });
  t.deepEqual(await engine.state.listImages(), [], 'opening a docker:// view adds no image record');
  const c = await engine.create(`docker://${reg.host}/layers:gzip`, { name: 'from-registry' });
  t.is((await engine.state.getImage(c.image))!.tags[0], `${reg.host}/layers:gzip`);
  const cli = await execFileP(process.execPath, [BIN, '--home', home(), 'ls', `docker://${reg.host}/layers:zstd`, '/'], { encoding: 'utf8' });
  t.regex(cli.stdout, /etc/);
  t.regex(cli.stderr, new RegExp(`docker://${reg.host.replace(/\./g, '\\.')}/layers:zstd: fetched .* of the image's .* \\(100\\.0%\\)`));
});

rtest('registry: push skips blobs the registry has, mounts across repositories, uploads in chunks; skopeo reads each', async (t) => {
  const engine = await Engine.open({ home: home() });
  const pulled = await engine.pull(`docker://${reg.host}/whiteouts:gzip`);
  const mounted = await pushImage(engine.state, pulled.image.id, `docker://${reg.host}/copies/whiteouts:v1`);
  t.true(
    mounted.blobs.every((b) => b.action === 'mounted'),
    JSON.stringify(mounted.blobs),
  );
  t.is(mounted.uploadedBytes, 0);
  const again = await pushImage(engine.state, pulled.image.id, `docker://${reg.host}/copies/whiteouts:v2`);
  t.true(again.blobs.every((b) => b.action === 'exists'));
  const loaded = await engine.load(join(FIXTURES, 'links/oci-archive-zstd.tar'));
  const chunked = await pushImage(engine.state, loaded.id, `docker://${reg.host}/chunked:v1`, { chunkSize: 512 });
  t.true(
    chunked.blobs.some((b) => b.action === 'uploaded' && b.size > 512),
    JSON.stringify(chunked.blobs),
  );
  await skopeoCopy(`docker://${reg.host}/chunked:v1`, `oci:${join(work, 'chunked-back')}:x`);
  await skopeoCopy(`docker://${reg.host}/copies/whiteouts:v1`, `oci:${join(work, 'mounted-back')}:x`);
  const back = await openImage(join(work, 'chunked-back'));
  try {
    t.is(back.manifest(), truth('links', 'rootfs.manifest'));
  } finally {
    back.close();
  }
});

rtest('registry: history and image inspect of a docker:// image fetch its manifests and config only, in the local shapes', async (t) => {
  const h = home();
  const ref = `docker://${reg.host}/multi:latest`;
  const out = await execFileP(process.execPath, [BIN, '--home', h, 'image', 'inspect', ref, '--platform', 'linux/arm64/v8'], { encoding: 'utf8' });
  const [doc] = JSON.parse(out.stdout) as Array<
    Record<string, unknown> & { Id: string; Digest: string; RootFS: { Layers: string[] }; Config: Record<string, unknown>; Transfer: { fetchedBytes: number; imageBytes: number } }
  >;
  const indexDigest = sha(
    Buffer.from(
      await fetch(`http://${reg.host}/v2/multi/manifests/latest`, { headers: { accept: 'application/vnd.oci.image.index.v1+json' } }).then(async (r) => new Uint8Array(await r.arrayBuffer())),
    ),
  );
  const config = storedBlob(reg, `sha256:${doc!.Id}`);
  t.is(doc!.Transfer.fetchedBytes, storedBlob(reg, indexDigest).length + storedBlob(reg, doc!.Digest).length + config.length);
  t.true(doc!.Transfer.fetchedBytes < doc!.Transfer.imageBytes);
  t.regex(out.stderr, /fetched .* of the image's/);
  t.deepEqual(readdirSync(join(h, 'blobs', 'sha256')), [doc!.Id], 'only the config is stored, no layer');
  // The local shape (docs/json.md): the same keys a local image has, the values the config podman wrote.
  const truthConfig = JSON.parse(readFileSync(join(FIXTURES, 'whiteouts/truth/config.json'), 'utf8')) as {
    config: Record<string, unknown>;
    rootfs: { diff_ids: string[] };
    history: Array<{ created_by?: string; empty_layer?: boolean }>;
  };
  const [local] = JSON.parse((await execFileP(process.execPath, [BIN, '--home', h, 'image', 'inspect', join(FIXTURES, 'whiteouts/oci-archive-gzip.tar')], { encoding: 'utf8' })).stdout) as Array<
    Record<string, unknown>
  >;
  t.deepEqual(
    Object.keys(doc!)
      .filter((k) => !['Digest', 'Transfer', 'Variant'].includes(k))
      .sort(),
    Object.keys(local!)
      .filter((k) => k !== 'Size')
      .sort(),
  );
  t.is(doc!.Size, undefined, 'no layer was read, so the uncompressed size is not claimed');
  t.deepEqual(doc!.RootFS.Layers, truthConfig.rootfs.diff_ids);
  t.deepEqual(doc!.Config.Env, truthConfig.config.Env);
  t.deepEqual(doc!.RepoTags, [`${reg.host}/multi:latest`]);

  const hist = JSON.parse((await execFileP(process.execPath, [BIN, '--home', h, '--json', 'history', ref, '--platform', 'linux/arm64/v8'], { encoding: 'utf8' })).stdout) as Array<{
    id: string;
    createdBy: string;
    emptyLayer: boolean;
    size?: number;
    blobSize?: number;
    layer?: number;
  }>;
  t.deepEqual(
    hist.map((r) => [r.createdBy, r.emptyLayer]),
    truthConfig.history.map((r) => [r.created_by ?? '', r.empty_layer === true]).reverse(),
  );
  t.is(hist[0]!.id, doc!.Id);
  // Each layer's blob size is the one the registry stores for the manifest's layer.
  const manifest = JSON.parse(storedBlob(reg, doc!.Digest).toString()) as { layers: Array<{ digest: string; size: number }> };
  const made = hist.filter((r) => !r.emptyLayer).reverse();
  t.deepEqual(
    made.map((r) => [r.layer, r.blobSize, r.size]),
    manifest.layers.map((l, i) => [i + 1, storedBlob(reg, l.digest).length, undefined]),
  );
  const localHist = JSON.parse((await execFileP(process.execPath, [BIN, '--home', h, '--json', 'history', join(FIXTURES, 'whiteouts/oci-archive-gzip.tar')], { encoding: 'utf8' })).stdout) as Array<
    Record<string, unknown>
  >;
  t.deepEqual(
    hist.map((r) =>
      Object.keys(r)
        .filter((k) => k !== 'size')
        .sort(),
    ),
    localHist.map((r) =>
      Object.keys(r)
        .filter((k) => k !== 'size')
        .sort(),
    ),
  );
  const table = await execFileP(process.execPath, [BIN, '--home', h, 'history', ref, '--platform', 'linux/arm64/v8'], { encoding: 'utf8' });
  t.regex(table.stdout, /\(compressed\)/);
});

rtest('registry lazy: an uncompressed layer is read by Range requests: ls reads headers, cat reads the file', async (t) => {
  const engine = await Engine.open({ home: home() });
  const rec = await engine.create(join(FIXTURES, 'layers/docker-archive.tar'), { name: 'lazy' });
  const c = await engine.open(rec.id);
  const big = randomBytes(4 << 20);
  c.fs.writeFileSync('/big.bin', big);
  c.fs.writeFileSync('/small.txt', 'read me lazily\n');
  const archive = join(work, 'lazy.tar');
  await c.view.commit(archive);
  await c.close();
  const img = await engine.load(archive);
  await pushImage(engine.state, img.id, `docker://${reg.host}/lazy:v1`);
  const local = await openImage(archive);
  const expected = local.manifest();
  t.teardown(() => local.close());

  const lazy = await loadLazy(`docker://${reg.host}/lazy:v1`, { home: home() });
  const view = View.fromImage(lazy.image, { readOnly: true });
  try {
    const opened = lazy.transfer.fetchedBytes;
    t.true(opened < lazy.transfer.imageBytes / 8, `opening fetched ${opened} of ${lazy.transfer.imageBytes}`);
    t.deepEqual(view.fs.readdirSync('/').sort(), local.fs.readdirSync('/').sort());
    t.is(lazy.transfer.fetchedBytes, opened, 'listing reads no more than opening did');
    t.is(view.fs.readFileSync('/small.txt', 'utf8'), 'read me lazily\n');
    t.true(lazy.transfer.fetchedBytes - opened <= 2 * 65536, 'a small file costs a block or two');
    t.true(view.fs.readFileSync('/big.bin').equals(big), 'the big file reads back whole');
    // Every file's bytes (the manifest hashes them all) equal the archive's, read locally.
    t.is(view.manifest(), expected);
    t.true(lazy.transfer.fetchedBytes <= lazy.transfer.imageBytes + 65536);
  } finally {
    view.close();
  }
});

const HELLO_C = `static const char msg[] = "hello from a layerfs commit\\n";
void _start(void) {
  long r;
  __asm__ volatile ("syscall" : "=a"(r) : "a"(1), "D"(1), "S"(msg), "d"(sizeof msg - 1) : "rcx", "r11", "memory");
  __asm__ volatile ("syscall" : : "a"(60), "D"(0));
  for (;;) {}
}
`;

rtest('registry: a pushed commit is pulled by podman (--tls-verify=false) and runs', async (t) => {
  if (process.arch !== 'x64') return t.pass('the test program is x86-64 assembly');
  const src = join(work, 'hello.c');
  writeFileSync(src, HELLO_C);
  await run('gcc', ['-static', '-nostdlib', '-O2', '-o', join(work, 'hello'), src]);
  const engine = await Engine.open({ home: home() });
  const rec = await engine.create(join(FIXTURES, 'layers/docker-archive.tar'), { name: 'builder' });
  const c = await engine.open(rec.id);
  c.fs.writeFileSync('/hello', readFileSync(join(work, 'hello')), { mode: 0o755 });
  const archive = join(work, 'committed.tar');
  await c.view.commit(archive, { tag: 'localhost/hello:latest' });
  await c.close();
  const img = await engine.load(archive);
  const ref = `${reg.host}/hello:commit`;
  await pushImage(engine.state, img.id, `docker://${ref}`);
  await skopeoCopy(`docker://${ref}`, `oci:${join(work, 'hello-back')}:x`);
  await run('podman', [...podmanStore(), 'pull', '-q', '--tls-verify=false', ref]);
  // No --rm: podman's cleanup can race its own exit-code read on a loaded machine.
  const name = `layerfs-registry-${process.pid}`;
  try {
    const out = await run('podman', [...podmanStore(), 'run', '--name', name, '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--net', 'none', ref, '/hello']);
    t.is(out, 'hello from a layerfs commit\n');
  } finally {
    await run('podman', [...podmanStore(), 'rm', '-f', name]).catch(() => undefined);
    await run('podman', [...podmanStore(), 'rmi', '-f', ref]).catch(() => undefined);
  }
});
