/**
 * `layerfs serve docker://…`: the explorer shows a registry image read lazily, as the explore
 * commands read it (src/registry/lazy.ts), with the bytes fetched so far; the lab creates a
 * container from it (pulled then). Against Debian's docker-registry filled by skopeo from the
 * fixtures; expected trees and bytes from the fixtures' truth.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/index.js';
import { pushImage } from '../src/registry/push.js';
import { createServer, type Server } from '../src/web/server/server.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { registryMissing, skopeoCopy, startRegistry, type Registry } from './helpers/registry.js';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const missing = registryMissing();
if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPING test/web-registry.test.ts: ${missing} ***\n\n`);
const rtest = missing && process.env.CI !== 'true' ? test.skip : test.serial;

let reg: Registry;
let work: string;
let n = 0;
const home = () => join(work, `home-${n++}`);

const big = randomBytes(4 << 20);

test.before(async () => {
  if (missing && process.env.CI !== 'true') return;
  work = mkdtempSync(join(tmpdir(), 'layerfs-web-registry-'));
  reg = await startRegistry();
  // Uncompressed layers: the lazy view reads them by Range requests.
  await skopeoCopy(`oci-archive:${join(FIXTURES, 'layers/oci-archive.tar')}`, `docker://${reg.host}/layers:plain`);
  // The fixture with a 4 MiB file on top, so that reading it is seen in the bytes fetched.
  const engine = await Engine.open({ home: home() });
  const c = await engine.open((await engine.create(join(FIXTURES, 'layers/docker-archive.tar'), { name: 'big' })).id);
  c.fs.writeFileSync('/big.bin', big);
  const archive = join(work, 'big.tar');
  await c.view.commit(archive);
  await c.close();
  await pushImage(engine.state, (await engine.load(archive)).id, `docker://${reg.host}/layers:big`);
});

test.after.always(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function get(s: Server, url: string): Promise<{ status: number; json: any; body: Buffer }> {
  const r = await s.app.inject({ method: 'GET', url, headers: { host: new URL(s.url).host } });
  let json: unknown;
  try {
    json = JSON.parse(r.body);
  } catch {
    /* bytes */
  }
  return { status: r.statusCode, json, body: r.rawPayload };
}

/** The truth's regular files: path → sha256 hex. */
function truthFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of truth('layers', 'rootfs.manifest').split('\n')) {
    const f = line.split('\t');
    if (f[1] === 'f') out.set(f[0]!, f[6]!);
  }
  return out;
}

rtest('registry: serve docker://… shows the image read lazily, with its bytes fetched growing as files are read; no image is stored', async (t) => {
  const ref = `docker://${reg.host}/layers:big`;
  const h = home();
  const s = await createServer({ home: h, images: [ref] });
  try {
    await s.listen();
    const id = (await get(s, '/api/info')).json.images[0] as string;
    const listed = (await get(s, '/api/images')).json.images as Array<Record<string, unknown>>;
    t.is(listed.length, 1);
    const img = listed[0]!;
    t.like(img, { id, source: ref, stored: false, tags: [`${reg.host}/layers:big`] });
    t.deepEqual(await s.engine.state.listImages(), [], 'showing a docker:// image adds no image record');
    const size = img.size as number;
    const before = img.fetchedBytes as number;
    t.true(before > 0 && before < size / 8, `opening fetched ${before} of ${size}`);

    // The root level as the truth has it, and every file's bytes through /file.
    const rootNames = new Set([...truth('layers', 'rootfs.manifest').matchAll(/^\/([^/\t]+)\t/gm)].map((m) => m[1]));
    const level = (await get(s, `/api/images/${id}/tree?path=/`)).json;
    t.deepEqual((level.entries as Array<{ name: string }>).map((e) => e.name).sort(), [...rootNames, 'big.bin'].sort());
    const files = truthFiles();
    files.set('/big.bin', createHash('sha256').update(big).digest('hex'));
    for (const [path, sum] of files) {
      const r = await get(s, `/api/images/${id}/file?path=${encodeURIComponent(path)}`);
      t.is(r.status, 200, path);
      t.is(createHash('sha256').update(r.body).digest('hex'), sum, path);
    }
    const after = ((await get(s, '/api/images')).json.images as Array<Record<string, unknown>>)[0]!.fetchedBytes as number;
    t.true(after > before && after >= big.length, `reading the files fetched the 4 MiB file: ${before} -> ${after}`);
    t.true(after <= size + 64 * 1024, `no more than the image and a block: ${after} of ${size}`);

    // The lab makes a container of it: pulled into the state then.
    const made = await s.app.inject({
      method: 'POST',
      url: '/api/containers',
      headers: { host: new URL(s.url).host, 'content-type': 'application/json' },
      payload: JSON.stringify({ image: id, name: 'lazy' }),
    });
    t.is(made.statusCode, 201, made.body);
    t.deepEqual(
      (await s.engine.state.listImages()).map((r) => r.tags[0]),
      [`${reg.host}/layers:big`],
    );
  } finally {
    await s.close();
  }
});

rtest('registry: layerfs serve takes docker:// and the global registry options; a registry that cannot be reached fails at start, naming it', async (t) => {
  const child = execFile(process.execPath, [BIN, '--home', home(), '--tls-verify=false', 'serve', `docker://${reg.host}/layers:plain`], { encoding: 'utf8' });
  const line = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (c: string) => {
      out += c;
      if (out.includes('\n')) done(out.split('\n')[0]!);
    });
    child.once('exit', (code) => fail(new Error(`exited ${code} before serving`)));
  });
  t.regex(line, /^layerfs: serving http:\/\/127\.0\.0\.1:\d+\/$/);
  const url = line.slice('layerfs: serving '.length);
  const images = (await (await fetch(new URL('/api/images', url))).json()) as { images: Array<{ source: string; stored: boolean }> };
  t.like(images.images[0], { source: `docker://${reg.host}/layers:plain`, stored: false });
  const exited = new Promise<number | null>((done) => child.once('exit', done));
  child.kill('SIGTERM');
  t.is(await exited, 0);

  const bad = await new Promise<{ code: number | null; stderr: string }>((done) => {
    execFile(process.execPath, [BIN, '--home', home(), 'serve', 'docker://127.0.0.1:9/nothing:here'], { encoding: 'utf8' }, (e, _o, stderr) =>
      done({ code: e ? ((e as { code?: number }).code ?? null) : 0, stderr }),
    );
  });
  t.not(bad.code, 0);
  t.regex(bad.stderr, /127\.0\.0\.1:9/);
  t.notRegex(bad.stderr, /\n\s+at /, 'no stack trace');
});
