/**
 * Registry auth end to end: docker-registry with htpasswd (Basic), and docker-registry with token
 * auth trusting a test token issuer (the Bearer flow: challenge, token for the scope, cached).
 * skopeo and podman are the ground truth for the credentials files and for the issuer.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Engine, openImage, RegistryError } from '../src/index.js';
import { pushImage } from '../src/registry/push.js';
import { FIXTURES, truth } from './helpers/fixtures.js';
import { registryMissing, skopeoCopy, startRegistry, startTokenIssuer, type Registry, type TokenIssuer } from './helpers/registry.js';
import { run } from './helpers/tools.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const missing = registryMissing();
if (missing && process.env.CI !== 'true') process.stderr.write(`\n*** SKIPPING test/registry-auth.test.ts: ${missing} ***\n\n`);
const rtest = missing && process.env.CI !== 'true' ? test.skip : test.serial;

const USER = 'alice';
const PASS = 's3cret:with-colon';
let basic: Registry;
let tokened: Registry;
let issuer: TokenIssuer;
let work: string;

test.before(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(`the registry tests need ${missing}`);
    return;
  }
  work = mkdtempSync(join(tmpdir(), 'layerfs-registry-auth-'));
  issuer = await startTokenIssuer(work, USER, PASS);
  [basic, tokened] = await Promise.all([
    startRegistry({ kind: 'htpasswd', user: USER, password: PASS }),
    startRegistry({ kind: 'token', realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, certFile: issuer.certFile }),
  ]);
  const src = `oci-archive:${join(FIXTURES, 'layers/oci-archive-gzip.tar')}`;
  await Promise.all([
    skopeoCopy(src, `docker://${basic.host}/layers:gzip`, ['--dest-creds', `${USER}:${PASS}`]),
    skopeoCopy(src, `docker://${tokened.host}/layers:gzip`, ['--dest-creds', `${USER}:${PASS}`]),
  ]);
});

test.after.always(async () => {
  await Promise.all([basic?.stop(), tokened?.stop(), issuer?.close()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const home = () => mkdtempSync(join(work, 'home-'));
/** An environment with no auth file but the ones a test writes. */
const emptyEnv = (): NodeJS.ProcessEnv => {
  const dir = mkdtempSync(join(work, 'env-'));
  return { HOME: dir, XDG_RUNTIME_DIR: join(dir, 'run'), XDG_CONFIG_HOME: join(dir, 'config') };
};
const authFile = (path: string, entries: Record<string, string>) => {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify({ auths: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { auth: Buffer.from(v).toString('base64') }])) }));
};

rtest('registry Basic: anonymous is UNAUTHORIZED naming the scope; wrong --creds are refused; right ones pull the truth', async (t) => {
  const engine = await Engine.open({ home: home() });
  const ref = `docker://${basic.host}/layers:gzip`;
  const anon = await t.throwsAsync(engine.pull(ref, { env: emptyEnv() }), { instanceOf: RegistryError });
  t.is(anon!.code, 'UNAUTHORIZED');
  t.regex(anon!.message, /scope repository:layers:pull.*no credentials found/);
  const wrong = await t.throwsAsync(engine.pull(ref, { creds: `${USER}:nope`, env: emptyEnv() }), { instanceOf: RegistryError });
  t.regex(wrong!.message, /the credentials from --creds were refused/);
  t.deepEqual(await engine.state.listImages(), []);
  const r = await engine.pull(ref, { creds: `${USER}:${PASS}`, env: emptyEnv() });
  const view = await openImage(engine.state.imageArchive(r.image.id));
  try {
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
  } finally {
    view.close();
  }
});

rtest("registry credentials: REGISTRY_AUTH_FILE, then XDG_RUNTIME_DIR, then ~/.docker/config.json (podman's order)", async (t) => {
  const ref = `docker://${basic.host}/layers:gzip`;
  // Only ~/.docker/config.json has them.
  const env = emptyEnv();
  authFile(join(env.HOME!, '.docker', 'config.json'), { [`http://${basic.host}/v1/`]: `${USER}:${PASS}` });
  const engine = await Engine.open({ home: home() });
  await t.notThrowsAsync(engine.pull(ref, { env }));
  // A wrong entry earlier in the order wins over the right one later.
  authFile(join(env.XDG_RUNTIME_DIR!, 'containers', 'auth.json'), { [basic.host]: `${USER}:wrong` });
  const e = await t.throwsAsync(
    Engine.open({ home: home() }).then((en) => en.pull(ref, { env })),
    { instanceOf: RegistryError },
  );
  t.regex(e!.message, new RegExp(`credentials from ${join(env.XDG_RUNTIME_DIR!, 'containers', 'auth.json').replace(/[.]/g, '\\.')} were refused`));
  const file = join(work, `authfile-${Date.now()}.json`);
  authFile(file, { [`${basic.host}/layers`]: `${USER}:${PASS}` });
  await t.notThrowsAsync(Engine.open({ home: home() }).then((en) => en.pull(ref, { env: { ...env, REGISTRY_AUTH_FILE: file } })));
});

