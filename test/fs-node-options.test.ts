/**
 * NODE-FS: options objects whose fields come from their prototype (`Object.create({ encoding })`),
 * on Node's fs and on layerfs (see fs/node-suite.ts). Node reads most options as properties, so
 * inherited ones count; where it copies them with a spread (rm, rmdir, opendir's Dir, cp) they do
 * not. Either way layerfs must do what Node does.
 */
import { nodeTest } from './fs/node-suite.js';

const inherit = (o: object): object => Object.create(o);

nodeTest(
  'options inherited through the prototype are honoured where Node honours them',
  async ({ run, p, side, note, flavour }) => {
    const fs = side.fs as typeof import('node:fs');
    await run('writeFile', p('f'), '68656c6c6f', inherit({ encoding: 'hex' }));
    await run('readFile', p('f'), inherit({ encoding: 'utf8' }));
    await run('readFile', p('f'), inherit({ encoding: 'base64', flag: 'r' }));
    await run('writeFile', p('f'), 'x', inherit({ flag: 'wx' }));
    await run('appendFile', p('f'), ' world', inherit({ encoding: 'latin1' }));
    await run('appendFile', p('f'), '!', inherit({ flag: 'w' }));
    await run('appendFile', p('g'), 'g', inherit({ mode: 0o600 }));
    await run('readFile', p('f'), inherit({ encoding: 'nope' }));
    await run('mkdir', p('a/b/c'), inherit({ recursive: true }));
    await run('mkdir', p('m'), inherit({ mode: 0o700 }));
    await run('readdir', p('a'), inherit({ withFileTypes: true }));
    // (Node 20 calls readdir's callback before returning with `recursive`, see callbacks.ts.)
    if (flavour !== 'callback') await run('readdir', p('a'), inherit({ recursive: true }));
    await run('readdir', p(''), inherit({ encoding: 'buffer' }));
    await run('stat', p('f'), inherit({ bigint: true }));
    await run('lstat', p('f'), inherit({ bigint: true }));
    await run('symlink', 'f', p('l'));
    await run('readlink', p('l'), inherit({ encoding: 'hex' }));
    await run('realpath', p('l'), inherit({ encoding: 'buffer' }));
    await run('mkdtemp', p('tmp-'), inherit({ encoding: 'nope' }));
    // Spread by Node: an inherited `recursive` is not seen, so these fail as without it.
    await run('rm', p('a'), inherit({ recursive: true }));
    await run('rm', p('missing'), inherit({ force: true }));
    await run('rmdir', p('a'), inherit({ recursive: true }));
    await run('copyFile', p('f'), p('copy'));
    const d = fs.opendirSync(p('a'), inherit({ encoding: 'buffer' }) as never);
    const first = d.readSync();
    note('opendir inherited encoding', [typeof first?.name]);
    d.closeSync();
  },
  { flavours: ['sync', 'callback', 'promise'] },
);
