/**
 * Registries that misbehave, from a small HTTP server in the test (127.0.0.1, port 0), serving a
 * fixture image's real blobs: no Range support, a body cut short, a wrong digest, a redirect to
 * another host, a manifest over the limit, endless bodies, an errors[] body. Each is a typed error
 * or a correct fallback, and a failed pull stores nothing (no blob under its digest, no image).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, openImage, RegistryError, View } from '../src/index.js';
import { loadLazy } from '../src/registry/lazy.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { run } from './helpers/tools.js';

interface Seen {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse, blob?: Buffer) => boolean;

let work: string;
let manifest: Buffer;
let manifestDigest: string;
let blobs: Map<string, Buffer>;
let layerDigest: string; // the largest layer
let plain: { manifest: Buffer; digest: string; blobs: Map<string, Buffer> };

test.before(async () => {
  work = mkdtempSync(join(tmpdir(), 'layerfs-registry-bad-'));
  const dir = join(work, 'image');
  await run('mkdir', ['-p', dir]);
  await run('tar', ['-xf', join(FIXTURES, 'layers/oci-archive-gzip.tar'), '-C', dir]);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  manifestDigest = index.manifests[0]!.digest;
  blobs = new Map(readdirSync(join(dir, 'blobs', 'sha256')).map((h) => [`sha256:${h}`, readFileSync(join(dir, 'blobs', 'sha256', h))]));
  manifest = blobs.get(manifestDigest)!;
  const layers = (JSON.parse(manifest.toString()) as { layers: Array<{ digest: string; size: number }> }).layers;
  layerDigest = layers.reduce((a, b) => (b.size > a.size ? b : a)).digest;
  const pdir = join(work, 'plain');
  await run('mkdir', ['-p', pdir]);
  await run('tar', ['-xf', join(FIXTURES, 'layers/oci-archive.tar'), '-C', pdir]);
  const pindex = JSON.parse(readFileSync(join(pdir, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const pblobs = new Map(readdirSync(join(pdir, 'blobs', 'sha256')).map((h) => [`sha256:${h}`, readFileSync(join(pdir, 'blobs', 'sha256', h))]));
  plain = { digest: pindex.manifests[0]!.digest, manifest: pblobs.get(pindex.manifests[0]!.digest)!, blobs: pblobs };
});

test.after.always(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A registry serving the fixture image; `override` may answer a request first (return true). */
async function serve(override?: Handler): Promise<{ host: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, range: req.headers.range, authorization: req.headers.authorization });
    const m = /^\/v2\/img\/(manifests|blobs)\/(.+)$/.exec(req.url!);
    const blob = m?.[1] === 'blobs' ? blobs.get(m[2]!) : undefined;
    if (override?.(req, res, blob)) return;
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    const p = /^\/v2\/plain\/(manifests|blobs)\/(.+)$/.exec(req.url!);
    if (p?.[1] === 'manifests') return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': plain.digest }).end(plain.manifest);
    const pb = p?.[1] === 'blobs' ? plain.blobs.get(p[2]!) : undefined;
    // This server has no Range support: every blob is a 200 with all its bytes.
    if (pb) return void res.writeHead(200, { 'content-length': pb.length }).end(pb);
    if (m?.[1] === 'manifests') {
      return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': manifestDigest, 'content-length': manifest.length }).end(manifest);
    }
    if (blob) return void res.writeHead(200, { 'content-length': blob.length }).end(blob);
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    host,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const isLayer = (req: IncomingMessage) => req.url === `/v2/img/blobs/${layerDigest}`;

async function fresh(): Promise<Engine> {
  return Engine.open({ home: mkdtempSync(join(work, 'home-')) });
}

/** Nothing of a failed pull is in the state: no image, and no blob under `digest`. */
async function nothingStored(t: import('ava').ExecutionContext, engine: Engine, digest: string): Promise<void> {
  t.deepEqual(await engine.state.listImages(), []);
  t.false(existsSync(engine.state.blobPath(digest)));
}

async function truthOf(engine: Engine, id: string): Promise<string> {
  const view = await openImage(engine.state.imageArchive(id));
  try {
    return view.manifest();
  } finally {
    view.close();
  }
}

