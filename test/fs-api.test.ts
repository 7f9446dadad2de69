/**
 * Differential tests of the file-content calls: each scenario runs on Node's real fs (in a temp
 * directory) and on createFs(MemfsCore), in the sync, callback and promise flavours, and every
 * outcome (values, error code/syscall/path/message) and the final tree must be equal.
 */
import { Buffer } from 'node:buffer';
import { constants as C } from 'node:fs';
import { diff } from './fs/scenario.js';

diff('writeFile, appendFile and readFile', async ({ run, p }) => {
  await run('writeFile', p('a'), 'hello');
  await run('appendFile', p('a'), ' world');
  await run('readFile', p('a'), 'utf8');
  await run('readFile', p('a'));
  await run('readFile', p('a'), { encoding: 'base64', flag: 'r' });
  await run('writeFile', p('b'), new Uint8Array([0, 1, 2, 255]));
  await run('writeFile', p('c'), 'cafe', 'hex');
  await run('writeFile', p('d'), 'héllo', { encoding: 'latin1', mode: 0o600 });
  await run('readFile', p('d'), 'latin1');
  await run('stat', p('d'));
  await run('appendFile', p('new'), Buffer.from('appended'));
  await run('writeFile', p('a'), 'again', { flag: 'wx' });
  await run('writeFile', p('a'), 'XY', { flag: 'r+' });
  await run('readFile', p('a'), 'utf8');
  await run('appendFile', p('a'), '!', { flag: 'w' });
  await run('readFile', p('a'), 'utf8');
  await run('mkdir', p('dir'));
  await run('writeFile', p('dir'), 'x');
  await run('readFile', p('dir'));
  await run('readFile', p('dir'), 'utf8');
  await run('readFile', p('missing'));
  await run('readFile', p('a/'));
  await run('writeFile', p('missing/x'), 'x');
  await run('writeFile', p('a/x'), 'x');
  await run('writeFile', p('e'), '');
  await run('readFile', p('e'));
});

diff('writeFile with the flush option', async ({ run, p }) => {
  await run('writeFile', p('f'), 'flushed', { flush: true });
  await run('readFile', p('f'), 'utf8');
});

diff(
  'open flags and descriptor reads and writes',
  async ({ run, p, side, note }) => {
    const fs = side.fs as typeof import('node:fs');
    await run('writeFile', p('f'), 'hello');
    await run('open', p('f'), 'wx');
    await run('open', p('missing'), 'r');
    await run('open', p('missing'), 'r+');
    await run('open', p('f/'), 'r');
    await run('open', p('newdir/'), 'w');
    // O_APPEND: the position given to write is ignored.
    let fd = fs.openSync(p('f'), 'a');
    await run('write', fd, Buffer.from('XY'), 0, 2, 0);
    await run('write', fd, 'Z', 0);
    await run('read', fd, Buffer.alloc(4), 0, 4, 0);
    await run('close', fd);
    await run('readFile', p('f'), 'utf8');
    // r+: positional writes overwrite, a null position continues from the current one.
    fd = fs.openSync(p('f'), 'r+');
    await run('write', fd, Buffer.from('ab'), 0, 2, 1);
    await run('write', fd, Buffer.from('cd'), 0, 2, null);
    await run('write', fd, 'é', null, 'latin1');
    await run('read', fd, Buffer.alloc(3), 0, 3, null);
    await run('read', fd, Buffer.alloc(8), { offset: 2, length: 4, position: 0 });
    await run('read', fd, Buffer.alloc(4), 0, 4, 100);
    await run('fstat', fd);
    await run('ftruncate', fd, 3);
    await run('fsync', fd);
    await run('fdatasync', fd);
    await run('close', fd);
    await run('readFile', p('f'), 'latin1');
    // a+: reads from the start, writes at the end.
    fd = fs.openSync(p('f'), 'a+');
    await run('read', fd, Buffer.alloc(10), 0, 10, null);
    await run('write', fd, 'tail');
    await run('read', fd, Buffer.alloc(10), 0, 10, 0);
    await run('close', fd);
    // w+ truncates; wx+ and ax on an existing file fail; numeric flags work.
    fd = fs.openSync(p('f'), 'w+');
    await run('fstat', fd);
    await run('close', fd);
    await run('open', p('f'), 'wx+');
    await run('open', p('f'), 'ax');
    fd = fs.openSync(p('g'), C.O_RDWR | C.O_CREAT | C.O_EXCL, 0o640);
    await run('fstat', fd);
    // Access modes: no writing through O_RDONLY, no reading through O_WRONLY.
    const ro = fs.openSync(p('g'), 'r');
    const wo = fs.openSync(p('g'), 'w');
    await run('write', ro, 'x');
    await run('ftruncate', ro, 0);
    await run('read', wo, Buffer.alloc(2), 0, 2, null);
    for (const d of [fd, ro, wo]) fs.closeSync(d);
    await run('close', ro);
    await run('fstat', ro);
    // A directory opens read-only; reading it is EISDIR.
    fd = fs.openSync(p('.'), 'r');
    await run('read', fd, Buffer.alloc(2), 0, 2, null);
    fs.closeSync(fd);
    await run('open', p('.'), 'r+');
    // rs+ is O_RDWR | O_SYNC.
    fd = fs.openSync(p('f'), 'rs+');
    note('rs+ read', fs.readSync(fd, Buffer.alloc(1)));
    fs.closeSync(fd);
  },
  ['sync', 'callback'],
);

