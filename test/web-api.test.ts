/**
 * The JSON API of `layerfs serve` (docs/api.md) against the fixtures' ground truth, as the CLI
 * tests check `--json`: every layer's changes walked one tree level at a time equal
 * truth/step-N.changes; the merged tree walked the same way, with every file's bytes read through
 * /file, equals truth/rootfs.manifest (sha256 included); /config equals truth/config-summary.json.
 * Also Range reads, error codes and statuses, the token and Origin/Host refusals, and uploads of a
 * fixture archive and of hostile ones (scripts/hostile-corpus.ts, each with its documented code).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCorpus } from '../scripts/hostile-corpus.js';
import { createServer, type Server } from '../src/web/server/server.js';
import { FIXTURES, IMAGES, steps, truth } from './helpers/fixtures.js';
import { run } from './helpers/tools.js';

const base = mkdtempSync(join(tmpdir(), 'layerfs-web-api-'));
const archive = (image: string) => join(FIXTURES, image, 'docker-archive.tar');
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

/**
 * A loaded docker-archive as the state stores it (STATE-1; it kept a byte copy of the archive
 * before the blob store): its config and every layer byte for byte the archive's members, as GNU
 * tar reads them, under the names its manifest.json gives.
 */
async function storedAs(dir: string, file: string): Promise<string[]> {
  const manifest = JSON.parse(await run('tar', ['-xOf', file, 'manifest.json'])) as Array<{ Config: string; Layers: string[] }>;
  const names = [manifest[0]!.Config, ...manifest[0]!.Layers];
  const differ: string[] = [];
  for (const name of names) {
    const member = await new Promise<Buffer>((resolve, reject) => execFile('tar', ['-xOf', file, name], { encoding: 'buffer', maxBuffer: 1 << 28 }, (e, out) => (e ? reject(e) : resolve(out))));
    if (sha(readFileSync(join(dir, name))) !== sha(member)) differ.push(name);
  }
  return differ;
}
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

let n = 0;
async function start(opts: Parameters<typeof createServer>[0] = {}): Promise<Server> {
  const s = await createServer({ home: join(base, `home-${n++}`), ...opts });
  await s.listen();
  return s;
}

interface Answer {
  status: number;
  json: any;
  body: Buffer;
  headers: Record<string, unknown>;
}

