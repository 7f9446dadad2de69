/**
 * The README's library example runs as written (in this checkout, `layerfs` is the package itself),
 * and what it prints is what the sample image and the rules say: the layer-2 motd, four copy-ups
 * (/etc, /etc/motd, and the parents /usr, /usr/bin of the whiteout), the 41 bytes of motd read into
 * a chunk, and podman's diff (OVL-7 keeps /etc's mtime, so only motd and the whiteout's parents show).
 */
import test from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('the README library example runs and prints what it promises', (t) => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const code = /## Library\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  t.truthy(code, 'README has a ```ts block under "## Library"');
  const script = `${ROOT}/scripts/.readme-example.mts`;
  writeFileSync(script, code!);
  try {
    const out = execFileSync('npx', ['tsx', script], { cwd: ROOT, encoding: 'utf8' });
    t.true(out.startsWith('Welcome to the sample image, configured.\n'));
    t.regex(out, /copyUps: 4, copyUpBytes: 41 /);
    const diff = [...out.matchAll(/kind: '(.)', path: '([^']+)'/g)].map((m) => `${m[1]} ${m[2]}`);
    t.deepEqual(diff, ['C /etc/motd', 'C /usr', 'C /usr/bin', 'D /usr/bin/app-link']);
  } finally {
    rmSync(script, { force: true });
    rmSync('/tmp/sample-v2.tar', { force: true });
  }
});

test('the README engine example runs: the volume outlives the container, the layer does not', (t) => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const code = /## Containers and volumes\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  t.truthy(code, 'README has a ```ts block under "## Containers and volumes"');
  const script = `${ROOT}/scripts/.readme-engine.mts`;
  rmSync('/tmp/layerfs-demo', { recursive: true, force: true });
  writeFileSync(script, code!);
  try {
    execFileSync('npx', ['tsx', script], { cwd: ROOT, encoding: 'utf8' });
    t.is(readFileSync('/tmp/layerfs-demo/volumes/site/_data/visits', 'utf8'), '1');
    t.is(readdirSync('/tmp/layerfs-demo/containers').filter((n) => !n.startsWith('.')).length, 0);
  } finally {
    rmSync(script, { force: true });
    rmSync('/tmp/layerfs-demo', { recursive: true, force: true });
  }
});

test('the README web app line runs: its first line is the URL, the API lists the sample image, Ctrl-C stops it with 0', async (t) => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const line = /## Web app\n\n```sh\n(npx layerfs serve [^#\n]*?)\s*#/.exec(readme)?.[1];
  t.truthy(line, 'README has the serve line under "## Web app"');
  const home = mkdtempSync(join(tmpdir(), 'layerfs-readme-serve-'));
  // `npx layerfs` is bin/layerfs.js in a clone; run it directly so SIGINT reaches the server itself.
  const args = line!.split(/\s+/).slice(2);
  const child = spawn('node', [`${ROOT}/bin/layerfs.js`, '--home', home, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`serve exited ${code} before printing its URL`)));
    });
    t.regex(first, /^layerfs: serving http:\/\/127\.0\.0\.1:\d+\/$/);
    const api = (await (await fetch(`${first.slice('layerfs: serving '.length)}api/images`)).json()) as { images: Array<{ source: string }> };
    t.deepEqual(
      api.images.map((i) => i.source),
      ['images/sample.tar'],
    );
    const code = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    t.is(await code, 0);
  } finally {
    child.kill();
    rmSync(home, { recursive: true, force: true });
  }
});

/**
 * A tiny terminal: what a screen shows after the bytes a program wrote to its tty (carriage
 * return, newline, cursor to a column, left/right, clear to the end), so that readline's redraws
 * of the prompt read as the one line a person sees.
 */
function screen(bytes: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  const put = (ch: string) => {
    const l = lines[lines.length - 1]!;
    lines[lines.length - 1] = l.padEnd(col).slice(0, col) + ch + l.slice(col + 1);
    col++;
  };
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === '\x1b') {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the terminal escape sequence parsed here
      const m = /^\x1b\[([0-9;?]*)([A-Za-z])/.exec(bytes.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number(m[1] || 1);
      if (m[2] === 'G') col = n - 1;
      else if (m[2] === 'C') col += n;
      else if (m[2] === 'D') col = Math.max(0, col - n);
      else if (m[2] === 'J' || m[2] === 'K') lines[lines.length - 1] = lines[lines.length - 1]!.slice(0, col);
    } else if (c === '\r') col = 0;
    else if (c === '\n') {
      lines.push('');
      col = 0;
    } else if (c >= ' ') put(c);
  }
  return lines.map((l) => l.trimEnd()).filter((l, i, all) => l !== '' || i < all.length - 1);
}