diff(
  'readSync signatures and zero-length reads',
  ({ side, p, note }) => {
    const fs = side.fs as typeof import('node:fs');
    fs.writeFileSync(p('f'), '0123456789');
    const fd = fs.openSync(p('f'), 'r');
    const b = Buffer.alloc(10, '.');
    note('5 args', [fs.readSync(fd, b, 2, 3, 4), b.toString()]);
    note('options', [fs.readSync(fd, b, { offset: 1, length: 2, position: 8 }), b.toString()]);
    note('buffer only (current position)', [fs.readSync(fd, b), b.toString()]);
    note('options without position', [fs.readSync(fd, b, {}), b.toString()]);
    note('bigint position', [fs.readSync(fd, b, 0, 2, 3n), b.toString()]);
    note('length 0 on any fd', fs.readSync(99999, b, 0, 0, 0));
    fs.closeSync(fd);
  },
  ['sync'],
);

diff(
  'writeSync signatures',
  ({ side, p, note }) => {
    const fs = side.fs as typeof import('node:fs');
    const fd = fs.openSync(p('f'), 'w+');
    note('buffer', fs.writeSync(fd, Buffer.from('abcdef')));
    note('buffer offset length position', fs.writeSync(fd, Buffer.from('XYZ'), 1, 2, 0));
    note('options', (fs.writeSync as (...a: unknown[]) => number)(fd, Buffer.from('123'), { offset: 0, length: 1, position: 5 }));
    note('string at position', fs.writeSync(fd, 'q', 3));
    note('string hex', fs.writeSync(fd, '4142', null, 'hex'));
    note('typed array', fs.writeSync(fd, new Uint16Array([0x4443])));
    fs.closeSync(fd);
    note('content', fs.readFileSync(p('f'), 'latin1'));
  },
  ['sync'],
);

diff(
  'readv and writev',
  async ({ run, p, side }) => {
    const fs = side.fs as typeof import('node:fs');
    const fd = fs.openSync(p('f'), 'w+');
    await run('writev', fd, [Buffer.from('ab'), Buffer.from('cde')]);
    await run('writev', fd, [Buffer.from('Z')], 1);
    await run('readv', fd, [Buffer.alloc(2), Buffer.alloc(10)], 0);
    await run('readv', fd, [Buffer.alloc(2)]);
    fs.closeSync(fd);
  },
  ['sync', 'callback'],
);

