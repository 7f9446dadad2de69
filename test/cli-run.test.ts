/**
 * `layerfs run`, its shell and the lifecycle verbs, through the command line (runCli, in-process:
 * the bin's code) in runs that share one --home, with the shell driven through stdin or -c.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { layerfsHere } from './helpers/cli.js';

const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `layerfs --home HOME ARGS...` with INPUT on stdin, run in-process (helpers/cli.ts layerfsHere). */
function layerfs(home: string, args: string[], input = ''): Promise<Result> {
  return layerfsHere(['--home', home, ...args], { input });
}

async function home(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'layerfs-cli-run-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const json = <T>(r: Result): T => JSON.parse(r.stdout) as T;

test('the shell reads commands from stdin: every command, errors go on, copy-ups reported', async (t) => {
  const h = await home(t);
  const script =
    [
      'ls /',
      'ls -l /usr/lib',
      'cat /etc/motd',
      'echo hello "quoted world" > /hello',
      "echo 'more' >> /hello",
      'cat /hello',
      'echo to stdout',
      'where /etc/motd',
      'echo appended >> /etc/motd',
      'where /etc/motd',
      'rm /nope',
      'mkdir /d',
      'mkdir /a/b',
      'mkdir -p /a/b/c',
      'rm /a',
      'rm -r /a',
      'cp /etc/os-release /d/os',
      'mv /d/os /d/os2',
      'ln -s /etc/motd /d/motd-link',
      'ln /hello /d/hello-hard',
      'chmod 600 /d/os2',
      'chmod bogus /d/os2',
      'stat /d/os2',
      'ls -l /d',
      'nosuchcommand',
      'echo "unterminated',
      'where /srv/www/index.html',
      'where /d/os2',
      'cd /d; pwd; ls',
    ].join('\n') + '\n';
  const r = await layerfs(h, ['run', '--name', 'sh1', SAMPLE], script);
  t.is(r.code, 0, r.stderr);
  const out = r.stdout;
  t.regex(out, /^etc\nsrv\ntmp\nusr\nvar\n/);
  t.regex(out, /-rw-r--r-- +1 0 0 +1048576 libbig\.so\n/);
  t.regex(out, /lrwxrwxrwx .* libbig\.so\.1 -> libbig\.so\n/);
  t.true(out.includes('Welcome to the sample image, configured.\n'));
  t.true(out.includes('hello quoted world\nmore\n'));
  t.true(out.includes('to stdout\n'));
  // where before and after the copy-up of /etc/motd (41 bytes, in the image's second layer).
  t.true(out.includes('/etc/motd: image layer 2 (read-only; a write copies it up first: 41 B)\n'));
  t.true(out.includes('/etc/motd: container layer (copied up from image layer 2, 41 B copied)\n'));
  t.regex(r.stderr, /copied up \/etc from image layer 2 \(directory, no data\)\ncopied up \/etc\/motd from image layer 2 \(41 B\)\n/);
  t.true(out.includes('/srv/www/index.html: volume '));
  t.true(out.includes('/d/os2: container layer (new, not in the image)\n'));
  t.regex(out, /Mode: \(0600\/-rw-------\)/);
  t.regex(out, /lrwxrwxrwx .* motd-link -> \/etc\/motd\n/);
  t.regex(out, /-rw-r--r-- +2 0 0 .* hello-hard\n/);
  t.true(out.includes('/d\nhello-hard\nmotd-link\nos2\n'));
  // Errors print one line like a shell and the session goes on.
  t.true(r.stderr.includes('rm: /nope: ENOENT: no such file or directory\n'));
  t.true(r.stderr.includes('mkdir: /a/b: ENOENT: no such file or directory\n'));
  t.true(r.stderr.includes('rm: /a: is a directory (use rm -r)\n'));
  t.true(r.stderr.includes('chmod: invalid mode: bogus'));
  t.true(r.stderr.includes('nosuchcommand: command not found'));
  t.true(r.stderr.includes('syntax error: unterminated quote'));

  // The layer was saved on exit: a new shell on the same container (start) sees it.
  const again = await layerfs(h, ['start', 'sh1', '-c', 'cat /hello; cat /etc/motd; ls /a']);
  t.is(again.code, 1);
  t.true(again.stdout.startsWith('hello quoted world\nmore\nWelcome to the sample image, configured.\nappended\n'));
  t.is(again.stderr, 'ls: /a: ENOENT: no such file or directory\n');
});

test('-c runs a script; exit sets the status and stops it; the last status is the exit code', async (t) => {
  const h = await home(t);
  const ok = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'echo a; echo b > /x; cat /x']);
  t.is(ok.code, 0);
  t.is(ok.stdout, 'a\nb\n');
  const ex = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'echo a; exit 3; echo never']);
  t.is(ex.code, 3);
  t.is(ex.stdout, 'a\n');
  const failed = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'cat /missing']);
  t.is(failed.code, 1);
  t.is(failed.stderr, 'cat: /missing: ENOENT: no such file or directory\n');
  // --rm took the containers and their anonymous volumes with them.
  t.deepEqual(json(await layerfs(h, ['--json', 'ps', '-a'])), []);
  t.deepEqual(json(await layerfs(h, ['--json', 'volume', 'ls'])), []);
});

