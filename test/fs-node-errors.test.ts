/**
 * NODE-FS: the shape of errors, on Node's fs and on layerfs (see fs/node-suite.ts).
 * - Two-path calls (link, rename, symlink, copyFile) fail with `path` = the first argument,
 *   `dest` = the second and "... 'path' -> 'dest'", whichever of the two made them fail.
 * - Node's JavaScript errors print their code: String(err) and the stack's first line are
 *   "TypeError [ERR_INVALID_ARG_TYPE]: ...", their constructor is the base class; the errors its
 *   C++ layer throws (access()/copyFile() modes) print none.
 */
import { Buffer } from 'node:buffer';
import { cut } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';

type Fs = typeof import('node:fs');

nodeTest(
  'link, rename, symlink and copyFile errors carry path and dest, and the message says path -> dest',
  async ({ run, p, side }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'f');
    fs.writeFileSync(p('g'), 'g');
    fs.mkdirSync(p('dir'));
    fs.writeFileSync(p('dir/x'), 'x');
    await run('link', p('missing'), p('new'));
    await run('link', p('f'), p('nodir/new'));
    await run('link', p('f/x'), p('new'));
    await run('link', p('f'), p('g/new'));
    await run('link', p('f'), p('g'));
    await run('link', p('dir'), p('dir2'));
    await run('link', p('f'), p('new/'));
    await run('rename', p('missing'), p('new'));
    await run('rename', p('f'), p('nodir/x'));
    await run('rename', p('f'), p('g/x'));
    await run('rename', p('f/y'), p('x'));
    await run('rename', p('f'), p('dir'));
    await run('rename', p('dir'), p('f'));
    await run('rename', p('dir'), p('dir/sub'));
    await run('symlink', 'target', p('nodir/l'));
    await run('symlink', 'target', p('f'));
    await run('symlink', 'target', p('f/l'));
    await run('copyFile', p('missing'), p('c'));
    await run('copyFile', p('f'), p('nodir/c'));
    await run('copyFile', p('dir'), p('c'));
  },
  { flavours: ['sync', 'callback', 'promise'] },
);

/** What an error prints and what it is an instance of. */
function printed(e: unknown, root: string): unknown {
  const err = e as Error & { code?: string };
  return {
    string: cut(String(err), root),
    stack: cut(String(err.stack).split('\n')[0], root),
    name: err.name,
    code: err.code,
    constructor: err.constructor.name,
    typeError: err instanceof TypeError,
    rangeError: err instanceof RangeError,
    tag: Object.prototype.toString.call(err),
  };
}

nodeTest('argument errors print their code: String(err) is "TypeError [ERR_…]: …"', ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.writeFileSync(p('f'), 'f');
  const calls: Array<[string, () => unknown]> = [
    ['stat of a number', () => fs.statSync(1 as never)],
    ['open with a bad flag', () => fs.openSync(p('f'), 'q')],
    ['read past the buffer', () => fs.readSync(0, Buffer.alloc(4), 0, 8, 0)],
    ['chown with a bad uid', () => fs.chownSync(p('f'), 2 ** 40, 0)],
    ['symlink of a bad type', () => fs.symlinkSync('a', p('l'), 'weird' as never)],
    ['readFile with a bad encoding', () => fs.readFileSync(p('f'), { encoding: 'nope' as never })],
    ['access with a bad mode (C++)', () => fs.accessSync(p('f'), 9)],
    ['access with a mode string (C++)', () => fs.accessSync(p('f'), '1' as never)],
    [
      'closed Dir',
      () => {
        const d = fs.opendirSync(p(''));
        d.closeSync();
        d.closeSync();
      },
    ],
    [
      'rm of a directory',
      () => {
        fs.mkdirSync(p('d'));
        fs.rmSync(p('d'));
      },
    ],
    ['callback missing', () => (fs.stat as unknown as (p: string) => void)(p('f'))],
  ];
  for (const [label, fn] of calls) {
    try {
      fn();
      note(label, 'no error');
    } catch (e) {
      note(label, printed(e, side.root));
    }
  }
});