test('registry bad: a registry that answers 200 to a Range request is read from the start', async (t) => {
  const srv = await serve();
  try {
    const engine = await fresh();
    const blob = blobs.get(layerDigest)!;
    const partial = join(engine.state.home, 'blobs', `.partial-${layerDigest.slice(7)}`);
    await run('mkdir', ['-p', join(engine.state.home, 'blobs', 'sha256')]);
    await run('python3', ['-c', `import sys; open(sys.argv[1],'wb').write(open(sys.argv[2],'rb').read()[:100])`, partial, join(work, 'image', 'blobs', 'sha256', layerDigest.slice(7))]);
    const r = await engine.pull(`docker://${srv.host}/img:latest`);
    t.deepEqual(
      srv.seen.filter((s) => s.url.endsWith(layerDigest)).map((s) => s.range),
      ['bytes=100-'],
    );
    t.deepEqual(readFileSync(engine.state.blobPath(layerDigest)), blob);
    t.is(await truthOf(engine, r.image.id), truth('layers', 'rootfs.manifest'));
  } finally {
    await srv.close();
  }
});

test('registry bad: a body cut short is asked for again from where it stopped', async (t) => {
  let cut = false;
  const srv = await serve((req, res, blob) => {
    if (!isLayer(req)) return false;
    if (!cut) {
      cut = true;
      res.writeHead(200, { 'content-length': blob!.length });
      res.write(blob!.subarray(0, 1000), () => res.socket?.destroy());
      return true;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(206, { 'content-range': `bytes ${start}-${blob!.length - 1}/${blob!.length}`, 'content-length': blob!.length - start }).end(blob!.subarray(start));
    return true;
  });
  try {
    const engine = await fresh();
    const r = await engine.pull(`docker://${srv.host}/img:latest`);
    t.deepEqual(
      srv.seen.filter((s) => s.url.endsWith(layerDigest)).map((s) => s.range),
      [undefined, 'bytes=1000-'],
    );
    t.is(r.fetchedBytes, r.imageBytes, 'no byte fetched twice');
    t.is(await truthOf(engine, r.image.id), truth('layers', 'rootfs.manifest'));
  } finally {
    await srv.close();
  }
});

test('registry bad: a body always cut short without Range support is TRUNCATED after a few tries, nothing stored', async (t) => {
  const srv = await serve((req, res, blob) => {
    if (!isLayer(req)) return false;
    res.writeHead(200, { 'content-length': blob!.length });
    res.write(blob!.subarray(0, 500), () => res.socket?.destroy());
    return true;
  });
  try {
    const engine = await fresh();
    const e = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:latest`), { instanceOf: RegistryError });
    t.is(e!.code, 'TRUNCATED');
    t.is(srv.seen.filter((s) => s.url.endsWith(layerDigest)).length, 6, 'the first try and 5 more');
    await nothingStored(t, engine, layerDigest);
  } finally {
    await srv.close();
  }
});

test('registry bad: a blob whose bytes do not hash to its digest is DIGEST_MISMATCH, nothing stored', async (t) => {
  const srv = await serve((req, res, blob) => {
    if (!isLayer(req)) return false;
    const bad = Buffer.from(blob!);
    bad[bad.length >> 1] ^= 0xff;
    res.writeHead(200, { 'content-length': bad.length }).end(bad);
    return true;
  });
  try {
    const engine = await fresh();
    const e = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:latest`), { instanceOf: RegistryError });
    t.is(e!.code, 'DIGEST_MISMATCH');
    t.regex(e!.message, new RegExp(`not the ${layerDigest}`));
    await nothingStored(t, engine, layerDigest);
    t.false(existsSync(join(engine.state.home, 'blobs', `.partial-${layerDigest.slice(7)}`)), 'the bad bytes are not kept to resume from');
  } finally {
    await srv.close();
  }
});

test('registry bad: a manifest whose Docker-Content-Digest differs from its sha256 is DIGEST_MISMATCH', async (t) => {
  const srv = await serve((req, res) => {
    if (!req.url!.startsWith('/v2/img/manifests/')) return false;
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': `sha256:${'0'.repeat(64)}` }).end(manifest);
    return true;
  });
  try {
    const engine = await fresh();
    const e = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:latest`), { instanceOf: RegistryError });
    t.is(e!.code, 'DIGEST_MISMATCH');
    t.regex(e!.message, /Docker-Content-Digest says sha256:0{64}/);
    const byDigest = await t.throwsAsync(engine.pull(`docker://${srv.host}/img@sha256:${'1'.repeat(64)}`), { instanceOf: RegistryError });
    t.is(byDigest!.code, 'DIGEST_MISMATCH');
    t.deepEqual(await engine.state.listImages(), []);
  } finally {
    await srv.close();
  }
});

