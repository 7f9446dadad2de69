// Loaded with `node --import ./test/helpers/trace-imports.mjs`: prints each module URL the process
// loads on stderr as `import: URL` (test/cli-errors.test.ts checks --help loads no engine module).
import { register } from 'node:module';

register(
  'data:text/javascript,'
    + encodeURIComponent(`
export async function load(url, context, next) {
  if (url.startsWith('file:')) process.stderr.write('import: ' + url + '\\n');
  return next(url, context);
}`),
);
