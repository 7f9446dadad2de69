/**
 * Path spellings and object shapes, on Node's fs and on createFs(MemfsCore):
 * - relative paths: the real side runs with its temp directory as the working directory (these
 *   tests are serial: process.chdir is per process), the layer side resolves against its root;
 *   errors and mkdir/mkdtemp results keep the relative spelling;
 * - Buffer and file: URL paths;
 * - util.promisify of read/write/exists, instanceof Stats/Dirent, BigIntStats.
 */
import test from 'ava';
import { Buffer } from 'node:buffer';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { call, FLAVOURS, norm, snapshot } from './fs/compare.js';
import { bothSides, layerSide, type Side } from './fs/sides.js';

type Fs = typeof import('node:fs');

/** The same side, its paths spelled relative to the root (the real side's cwd). */
function relative(side: Side): Side {
  return { ...side, p: (rel: string) => rel };
}

for (const flavour of FLAVOURS) {
  test.serial(`relative paths resolve against the root and keep their spelling in errors [${flavour}]`, async (t) => {
    const [real, layer] = bothSides();
    const cwd = process.cwd();
    process.chdir(real.root);
    try {
      const logs = [];
      for (const side of [relative(real), relative(layer)]) {
        const p = side.p;
        const log = [];
        for (const [name, ...args] of [
          ['mkdir', p('a/b'), { recursive: true }],
          ['mkdir', p('./x/./y/'), { recursive: true }],
          ['writeFile', p('a/f'), 'rel'],
          ['readFile', p('a/../a/f'), 'utf8'],
          ['readFile', p('missing')],
          ['readdir', p('a/f')],
          ['rename', p('a/f'), p('nope/g')],
          ['symlink', 'a/f', p('l')],
          ['symlink', 'a', p('l')],
          ['link', p('missing'), p('m')],
          ['stat', p('l')],
          ['lstat', p('l')],
          ['rm', p('a')],
          ['rmdir', p('a')],
          ['unlink', p('a/f/')],
          ['copyFile', p('l'), p('copy')],
          ['copyFile', p('l'), p('no/copy')],
          ['realpath', p('l')],
          ['access', p('l/x')],
          ['truncate', p('a/f'), 1],
          ['utimes', p('nope'), 1, 1],
          ['chmod', p('nope'), 0o600],
          ['readFile', p('')],
          ['mkdir', p('')],
        ] as Array<[string, ...unknown[]]>) {
          log.push([name, await call(side, flavour, name, ...args)]);
        }
        log.push(['tree', snapshot({ ...side, p: (r: string) => (side.name === 'real' ? `${real.root}/${r}` : `/${r}`) })]);
        logs.push(log);
      }
      t.deepEqual(logs[1], logs[0]);
    } finally {
      process.chdir(cwd);
      real.dispose();
    }
  });
}

test.serial('mkdtemp with a relative prefix returns a relative path', (t) => {
  const [real, layer] = bothSides();
  const cwd = process.cwd();
  process.chdir(real.root);
  try {
    for (const side of [real, layer]) {
      const made = (side.fs as Fs).mkdtempSync('tmp-');
      t.regex(made, /^tmp-[A-Za-z0-9]{6}$/, side.name);
      t.true((side.fs as Fs).statSync(made).isDirectory(), side.name);
    }
  } finally {
    process.chdir(cwd);
    real.dispose();
  }
});

test('Buffer and file: URL paths', async (t) => {
  const sides = bothSides();
  try {
    const logs = [];
    for (const side of sides) {
      const fs = side.fs as Fs;
      const url = (rel: string) => pathToFileURL(side.p(rel));
      const log: unknown[] = [];
      const attempt = (f: () => unknown) => {
        try {
          log.push(norm(f(), side.root));
        } catch (e) {
          log.push(norm(e, side.root));
        }
      };
      attempt(() => fs.mkdirSync(url('dir with space/ü'), { recursive: true }));
      attempt(() => fs.writeFileSync(Buffer.from(side.p('dir with space/ü/f')), 'buffer path'));
      attempt(() => fs.readFileSync(url('dir with space/ü/f'), 'utf8'));
      attempt(() => fs.readdirSync(Buffer.from(side.p('dir with space'))));
      attempt(() => fs.readdirSync(url('dir with space'), { withFileTypes: true }));
      attempt(() => fs.statSync(new Uint8Array(Buffer.from(side.p('dir with space'))) as Buffer).isDirectory());
      attempt(() => fs.readFileSync(url('missing')));
      attempt(() => fs.realpathSync(url('dir with space/ü/../ü/f')));
      attempt(() => fs.renameSync(url('dir with space/ü/f'), Buffer.from(side.p('g'))));
      log.push(await fs.promises.readFile(url('g'), 'utf8'));
      logs.push(log);
    }
    t.deepEqual(logs[1], logs[0]);
  } finally {
    for (const s of sides) s.dispose();
  }
});

test('util.promisify of read, write and exists resolves like Node', async (t) => {
  const sides = bothSides();
  try {
    const logs = [];
    for (const side of sides) {
      const fs = side.fs as Fs;
      const fd = fs.openSync(side.p('f'), 'w+');
      const w = await promisify(fs.write)(fd, Buffer.from('promisified'), 0, 11, 0);
      const r = await promisify(fs.read)(fd, Buffer.alloc(4), 0, 4, 2);
      const e = [await promisify(fs.exists)(side.p('f')), await promisify(fs.exists)(side.p('nope'))];
      fs.closeSync(fd);
      logs.push([w.bytesWritten, r.bytesRead, r.buffer.toString(), e]);
    }
    t.deepEqual(logs[1], logs[0]);
    t.deepEqual(logs[0], [11, 4, 'omis', [true, false]]);
  } finally {
    for (const s of sides) s.dispose();
  }
});

test('stats, dirents and bigint stats have Node shapes', (t) => {
  const sides = bothSides();
  try {
    const shapes = sides.map((side) => {
      const fs = side.fs as Fs;
      fs.writeFileSync(side.p('f'), 'abc');
      fs.utimesSync(side.p('f'), 1000.5, 2000.25);
      const st = fs.statSync(side.p('f'));
      const big = fs.statSync(side.p('f'), { bigint: true });
      const d = fs.readdirSync(side.p(''), { withFileTypes: true })[0];
      return {
        statsKeys: Object.keys(st),
        bigKeys: Object.keys(big),
        instanceofStats: st instanceof fs.Stats,
        instanceofDirent: d instanceof fs.Dirent,
        direntKeys: Object.keys(d),
        times: [st.atimeMs, st.mtimeMs, st.mtime.getTime(), big.mtimeMs, big.mtimeNs, big.atimeNs, big.size],
        methods: [st.isFile(), st.isDirectory(), big.isFile(), d.isFile(), d.isSymbolicLink()],
      };
    });
    t.deepEqual(shapes[1], shapes[0]);
  } finally {
    for (const s of sides) s.dispose();
  }
});

test('a read stream on a given descriptor closes it when done (autoClose)', async (t) => {
  const side = layerSide();
  const fs = side.fs as Fs;
  fs.writeFileSync('/f', 'data');
  const fd = fs.openSync('/f', 'r');
  const closed = new Promise<void>((resolve) =>
    fs
      .createReadStream('', { fd })
      .on('close', () => resolve())
      .resume(),
  );
  await closed;
  const err = t.throws(() => fs.fstatSync(fd));
  t.is((err as Error & { code: string }).code, 'EBADF');
});
