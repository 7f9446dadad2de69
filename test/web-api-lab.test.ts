/**
 * The lab of `layerfs serve` (docs/api.md, "Containers and volumes"): containers created and driven
 * through the API with the same shell as `layerfs run`, each command answered with the union's own
 * record of what it did. Sizes and bytes come from the fixtures' truth/rootfs.manifest; what a bind
 * sees and writes is checked with Node's own fs on the host. Last, `layerfs serve` as a real child
 * process: its first line, and SIGTERM saving the container and exiting 0.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/index.js';
import { createServer, type Server } from '../src/web/server/server.js';
import { FIXTURES, steps, truth } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const base = mkdtempSync(join(tmpdir(), 'layerfs-web-lab-'));
const servers: Server[] = [];
test.after.always(async () => {
  for (const s of servers) await s.close();
  rmSync(base, { recursive: true, force: true });
});
const ARCHIVE = join(FIXTURES, 'layers', 'docker-archive.tar');
const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
const manifest = new Map(
  truth('layers', 'rootfs.manifest')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .map((f) => [f[0], f]),
);
const sizeOf = (p: string) => Number(manifest.get(p)![5]);

let n = 0;
async function start(opts: Parameters<typeof createServer>[0] = {}): Promise<Server> {
  const s = await createServer({ home: join(base, `home-${n++}`), images: [ARCHIVE], ...opts });
  await s.listen();
  servers.push(s);
  return s;
}

async function call(s: Server, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await s.app.inject({
    method: method as 'GET',
    url,
    headers: { host: new URL(s.url).host, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    payload: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: r.statusCode, json: JSON.parse(r.body) };
}
const exec = async (s: Server, c: string, command: string) => {
  const r = await call(s, 'POST', `/api/containers/${c}/exec`, { command });
  if (r.status !== 200) throw new Error(`exec ${command}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
};

test('lab round trip: copy-up reported with bytes, a volume outlives rm, the layer does not; commit keeps the layer, not the volume', async (t) => {
  const s = await start();
  const image = s.catalog.named[0];
  const created = await call(s, 'POST', '/api/containers', { image, name: 'lab1', mounts: [{ type: 'volume', source: 'labdata', target: '/data' }] });
  t.is(created.status, 201, JSON.stringify(created.json));
  t.like(created.json.container, { name: 'lab1', state: 'running', open: true, copyUp: 'full' });
  t.is(created.json.stack.layers.length, steps('layers'));
  t.deepEqual(created.json.stack.mounts, [{ type: 'volume', source: 'labdata', target: '/data', readOnly: false }]);

  const a = await exec(s, 'lab1', 'echo hi >> /etc/motd');
  t.is(a.status, 0);
  // The union's record: /etc copied up (a directory, no data), then /etc/motd with its whole size (truth), then the write.
  // (Which image layer each copy-up came from is checked in shell-union-events.test.ts.)
  t.deepEqual(
    a.events.map(({ layer: _, ...e }: { layer?: number }) => e),
    [
      { kind: 'copy-up', path: '/etc', type: 'dir', bytes: 0, strategy: 'full', data: true },
      { kind: 'copy-up', path: '/etc/motd', type: 'file', bytes: sizeOf('/etc/motd'), strategy: 'full', data: true },
      { kind: 'write', path: '/etc/motd', bytes: 3, mount: '/', mountKind: 'layer' },
    ],
  );
  t.regex(a.stderr, /^copied up \/etc\/motd from image layer 3 \(25 B\)$/m);
  t.like(
    a.stack.containerLayer.paths.find((p: any) => p.path === '/etc/motd'),
    { status: 'copied-up', size: sizeOf('/etc/motd') + 3 },
  );

  const b = await exec(s, 'lab1', 'echo kept > /data/f; rm /etc/passwd; cat /etc/motd');
  t.deepEqual(
    b.events.map(({ layer: _, ...e }: { layer?: number }) => e),
    [
      { kind: 'write', path: '/data/f', bytes: 5, mount: '/data', mountKind: 'volume', source: 'labdata' },
      { kind: 'whiteout', path: '/etc/passwd', hides: 'file', by: 'remove' },
    ],
  );
  const motd = Buffer.from(b.stdout);
  t.is(sha(motd.subarray(0, sizeOf('/etc/motd'))), manifest.get('/etc/motd')![6], 'the image bytes, then ours');
  t.is(motd.subarray(sizeOf('/etc/motd')).toString(), 'hi\n');

  // commit: a new image, one layer more, holding the container layer's changes and not the volume's file.
  const c = await call(s, 'POST', '/api/containers/lab1/commit', { tag: 'localhost/lab:v2' });
  t.is(c.status, 201, JSON.stringify(c.json));
  t.is(c.json.layers.length, steps('layers') + 1);
  t.deepEqual(c.json.image.tags, ['localhost/lab:v2']);
  const top = c.json.layers.length;
  const changes = await call(s, 'GET', `/api/images/${c.json.image.id}/tree?path=/etc&changes=${top}`);
  t.deepEqual(
    changes.json.entries.map((e: any) => `${e.change} ${e.path}`),
    ['M /etc/motd', 'D /etc/passwd'],
  );
  const inData = await call(s, 'GET', `/api/images/${c.json.image.id}/find?name=f&type=any`);
  t.deepEqual(
    inData.json.entries.filter((e: any) => e.path.startsWith('/data/')),
    [],
    'the volume is not in the commit',
  );

  // rm (named volume stays), a new container on the same volume: the volume's file survived, the layer's change did not.
  const rm = await call(s, 'DELETE', '/api/containers/lab1?volumes=1');
  t.is(rm.status, 200);
  t.deepEqual(rm.json.volumes, [], 'a named volume is never removed by rm -v');
  t.true((await call(s, 'GET', '/api/volumes')).json.volumes.some((v: any) => v.name === 'labdata'));
  t.is((await call(s, 'GET', '/api/containers/lab1')).status, 404);
  await call(s, 'POST', '/api/containers', { image, name: 'lab2', mounts: [{ type: 'volume', source: 'labdata', target: '/data' }] });
  const again = await exec(s, 'lab2', 'cat /data/f; cat /etc/motd; ls /etc');
  t.is(again.stdout.split('\n')[0], 'kept');
  t.is(sha(Buffer.from(again.stdout).subarray(5, 5 + sizeOf('/etc/motd'))), manifest.get('/etc/motd')![6]);
  t.regex(again.stdout, /passwd/, 'the whiteout went with the old container layer');
  t.deepEqual(again.events, [], 'reading copies nothing up');
});

test('lab copy-up strategies: a chmod copies the whole file with full, no data with metadata (sizes from truth)', async (t) => {
  const s = await start();
  const image = s.catalog.named[0];
  await call(s, 'POST', '/api/containers', { image, name: 'strat', copyUp: 'metadata' });
  const path = '/usr/lib/libsfoo.so.1';
  const meta = await exec(s, 'strat', `chmod 600 ${path}`);
  t.like(
    meta.events.find((e: any) => e.path === path),
    { kind: 'copy-up', bytes: 0, strategy: 'metadata', data: false },
  );
  const write = await exec(s, 'strat', `echo x >> ${path}`);
  t.like(
    write.events.find((e: any) => e.kind === 'copy-data'),
    { path, bytes: sizeOf(path), strategy: 'metadata' },
  );
  const full = await call(s, 'PATCH', '/api/containers/strat', { copyUp: 'full' });
  t.is(full.json.container.copyUp, 'full');
  const other = '/etc/sapp.conf';
  const f = await exec(s, 'strat', `chmod 600 ${other}`);
  t.like(
    f.events.find((e: any) => e.path === other),
    { kind: 'copy-up', bytes: sizeOf(other), strategy: 'full', data: true },
  );
  t.is((await call(s, 'PATCH', '/api/containers/strat', { copyUp: 'sideways' })).status, 400);
});

test('lab mounts: tmpfs and a read-only root, anonymous volumes and rm -v, volumes-from, binds only inside --bind-root', async (t) => {
  const root = join(base, 'bind-root');
  mkdirSync(join(root, 'share'), { recursive: true });
  writeFileSync(join(root, 'share', 'host.txt'), 'from the host\n');
  symlinkSync('/etc', join(root, 'out'));
  const s = await start({ bindRoot: root });
  const image = s.catalog.named[0];
  const made = await call(s, 'POST', '/api/containers', {
    image,
    name: 'ro',
    readOnly: true,
    mounts: [
      { type: 'tmpfs', target: '/scratch' },
      { type: 'volume', target: '/cache' },
      { type: 'bind', source: 'share', target: '/host' },
    ],
  });
  t.is(made.status, 201, JSON.stringify(made.json));
  const r = await exec(s, 'ro', 'echo no > /etc/x; echo yes > /scratch/x; cat /host/host.txt; echo back > /host/new.txt');
  t.regex(r.stderr, /EROFS/);
  t.true(r.stdout.includes('from the host'));
  t.deepEqual(
    r.events.map((e: any) => [e.path, e.mountKind]),
    [
      ['/scratch/x', 'tmpfs'],
      ['/host/new.txt', 'bind'],
    ],
  );
  t.is(readFileSync(join(root, 'share', 'new.txt'), 'utf8'), 'back\n', 'the bind wrote on the host');
  const anon = made.json.container.mounts.find((m: any) => m.target === '/cache').source;
  await exec(s, 'ro', 'echo c > /cache/c');
  const from = await call(s, 'POST', '/api/containers', { image, name: 'from', volumesFrom: [{ container: 'ro', mode: 'ro' }] });
  t.is(from.status, 201);
  const seen = await exec(s, 'from', 'cat /cache/c; echo w > /cache/w');
  t.is(seen.stdout, 'c\n');
  t.regex(seen.stderr, /EROFS/);
  t.is((await call(s, 'DELETE', '/api/containers/from')).status, 200);
  const gone = await call(s, 'DELETE', '/api/containers/ro?volumes=1');
  t.deepEqual(gone.json.volumes, [anon], 'rm -v removes the anonymous volume');
  for (const source of ['../', 'out', '/share/../../etc']) {
    const bad = await call(s, 'POST', '/api/containers', { image, mounts: [{ type: 'bind', source, target: '/x' }] });
    t.is(bad.status, 403, source);
  }
  t.is((await call(s, 'POST', '/api/containers', { image, mounts: [{ type: 'bind', source: 'missing', target: '/x' }] })).status, 400);
});

test('layerfs serve (child process): first line is the URL; SIGTERM saves the open container and exits 0', async (t) => {
  const home = join(base, 'child-home');
  const child = spawn('node', [BIN, '--home', home, 'serve', ARCHIVE, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.on('exit', () => reject(new Error(`serve exited before its first line: ${stderr}`)));
  });
  t.regex(first, /^layerfs: serving http:\/\/127\.0\.0\.1:\d+\/$/);
  const url = first.slice('layerfs: serving '.length);
  const post = async (path: string, body: unknown) => {
    const r = await fetch(url + path.slice(1), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as any };
  };
  const images = (await (await fetch(url + 'api/images')).json()) as any;
  const made = await post('/api/containers', { image: images.images[0].id, name: 'kept' });
  t.is(made.status, 201);
  const r = await post('/api/containers/kept/exec', { command: 'echo saved > /etc/motd' });
  t.is(r.json.status, 0);
  child.kill('SIGTERM');
  t.is(await exited, 0, stderr);
  // The container layer is in the state, and the container is marked exited with its shell's status.
  const engine = await Engine.open({ home });
  const rec = await engine.state.resolveContainer('kept');
  t.is(rec.state, 'exited');
  t.is(rec.labels['layerfs.exit-code'], '0');
  const c = await engine.open(rec.id);
  try {
    t.is(c.fs.readFileSync('/etc/motd', 'utf8'), 'saved\n');
  } finally {
    c.dispose();
  }
});

test('layerfs serve: a bad option exits 2 and a bad IMAGE exits 1, each with one line naming it, nothing served', async (t) => {
  const home = join(base, 'bad-home');
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const c = spawn('node', [BIN, '--home', home, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (err += d));
      c.on('close', (code) => resolve({ code, out, err }));
    });
  const notAnImage = join(FIXTURES, 'layers', 'truth', 'config.json');
  const [port, root, image] = await Promise.all([run(['--port', 'abc']), run(['--bind-root', join(base, 'nowhere')]), run([notAnImage])]);
  t.like(port, { code: 2, out: '', err: 'layerfs: --port must be a port number 0..65535, got "abc"\n' });
  t.like(root, { code: 2, out: '' });
  t.regex(root.err, /^layerfs: --bind-root .*nowhere: not a directory\n$/);
  t.like(image, { code: 1, out: '' });
  t.regex(image.err, new RegExp(`^layerfs: ${notAnImage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected a tar archive[^\\n]*\\n$`));
});
