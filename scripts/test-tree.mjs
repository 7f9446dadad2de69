// Builds .build/, the tree `npm test` runs the tests in: tsc writes src/, test/ and bench/ as
// JavaScript there (tsconfig.test.json: the same layout, so relative imports hold), and every other
// tracked file is put at its place beside them, so paths taken from import.meta.url (fixtures, bin/,
// dist/, README.md, the .ts helpers a test runs through tsx) resolve as in the checkout. Files are
// hard links (a script run from .build sees itself there: its import.meta.url and argv[1] agree);
// a directory that holds no TypeScript is one symbolic link. Rebuilt from nothing on each run.
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, '.build');
rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.test.json')], { stdio: 'inherit' });
} catch {
  process.stderr.write('test-tree: tsc found errors (above); the tests do not run\n');
  process.exit(1);
}

const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && existsSync(join(root, f)));
const withTs = new Set();
for (const f of files) if (f.endsWith('.ts')) for (let d = dirname(f); d !== '.'; d = dirname(d)) withTs.add(d);
const linked = new Set();
for (const f of files) {
  const parts = f.split('/');
  let i = 0;
  while (i < parts.length - 1 && withTs.has(parts.slice(0, i + 1).join('/'))) i++;
  const at = join(out, i < parts.length - 1 ? parts.slice(0, i + 1).join('/') : f);
  if (linked.has(at) || existsSync(at)) continue;
  linked.add(at);
  mkdirSync(dirname(at), { recursive: true });
  if (i < parts.length - 1) symlinkSync(relative(dirname(at), join(root, parts.slice(0, i + 1).join('/'))), at);
  else linkSync(join(root, f), at);
}
// Built output the tests use from the checkout (the compiled CLI and the page), and test/output/,
// where the browser tests leave their screenshots.
symlinkSync('../dist', join(out, 'dist'));
mkdirSync(join(root, 'test/output'), { recursive: true });
symlinkSync('../../test/output', join(out, 'test/output'));
