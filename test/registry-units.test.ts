/**
 * The registry client's parsing rules on their own: docker:// references normalised as Docker's
 * distribution/reference does (its documented examples), WWW-Authenticate challenges (RFC 7235
 * quoting), registry errors[] bodies, and where credentials are found.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChallenge } from '../src/registry/auth.js';
import { findCredentials, saveCredentials } from '../src/registry/credentials.js';
import { registryErrorText, RegistryError } from '../src/registry/errors.js';
import { parsePlatform } from '../src/registry/platform.js';
import { isLoopback, parseReference } from '../src/registry/reference.js';

test('registry: references normalise as Docker does (docker.io, library/, latest)', (t) => {
  t.deepEqual(parseReference('docker://debian'), { registry: 'docker.io', host: 'registry-1.docker.io', repository: 'library/debian', tag: 'latest', digest: undefined });
  t.deepEqual(parseReference('docker://team/app:v1'), { registry: 'docker.io', host: 'registry-1.docker.io', repository: 'team/app', tag: 'v1', digest: undefined });
  t.deepEqual(parseReference('docker://index.docker.io/debian:12'), { registry: 'docker.io', host: 'registry-1.docker.io', repository: 'library/debian', tag: '12', digest: undefined });
  t.deepEqual(parseReference('docker://localhost/app'), { registry: 'localhost', host: 'localhost', repository: 'app', tag: 'latest', digest: undefined });
  const d = `sha256:${'a'.repeat(64)}`;
  t.deepEqual(parseReference(`docker://127.0.0.1:5000/a/b/c@${d}`), { registry: '127.0.0.1:5000', host: '127.0.0.1:5000', repository: 'a/b/c', tag: undefined, digest: d });
  t.deepEqual(parseReference(`docker://quay.io/x/y:t@${d}`), { registry: 'quay.io', host: 'quay.io', repository: 'x/y', tag: 't', digest: d });
  t.deepEqual(parseReference('docker://[::1]:5000/app:1'), { registry: '[::1]:5000', host: '[::1]:5000', repository: 'app', tag: '1', digest: undefined });
});

test('registry: bad references are BAD_REFERENCE naming the part', (t) => {
  for (const [ref, why] of [
    ['debian', /must start with docker:\/\//],
    ['docker://', /no repository/],
    ['docker://Debian', /lowercase/],
    ['docker://a/b:-x', /tag "-x"/],
    ['docker://a/b@sha256:12', /digest/],
    ['docker://a//b', /component ""/],
    [`docker://h.io/${'a'.repeat(260)}`, /255/],
    ['docker://a_/b', /component "a_"/],
  ] as const) {
    const e = t.throws(() => parseReference(ref), { instanceOf: RegistryError }, ref);
    t.is(e!.code, 'BAD_REFERENCE');
    t.regex(e!.message, why, ref);
  }
});

test('registry: loopback hosts are the ones Docker reaches over plain HTTP', (t) => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.1.2.3:80', '[::1]:5000']) t.true(isLoopback(h), h);
  for (const h of ['registry-1.docker.io', '10.0.0.1:5000', '127.0.0.1.example.com', 'localhost.example']) t.false(isLoopback(h), h);
});

test('registry: WWW-Authenticate challenges are parsed with quoting', (t) => {
  t.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull"'), {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/debian:pull' },
  });
  t.deepEqual(parseChallenge('Basic realm="a \\"quoted\\" realm"'), { scheme: 'basic', params: { realm: 'a "quoted" realm' } });
  t.deepEqual(parseChallenge('bearer realm=http://x/t, service=s'), { scheme: 'bearer', params: { realm: 'http://x/t', service: 's' } });
  t.is(parseChallenge('Negotiate abc'), undefined);
});

test('registry: errors[] bodies become one line; other bodies are not taken for one', (t) => {
  t.is(registryErrorText('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"},{"code":"X"}]}'), 'DENIED: requested access to the resource is denied; X');
  t.is(registryErrorText('<html>nginx</html>'), undefined);
  t.is(registryErrorText('{"errors":[]}'), undefined);
});

test('registry: --platform is OS/ARCH[/VARIANT]', (t) => {
  t.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  t.is(t.throws(() => parsePlatform('amd64'), { instanceOf: RegistryError })!.code, 'BAD_REFERENCE');
});

test('registry credentials: the most specific auths key wins; legacy keys and docker.io aliases are read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-creds-'));
  try {
    const file = join(dir, 'auth.json');
    const auth = (s: string) => ({ auth: Buffer.from(s).toString('base64') });
    writeFileSync(file, JSON.stringify({ auths: { 'r.io': auth('host:1'), 'r.io/team': auth('team:2'), 'https://index.docker.io/v1/': auth('hub:3:with:colons') } }));
    const env = { REGISTRY_AUTH_FILE: file, HOME: dir };
    t.like(await findCredentials('r.io', 'team/app', { env }), { username: 'team', password: '2', from: file });
    t.like(await findCredentials('r.io', 'other/app', { env }), { username: 'host', password: '1' });
    t.like(await findCredentials('docker.io', 'library/debian', { env }), { username: 'hub', password: '3:with:colons' });
    t.is(await findCredentials('s.io', 'x', { env }), undefined);
    t.like(await findCredentials('s.io', 'x', { env, creds: 'u:p:q' }), { username: 'u', password: 'p:q', from: '--creds' });
    writeFileSync(file, '{not json');
    t.is((await t.throwsAsync(findCredentials('r.io', 'x', { env }), { instanceOf: RegistryError }))!.code, 'BAD_CREDENTIALS');
    const saved = await saveCredentials('n.io', 'me', 'pw', { XDG_RUNTIME_DIR: join(dir, 'run'), HOME: dir });
    t.is(saved, join(dir, 'run', 'containers', 'auth.json'));
    t.is(statSync(saved).mode & 0o777, 0o600);
    t.deepEqual(JSON.parse(readFileSync(saved, 'utf8')), { auths: { 'n.io': { auth: Buffer.from('me:pw').toString('base64') } } });
    mkdirSync(join(dir, 'run2', 'containers'), { recursive: true });
    writeFileSync(join(dir, 'run2', 'containers', 'auth.json'), '[1]');
    await t.throwsAsync(saveCredentials('n.io', 'me', 'pw', { XDG_RUNTIME_DIR: join(dir, 'run2'), HOME: dir }), { instanceOf: RegistryError });
    t.is(readFileSync(join(dir, 'run2', 'containers', 'auth.json'), 'utf8'), '[1]', 'a file that is not an auth file is left alone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('registry tokens: one per scope, reused until expires_in (less a margin) has passed', async (t) => {
  const { createServer } = await import('node:http');
  const { TokenCache } = await import('../src/registry/auth.js');
  const { Transport } = await import('../src/registry/http.js');
  let life = 600;
  let n = 0;
  const server = createServer((_req, res) => {
    n++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `t${n}`, expires_in: life }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const transport = new Transport(true);
  try {
    const realm = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
    const challenge = { scheme: 'bearer' as const, params: { realm, service: 's' } };
    const cache = new TokenCache();
    t.is(await cache.header(challenge, ['repository:a:pull'], undefined, transport), 'Bearer t1');
    t.is(await cache.header(challenge, ['repository:a:pull'], undefined, transport), 'Bearer t1', 'reused');
    t.is(await cache.header(challenge, ['repository:b:pull'], undefined, transport), 'Bearer t2', 'another scope, another token');
    life = 2; // under the 5 s margin: expired as soon as it is issued
    t.is(await cache.header(challenge, ['repository:c:pull'], undefined, transport), 'Bearer t3');
    t.is(await cache.header(challenge, ['repository:c:pull'], undefined, transport), 'Bearer t4', 'an expired token is asked for again');
    t.is(cache.fetches, 4);
  } finally {
    await transport.close();
    server.close();
  }
});
