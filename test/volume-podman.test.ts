/**
 * Volumes exactly as podman does them: each rule is run on real podman (4.3, runc) with the
 * fixture image `volumes` (test/helpers/fixtures.ts: /cache 0755 999:999 with db.bin, /srv/www/sub
 * 0750 1000:1000, VOLUME /not-in-image), then on layerfs, and layerfs must answer as podman did.
 * `podman init` mounts a container without running anything (the image has no binary to run).
 * Without podman (or root) the suite fails when CI=true and skips loudly elsewhere.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Engine } from '../src/engine/engine.js';
import { FIXTURES } from './helpers/fixtures.js';
import { podmanStore } from './helpers/podman.js';

const ARCHIVE = join(FIXTURES, 'volumes', 'docker-archive.tar');
const BIN = new URL('../bin/layerfs.js', import.meta.url).pathname;
const RUN = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const TAG = 'localhost/volumes:latest';
const ID = randomBytes(3).toString('hex');
const name = (n: string) => `lfs-${ID}-${n}`;

function podman(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('podman', [...podmanStore(), '--runtime', 'runc', ...args], { encoding: 'utf8', timeout: 120_000 });
    const out = {
      status: r.status,
      stdout: r.stdout ?? '',
      stderr: (r.stderr ?? '')
        .split('\n')
        .filter((l) => !l.includes('level='))
        .join('\n'),
    };
    // Other podman users on the machine can hold its locks for a moment: try again then.
    if (attempt < 4 && out.status !== 0 && /lock|database is locked|timed out/i.test(out.stderr)) continue;
    return out;
  }
}

const available = process.getuid?.() === 0 && spawnSync('podman', ['--version']).status === 0 && podman('load', '-i', ARCHIVE).status === 0;

function needPodman(t: ExecutionContext): boolean {
  if (available) return true;
  if (process.env.CI === 'true') t.fail('podman (as root, with runc) is needed for the podman volume rules: add podman and runc to .ci/run');
  else {
    t.log('SKIPPED: no podman as root here; these rules were not checked against podman');
    t.pass();
  }
  return false;
}

const made = { containers: [] as string[], volumes: [] as string[] };
test.after.always(() => {
  if (!available) return;
  for (const c of made.containers) podman('rm', '-f', c);
  for (const v of made.volumes) podman('volume', 'rm', '-f', v);
});

function pcreate(container: string, ...mounts: string[]): void {
  made.containers.push(container);
  const r = podman('create', ...RUN, '--name', container, ...mounts.flatMap((m) => ['-v', m]), TAG);
  if (r.status !== 0) throw new Error(`podman create ${container} exited ${r.status}: ${r.stderr}`);
}
/** Mounts the container: `podman init` gets as far as runc's exec of the missing /bin/app (mounts made). */
function pinit(container: string): void {
  const r = podman('init', container);
  if (!r.stderr.includes('/bin/app')) throw new Error(`podman init ${container} did not get to the mounts (exit ${r.status}): ${r.stderr}`);
}
function pvolume(v: string): string {
  made.volumes.push(v);
  podman('volume', 'create', v);
  return podman('volume', 'inspect', v, '--format', '{{.Mountpoint}}').stdout.trim();
}
/** Owner and mode of a directory, with its entries: what the rules compare. */
function look(dir: string): { mode: string; owner: string; entries: string[] } {
  const st = statSync(dir);
  return { mode: (st.mode & 0o7777).toString(8), owner: `${st.uid}:${st.gid}`, entries: readdirSync(dir).sort() };
}