rtest('CLI-login: layerfs login checks the password, then writes the auth file podman reads', async (t) => {
  const env = emptyEnv();
  const file = join(env.XDG_RUNTIME_DIR!, 'containers', 'auth.json');
  const bad = await execFileP(process.execPath, [BIN, 'login', basic.host, '-u', USER, '-p', 'wrong'], { env: { ...process.env, ...env } }).catch((e: { code: number; stderr: string }) => e);
  t.is((bad as { code: number }).code, 1);
  t.regex((bad as { stderr: string }).stderr, /refused/);
  t.false(existsSync(file), 'a refused login writes nothing');
  const ok = await execFileP(process.execPath, [BIN, 'login', basic.host, '-u', USER, '-p', PASS], { env: { ...process.env, ...env }, encoding: 'utf8' });
  t.regex(ok.stdout, /Login Succeeded/);
  t.is((await run('podman', ['login', '--get-login', '--authfile', file, basic.host])).trim(), USER);
  // skopeo reads the same file for the same registry.
  await t.notThrowsAsync(run('skopeo', ['inspect', '--tls-verify=false', '--authfile', file, `docker://${basic.host}/layers:gzip`]));
});

rtest('registry Bearer: a token per scope from the issuer, asked for once and reused for every blob; pull and push', async (t) => {
  const engine = await Engine.open({ home: home() });
  const ref = `docker://${tokened.host}/layers:gzip`;
  const before = issuer.requests.length;
  const r = await engine.pull(ref, { creds: `${USER}:${PASS}`, env: emptyEnv() });
  const asked = issuer.requests.slice(before);
  t.deepEqual(asked, [{ scopes: ['repository:layers:pull'], authenticated: true }]);
  const view = await openImage(engine.state.imageArchive(r.image.id));
  try {
    t.is(view.manifest(), truth('layers', 'rootfs.manifest'));
  } finally {
    view.close();
  }
  const pushed = await pushImage(engine.state, r.image.id, `docker://${tokened.host}/team/copy:v1`, { creds: `${USER}:${PASS}`, env: emptyEnv() });
  t.true(
    pushed.blobs.every((b) => b.action === 'mounted'),
    "mounted from layers, the image's source repository",
  );
  t.deepEqual(issuer.requests.at(-1)!.scopes.sort(), ['repository:layers:pull', 'repository:team/copy:pull,push']);
  await skopeoCopy(`docker://${tokened.host}/team/copy:v1`, `oci:${join(work, 'token-back')}:x`, ['--src-creds', `${USER}:${PASS}`]);
});

rtest('registry Bearer: without credentials the token grants nothing, and the error names the scope', async (t) => {
  const engine = await Engine.open({ home: home() });
  const e = await t.throwsAsync(engine.pull(`docker://${tokened.host}/layers:gzip`, { env: emptyEnv() }), { instanceOf: RegistryError });
  t.is(e!.code, 'UNAUTHORIZED');
  t.regex(e!.message, /authentication required for scope repository:layers:pull \(UNAUTHORIZED: authentication required\).*no credentials found/);
  const wrong = await t.throwsAsync(engine.pull(`docker://${tokened.host}/layers:gzip`, { creds: `${USER}:bad`, env: emptyEnv() }), { instanceOf: RegistryError });
  t.regex(wrong!.message, /the token server refused scope repository:layers:pull \(HTTP 401: UNAUTHORIZED: bad user name or password\) with the credentials from --creds/);
});