const PROMPT = /^[\w.-]+:\/\S*# (.*)$/;

test('the README command-line session prints what it shows: the prompt, the messages, the exit codes', async (t) => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const block = /## Command line\n[\s\S]*?```console\n([\s\S]*?)```/.exec(readme)?.[1];
  t.truthy(block, 'README has a ```console block under "## Command line"');
  const steps: Array<{ cmd: string; expect: string[] }> = [];
  for (const line of block!.trimEnd().split('\n')) {
    if (line.startsWith('$ ')) steps.push({ cmd: line.slice(2), expect: [] });
    else steps.at(-1)!.expect.push(line);
  }
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-readme-cli-'));
  writeFileSync(join(dir, 'layerfs'), `#!/bin/sh\nexec "${process.execPath}" "${ROOT}/bin/layerfs.js" "$@"\n`, { mode: 0o755 });
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH}`, LAYERFS_HOME: join(dir, 'home'), NO_COLOR: '1' };
  const pattern = (line: string) =>
    new RegExp(
      `^${line
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/<id>/g, '[0-9a-f]{12}')
        .replace(/<time>/g, '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z')}$`,
    );
  try {
    let status = 0;
    for (const { cmd, expect } of steps) {
      let got: string[];
      if (cmd === 'echo $?') got = [String(status)];
      else if (expect.some((l) => PROMPT.test(l))) {
        // An interactive shell, on a terminal (script(1) gives it a pty): each input line is typed
        // once its prompt shows.
        const inputs = expect.map((l) => PROMPT.exec(l)?.[1]).filter((x): x is string => x !== undefined);
        const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd: ROOT, env });
        let out = '';
        let sent = 0;
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString('utf8');
          const prompts = screen(out).filter((l) => /^[\w.-]+:\/\S*# $/.test(l + ' ') || PROMPT.test(l)).length;
          while (sent < inputs.length && sent < prompts) child.stdin.write(`${inputs[sent++]}\r`);
        });
        const [code] = (await once(child, 'close')) as [number];
        status = code;
        got = screen(out);
      } else {
        const r = spawnSync('bash', ['-c', `${cmd} 2>&1`], { cwd: ROOT, env, encoding: 'utf8' });
        status = r.status ?? -1;
        got = r.stdout.trimEnd() === '' ? [] : r.stdout.trimEnd().split('\n');
      }
      t.is(got.length, expect.length, `${cmd}:\n${got.join('\n')}`);
      for (const [i, line] of expect.entries()) t.regex(got[i] ?? '', pattern(line), cmd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Every `npx layerfs …` line of the README's ```sh blocks under "## Command line" runs as written,
 * in order, in a scratch directory (with `images/` of this checkout, a `site/` and `oci-dir/` made
 * by skopeo), on a fresh home, stdin closed (so a shell line sees end of input). IMAGE, IMAGE_A and
 * IMAGE_B stand for images. Each exits 0, and what the main ones print or write is checked against
 * GNU tar and skopeo on the same archive.
 */
