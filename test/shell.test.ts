/**
 * The shell of `layerfs run`/`start` (src/cli/shell/), through the real command: lists, statuses,
 * variables, globs, pipes and text filters checked against bash and GNU coreutils running the same
 * script in a host directory; the image's WorkingDir and Env against the image's config JSON as
 * GNU tar extracts it; refused shell forms; explanations against the layer a commit writes (GNU tar
 * lists its whiteouts) and the image's layers (GNU tar lists which holds a file).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { Session } from '../src/cli/shell/session.js';
import { Engine } from '../src/engine/engine.js';
import { json, layerfs, SAMPLE, tempDir } from './helpers/cli.js';

/** bash running `script` in a fresh directory: its stdout and status. */
function bash(dir: string, script: string): { code: number; stdout: string } {
  const cwd = mkdtempSync(join(dir, 'bash-'));
  try {
    return { code: 0, stdout: execFileSync('bash', ['-c', script], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } }) };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, stdout: err.stdout };
  }
}

const SCRIPTS = [
  'false && echo x; echo $?',
  'true && echo a || echo b; echo $?',
  'false || echo b && echo c; echo $?',
  'false; echo $?; true; echo $?; false || false; echo $?',
  'echo "a b"  \'c  d\' e\\ f "x\\"y" \'$HOME\'; echo $?',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell input: ${A} is the shell's expansion
  'A=1; echo $A "$A" \'$A\' ${A}x; export A=2; echo $A; unset A; echo "[$A]"; echo [$NOPE]',
  'echo x | grep -c x; echo $?; echo x | grep y; echo $?; echo x | grep -q x && echo found',
  'mkdir g; touch g/a1 g/b2 g/.h g/c; echo g/*; echo g/?1; echo g/[ab]*; echo g/[!a]*; echo \'g/*\' "g/*" g/\\*; echo g/nomatch*; echo */a1',
  'echo "a b" > f; echo c >> f; echo "d e f" >> f; wc f; wc -l f; cat f | wc; cat f | wc -l; wc -c f f; cat f | wc -w f -',
  'echo "a b" > f; echo c >> f; echo "d e f" >> f; head -n 2 f; tail -n 1 f; tail -n +2 f; head -c 3 f; echo; head -n 1 f f; tail -1 f; cat f | head -n 1',
  'echo "a b" > f; echo c >> f; echo "d e f" >> f; grep -n e f; grep -c "^[ac]" f; grep -v a f; grep -i A f; grep e f f; grep -l c f; grep zz f; echo $?',
  'cat nosuch; echo $?; rm nosuch; echo $?; rm -f nosuch; echo $?; exit 4',
  'mkdir -p d/e; touch d/e/x d/y; cp -r d d2; find d2 -name x; find d2 -type f -name y; find d2 -maxdepth 0; cp d d3; echo $?; cat d2/e/x; echo $?',
  'echo one; exit 3; echo never',
];

/** A sink that keeps what is written to it. */
function sink(): { stream: NodeJS.WritableStream; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(Buffer.from(c));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

test('shell: lists, $?, quotes, variables, globs, pipes, wc/head/tail/grep/find/cp -r print and exit as bash with GNU tools does', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  // In-process (the Session the command runs), one container, each script in a directory of its own.
  const engine = await Engine.open({ home: h });
  const rec = await engine.create(SAMPLE);
  const c = await engine.open(rec.id);
  try {
    for (const [i, script] of SCRIPTS.entries()) {
      const want = bash(h, script);
      const out = sink();
      const err = sink();
      const session = new Session(c, { stdout: out.stream, stderr: err.stream });
      session.runLine(`mkdir -p /tmp/s${i}; cd /tmp/s${i}; ${script}`);
      t.is(out.text(), want.stdout, `stdout of: ${script}\n${err.text()}`);
      t.is(session.status, want.code, `status of: ${script}\n${err.text()}`);
    }
  } finally {
    c.dispose();
  }
});

test("shell: starts in the image's WorkingDir with the image's Env as exported variables", async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  // The image's config as GNU tar extracts it from the archive.
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', SAMPLE, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Config: string }>;
  const config = JSON.parse(execFileSync('tar', ['-xOf', SAMPLE, manifest[0]!.Config], { encoding: 'utf8' })) as { config: { Env: string[]; WorkingDir: string } };
  const r = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'pwd; env; echo "$APP_HOME"']);
  t.is(r.code, 0, r.stderr);
  const app = config.config.Env.find((e) => e.startsWith('APP_HOME='))!.slice('APP_HOME='.length);
  t.is(r.stdout, `${config.config.WorkingDir}\n${[...config.config.Env].sort().join('\n')}\n${app}\n`);
});

test('shell: help and every builtin exit with a number; -c help exits 0', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  const help = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'help']);
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /^commands/);
  const r = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'help > /tmp/h; echo $?; pwd > /tmp/p; echo $?; env > /tmp/e; echo $?; ls -Z; echo $?; nosuch; echo $?; wc -q; echo $?']);
  t.is(r.stdout, '0\n0\n0\n2\n127\n2\n', r.stderr);
});

