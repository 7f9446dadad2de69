/**
 * NODE-FS: fs.Dir and fs.Dirent, on Node's fs and on layerfs (see fs/node-suite.ts): an
 * asynchronous read under way makes readSync()/closeSync() throw ERR_DIR_CONCURRENT_OPERATION
 * while read()/close() wait their turn; `new fs.Dir()` and `new fs.Dirent(name, UV_DIRENT_*)` are
 * Node's public constructors. Directory order is the filesystem's own, so names are compared
 * sorted.
 */
import { constants } from 'node:fs';
import { norm } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';
import type { Side } from './fs/sides.js';

type Fs = typeof import('node:fs');
type Dirent = import('node:fs').Dirent;
const UV = constants as unknown as Record<string, number>;

const attempt = (side: Side, fn: () => unknown): unknown => {
  try {
    const r = fn();
    return r instanceof Promise ? 'a promise' : ['ok', r === null ? null : typeof r];
  } catch (e) {
    return [norm(e, side.root), String(e)];
  }
};
const names = (ds: Array<Dirent | null>): unknown[] => ds.map((d) => (d ? String(d.name) : d)).sort((a, b) => String(a).localeCompare(String(b)));

nodeTest('opendir: concurrent operations on one Dir throw ERR_DIR_CONCURRENT_OPERATION or wait their turn', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.mkdirSync(p('d'));
  for (const n of ['a', 'b', 'c', 'e']) fs.writeFileSync(p(`d/${n}`), n);
  let dir = fs.opendirSync(p('d'), { bufferSize: 2 });
  const first = dir.read();
  note(
    'readSync during read()',
    attempt(side, () => dir.readSync()),
  );
  note(
    'closeSync during read()',
    attempt(side, () => dir.closeSync()),
  );
  const second = dir.read();
  const third = new Promise<Dirent | null>((resolve, reject) => dir.read((e, d) => (e ? reject(e) : resolve(d))));
  const got = await Promise.all([first, second, third]);
  note(
    'queued reads',
    got.map((d) => d !== null),
  );
  // The buffer holds one more: served without a handle read, so readSync is fine now.
  const buffered = dir.read();
  note(
    'readSync after a buffered read()',
    attempt(side, () => dir.readSync()),
  );
  got.push(await buffered);
  // Which names came in which read is the directory's order; all four came, once each.
  note('every name once', names(got));
  note('end', await dir.read());
  const closing = new Promise((resolve) => dir.close((e) => resolve(e === null ? 'closed' : e)));
  note(
    'closeSync after close(cb)',
    attempt(side, () => dir.closeSync()),
  );
  note('close(cb)', await closing);
  note(
    'read() closed',
    attempt(side, () => dir.read()),
  );
  note(
    'close() closed',
    await dir.close().then(
      () => 'resolved',
      (e) => norm(e, side.root),
    ),
  );

  dir = fs.opendirSync(p('d'));
  const pending = dir.read();
  const closed = dir.close();
  note('close() waits for the read', [String((await pending)?.name).length, await closed.then(() => 'closed')]);

  dir = fs.opendirSync(p('d'), { bufferSize: 1 });
  const all: Dirent[] = [];
  for await (const d of dir) all.push(d);
  note('for await', names(all));
  note(
    'closed after for await',
    attempt(side, () => dir.closeSync()),
  );

  dir = fs.opendirSync(p('d'));
  const seen: Dirent[] = [];
  for (let d = dir.readSync(); d; d = dir.readSync()) seen.push(d);
  dir.closeSync();
  note('readSync', names(seen));
});

nodeTest('opendir recursive lists only the first bufferSize entries of a subdirectory (Node 20)', async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  fs.mkdirSync(p('r/sub'), { recursive: true });
  fs.writeFileSync(p('r/a'), 'a');
  for (let i = 1; i <= 5; i++) fs.writeFileSync(p(`r/sub/f${i}`), 'f');
  for (const bufferSize of [2, 32]) {
    const dir = fs.opendirSync(p('r'), { recursive: true, bufferSize });
    const seen: Dirent[] = [];
    for (let d = dir.readSync(); d; d = dir.readSync()) seen.push(d);
    dir.closeSync();
    // Which two of sub's five come first is the directory's order: count them.
    note(`bufferSize ${bufferSize}`, [seen.length, seen.filter((d) => d.parentPath.endsWith('sub')).length]);
  }
});

nodeTest("new fs.Dir() and new fs.Dirent(name, UV_DIRENT_*) behave as Node's", async ({ side, p, note }) => {
  const fs = side.fs as Fs;
  const Dir = fs.Dir as unknown as new (...a: unknown[]) => { path: string };
  note(
    'new Dir()',
    attempt(side, () => new Dir()),
  );
  note(
    'new Dir(null)',
    attempt(side, () => new Dir(null, '/x')),
  );
  note(
    'Dir()',
    attempt(side, () => (fs.Dir as unknown as () => unknown)()),
  );
  note(
    'new Dir(handle, path, bufferSize 0)',
    attempt(side, () => new Dir({}, '/x', { bufferSize: 0 })),
  );
  note(
    'new Dir(handle, path, 5)',
    attempt(side, () => new Dir({}, '/x', 5)),
  );
  note('new Dir(handle, path).path', new Dir({}, '/x').path);
  note('lengths', [fs.Dir.length, fs.Dirent.length, fs.Dir.name, fs.Dirent.name]);
  const real = fs.opendirSync(p(''));
  note('instanceof', [real instanceof fs.Dir]);
  real.closeSync();
  const Dirent = fs.Dirent as unknown as new (name: unknown, type?: unknown, path?: unknown) => Dirent;
  for (const kind of ['UNKNOWN', 'FILE', 'DIR', 'LINK', 'FIFO', 'SOCKET', 'CHAR', 'BLOCK']) {
    const d = new Dirent('n', UV[`UV_DIRENT_${kind}`], '/p');
    note(kind, [
      d.name,
      d.parentPath,
      d.path,
      Object.keys(d),
      Object.getOwnPropertySymbols(d).map(String),
      ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isSocket', 'isCharacterDevice', 'isBlockDevice'].filter((m) => (d as unknown as Record<string, () => boolean>)[m]()),
    ]);
  }
  const bare = new Dirent('n');
  note('no type', [bare.isFile(), bare.isDirectory(), bare.parentPath]);
  fs.writeFileSync(p('f'), 'f');
  const listed = fs.readdirSync(p(''), { withFileTypes: true });
  note('from readdir', [
    listed.every((d) => d instanceof fs.Dirent),
    Object.getOwnPropertySymbols(listed[0]).map(String),
    (listed[0] as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(listed[0])[0]],
  ]);
});