test('registry bad: a blob redirected to another host gets no Authorization header', async (t) => {
  const storage = await serve((req, res) => {
    const digest = /^\/storage\/(sha256:[0-9a-f]{64})$/.exec(req.url!)?.[1];
    if (!digest) return false;
    res.writeHead(200).end(blobs.get(digest));
    return true;
  });
  const expected = `Basic ${Buffer.from('bob:pw').toString('base64')}`;
  const srv = await serve((req, res) => {
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="bad-test"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"login first"}]}');
      return true;
    }
    const digest = /^\/v2\/img\/blobs\/(.+)$/.exec(req.url!)?.[1];
    if (!digest) return false;
    res.writeHead(307, { location: `http://${storage.host}/storage/${digest}` }).end();
    return true;
  });
  try {
    const engine = await fresh();
    const r = await engine.pull(`docker://${srv.host}/img:latest`, { creds: 'bob:pw', env: {} });
    const fromStorage = storage.seen.filter((s) => s.url.startsWith('/storage/'));
    t.true(fromStorage.length >= 2);
    t.true(
      fromStorage.every((s) => s.authorization === undefined),
      JSON.stringify(fromStorage),
    );
    t.true(srv.seen.filter((s) => s.url.startsWith('/v2/img/')).every((s) => s.authorization === expected));
    t.is(await truthOf(engine, r.image.id), truth('layers', 'rootfs.manifest'));
  } finally {
    await srv.close();
    await storage.close();
  }
});

test('registry bad: a manifest over limits.maxJsonBytes, or endless, is LIMIT and reading stops', async (t) => {
  let sent = 0;
  const srv = await serve((req, res) => {
    if (req.url === '/v2/img/manifests/big') {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': 2 << 20 }).end(Buffer.alloc(2 << 20, 0x20));
      return true;
    }
    if (req.url !== '/v2/img/manifests/endless') return false;
    res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
    const chunk = Buffer.alloc(64 << 10, 0x20);
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => undefined);
    pump();
    return true;
  });
  try {
    const engine = await fresh();
    const limits = { maxJsonBytes: 1 << 20 };
    const big = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:big`, { limits }), { instanceOf: RegistryError });
    t.is(big!.code, 'LIMIT');
    t.regex(big!.message, /limits\.maxJsonBytes/);
    const endless = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:endless`, { limits }), { instanceOf: RegistryError });
    t.is(endless!.code, 'LIMIT');
    t.true(sent < 64 << 20, `the server got to send ${sent} bytes`);
    t.deepEqual(await engine.state.listImages(), []);
  } finally {
    await srv.close();
  }
});

test('registry bad: an endless blob body is cut off at its descriptor size (TOO_LONG), nothing stored', async (t) => {
  const srv = await serve((req, res, blob) => {
    if (!isLayer(req)) return false;
    res.writeHead(200);
    res.write(blob!);
    const chunk = Buffer.alloc(64 << 10);
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
    return true;
  });
  try {
    const engine = await fresh();
    const e = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:latest`), { instanceOf: RegistryError });
    t.is(e!.code, 'TOO_LONG');
    await nothingStored(t, engine, layerDigest);
    t.false(existsSync(join(engine.state.home, 'blobs', `.partial-${layerDigest.slice(7)}`)));
  } finally {
    await srv.close();
  }
});

test("registry bad: an errors[] body becomes one line with the registry's code and message", async (t) => {
  const srv = await serve((req, res) => {
    if (!req.url!.startsWith('/v2/img/manifests/')) return false;
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'nope' } }] }));
    return true;
  });
  try {
    const engine = await fresh();
    const e = await t.throwsAsync(engine.pull(`docker://${srv.host}/img:nope`), { instanceOf: RegistryError });
    t.is(e!.code, 'NOT_FOUND');
    t.is(e!.message, `http://${srv.host}/v2/img/manifests/nope: manifest ${srv.host}/img@nope: HTTP 404: MANIFEST_UNKNOWN: manifest unknown`);
  } finally {
    await srv.close();
  }
});

