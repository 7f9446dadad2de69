/**
 * The folders of src/ are the data's way through the code, and imports follow it: a file imports
 * from its own folder or from a folder earlier in ORDER, never from a later one. ORDER is written
 * here by hand (the design), and the README's folder table must list the folders in this order.
 */
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');

/**
 * Earliest first. Each item is a folder of src/ or a file at its top. One tier may hold several
 * names that import each other: the two fronts (the `serve` command starts the web server; the
 * web lab runs the CLI's shell and container verbs).
 */
const ORDER: string[][] = [
  ['core', 'source.ts', 'entry.ts'],
  ['archive'],
  ['layer'],
  ['image'],
  ['registry'],
  ['union'],
  ['mounts'],
  ['fs'],
  ['out'],
  ['view.ts'],
  ['open.ts'],
  ['engine'],
  ['explore'],
  ['bench'],
  ['cli', 'web'],
  ['index.ts'],
];

const tierOf = new Map(ORDER.flatMap((names, i) => names.map((n) => [n, i] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return /\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The top folder of src/ (or top-level file) a path is in. */
const unit = (abs: string) => {
  const [first, ...rest] = relative(SRC, abs).split('/');
  return rest.length ? first! : first!.replace(/\.js$/, '.ts');
};

/** Every relative module specifier: static imports and re-exports, and dynamic import(). */
const SPEC = /(?:^\s*(?:import|export)\b[^;]*?\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/gm;

function violations(): string[] {
  const out: string[] = [];
  for (const file of sources(SRC)) {
    const from = unit(file);
    const a = tierOf.get(from);
    if (a === undefined) {
      out.push(`${relative(ROOT, file)}: src/${from} is in no tier of ORDER`);
      continue;
    }
    for (const m of readFileSync(file, 'utf8').matchAll(SPEC)) {
      const target = resolve(dirname(file), m[1]!);
      if (relative(SRC, target).startsWith('..')) continue;
      const to = unit(target);
      const b = tierOf.get(to);
      if (b === undefined) out.push(`${relative(ROOT, file)} imports ${m[1]}: src/${to} is in no tier of ORDER`);
      else if (b > a) out.push(`${relative(ROOT, file)} (src/${from}) imports ${m[1]} (src/${to}), which comes later`);
    }
  }
  return out;
}

test('ARCH-1: every import in src/ goes to the same folder or an earlier one', (t) => {
  t.deepEqual(violations(), []);
});

test('ARCH-1: the check sees an import that goes the wrong way', (t) => {
  // The union is earlier than the mount router: an import from union into mounts is wrong.
  const file = join(SRC, 'union', 'x.ts');
  const [m] = [..."import { MountCore } from '../mounts/router.js';".matchAll(SPEC)];
  t.is(unit(resolve(dirname(file), m![1]!)), 'mounts');
  t.true(tierOf.get('mounts')! > tierOf.get('union')!);
  // And a dynamic import is seen as well.
  t.is([..."const { pullImage } = await import('./pull.js');".matchAll(SPEC)].length, 1);
});

test('ARCH-1: the README lists the folders in this order', (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const listed = [...readme.matchAll(/^\| `src\/([a-z]+)\/` \|/gm)].map((m) => m[1]!);
  const folders = ORDER.flat().filter((n) => !n.endsWith('.ts'));
  t.deepEqual(listed, folders);
});
