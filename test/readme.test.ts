/**
 * The README's library example runs as written (in this checkout, `layerfs` is the package itself),
 * and what it prints is what the sample image and the rules say: the layer-2 motd, four copy-ups
 * (/etc, /etc/motd, and the parents /usr, /usr/bin of the whiteout), the 41 bytes of motd read into
 * a chunk, and podman's diff (OVL-7 keeps /etc's mtime, so only motd and the whiteout's parents show).
 */
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
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
