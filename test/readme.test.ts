/**
 * The README's library example runs as written (in this checkout, `layerfs` is the package itself),
 * and what it prints is what the sample image and the rules say: the layer-2 motd, four copy-ups
 * (/etc, /etc/motd, and the parents /usr, /usr/bin of the whiteout), the 41 bytes of motd read into
 * a chunk, and podman's diff (OVL-7 keeps /etc's mtime, so only motd and the whiteout's parents show).
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