test('registry bad: a pull killed mid-blob leaves no torn blob, and the next pull resumes where it stopped', async (t) => {
  const blob = blobs.get(layerDigest)!;
  const half = blob.length >> 1;
  let sentHalf!: () => void;
  const halfway = new Promise<void>((r) => {
    sentHalf = r;
  });
  let stalled = true;
  const srv = await serve((req, res) => {
    if (!isLayer(req)) return false;
    if (stalled) {
      // Half the blob, then nothing: the pull is mid-body when it is killed.
      res.writeHead(200, { 'content-length': blob.length });
      res.write(blob.subarray(0, half), () => sentHalf());
      return true;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(start ? 206 : 200, { ...(start ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {}), 'content-length': blob.length - start }).end(blob.subarray(start));
    return true;
  });
  try {
    const engine = await fresh();
    const child = spawn(
      process.execPath,
      [
        '--import=tsx',
        '--input-type=module',
        '-e',
        `
      const { Engine } = await import(${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)});
      const e = await Engine.open({ home: ${JSON.stringify(engine.state.home)} });
      await e.pull('docker://${srv.host}/img:latest', { concurrency: 1 });
    `,
      ],
      { stdio: 'ignore' },
    );
    const partial = join(engine.state.home, 'blobs', `.partial-${layerDigest.slice(7)}`);
    await halfway;
    // Wait until the child has written what it received, then kill it without warning.
    for (let i = 0; i < 200 && (existsSync(partial) ? statSync(partial).size : 0) < half; i++) await new Promise((r) => setTimeout(r, 25));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    t.false(existsSync(engine.state.blobPath(layerDigest)), 'no blob under the digest');
    t.deepEqual(await engine.state.listImages(), []);
    const kept = statSync(partial).size;
    t.true(kept > 0 && kept <= half, `partial holds ${kept} bytes`);
    stalled = false;
    const r = await engine.pull(`docker://${srv.host}/img:latest`);
    t.is(srv.seen.filter((s) => s.url.endsWith(layerDigest)).at(-1)!.range, `bytes=${kept}-`);
    t.deepEqual(readFileSync(engine.state.blobPath(layerDigest)), blob);
    t.is(await truthOf(engine, r.image.id), truth('layers', 'rootfs.manifest'));
  } finally {
    await srv.close();
  }
});

test('registry lazy: without Range support an uncompressed layer is fetched whole (and stored) instead', async (t) => {
  // (Ranged lazy reads block this thread until the bytes arrive, so they are tested against the
  // real registry, another process: test/registry.test.ts. Here the Range probe gets a 200.)
  const srv = await serve();
  try {
    const home = mkdtempSync(join(work, 'home-'));
    const lazy = await loadLazy(`docker://${srv.host}/plain:latest`, { home });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
    } finally {
      view.close();
    }
    const layers = (JSON.parse(plain.manifest.toString()) as { layers: Array<{ digest: string }> }).layers;
    t.true(layers.every((l) => existsSync(join(home, 'blobs', 'sha256', l.digest.slice(7)))));
    t.is(lazy.rangeRequests, 0);
    t.true(
      srv.seen.some((s) => s.range === 'bytes=0-65535' || /^bytes=0-\d+$/.test(s.range ?? '')),
      'the probe asked for a range',
    );
  } finally {
    await srv.close();
  }
});

test('OCI-22 registry lazy: without Range support a gzip layer is fetched whole (and stored), no index kept', async (t) => {
  const srv = await serve();
  try {
    const home = mkdtempSync(join(work, 'home-'));
    const lazy = await loadLazy(`docker://${srv.host}/img:latest`, { home });
    const view = View.fromImage(lazy.image, { readOnly: true });
    try {
      t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
    } finally {
      view.close();
    }
    const layers = (JSON.parse(manifest.toString()) as { layers: Array<{ digest: string; mediaType: string }> }).layers;
    t.true(layers.every((l) => l.mediaType.endsWith('+gzip')));
    t.true(layers.every((l) => existsSync(join(home, 'blobs', 'sha256', l.digest.slice(7)))));
    t.is(lazy.rangeRequests, 0);
    t.true(
      layers.every((l) => !existsSync(join(home, 'cache', 'layers', `${l.digest.slice(7)}.gzi`))),
      'no index: the blob is in the store',
    );
    t.true(
      srv.seen.some((s) => s.url.endsWith(layerDigest) && /^bytes=0-\d+$/.test(s.range ?? '')),
      'the probe asked for a range',
    );
  } finally {
    await srv.close();
  }
});
