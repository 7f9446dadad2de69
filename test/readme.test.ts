/**
 * The README's library example runs as written (in this checkout, `layerfs` is the package itself),
 * and what it prints is what the sample image and the rules say: the layer-2 motd, four copy-ups
 * (/etc, /etc/motd, and the parents /usr, /usr/bin of the whiteout), the 41 bytes of motd read into
 * a chunk, and podman's diff (OVL-7 keeps /etc's mtime, so only motd and the whiteout's parents show).
 */
import test from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    const api = await (await fetch(`${first.slice('layerfs: serving '.length)}api/images`)).json() as { images: Array<{ source: string }> };
    t.deepEqual(api.images.map((i) => i.source), ['images/sample.tar']);
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
  const pattern = (line: string) => new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<id>/g, '[0-9a-f]{12}').replace(/<time>/g, '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z')}$`);
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
      expect.forEach((line, i) => t.regex(got[i] ?? '', pattern(line), cmd));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