test('shell: redirections of other descriptors, input, here documents, & , subshells and substitutions are "not supported", never files', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell input: ${A:-x} is a form the shell refuses
  const forms = ['echo x 2> e', 'echo x 2>&1', 'cat < f', 'cat <<EOF', 'echo a &', 'echo a &> f', '(echo a)', 'echo `ls`', 'echo $(ls)', 'echo a |& cat', 'echo ${A:-x}'];
  const r = await layerfs(h, ['run', '--name', 'refuse', SAMPLE], forms.map((f) => `cd /tmp; ${f}; echo $?`).join('\n') + '\necho status=$?\n');
  t.is(r.stdout, 'status=2\n', 'each line was refused whole; $? is 2');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines.length, forms.length, r.stderr);
  for (const l of lines) t.regex(l, /^layerfs: .* is not supported \(.+\)$/);
  t.deepEqual(json(await layerfs(h, ['--json', 'diff', 'refuse'])), [], 'nothing was written to the container layer');
  const syntax = await layerfs(h, ['run', '--rm', SAMPLE, '-c', 'echo a && && echo b']);
  t.is(syntax.code, 2);
  t.regex(syntax.stderr, /^layerfs: syntax error: && needs a command after it\n$/);
});

/** The entries of the container layer a commit writes (its last layer), as GNU tar lists them. */
async function committedLayer(t: import('ava').ExecutionContext, h: string, container: string): Promise<string[]> {
  const out = join(await tempDir(t), 'c.tar');
  const r = await layerfs(h, ['commit', container, 'localhost/check:1', '-o', out]);
  t.is(r.code, 0, r.stderr);
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Layers: string[] }>;
  const last = manifest[0]!.Layers.at(-1)!;
  return execFileSync('bash', ['-c', `tar -xOf "$1" "$2" | tar -t`, '-', out, last], { encoding: 'utf8' }).trim().split('\n');
}

/** Which layer of the sample image (1 = bottom) last holds `path`, as GNU tar lists the layers. */
function layerHolding(path: string): number {
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', SAMPLE, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Layers: string[] }>;
  let found = 0;
  for (const [i, l] of manifest[0]!.Layers.entries()) {
    const names = execFileSync('bash', ['-c', 'tar -xOf "$1" "$2" | tar -t', '-', SAMPLE, l], { encoding: 'utf8' }).split('\n');
    if (names.includes(path)) found = i + 1;
  }
  return found;
}

test('OVL-10 shell: rm -r of an image directory then mkdir says an opaque directory was made, nothing copied up', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  const layer = layerHolding('var/cache/app/fresh');
  const r = await layerfs(h, ['run', '--name', 'op', SAMPLE, '-c', 'rm -r /var/cache/app; echo ---; mkdir /var/cache/app']);
  t.is(r.code, 0, r.stderr);
  const [rmPart, mkdirPart] = r.stderr.split('---') as [string, string?];
  void rmPart;
  t.is(mkdirPart, undefined, 'the marker went to stdout');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines.at(-1), `opaque directory /var/cache/app: hides the image's directory from layer ${layer} whole (nothing was copied up)`);
  t.regex(lines.at(-2)!, /^whiteout \/var\/cache\/app: hides the image's directory from layer \d \(nothing copied; the \d+ change\(s\) made inside it went with it\)$/);
  // The layer a commit writes holds the opaque marker, as the shell said.
  const entries = await committedLayer(t, h, 'op');
  t.true(entries.includes('var/cache/app/.wh..wh..opq'), entries.join('\n'));
});

test('OVL-9 shell: rm of an image file says a whiteout hides it; where says the same', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  const layer = layerHolding('etc/motd');
  t.is(layer, 2);
  const r = await layerfs(h, ['run', '--name', 'wo', SAMPLE, '-c', 'rm /etc/motd; where /etc/motd']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stderr.includes(`whiteout /etc/motd: hides the image's file from layer ${layer} (nothing copied)\n`), r.stderr);
  t.false(r.stderr.includes('copied up /etc/motd'), 'the file itself is not copied up');
  t.is(r.stdout, `/etc/motd: does not exist: a whiteout in the container layer hides the image's file from layer ${layer}\n`);
  t.true((await committedLayer(t, h, 'wo')).includes('etc/.wh.motd'));
});

test('DKR-2 shell: where of a seeded volume file says which image layer it was copied from at the first mount', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  const layer = layerHolding('srv/www/assets/logo.txt');
  t.true(layer > 0);
  const r = await layerfs(h, [
    'run',
    '--name',
    'v',
    '-v',
    'site:/srv/www',
    SAMPLE,
    '-c',
    'where /srv/www/assets/logo.txt; echo more >> /srv/www/index.html; where index.html; echo n > new; where new',
  ]);
  t.is(r.code, 0, r.stderr);
  const [logo, index, made] = r.stdout.trimEnd().split('\n') as [string, string, string];
  t.regex(
    logo,
    new RegExp(
      `^/srv/www/assets/logo.txt: volume site mounted at /srv/www \\(/assets/logo.txt inside it\\): .*; copied from image layer ${layer} \\(image localhost/layerfs-sample:latest, /srv/www/assets/logo.txt\\) into the volume at its first mount, \\d{4}-\\d\\d-\\d\\dT[^;]*$`,
    ),
  );
  t.regex(index, /copied from image layer \d .* at its first mount, [^;]*; changed since$/);
  t.regex(made, /; made in the volume after its first mount \(which copied image localhost\/layerfs-sample:latest's \/srv\/www there\)$/);
  // A second container on the same volume: nothing is copied again; the origin stays the first mount's.
  const again = await layerfs(h, ['run', '--rm', '-v', 'site:/srv/www', SAMPLE, '-c', 'where /srv/www/assets/logo.txt']);
  t.is(again.stdout, logo + '\n');
});

test('shell: the history of a terminal session is kept in the state directory (none for piped input)', async (t) => {
  const h = await tempDir(t, 'layerfs-shell-');
  await layerfs(h, ['run', '--rm', SAMPLE], 'echo piped\n');
  t.throws(() => readFileSync(join(h, 'shell-history')), { code: 'ENOENT' });
});