test('the README command-line examples run as written and do what their comments say', (t) => {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
  const section = /## Command line\n([\s\S]*?)\n## /.exec(readme)![1]!;
  const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.trimEnd().split('\n'));
  const commands = lines.flatMap((l) => l.replace(/\s+#.*$/, '').split(/; (?=npx layerfs )/)).map((c) => c.trim());
  t.true(commands.length >= 25, `found ${commands.length} commands`);
  t.true(
    commands.every((c) => c.startsWith('npx layerfs ')),
    commands.filter((c) => !c.startsWith('npx layerfs ')).join('\n'),
  );

  const dir = mkdtempSync(join(tmpdir(), 'layerfs-readme-sh-'));
  const home = join(dir, 'home');
  const sample = `${ROOT}/images/sample.tar`;
  const other = `${ROOT}/test/fixtures/layers/docker-archive.tar`;
  const sh = (cmd: string, input?: Buffer) => spawnSync('bash', ['-c', cmd], { cwd: dir, input, encoding: 'buffer', env: { ...process.env, LAYERFS_HOME: home, NO_COLOR: '1' } });
  try {
    symlinkSync(`${ROOT}/images`, join(dir, 'images'));
    mkdirSync(join(dir, 'site'));
    writeFileSync(join(dir, 'site', 'index.html'), 'from the host\n');
    execFileSync('skopeo', ['copy', '-q', `docker-archive:${sample}`, `oci:${join(dir, 'oci-dir')}`]);

    // Ground truth: each layer's tar, by GNU tar from the docker archive's manifest.
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', sample, 'manifest.json'], { encoding: 'utf8' })) as Array<{ Layers: string[] }>;
    const layerTar = (n: number) => execFileSync('tar', ['-xOf', sample, manifest[0]!.Layers[n - 1]!], { maxBuffer: 64 << 20 });
    const member = (tarBytes: Buffer, name: string) => execFileSync('tar', ['-xOf', '-', name], { input: tarBytes });
    const names = (tarBytes: Buffer) =>
      execFileSync('tar', ['-tf', '-'], { input: tarBytes, encoding: 'utf8', maxBuffer: 64 << 20 })
        .trim()
        .split('\n');
    const config = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `docker-archive:${sample}`], { encoding: 'utf8' })) as {
      config: Record<string, unknown>;
      history: Array<{ created_by: string }>;
    };

    const out = new Map<string, string>();
    for (const c of commands) {
      const cmd = c
        .replace(/^npx layerfs /, `"${process.execPath}" "${ROOT}/bin/layerfs.js" `)
        .replace(/\bIMAGE_A\b/, sample)
        .replace(/\bIMAGE_B\b/, other)
        .replace(/\bIMAGE\b/, sample);
      const r = sh(`${cmd} </dev/null`);
      t.is(r.status, 0, `${c}\n${r.stderr.toString()}`);
      out.set(c.slice('npx layerfs '.length), r.stdout.toString('latin1'));
      // What the verbs block's comments promise, checked as the session goes.
      if (c.includes('cp ./site/. app:/srv/www')) {
        t.is(sh(`"${process.execPath}" "${ROOT}/bin/layerfs.js" cp app:/srv/www/index.html - | tar -xOf -`).stdout.toString(), 'from the host\n');
      }
    }
    const get = (prefix: string) => [...out].find(([k]) => k.startsWith(prefix))?.[1] ?? '';

    t.is(get('cat images/sample.tar /etc/motd --layer 1'), member(layerTar(1), 'etc/motd').toString('latin1'));
    t.regex(get('inspect --ci'), /^CI: PASS$/m);
    t.deepEqual(names(readFileSync(join(dir, 'layer2.tar'))), names(layerTar(2)));
    const flat = readFileSync(join(dir, 'flat.tar'));
    t.deepEqual(member(flat, 'etc/motd'), member(layerTar(2), 'etc/motd'), "export has the top layer's motd");
    t.true(get('run --rm -c').startsWith(member(layerTar(2), 'etc/motd').toString('latin1')));
    t.regex(get('run --rm -c'), /index\.html/, 'the image volume /srv/www is seeded');
    t.regex(get('ps -a'), /\bweb\b/);
    t.regex(get('images'), /localhost\/web\s+v2|localhost\/web:v2/);
    t.regex(get('volume ls'), /\bsite\b/);

    const inspected = JSON.parse(get('image inspect')) as Array<{ Config: Record<string, unknown> }>;
    for (const key of ['Env', 'Cmd', 'WorkingDir', 'Volumes'] as const) t.deepEqual(inspected[0]!.Config[key], config.config[key], key);
    const history = get('history images/sample.tar').trimEnd().split('\n');
    t.is(history.length, config.history.length + 1, history.join('\n'));
    for (const [i, h] of config.history.entries()) t.true(history[history.length - 1 - i]!.includes(h.created_by.slice(0, 30)), h.created_by);

    const motdTar = Buffer.from(get('cp app:/etc/motd -'), 'latin1');
    t.deepEqual(names(motdTar), ['motd']);
    t.deepEqual(member(motdTar, 'motd'), member(layerTar(2), 'etc/motd'));

    // After the verbs block: the tag is gone, the image stays (prune spared it while app used it),
    // the volume exists, the container does not.
    const images = JSON.parse(sh(`"${process.execPath}" "${ROOT}/bin/layerfs.js" images --json`).stdout.toString()) as Array<{ tags?: string[]; RepoTags?: string[] }>;
    const tags = images.flatMap((i) => i.tags ?? i.RepoTags ?? []);
    t.false(tags.includes('localhost/app:v1'), tags.join(' '));
    t.true(tags.includes('localhost/layerfs-sample:latest'), tags.join(' '));
    t.regex(sh(`"${process.execPath}" "${ROOT}/bin/layerfs.js" volume ls`).stdout.toString(), /\bcache\b/);
    t.notRegex(sh(`"${process.execPath}" "${ROOT}/bin/layerfs.js" ps -a`).stdout.toString(), /\bapp\b/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
