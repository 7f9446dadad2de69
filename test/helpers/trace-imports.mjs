// Loaded with `node --import ./test/helpers/trace-imports.mjs`: prints each module URL the process
// loads on stderr as `import: URL` (test/cli-errors.test.ts checks which modules a command loads).
// A chunk of the CLI's bundle (dist/cli/bundle/, src/cli/build.mjs) is printed as the dist/
// modules it holds, from the bundle's meta.json.
import { register } from 'node:module';

register(
  'data:text/javascript,'
    + encodeURIComponent(`
import { readFileSync } from 'node:fs';
let meta;
export async function load(url, context, next) {
  if (!url.startsWith('file:')) return next(url, context);
  const at = url.indexOf('/dist/cli/bundle/');
  if (at < 0) {
    process.stderr.write('import: ' + url + '\\n');
    return next(url, context);
  }
  const root = url.slice(0, at + 1);
  meta ??= JSON.parse(readFileSync(new URL('dist/cli/bundle/meta.json', root), 'utf8'));
  for (const m of meta[url.slice(at + 17)] ?? []) process.stderr.write('import: ' + root + m + '\\n');
  return next(url, context);
}`),
);
