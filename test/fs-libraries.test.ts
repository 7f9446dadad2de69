/**
 * The fs object where libraries expect `fs`: unionfs layering it with memfs and with Node's fs,
 * fs-monkey's patchFs onto a plain object, and library code running on it: fast-glob and glob
 * (taking an `fs` option) and write-file-atomic (loaded with its require('fs') answered by an
 * object fs-monkey patched; Node's own fs module cannot be patched: its `constants` is read-only).
 */
import test from 'ava';
import { Buffer } from 'node:buffer';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import { runInThisContext } from 'node:vm';
import * as nodeFs from 'node:fs';
import { createFsFromVolume, Volume } from 'memfs';
import { patchFs } from 'fs-monkey';
import { Union } from 'unionfs';
import fg from 'fast-glob';
import { glob } from 'glob';
import { createFs, type LayerFs } from '../src/fs/node-fs.js';
import { MemfsCore } from '../src/mounts/memfs-core.js';
import { realSide } from './fs/sides.js';

const require = createRequire(import.meta.url);

/** A layer fs holding /app/config.json, /app/src/{a,b}.txt and /app/link -> src. */
function layerFs(): LayerFs {
  const fs = createFs(new MemfsCore(new Volume()));
  fs.mkdirSync('/app/src', { recursive: true });
  fs.writeFileSync('/app/config.json', '{"layer":true}');
  fs.writeFileSync('/app/src/a.txt', 'A');
  fs.writeFileSync('/app/src/b.txt', 'B');
  fs.symlinkSync('src', '/app/link');
  return fs;
}

test('unionfs over memfs: reads fall through, readdir merges', async (t) => {
  const ours = layerFs();
  const base = createFsFromVolume(Volume.fromJSON({ '/app/base.txt': 'from memfs', '/app/config.json': '{"layer":false}' }));
  const ufs = new Union().use(base as never).use(ours as never);
  t.is(ufs.readFileSync('/app/config.json', 'utf8'), '{"layer":true}');
  t.is(ufs.readFileSync('/app/base.txt', 'utf8'), 'from memfs');
  t.deepEqual((ufs.readdirSync('/app') as string[]).sort(), ['base.txt', 'config.json', 'link', 'src']);
  t.true(ufs.existsSync('/app/src/a.txt'));
  t.true(ufs.statSync('/app/link').isDirectory());
  t.is(await ufs.promises.readFile('/app/src/b.txt', 'utf8'), 'B');
  const viaCallback = await new Promise((resolve, reject) => ufs.readFile('/app/link/a.txt', 'utf8', (e, d) => (e ? reject(e) : resolve(d))));
  t.is(viaCallback, 'A');
  // (unionfs passes createReadStream no options.)
  const chunks: Buffer[] = [];
  for await (const c of ufs.createReadStream('/app/src/a.txt')) chunks.push(c as Buffer);
  t.is(Buffer.concat(chunks).toString(), 'A');
  const err = t.throws(() => ufs.readFileSync('/app/missing'));
  t.is((err as Error & { code: string }).code, 'ENOENT');
});

test('unionfs over Node fs: our files shadow the host path, the rest comes from the host', (t) => {
  const real = realSide();
  try {
    nodeFs.writeFileSync(real.p('host.txt'), 'host');
    const ours = createFs(new MemfsCore(new Volume()));
    ours.mkdirSync(real.p(''), { recursive: true });
    ours.writeFileSync(real.p('shadow.txt'), 'ours');
    const ufs = new Union().use(nodeFs).use(ours as never);
    t.is(ufs.readFileSync(real.p('shadow.txt'), 'utf8'), 'ours');
    t.is(ufs.readFileSync(real.p('host.txt'), 'utf8'), 'host');
    t.deepEqual((ufs.readdirSync(real.p('')) as string[]).sort(), ['host.txt', 'shadow.txt']);
    t.false(nodeFs.existsSync(real.p('shadow.txt')));
  } finally {
    real.dispose();
  }
});

test('fs-monkey patchFs onto a plain object, used by fast-glob and glob', async (t) => {
  const ours = layerFs();
  const target: Record<string, unknown> = {};
  const unpatch = patchFs(ours, target);
  t.is(typeof target.readFileSync, 'function');
  t.is((target.readFileSync as typeof nodeFs.readFileSync)('/app/config.json', 'utf8'), '{"layer":true}');
  // fs-monkey binds ReadStream to the fs object (memfs' constructor signature): still a stream of ours.
  const Rs = target.ReadStream as new (path: string, options?: object) => nodeFs.ReadStream;
  const viaClass: string[] = [];
  for await (const c of new Rs('/app/src/b.txt', { encoding: 'utf8' })) viaClass.push(c as string);
  t.deepEqual(viaClass, ['B']);

  const fgOptions = { cwd: '/app', fs: target as never, followSymbolicLinks: false };
  t.deepEqual(fg.sync('**/*.txt', fgOptions).sort(), ['src/a.txt', 'src/b.txt']);
  t.deepEqual((await fg('**/*', { ...fgOptions, onlyFiles: false, markDirectories: true })).sort(), ['config.json', 'link', 'src/', 'src/a.txt', 'src/b.txt']);
  t.deepEqual((await glob('**/*.txt', { cwd: '/app', fs: target as never, follow: true })).sort(), ['link/a.txt', 'link/b.txt', 'src/a.txt', 'src/b.txt']);
  unpatch();
  t.is(target.readFileSync, undefined);
});

/**
 * Loads a CommonJS module afresh with its own `require`, which answers `overrides` first: the
 * module's require('fs') gets our fs while the process's fs stays untouched.
 */
function isolatedRequire(id: string, overrides: Record<string, unknown>): unknown {
  const file = require.resolve(id);
  const own = createRequire(file);
  const wrapper = runInThisContext(Module.wrap(nodeFs.readFileSync(file, 'utf8')), { filename: file }) as (
    exports: object,
    require: (id: string) => unknown,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} as unknown };
  const req = (name: string) => (Object.hasOwn(overrides, name) ? overrides[name] : own(name));
  wrapper(mod.exports as object, req, mod, file, dirname(file));
  return mod.exports;
}

test("write-file-atomic runs on this fs, given as its require('fs') (patched by fs-monkey)", (t) => {
  const ours = layerFs();
  ours.chmodSync('/app/config.json', 0o640);
  ours.chownSync('/app/config.json', 7, 8);
  const fsForLibrary: Record<string, unknown> = {};
  patchFs(ours, fsForLibrary);
  const writeFileAtomic = isolatedRequire('write-file-atomic', { fs: fsForLibrary }) as { sync(file: string, data: string | Buffer, options?: object): void };
  writeFileAtomic.sync('/app/config.json', '{"rewritten":1}');
  writeFileAtomic.sync('/app/link/new.txt', Buffer.from('new'));
  t.is(ours.readFileSync('/app/config.json', 'utf8'), '{"rewritten":1}');
  // It keeps mode and owner (stat, open with the mode, chown), then renames its temp file in place.
  const st = ours.statSync('/app/config.json');
  t.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o640, 7, 8]);
  t.is(ours.readFileSync('/app/src/new.txt', 'utf8'), 'new');
  t.deepEqual((ours.readdirSync('/app') as string[]).sort(), ['config.json', 'link', 'src']);
  t.deepEqual((ours.readdirSync('/app/src') as string[]).sort(), ['a.txt', 'b.txt', 'new.txt']);
});