/** `layerfs ARGS` with no auth file but the test's; resolves with the exit code and both outputs. */
const cli = (args: string[], env: NodeJS.ProcessEnv) =>
  execFileP(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
/** The sha256 of /etc/motd in the fixture image, from its truth manifest (made by the fixture tools, not layerfs). */
const motdSha = () =>
  truth('layers', 'rootfs.manifest')
    .split('\n')
    .find((l) => l.startsWith('/etc/motd\t'))!
    .split('\t')[6];
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

rtest(
  'issue 12: create and run of a docker:// image take --creds and --tls-verify=false (global options, before or after the command); without credentials a one-line 401 names the scope',
  async (t) => {
    const env = emptyEnv();
    const ref = `docker://${basic.host}/layers:gzip`;
    const state = home();
    // No credentials: one line, the scope named, nothing stored, exit 1.
    for (const args of [
      ['create', ref],
      ['run', '--rm', ref, '-c', 'cat /etc/motd'],
    ]) {
      const r = await cli(['--home', state, ...args], env);
      t.is(r.code, 1, `${args[0]}: ${r.stderr}`);
      t.is(r.stdout, '');
      t.regex(
        r.stderr,
        /^layerfs: http:\/\/127\.0\.0\.1:\d+\/v2\/layers\/manifests\/gzip: authentication required for scope repository:layers:pull \(UNAUTHORIZED: [^)]*\); no credentials found: use --creds USER:PASS or layerfs login\n$/,
        `${args[0]}: one line naming the scope`,
      );
    }
    const wrong = await cli(['--home', state, 'run', '--rm', '--creds', `${USER}:nope`, ref, '-c', 'cat /etc/motd'], env);
    t.is(wrong.code, 1);
    t.regex(wrong.stderr, /^layerfs: .*scope repository:layers:pull.*the credentials from --creds were refused\n$/);
    t.deepEqual(JSON.parse((await cli(['--home', state, '--json', 'images'], env)).stdout), [], 'a refused pull stores no image');
    // With them: create (the option after the command) stores the image and the container, whose file is the image's.
    const created = await cli(['--home', state, 'create', '--creds', `${USER}:${PASS}`, '--tls-verify=false', ref], env);
    t.is(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    t.regex(id, /^[0-9a-f]{12,64}$/);
    const started = await cli(['--home', state, 'start', id, '-c', 'cat /etc/motd'], env);
    t.is(started.code, 0, started.stderr);
    t.is(sha256(started.stdout), motdSha(), "the created container has the image's /etc/motd");
    // run --rm in a fresh state directory (the option before the command): pulls, prints the file, leaves no container.
    const fresh = home();
    const ran = await cli(['--home', fresh, '--creds', `${USER}:${PASS}`, '--tls-verify=false', 'run', '--rm', ref, '-c', 'cat /etc/motd'], env);
    t.is(ran.code, 0, ran.stderr);
    t.is(sha256(ran.stdout), motdSha(), "run printed the image's /etc/motd");
    t.deepEqual(JSON.parse((await cli(['--home', fresh, '--json', 'ps', '-a'], env)).stdout), [], '--rm removed the container');
    t.is(JSON.parse((await cli(['--home', fresh, '--json', 'images'], env)).stdout).length, 1, 'the pulled image is stored');
    // A --tls-verify that is neither true nor false is a usage error naming it, before anything is made.
    const bad = await cli(['--home', home(), 'run', '--rm', '--tls-verify=maybe', ref, '-c', 'true'], env);
    t.is(bad.code, 2);
    t.is(bad.stderr, 'layerfs: --tls-verify must be true or false, got "maybe"\n');
  },
);

rtest('issue 12: tag of a docker:// image pulls it with the global registry options (--creds, --tls-verify), then tags it', async (t) => {
  const env = emptyEnv();
  const ref = `docker://${basic.host}/layers:gzip`;
  const state = home();
  const refused = await cli(['--home', state, 'tag', ref, 'mine:v1'], env);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /^layerfs: .*authentication required for scope repository:layers:pull .*no credentials found: use --creds USER:PASS or layerfs login\n$/);
  const r = await cli(['--home', state, 'tag', '--creds', `${USER}:${PASS}`, '--tls-verify=false', ref, 'mine:v1'], env);
  t.is(r.code, 0, r.stderr);
  const images = JSON.parse((await cli(['--home', state, '--json', 'images'], env)).stdout) as Array<{ tags: string[] }>;
  t.is(images.length, 1);
  t.deepEqual([...images[0]!.tags].sort(), [`${basic.host}/layers:gzip`, 'localhost/mine:v1'].sort(), 'the pulled tag and the new one, on one image');
  const cat = await cli(['--home', state, 'run', '--rm', 'mine:v1', '-c', 'cat /etc/motd'], env);
  t.is(sha256(cat.stdout), motdSha(), "the tagged image is the registry's");
});

rtest('issue 12: run --help and create --help show the registry options (global options) and that IMAGE may be docker://', async (t) => {
  for (const command of ['run', 'create']) {
    const r = await cli([command, '--help'], {});
    t.is(r.code, 0);
    t.regex(r.stdout, /docker:\/\/HOST/, `${command} --help: IMAGE may be a registry reference`);
    const global = r.stdout.slice(r.stdout.indexOf('Global Options:'));
    t.true(r.stdout.includes('Global Options:'), `${command} --help lists the global options`);
    for (const option of ['--creds <user:pass>', '--tls-verify <bool>', '--platform']) t.true(global.includes(option), `${command} --help: ${option} among the global options`);
  }
});