/** A call as the page makes it: Host is the server's own (inject sends it through the same hooks). */
async function call(s: Server, method: string, url: string, opts: { headers?: Record<string, string>; body?: unknown; payload?: Buffer } = {}): Promise<Answer> {
  const host = new URL(s.url).host;
  const r = await s.app.inject({
    method: method as 'GET',
    url,
    headers: { host, ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    payload: opts.payload ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
  let json: unknown;
  try {
    json = JSON.parse(r.body);
  } catch {
    /* bytes */
  }
  return { status: r.statusCode, json, body: r.rawPayload, headers: r.headers };
}
const get = (s: Server, url: string, headers?: Record<string, string>) => call(s, 'GET', url, { headers });
const q = (o: Record<string, string | number>) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString();

// One server for the explorer tests, with every fixture image on its command line.
let explorer: Server;
const ids = new Map<string, string>();
test.before(async () => {
  explorer = await start({ images: IMAGES.map(archive) });
  const r = await get(explorer, '/api/images');
  for (const image of IMAGES) ids.set(image, r.json.images.find((i: any) => i.source === archive(image)).id);
});
test.after.always(async () => {
  await explorer?.close();
  rmSync(base, { recursive: true, force: true });
});

/** Every entry of a tree, walked one level at a time, as the lazy page walks it. */
async function walk(s: Server, id: string, params: Record<string, string | number>, descend: (e: any) => boolean): Promise<any[]> {
  const out: any[] = [];
  const visit = async (path: string): Promise<void> => {
    for (let offset = 0; ; offset += 5000) {
      const r = await get(s, `/api/images/${id}/tree?${q({ ...params, path, offset, limit: 5000 })}`);
      if (r.status !== 200) throw new Error(`tree ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      for (const e of r.json.entries) {
        out.push(e);
        if (descend(e)) await visit(e.path);
      }
      if (offset + 5000 >= r.json.total) break;
    }
  };
  await visit('/');
  return out;
}

for (const image of IMAGES) {
  test(`API tree?changes=N ${image}: every layer's A/M/D, walked level by level, equals truth/step-N.changes`, async (t) => {
    const id = ids.get(image)!;
    for (let layer = 1; layer <= steps(image); layer++) {
      const entries = await walk(explorer, id, { changes: layer }, (e) => (e.changesBelow ?? 0) > 0);
      const got = entries.filter((e) => e.change).map((e) => (e.change === 'M' ? `M ${e.path} ${e.fields.join(',')}` : `${e.change} ${e.path}`));
      t.deepEqual(got.sort(), lines(truth(image, `step-${layer}.changes`)).sort(), `layer ${layer}`);
      // Context directories lead to changes and are not changes themselves.
      for (const e of entries.filter((x) => !x.change)) t.true(e.changesBelow > 0 && e.type === 'd', `${e.path} is a context directory`);
    }
  });

  test(`API tree + file ${image}: the merged tree and every file's bytes equal truth/rootfs.manifest`, async (t) => {
    const id = ids.get(image)!;
    const entries = await walk(explorer, id, {}, (e) => e.type === 'd' && e.children > 0);
    const want = lines(truth(image, 'rootfs.manifest')).map((l) => l.split('\t'));
    // The walk goes depth first; the manifest is in raw path byte order: compare in one order.
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    want.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    t.deepEqual(
      entries.map((e) => e.path),
      want.map((w) => w[0]),
      'paths',
    );
    const got = await Promise.all(
      entries.map(async (e) => {
        let digest = '-';
        if (e.type === 'f') {
          const r = await get(explorer, `/api/images/${id}/file?${q({ path: e.path })}`);
          t.is(r.status, 200, e.path);
          t.is(r.body.length, e.size, `${e.path}: Content-Length is the size`);
          digest = sha(r.body);
        } else if (e.type === 'l')
          digest = sha(
            Buffer.from(
              e.target.replace(/\\x([0-9a-f]{2})/g, (_: string, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            ),
          );
        return [e.path, e.type, e.mode, String(e.uid), String(e.gid), e.type === 'f' ? String(e.size) : '-', digest, e.target ?? '-', e.linkgroup ?? '-', e.xattrs ?? '-'];
      }),
    );
    // A symlink's target may hold bytes the escape-free form above cannot rebuild: compare those by target.
    for (let i = 0; i < got.length; i++) if (want[i]?.[1] === 'l' && /\\/.test(want[i][7])) got[i][6] = want[i][6];
    t.deepEqual(got, want);
  });

  test(`API config ${image}: the nine keys equal truth/config-summary.json; history keeps empty layers`, async (t) => {
    const r = await get(explorer, `/api/images/${ids.get(image)}/config`);
    t.is(r.status, 200);
    const want = JSON.parse(truth(image, 'config-summary.json'));
    t.deepEqual(Object.fromEntries(Object.keys(want).map((k) => [k, r.json[k]])), want);
    const cfg = JSON.parse(truth(image, 'config.json'));
    t.deepEqual(
      r.json.history.map((h: any) => !!h.empty_layer),
      (cfg.history ?? []).map((h: any) => !!h.empty_layer),
    );
    t.is(r.json.history.filter((h: any) => h.layer !== null).length, steps(image));
  });
}

test('API image: layers with digest, diff_id, sizes, created_by, A/M/D and wasted bytes (truth/config.json, step-N.changes)', async (t) => {
  const image = 'layers';
  const r = await get(explorer, `/api/images/${ids.get(image)}`);
  const cfg = JSON.parse(truth(image, 'config.json'));
  t.deepEqual(
    r.json.layers.map((l: any) => l.diffId),
    cfg.rootfs.diff_ids,
  );
  t.deepEqual(
    r.json.layers.map((l: any) => l.createdBy),
    cfg.history.filter((h: any) => !h.empty_layer).map((h: any) => h.created_by),
  );
  for (const l of r.json.layers) {
    const ch = lines(truth(image, `step-${l.layer}.changes`));
    t.deepEqual(
      [l.added, l.modified, l.deleted],
      ['A', 'M', 'D'].map((k) => ch.filter((x) => x.startsWith(`${k} `)).length),
    );
  }
  // Layer 2 of `layers` chowns /opt/data/blob.bin (truth: "M /opt/data/blob.bin owner"): the layer-1 copy is a
  // metadata-only duplicate, and its bytes are the layer-1 file's size in truth/step-1.manifest.
  const w = (await get(explorer, `/api/images/${ids.get(image)}/waste`)).json;
  const blob = w.paths.find((p: any) => p.path === '/opt/data/blob.bin');
  const size1 = Number(
    lines(truth(image, 'step-1.manifest'))
      .map((l) => l.split('\t'))
      .find((f) => f[0] === '/opt/data/blob.bin')![5],
  );
  t.like(
    blob.copies.find((c: any) => c.layer === 1),
    { cause: 'metadata-duplicate', changed: ['owner'], by: 2, bytes: size1 },
  );
  const sum = (cause: string) =>
    w.paths
      .flatMap((p: any) => p.copies)
      .filter((c: any) => c.cause === cause)
      .reduce((s: number, c: any) => s + c.bytes, 0);
  for (const cause of Object.keys(w.causes)) t.is(w.causes[cause], sum(cause), cause);
  t.is(
    r.json.layers.reduce((s: number, l: any) => s + l.wastedBytes, 0),
    w.wastedBytes,
  );
});

test('API versions and sizes: every layer that touched a path (step manifests), directory totals (rootfs.manifest)', async (t) => {
  const image = 'layers';
  const id = ids.get(image)!;
  const path = '/etc/sapp.conf';
  const r = await get(explorer, `/api/images/${id}/versions?${q({ path })}`);
  t.is(r.status, 200);
  const row = (k: number) =>
    lines(truth(image, `step-${k}.manifest`))
      .map((l) => l.split('\t'))
      .find((f) => f[0] === path);
  for (const v of r.json.versions.filter((x: any) => x.kind === 'entry')) {
    // Each version's bytes, read as the view after its layer, hash to that step's manifest.
    const f = await get(explorer, `/api/images/${id}/file?${q({ path, layer: v.layer })}`);
    t.is(sha(f.body), row(v.layer)![6], `layer ${v.layer}`);
    t.is(v.sha256, row(v.layer)![6]);
  }
  const changedIn = Array.from({ length: steps(image) }, (_, i) => i + 1).filter((k) => lines(truth(image, `step-${k}.changes`)).some((l) => l.split(' ')[1] === path));
  t.deepEqual(
    r.json.versions.filter((v: any) => v.change).map((v: any) => v.layer),
    changedIn,
  );

  const sizes = (await get(explorer, `/api/images/${id}/sizes?${q({ path: '/', depth: 1 })}`)).json;
  const files = lines(truth(image, 'rootfs.manifest'))
    .map((l) => l.split('\t'))
    .filter((f) => f[1] === 'f');
  t.is(
    sizes.bytes,
    files.reduce((s, f) => s + Number(f[5]), 0),
  );
  for (const c of sizes.children) {
    t.is(
      c.bytes,
      files.filter((f) => f[0] === c.path || f[0].startsWith(c.path + '/')).reduce((s, f) => s + Number(f[5]), 0),
      c.path,
    );
  }
  const bySize = (await get(explorer, `/api/images/${id}/tree?${q({ path: '/', sort: 'size' })}`)).json.entries.map((e: any) => e.bytes);
  t.deepEqual(
    bySize,
    [...bySize].sort((a: number, b: number) => b - a),
  );
});

test("API tree pages: a level read in pages, sorts interleaved, is the manifest's children in raw name order and by size (names fixture)", async (t) => {
  // The server keeps a sorted level and slices the pages after the first from it: every page, in
  // any order of requests and sorts, must still be the level's own slice.
  const id = ids.get('names')!;
  const all = lines(truth('names', 'rootfs.manifest')).map((l) => l.split('\t'));
  // The manifest is in raw path byte order, so siblings appear in raw name order.
  const kids = all.filter((f) => f[0].startsWith('/names/') && !f[0].slice('/names/'.length).includes('/'));
  const bytes = (p: string) => all.filter((f) => f[1] === 'f' && (f[0] === p || f[0].startsWith(p + '/'))).reduce((n, f) => n + Number(f[5]), 0);
  const byName = kids.map((f) => f[0]);
  const bySize = kids
    .map((f, i) => ({ p: f[0], b: bytes(f[0]), i }))
    .sort((a, b) => b.b - a.b || a.i - b.i)
    .map((x) => x.p);
  const want: Record<string, string[]> = {
    'name/asc': byName,
    'name/desc': [...byName].reverse(),
    'size/desc': bySize,
    'size/asc': [...bySize].reverse(),
  };
  t.true(byName.length > 10, 'a level of several pages');
  const got: Record<string, string[]> = Object.fromEntries(Object.keys(want).map((k) => [k, []]));
  for (let offset = 0; offset < byName.length; offset += 3) {
    for (const k of Object.keys(want)) {
      const [sort, order] = k.split('/');
      const r = await get(explorer, `/api/images/${id}/tree?${q({ path: '/names', sort, order, offset, limit: 3 })}`);
      t.is(r.status, 200, k);
      t.is(r.json.total, byName.length, k);
      for (const e of r.json.entries) {
        got[k].push(e.path);
        t.is(e.bytes, bytes(e.path), `${k} ${e.path} bytes`);
        t.is(e.origin?.layer, e.layer, `${k} ${e.path}: origin on every page`);
      }
    }
  }
  t.deepEqual(got, want);
});

test('API find and diff: name search across the image, and two images compared (rootfs manifests)', async (t) => {
  const id = ids.get('layers')!;
  const all = lines(truth('layers', 'rootfs.manifest')).map((l) => l.split('\t'));
  const r = await get(explorer, `/api/images/${id}/find?${q({ name: '*.conf' })}`);
  t.deepEqual(
    r.json.entries.map((e: any) => e.path).sort(),
    all
      .filter((f) => f[1] === 'f' && f[0].endsWith('.conf'))
      .map((f) => f[0])
      .sort(),
  );
  const dirs = await get(explorer, `/api/images/${id}/find?${q({ name: 's*', type: 'any', limit: 5000 })}`);
  t.deepEqual(
    dirs.json.entries.map((e: any) => e.path).sort(),
    all
      .filter((f) => /\/s[^/]*$/.test(f[0]))
      .map((f) => f[0])
      .sort(),
  );
  const d = await get(explorer, `/api/diff?${q({ a: ids.get('layers')!, b: ids.get('whiteouts')! })}`);
  const pa = new Set(all.map((f) => f[0]));
  const pb = new Set(lines(truth('whiteouts', 'rootfs.manifest')).map((l) => l.split('\t')[0]));
  t.deepEqual(
    d.json
      .filter((x: any) => x.kind === 'A')
      .map((x: any) => x.path)
      .sort(),
    [...pb].filter((p) => !pa.has(p)).sort(),
  );
  t.deepEqual(
    d.json
      .filter((x: any) => x.kind === 'D')
      .map((x: any) => x.path)
      .sort(),
    [...pa].filter((p) => !pb.has(p)).sort(),
  );
});

test('API file: Range reads are slices of the bytes whose sha256 truth/rootfs.manifest gives; 206, 416, HEAD', async (t) => {
  const id = ids.get('layers')!;
  // The largest file of the image, as truth/rootfs.manifest lists it.
  const [path, , , , , sizeText, digest] = lines(truth('layers', 'rootfs.manifest'))
    .map((l) => l.split('\t'))
    .filter((f) => f[1] === 'f')
    .sort((a, b) => Number(b[5]) - Number(a[5]))[0];
  const size = Number(sizeText);
  t.true(size > 200);
  const url = `/api/images/${id}/file?${q({ path })}`;
  const whole = (await get(explorer, url)).body;
  t.is(whole.length, size);
  t.is(sha(whole), digest);
  for (const [range, start, end] of [
    ['bytes=0-9', 0, 10],
    ['bytes=100-', 100, size],
    ['bytes=-7', size - 7, size],
    [`bytes=${size - 1}-${size + 50}`, size - 1, size],
  ] as const) {
    const r = await get(explorer, url, { range });
    t.is(r.status, 206, range);
    t.is(r.headers['content-range'], `bytes ${start}-${end - 1}/${size}`, range);
    t.deepEqual(r.body, whole.subarray(start, end), range);
  }
  const past = await get(explorer, url, { range: `bytes=${size}-` });
  t.is(past.status, 416);
  t.is(past.json.error.code, 'RANGE_NOT_SATISFIABLE');
  t.is(past.headers['content-range'], `bytes */${size}`);
  const head = await call(explorer, 'HEAD', url);
  t.is(head.status, 200);
  t.is(head.headers['content-length'], String(size));
  t.is(head.headers['accept-ranges'], 'bytes');
  t.is(head.body.length, 0);
});

test('API errors: JSON with the library code and the right status, never a stack', async (t) => {
  const id = ids.get('layers')!;
  const cases: Array<[string, number, string, string?]> = [
    [`/api/images/${id}/tree?path=/nope`, 404, 'ENOENT', '/nope'],
    [`/api/images/${id}/file?path=/etc/nope`, 404, 'ENOENT', '/etc/nope'],
    [`/api/images/${id}/file?path=/etc`, 400, 'EISDIR', '/etc'],
    [`/api/images/${id}/file`, 400, 'BAD_REQUEST'],
    [`/api/images/${id}/tree?path=/etc/../..`, 400, 'BAD_REQUEST'],
    [`/api/images/${id}/tree?layer=99`, 400, 'BAD_REQUEST'],
    [`/api/images/${id}/tree?changes=0`, 400, 'BAD_REQUEST'],
    [`/api/images/${id}/tree?layer=1&changes=1`, 400, 'BAD_REQUEST'],
    [`/api/images/${id}/tree?sort=colour`, 400, 'BAD_REQUEST'],
    [`/api/images/${id}/versions?path=/never`, 404, 'ENOENT', '/never'],
    ['/api/images/0000000000000000000000000000000000000000000000000000000000000000', 404, 'NOT_FOUND'],
    ['/api/nothing-here', 404, 'NOT_FOUND'],
    ['/api/containers/no-such-container', 404, 'NOT_FOUND'],
  ];
  for (const [url, status, code, path] of cases) {
    const r = await get(explorer, url);
    t.is(r.status, status, url);
    t.is(r.json?.error?.code, code, url);
    t.is(typeof r.json?.error?.message, 'string', url);
    if (path) t.is(r.json.error.path, path, url);
    t.false(/\n\s+at /.test(r.body.toString()), `${url}: no stack`);
  }
  const bad = await call(explorer, 'POST', '/api/containers', { payload: Buffer.from('{not json'), headers: { 'content-type': 'application/json' } });
  t.is(bad.status, 400);
  t.is(bad.json.error.code, 'BAD_REQUEST');
  const conflict = await call(explorer, 'POST', '/api/containers', { body: { image: id, name: 'twice' } });
  t.is(conflict.status, 201);
  const again = await call(explorer, 'POST', '/api/containers', { body: { image: id, name: 'twice' } });
  t.is(again.status, 409);
  t.is(again.json.error.code, 'EXISTS');
  const bind = await call(explorer, 'POST', '/api/containers', { body: { image: id, mounts: [{ type: 'bind', source: 'x', target: '/x' }] } });
  t.is(bind.status, 403, 'no bind without --bind-root');
  t.is(bind.json.error.code, 'FORBIDDEN');
});

test('safety: a foreign Origin or Host is refused (403); the own origin is not', async (t) => {
  const own = `http://${new URL(explorer.url).host}`;
  for (const origin of ['http://evil.example', 'null', own.replace('127.0.0.1', 'evil.example'), `${own}.evil.example`]) {
    const r = await get(explorer, '/api/images', { origin });
    t.is(r.status, 403, origin);
    t.is(r.json.error.code, 'FORBIDDEN');
  }
  t.is((await call(explorer, 'POST', '/api/containers', { body: {}, headers: { origin: 'http://evil.example' } })).status, 403, 'no lab action either');
  t.is((await get(explorer, '/api/images', { origin: own })).status, 200);
  t.is((await get(explorer, '/api/images', { host: `evil.example:${new URL(explorer.url).port}` })).status, 403, 'DNS rebinding');
});

test('safety: with a token, every API call needs it (query, header, cookie); the page sets the cookie', async (t) => {
  const s = await start({ token: true });
  t.teardown(() => s.close());
  const token = s.token!;
  t.regex(s.url, new RegExp(`\\?token=${token}$`));
  t.is((await get(s, '/api/images')).status, 403);
  t.is((await get(s, '/api/images?token=wrong')).status, 403);
  t.is((await get(s, '/api/images', { authorization: 'Bearer nope' })).status, 403);
  t.is((await get(s, `/api/images?token=${token}`)).status, 200);
  t.is((await get(s, '/api/images', { authorization: `Bearer ${token}` })).status, 200);
  t.is((await get(s, '/api/images', { 'x-layerfs-token': token })).status, 200);
  const page = await get(s, `/?token=${token}`);
  const cookie = String(page.headers['set-cookie']).split(';')[0];
  t.regex(cookie, /^layerfs_token=/);
  t.regex(String(page.headers['set-cookie']), /HttpOnly/);
  t.is((await get(s, '/api/images', { cookie })).status, 200);
  t.is((await get(s, `/api/images?token=${token}`, { origin: 'http://evil.example' })).status, 403, 'Origin is checked even with the token');
});

test('upload: a fixture archive is stored as `layerfs load` stores it; over the limit is 413 and leaves nothing', async (t) => {
  const s = await start({ uploadLimit: 300_000 });
  t.teardown(() => s.close());
  const bytes = readFileSync(archive('layers'));
  const r = await call(s, 'POST', '/api/images/upload?filename=layers.tar', { payload: bytes, headers: { 'content-type': 'application/octet-stream' } });
  t.is(r.status, 201, JSON.stringify(r.json));
  t.is(r.json.bytes, bytes.length);
  // The image id is the config blob's digest (Docker's rule), as the archive's manifest.json names it (read by GNU tar).
  const manifest = JSON.parse(await run('tar', ['-xOf', archive('layers'), 'manifest.json']));
  t.is(r.json.image.id, /([0-9a-f]{64})/.exec(manifest[0].Config)![1]);
  t.deepEqual(r.json.image.tags, ['localhost/layers:latest']);
  const listed = (await get(s, '/api/images')).json.images;
  t.like(
    listed.find((i: any) => i.id === r.json.image.id),
    { stored: true },
  );
  // The stored image holds the upload's config and layers byte for byte.
  t.deepEqual(await storedAs(s.engine.state.imageArchive(r.json.image.id), archive('layers')), []);
  const big = await call(s, 'POST', '/api/images/upload', { payload: Buffer.alloc(300_001), headers: { 'content-type': 'application/octet-stream' } });
  t.is(big.status, 413);
  t.is(big.json.error.code, 'TOO_LARGE');
  t.deepEqual(
    readdirSync(s.engine.state.home).filter((f) => f.startsWith('.tmp')),
    [],
    'no scratch file left',
  );
  t.is((await get(s, '/api/images')).json.images.length, 1);
});

test('upload: hostile archives give the typed error the loader documents for them, and store nothing', async (t) => {
  const s = await start();
  t.teardown(() => s.close());
  const cases = (await buildCorpus()).filter((c) => c.kind === 'image' && c.error && c.verify !== false);
  t.true(cases.length >= 10);
  for (const c of cases) {
    const r = await call(s, 'POST', `/api/images/upload?filename=${c.name}.tar`, { payload: c.files[0], headers: { 'content-type': 'application/octet-stream' } });
    t.is(r.status, c.error === 'LIMIT' ? 413 : 400, c.name);
    t.is(r.json?.error?.code, c.error, c.name);
    if (c.message) t.regex(r.json.error.message, c.message, c.name);
    t.true(r.json.error.message.startsWith(`upload of ${c.name}.tar`), `${c.name}: the message names the upload: ${r.json.error.message}`);
  }
  t.deepEqual((await get(s, '/api/images')).json.images, []);
  t.deepEqual(
    readdirSync(s.engine.state.home).filter((f) => f.startsWith('.')),
    [],
    'no scratch file left',
  );
});

test('load by path: stored as `layerfs load` stores it; a hostile archive gives its documented code', async (t) => {
  const s = await start();
  t.teardown(() => s.close());
  const r = await call(s, 'POST', '/api/images/load', { body: { path: archive('whiteouts') } });
  t.is(r.status, 201, JSON.stringify(r.json));
  t.deepEqual(await storedAs(s.engine.state.imageArchive(r.json.image.id), archive('whiteouts')), []);
  const c = (await buildCorpus()).find((x) => x.kind === 'image' && x.error === 'DIGEST_MISMATCH')!;
  const file = join(base, `${c.name}.tar`);
  writeFileSync(file, c.files[0]);
  const bad = await call(s, 'POST', '/api/images/load', { body: { path: file } });
  t.is(bad.status, 400);
  t.is(bad.json.error.code, 'DIGEST_MISMATCH');
  t.is((await call(s, 'POST', '/api/images/load', { body: { path: join(base, 'nothing.tar') } })).status, 400);
  t.is((await get(s, '/api/images')).json.images.length, 1);
});

test('the page: / is dist/web/index.html and /assets/ its files; unbuilt, a 500 saying how to build it', async (t) => {
  const built = join(base, 'page-built');
  mkdirSync(join(built, 'assets'), { recursive: true });
  writeFileSync(join(built, 'index.html'), '<!doctype html><title>layerfs</title>');
  writeFileSync(join(built, 'assets', 'app.js'), 'console.log(1)');
  const s = await start({ pageDir: built + '/' });
  t.teardown(() => s.close());
  const page = await get(s, '/');
  t.is(page.status, 200);
  t.is(page.body.toString(), '<!doctype html><title>layerfs</title>');
  t.regex(String(page.headers['content-type']), /text\/html/);
  t.is((await get(s, '/assets/app.js')).body.toString(), 'console.log(1)');
  t.is((await get(s, '/assets/../index.html')).status, 404);
  t.is((await get(s, '/server/server.js')).status, 404, 'only index.html and assets/ are served');
  const bare = await start({ pageDir: join(base, 'page-none') + '/' });
  t.teardown(() => bare.close());
  const none = await get(bare, '/');
  t.is(none.status, 500);
  t.regex(none.body.toString(), /not built.*npm run build/);
});