test('persistence across processes: volumes outlive containers, layers go with them, commit keeps the layer', async (t) => {
  const h = await home(t);
  const first = await layerfs(h, ['run', '--name', 'web', '-v', 'site:/srv/www', SAMPLE, '-c', 'echo in-volume > /srv/www/visits; echo in-layer > /etc/note; cat /srv/www/index.html']);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout, '<h1>seeded from the image</h1>\n'); // the empty named volume was seeded (DKR-2)

  const diff = await layerfs(h, ['--json', 'diff', 'web']);
  t.deepEqual(json(diff), [
    { kind: 'C', path: '/etc' },
    { kind: 'A', path: '/etc/note' },
  ]);
  t.is((await layerfs(h, ['diff', 'web'])).stdout, 'C /etc\nA /etc/note\n');

  const commit = await layerfs(h, ['commit', 'web', 'localhost/web:v2']);
  t.is(commit.code, 0, commit.stderr);
  t.regex(commit.stdout, /^sha256:[0-9a-f]{64}\n$/);
  const images = json<Array<{ tags: string[] }>>(await layerfs(h, ['--json', 'images']));
  t.deepEqual(images.flatMap((i) => i.tags).sort(), ['localhost/layerfs-sample:latest', 'localhost/web:v2']);

  t.is((await layerfs(h, ['rm', 'web'])).stdout, 'web\n');
  t.deepEqual(json(await layerfs(h, ['--json', 'ps', '-a'])), []);

  // A new container of the same image with the same volume: the volume data is there, the layer's not.
  const second = await layerfs(h, ['run', '--rm', '-v', 'site:/srv/www', 'localhost/layerfs-sample:latest', '-c', 'cat /srv/www/visits; cat /etc/note']);
  t.is(second.stdout, 'in-volume\n');
  t.is(second.stderr, 'cat: /etc/note: ENOENT: no such file or directory\n');

  // The committed image: the layer data is there, the volume data is not (a fresh anonymous volume).
  const third = await layerfs(h, ['run', '--rm', 'localhost/web:v2', '-c', 'cat /etc/note; ls /srv/www; cat /srv/www/visits']);
  t.is(third.stdout, 'in-layer\nassets\nindex.html\n');
  t.is(third.stderr, 'cat: /srv/www/visits: ENOENT: no such file or directory\n');

  // The named volume stays (--rm only takes anonymous ones); prune -a removes it once unused.
  const vols = json<Array<{ name: string; anonymous: boolean; usedBy: string[] }>>(await layerfs(h, ['--json', 'volume', 'ls']));
  t.deepEqual(
    vols.map((v) => [v.name, v.anonymous, v.usedBy]),
    [['site', false, []]],
  );
  const inspect = json<Array<{ name: string; mountpoint: string }>>(await layerfs(h, ['volume', 'inspect', 'site']));
  t.is(await readFile(join(inspect[0]!.mountpoint, 'visits'), 'utf8'), 'in-volume\n');
  t.is((await layerfs(h, ['volume', 'prune'])).stdout, 'No volumes to remove\n');
  t.is((await layerfs(h, ['volume', 'prune', '-a'])).stdout, 'Deleted volumes:\nsite\n');
});