diff('truncate: growth fills zeros, negative means 0', async ({ run, p, side }) => {
  await run('writeFile', p('f'), 'abc');
  await run('truncate', p('f'), 6);
  await run('readFile', p('f'));
  await run('truncate', p('f'), 1);
  await run('readFile', p('f'), 'utf8');
  await run('truncate', p('f'), -5);
  await run('stat', p('f'));
  await run('truncate', p('f'));
  await run('mkdir', p('d'));
  await run('truncate', p('d'), 0);
  await run('truncate', p('missing'), 0);
  await run('truncate', p('f/'), 0);
  if (side.name) {
    const fs = side.fs as typeof import('node:fs');
    const fd = fs.openSync(p('f'), 'r+');
    fs.ftruncateSync(fd, 4);
    fs.closeSync(fd);
  }
  await run('readFile', p('f'));
});

diff('copyFile: EXCL, onto itself, modes, directories', async ({ run, p }) => {
  await run('writeFile', p('src'), 'content', { mode: 0o751 });
  await run('chmod', p('src'), 0o751);
  await run('copyFile', p('src'), p('dst'));
  await run('stat', p('dst'));
  await run('readFile', p('dst'), 'utf8');
  await run('writeFile', p('other'), 'longer existing content');
  await run('copyFile', p('src'), p('other'));
  await run('readFile', p('other'), 'utf8');
  await run('copyFile', p('src'), p('dst'), C.COPYFILE_EXCL);
  await run('copyFile', p('src'), p('fresh'), C.COPYFILE_EXCL | C.COPYFILE_FICLONE);
  // Copying a file onto itself leaves it alone (libuv's dev+ino check).
  await run('copyFile', p('src'), p('src'));
  await run('readFile', p('src'), 'utf8');
  await run('link', p('src'), p('hard'));
  await run('copyFile', p('src'), p('hard'));
  await run('readFile', p('hard'), 'utf8');
  await run('copyFile', p('missing'), p('x'));
  await run('copyFile', p('src'), p('missing/x'));
  await run('mkdir', p('d'));
  await run('copyFile', p('d'), p('dcopy'));
  await run('copyFile', p('src'), p('d'));
  await run('symlink', 'src', p('link'));
  await run('copyFile', p('link'), p('fromlink'));
  await run('lstat', p('fromlink'));
});

diff(
  'FileHandle from promises.open',
  async ({ side, p, note }) => {
    const fs = side.fs as typeof import('node:fs');
    const h = await fs.promises.open(p('f'), 'w+', 0o600);
    note('write', (await h.write(Buffer.from('hello world'))).bytesWritten);
    note('write string at 0', (await h.write('J', 0)).bytesWritten);
    const r = await h.read(Buffer.alloc(5), 0, 5, 0);
    note('read', [r.bytesRead, r.buffer.toString()]);
    const r2 = await h.read({ buffer: Buffer.alloc(3), position: 6 });
    note('read params', [r2.bytesRead, r2.buffer.toString()]);
    note('stat', (await h.stat()).size);
    await h.truncate(4);
    note('readFile (from the current position)', await h.readFile('utf8'));
    await h.writeFile('+tail');
    await h.appendFile(Buffer.from('!'));
    await h.chmod(0o640);
    await h.sync();
    await h.datasync();
    await h.utimes(1000, 2000);
    note('stat after', (await h.stat()).mtimeMs);
    await h.close();
    note('fd after close', h.fd);
    await h.close();
    try {
      await h.stat();
    } catch (e) {
      const err = e as Error & { code: string; syscall: string };
      note('after close', [err.message, err.code, err.syscall]);
    }
    note('content', fs.readFileSync(p('f'), 'utf8'));
    note(
      'promises.readFile(FileHandle)',
      await (async () => {
        const h2 = await fs.promises.open(p('f'), 'r');
        try {
          return await fs.promises.readFile(h2, 'utf8');
        } finally {
          await h2.close();
        }
      })(),
    );
    await fs.promises.writeFile(
      p('iter'),
      (async function* () {
        yield 'a';
        yield Buffer.from('b');
      })(),
    );
    note('writeFile from an async iterable', fs.readFileSync(p('iter'), 'utf8'));
    try {
      await fs.promises.readFile(3 as unknown as string);
    } catch (e) {
      note('readFile of a number', (e as Error & { code: string }).code);
    }
  },
  ['promise'],
);
