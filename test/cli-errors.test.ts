/**
 * "Errors a person can act on" and a command line that behaves in pipes, through the real command
 * (bin/layerfs.js): one line naming the user's argument, exit codes scripts can tell apart, one
 * line and the help hint for an unknown option or command; output into a closed pipe ends
 * quietly (and `--rm` still cleans up); `demo` on a given home, any number of times, leaves it as
 * it was; `--help` loads no engine or image code.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';

const BIN = new URL('../bin/layerfs.js', import.meta.url).pathname;
const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;
const TRACE = new URL('./helpers/trace-imports.mjs', import.meta.url).pathname;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function layerfs(home: string, args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...(home ? ['--home', home] : []), ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

async function home(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'layerfs-errors-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** `sh -c 'layerfs … | head …'` with pipefail: the real closed pipe. */
function piped(h: string, args: string, head: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${BIN}" --home "${h}" ${args} | ${head}`], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const oneLine = (s: string) => s.trimEnd().split('\n').length === 1;

test('CLI-errors: a missing archive path says the file does not exist; an unknown tag says no image has it', async (t) => {
  const h = await home(t);
  for (const args of [
    ['run', '/no/such/image.tar'],
    ['cat', './missing.tar', '/x'],
    ['load', '/no/such/image.tar'],
  ]) {
    const r = await layerfs(h, args);
    t.is(r.code, 1, args.join(' '));
    t.true(oneLine(r.stderr), r.stderr);
    t.regex(r.stderr, new RegExp(`^layerfs: ${args[1]!.replace(/[./]/g, '\\$&')}: .*(no such file|ENOENT)`), r.stderr);
    t.notRegex(r.stderr, /no image has the id/);
  }
  const tag = await layerfs(h, ['cat', 'nosuchtag', '/x']);
  t.is(tag.stderr, 'layerfs: no image has the id, tag or id prefix "nosuchtag"\n');
});

test("CLI-errors: a taken name names the name, not the record's path; a bad name is a usage error (2) with the rule", async (t) => {
  const h = await home(t);
  t.is((await layerfs(h, ['run', '--name', 'web', SAMPLE, '-c', 'echo'])).code, 0);
  const taken = await layerfs(h, ['run', '--name', 'web', SAMPLE, '-c', 'echo']);
  t.is(taken.code, 1);
  t.regex(taken.stderr, /^layerfs: the name "web" is taken by container [0-9a-f]{12}\n$/);
  const bad = await layerfs(h, ['run', '--name', 'bad/name', SAMPLE, '-c', 'echo']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^layerfs: container name "bad\/name" contains a path separator \(a name is letters, digits/);
  t.true(oneLine(bad.stderr));
  // Nothing was left by the refused runs: one container, its one anonymous volume.
  t.is(readdirSync(join(h, 'containers')).length, 1);
  t.is(readdirSync(join(h, 'volumes')).length, 1);
});

test('CLI-errors: cat of a directory or a missing path names the path', async (t) => {
  const h = await home(t);
  const dir = await layerfs(h, ['cat', SAMPLE, '/etc']);
  t.is(dir.code, 1);
  t.is(dir.stderr, 'layerfs: /etc: is a directory (EISDIR)\n');
  const missing = await layerfs(h, ['cat', SAMPLE, '/nope']);
  t.is(missing.stderr, 'layerfs: /nope: no such file or directory (ENOENT)\n');
});

test('CLI-errors: bad -v/--mount specs are usage errors (exit 2) with a hint, and create nothing', async (t) => {
  const h = await home(t);
  const cases: Array<[string[], RegExp]> = [
    [['-v', 'data/x:/x'], /^layerfs: -v data\/x:\/x: "data\/x" is not a volume name .*use an absolute path \(or \.\/\) for a host directory\n$/],
    [['-v', 'vol:/'], /^layerfs: -v vol:\/: cannot mount over \/ /],
    [['-v', '/tmp:rel'], /^layerfs: -v \/tmp:rel: expected SRC:DST\[:OPTIONS\] with DST an absolute path\n$/],
    [['-v', 'vol:/a/../b'], /^layerfs: -v vol:\/a\/\.\.\/b: a mount target may not contain '\.\.'/],
    [['--mount', 'type=bind,target=/x'], /^layerfs: --mount type=bind,target=\/x: a bind needs source=HOST_PATH\n$/],
    [['--mount', 'type=volume,source=a/b,target=/x'], /is not a volume name/],
    [['--tmpfs', '/'], /^layerfs: --tmpfs \/: cannot mount over \//],
  ];
  for (const [flags, message] of cases) {
    const r = await layerfs(h, ['run', ...flags, SAMPLE, '-c', 'echo']);
    t.is(r.code, 2, flags.join(' '));
    t.regex(r.stderr, message);
  }
  const volumes = join(h, 'volumes');
  t.deepEqual(existsSync(volumes) ? readdirSync(volumes) : [], [], 'no volume made (the state is not even opened)');
});

test('CLI-errors: an unknown option or command prints one line and the help hint, not the whole help', async (t) => {
  const h = await home(t);
  const opt = await layerfs(h, ['run', '--bogus', SAMPLE]);
  t.is(opt.code, 2);
  t.is(opt.stderr, "layerfs: unknown option '--bogus'\nSee 'layerfs run --help'.\n");
  const cmd = await layerfs(h, ['bogus']);
  t.is(cmd.code, 2);
  t.is(cmd.stderr, "layerfs: unknown command 'bogus'\nSee 'layerfs --help'.\n");
  const sub = await layerfs(h, ['volume', 'rm']);
  t.is(sub.code, 2);
  t.is(sub.stderr, "layerfs: missing required argument 'name'\nSee 'layerfs volume rm --help'.\n");
  t.is(opt.stdout + cmd.stdout + sub.stdout, '');
});

test('CLI-errors: output into a closed pipe ends quietly: cat | head -c, demo | head, run -c | head -1; --rm still cleans up', async (t) => {
  const h = await home(t);
  const cat = piped(h, `cat ${SAMPLE} /usr/lib/libbig.so`, 'head -c 10 | wc -c');
  t.is(cat.status, 0, cat.stderr);
  t.is(cat.stdout.trim(), '10');
  t.is(cat.stderr, '');
  const demo = piped(h, 'demo', 'head -3');
  t.is(demo.status, 0, demo.stderr);
  t.is(demo.stdout.split('\n').length, 4);
  t.is(demo.stderr, '');
  // 2,000 lines of output into a pipe that closes after one.
  const run = piped(h, `run --rm --name piped -v /data ${SAMPLE} -c "${'ls -l /usr/lib; '.repeat(400)}"`, 'head -1');
  t.is(run.status, 0, run.stderr);
  t.is(run.stdout.split('\n').length, 2);
  t.notRegex(run.stderr, /EPIPE|\n\s+at /);
  t.deepEqual(readdirSync(join(h, 'containers')), [], '--rm removed the container');
  t.deepEqual(readdirSync(join(h, 'volumes')), [], '--rm removed its anonymous volumes');
});

test('CLI-errors: demo runs any number of times on one home (--home or LAYERFS_HOME) and leaves it as it was', async (t) => {
  const h = await home(t);
  t.is((await layerfs(h, ['run', '--name', 'mine', SAMPLE, '-c', 'echo mine > /mine'])).code, 0);
  const before = (await layerfs(h, ['--json', 'ps', '-a'])).stdout;
  const volumes = (await layerfs(h, ['--json', 'volume', 'ls'])).stdout;
  for (const how of ['--home', 'LAYERFS_HOME', '--home']) {
    const r = how === '--home' ? await layerfs(h, ['demo']) : await layerfs('', ['demo'], { LAYERFS_HOME: h });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /volume data survives rm/);
  }
  t.is((await layerfs(h, ['--json', 'ps', '-a'])).stdout, before, 'the same containers as before');
  t.is((await layerfs(h, ['--json', 'volume', 'ls'])).stdout, volumes, 'the same volumes as before');
  t.deepEqual(
    JSON.parse((await layerfs(h, ['--json', 'images'])).stdout).map((i: { tags: string[] }) => i.tags),
    [['localhost/layerfs-sample:latest']],
  );
});

test('CLI-7: --help loads no engine, image, union or shell module (command modules import them when they run)', (t) => {
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, '--help'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const loaded = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('import: '))
    .map((l) => l.slice(8));
  t.true(
    loaded.some((u) => u.endsWith('/dist/cli/main.js')),
    'the trace sees the command',
  );
  const heavy = loaded.filter((u) => /\/dist\/(engine\/(engine|state|container)|image|union|layer|view|mounts|explore|cli\/shell)\b/.test(u) || /node_modules\/(memfs|cli-progress|fzstd)/.test(u));
  t.deepEqual(heavy, []);
});

test('CLI-7: an explore command on a stored image loads the state records, not the engine, its mounts or the fs API', async (t) => {
  const h = await home(t);
  t.is((await layerfs(h, ['load', SAMPLE])).code, 0);
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, '--home', h, 'ls', 'localhost/layerfs-sample:latest', '/etc'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /os-release/);
  const loaded = r.stderr
    .split('\n')
    .filter((l) => l.startsWith('import: '))
    .map((l) => l.slice(8));
  t.true(loaded.some((u) => u.endsWith('/dist/engine/state.js')) && loaded.some((u) => u.endsWith('/dist/explore/stack.js')), 'the trace sees the store and the listing');
  const heavy = loaded.filter((u) => /\/dist\/(engine\/(engine|container)|union|view|mounts|fs|cli\/shell)\b/.test(u) || /node_modules\/(memfs|cli-progress|undici|fastify)/.test(u));
  t.deepEqual(heavy, []);
});

test('CLI-errors: a host file over an image directory is refused as runc refuses it (exit 126), leaving nothing', async (t) => {
  const h = await home(t);
  const file = join(h, 'somefile');
  writeFileSync(file, 'hi\n');
  const r = await layerfs(h, ['run', '-v', 'first:/data', '-v', `${file}:/etc`, SAMPLE, '-c', 'echo']);
  t.is(r.code, 126);
  t.is(
    r.stderr,
    `layerfs: cannot mount ${file} over /etc: a file over a directory of image localhost/layerfs-sample:latest (not a directory; are you trying to mount a directory onto a file, or the other way round?)\n`,
  );
  t.false(existsSync(join(h, 'volumes', 'first')), 'the volume of the mount before it was not made');
  t.deepEqual(readdirSync(join(h, 'containers')), []);
});