test('ps, rm -v, volume rm, binds, tmpfs, --read-only, --volumes-from, commit -o', async (t) => {
  const h = await home(t);
  const hostDir = join(h, 'host');
  const a = await layerfs(h, [
    'run',
    '--name',
    'a',
    '-v',
    `${hostDir}:/host`,
    '--tmpfs',
    '/scratch',
    '--mount',
    'type=volume,source=data,target=/data',
    SAMPLE,
    '-c',
    'echo from-container > /host/file; echo gone > /scratch/t; echo kept > /data/k; where /host/file /scratch/t /data/k',
  ]);
  t.is(a.code, 0, a.stderr);
  t.true(existsSync(join(hostDir, 'file')));
  t.regex(a.stdout, /\/host\/file: bind mount of host .*\/host at \/host/);
  t.regex(a.stdout, /\/scratch\/t: tmpfs at \/scratch/);
  t.regex(a.stdout, /\/data\/k: volume data mounted at \/data/);

  const ps = json<Array<{ name: string; state: string; status: string; mounts: Array<{ type: string; target: string }> }>>(await layerfs(h, ['--json', 'ps', '-a']));
  t.is(ps.length, 1);
  t.is(ps[0]!.state, 'exited');
  t.is(ps[0]!.status, 'Exited (0)');
  t.deepEqual(ps[0]!.mounts.map((m) => `${m.type}:${m.target}`).sort(), ['bind:/host', 'tmpfs:/scratch', 'volume:/data', 'volume:/srv/www']);
  t.deepEqual(json(await layerfs(h, ['--json', 'ps'])), []); // none running
  t.regex((await layerfs(h, ['ps', '-a'])).stdout, /^CONTAINER ID +IMAGE +CREATED +STATUS +MOUNTS +NAME\n[0-9a-f]{12} +localhost\/layerfs-sample:latest .*Exited \(0\).* a\n$/);

  // tmpfs content is gone; --volumes-from shares the volumes read-only; --read-only root refuses writes.
  const b = await layerfs(h, ['run', '--rm', '--read-only', '--volumes-from', 'a:ro', SAMPLE, '-c', 'cat /data/k; ls /scratch; echo x > /data/y; echo x > /etc/z; cat /host/file']);
  t.is(b.stdout, 'kept\nfrom-container\n');
  t.regex(b.stderr, /^ls: \/scratch: ENOENT.*\necho: \/data\/y: EROFS: read-only file system\necho: \/etc\/z: EROFS: read-only file system\n$/);
  const c = await layerfs(h, ['start', 'a', '-c', 'ls /scratch']);
  t.is(c.stdout, '');

  // volume rm is refused while used; rm -v takes the anonymous volume, never the named one.
  const refused = await layerfs(h, ['volume', 'rm', 'data']);
  t.is(refused.code, 2); // DKR-20: podman's code for a volume in use
  t.regex(refused.stderr, /^layerfs: .*is used by container .*\(a\)\n$/);
  const out = join(h, 'a.tar');
  const commit = await layerfs(h, ['commit', 'a', 'localhost/a:1', '-o', out, '--format', 'oci-archive']);
  t.is(commit.code, 0, commit.stderr);
  t.true(existsSync(out));
  t.is((await layerfs(h, ['rm', '-v', 'a'])).code, 0);
  const vols = json<Array<{ name: string }>>(await layerfs(h, ['--json', 'volume', 'ls']));
  t.deepEqual(
    vols.map((v) => v.name),
    ['data'],
  );
  t.deepEqual((await layerfs(h, ['volume', 'rm', 'data'])).stdout, 'data\n');
  // The written archive loads (in another home) as an image with the tag.
  const h2 = await home(t);
  const load = await layerfs(h2, ['load', out]);
  t.is(load.stdout, 'Loaded image: localhost/a:1\n');
  const images = await layerfs(h2, ['images']);
  t.regex(images.stdout, /^TAG +IMAGE ID +CREATED +SIZE +FORMAT\nlocalhost\/a:1 +[0-9a-f]{12} .* oci-archive\n$/);
});

test('usage errors exit 2, runtime errors exit 1 with one line', async (t) => {
  const h = await home(t);
  const usage = [
    ['run'],
    ['run', '-v', 'relative', SAMPLE],
    ['run', '-v', 'a:b:c:d', SAMPLE],
    ['run', '-v', 'vol:/x:bogus', SAMPLE],
    ['run', '--mount', 'type=nfs,target=/x', SAMPLE],
    ['run', '--mount', 'type=bind,target=/x', SAMPLE],
    ['run', '--volumes-from', 'c:rx', SAMPLE],
    ['commit', 'c', 't', '--format', 'zip'],
    ['ps', '--bogus'],
    ['volume', 'rm'],
  ];
  for (const args of usage) {
    const r = await layerfs(h, args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  // A usage error leaves nothing behind.
  t.deepEqual(json(await layerfs(h, ['--json', 'ps', '-a'])), []);
  const runtime = [
    ['run', 'no/such:image'],
    ['start', 'nope'],
    ['rm', 'nope'],
    ['diff', 'nope'],
    ['commit', 'nope', 'x:1'],
    ['volume', 'inspect', 'nope'],
    ['load', join(h, 'missing.tar')],
    ['run', '--mount', `type=bind,source=${join(h, 'missing')},target=/x`, SAMPLE],
  ];
  for (const args of runtime) {
    const r = await layerfs(h, args);
    t.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /^layerfs: [^\n]+\n$/, args.join(' '));
  }
  const help = await layerfs(h, ['run', '--help']);
  t.is(help.code, 0);
  t.true(help.stdout.includes('--volumes-from'));
});