async function engine(t: ExecutionContext): Promise<Engine> {
  const home = mkdtempSync(join(tmpdir(), 'layerfs-vol-podman-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  return Engine.open({ home });
}

test.serial("DKR-17 a volume's root takes the owner and mode of the image directory at its first mount (not at create); a later mount elsewhere changes neither", async (t) => {
  if (!needPodman(t)) return;
  const v = name('v1');
  const data = pvolume(v);
  const fresh = look(data);
  pcreate(name('c1'), `${v}:/srv/www/sub`);
  const afterCreate = look(data);
  pinit(name('c1'));
  const first = look(data);
  pcreate(name('c2'), `${v}:/cache`);
  pinit(name('c2'));
  const later = look(data);

  const e = await engine(t);
  await e.state.putVolume({ name: 'v1', anonymous: false, created: new Date().toISOString(), labels: {} });
  const ldata = e.state.volumeData('v1');
  t.deepEqual(look(ldata), fresh, 'a new volume');
  const c1 = await e.create(ARCHIVE, { mounts: [{ type: 'volume', source: 'v1', target: '/srv/www/sub' }] });
  t.deepEqual(look(ldata), afterCreate, 'create does not mount');
  (await e.open(c1.id)).dispose();
  t.deepEqual(look(ldata), first, 'the first mount');
  (await e.open((await e.create(ARCHIVE, { mounts: [{ type: 'volume', source: 'v1', target: '/cache' }] })).id)).dispose();
  t.deepEqual(look(ldata), later, 'a later mount over another directory');
  t.deepEqual(first, { mode: '750', owner: '1000:1000', entries: ['nested.txt'] }, 'what podman did');
});

test.serial("DKR-17 with nocopy (nothing copied) the root still takes the image directory's owner and mode; a later mount without nocopy copies but keeps them", async (t) => {
  if (!needPodman(t)) return;
  const v = name('v2');
  const data = pvolume(v);
  pcreate(name('c3'), `${v}:/cache:nocopy`);
  pinit(name('c3'));
  const first = look(data);
  pcreate(name('c4'), `${v}:/srv/www`);
  pinit(name('c4'));
  const later = look(data);

  const e = await engine(t);
  const ldata = () => e.state.volumeData('v2');
  (await e.open((await e.create(ARCHIVE, { mounts: [{ type: 'volume', source: 'v2', target: '/cache', noCopy: true }] })).id)).dispose();
  t.deepEqual(look(ldata()), first, 'the first mount, nocopy');
  (await e.open((await e.create(ARCHIVE, { mounts: [{ type: 'volume', source: 'v2', target: '/srv/www' }] })).id)).dispose();
  t.deepEqual(look(ldata()), later, 'a later mount over /srv/www');
  t.deepEqual(first, { mode: '755', owner: '999:999', entries: [] }, 'what podman did');
});

test.serial('DKR-18 mount points missing from the image are made in the container layer at the start: diff of a created container is empty', async (t) => {
  if (!needPodman(t)) return;
  const c = name('c5');
  made.volumes.push(name('v5'));
  pcreate(c, `${name('v5')}:/newdir/deep`);
  const created = podman('diff', c);
  t.is(created.status, 0, created.stderr);
  pinit(c);
  const started = podman('diff', c).stdout.split('\n').filter(Boolean);

  const e = await engine(t);
  const rec = await e.create(ARCHIVE, { mounts: [{ type: 'volume', target: '/newdir/deep' }] });
  const look1 = await e.open(rec.id, { start: false });
  t.deepEqual(
    look1.view.diff().map((d) => `${d.kind} ${d.path}`),
    created.stdout.split('\n').filter(Boolean),
    'created, never started',
  );
  look1.dispose();
  const ran = await e.open(rec.id);
  await ran.close();
  const after = await e.open(rec.id, { start: false });
  const ours = after.view.diff().map((d) => `${d.kind} ${d.path}`);
  after.dispose();
  // podman also writes /etc (hosts, resolv.conf) and makes WorkingDir: the mount points must agree.
  t.deepEqual(
    ours,
    started.filter((l) => /^A \/(newdir|not-in-image)/.test(l)),
  );
  t.deepEqual(ours, ['A /newdir', 'A /newdir/deep', 'A /not-in-image']);
});

test.serial('DKR-19 a create that is refused leaves nothing behind: no volume is made before every mount is checked', async (t) => {
  if (!needPodman(t)) return;
  const v = name('v6');
  made.volumes.push(v);
  made.containers.push(name('c6'));
  const r = podman('create', ...RUN, '--name', name('c6'), '-v', `${v}:/data`, '--mount', 'type=bind,source=/nonexistent-layerfs,target=/x', TAG);
  t.is(r.status, 125, r.stderr);
  t.false(podman('volume', 'ls', '--format', '{{.Name}}').stdout.split('\n').includes(v), 'podman made no volume');

  const e = await engine(t);
  await t.throwsAsync(
    e.create(ARCHIVE, {
      mounts: [
        { type: 'volume', source: 'v6', target: '/data' },
        { type: 'bind', source: '/nonexistent-layerfs', target: '/x' },
      ],
    }),
    { message: /bind source path does not exist/ },
  );
  await t.throwsAsync(
    e.create(ARCHIVE, {
      mounts: [
        { type: 'volume', source: 'v6', target: '/data' },
        { type: 'volume', target: '/etc/app.conf' },
      ],
    }),
    { message: /not a directory/ },
  );
  t.deepEqual(await e.volumes(), [], 'no named or anonymous volume');
  t.deepEqual(await e.state.listContainers(), []);
});

test.serial('DKR-20 exit codes: volume rm of a volume in use exits 2, of a missing one 1; a run whose mount runc refuses exits 126', async (t) => {
  if (!needPodman(t)) return;
  const v = name('v7');
  pvolume(v);
  pcreate(name('c7'), `${v}:/data`);
  const inUse = podman('volume', 'rm', v).status;
  const missing = podman('volume', 'rm', name('nope')).status;
  const refused = podman('run', ...RUN, '--rm', '-v', `${name('v8')}:/etc/app.conf`, TAG).status;
  made.volumes.push(name('v8'));

  const home = mkdtempSync(join(tmpdir(), 'layerfs-vol-codes-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, '--home', home, ...args], { encoding: 'utf8', input: '' });
  t.is(cli('run', '--name', 'c7', '-v', 'v7:/data', ARCHIVE, '-c', 'echo').status, 0);
  const rm = cli('volume', 'rm', 'v7');
  t.is(rm.status, inUse, rm.stderr);
  t.regex(rm.stderr, /^layerfs: volume v7 is used by container [0-9a-f]{12} \(c7\)\n$/);
  const gone = cli('volume', 'rm', 'nope');
  t.is(gone.status, missing);
  t.is(gone.stderr, 'layerfs: no such volume: nope\n');
  const run = cli('run', '--rm', '-v', 'v8:/etc/app.conf', ARCHIVE, '-c', 'echo');
  t.is(run.status, refused, run.stderr);
  t.is(run.stderr, 'layerfs: cannot mount a volume over /etc/app.conf: it is not a directory in image localhost/volumes:latest\n');
  t.false(existsSync(join(home, 'volumes', 'v8')));
  t.deepEqual([inUse, missing, refused], [2, 1, 126], "podman 4.3's codes");
});
