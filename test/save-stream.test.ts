/**
 * Beyond memory (issue 13): a container layer is saved and committed by streaming, never as one
 * Buffer. A container holding 160 MiB (128 MiB in one file, saved whole as layer.tar, then 32 MiB
 * in another, appended to the journal as one frame) is saved, then reopened, committed into the
 * state and compacted, each step in a child process whose peak RSS stays under 250 MiB (the
 * Buffer versions of saving and opening peaked at 543 and 571 MiB for these two steps). GNU tar
 * and sha256sum read back layer.tar, the journal's frame, the committed layer in the stored image
 * and the compacted layer.tar (test/helpers/save-stream.ts). The sizes are kept small for the time
 * npm test takes; test/slow/save-stream.test.ts does the same at 4 GiB.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCommit, checkSave } from './helpers/save-stream.js';
import { dir, file, hardlink, opaque, symlink, whiteout } from './helpers/entries.js';
import type { Entry } from '../src/entry.js';
import { tarBlocks, tarSize } from '../src/out/tar-write.js';

const MiB = 1 << 20;
const BIG = 128 * MiB;
const MORE = 32 * MiB;
const BOUND_KIB = 250 * 1024;

let home = '';
test.before(() => {
  home = mkdtempSync(join(tmpdir(), 'layerfs-save-stream-'));
});
test.after.always(() => rmSync(home, { recursive: true, force: true }));

test.serial('beyond memory: saving 128 MiB as layer.tar, then 32 MiB as a journal frame, peaks under 250 MiB RSS; GNU tar reads them back', (t) => {
  checkSave(t, home, BIG, MORE, BOUND_KIB);
});

test.serial('beyond memory: reopening, committing and compacting that container peaks under 250 MiB RSS; GNU tar reads the committed layer and the new layer.tar', (t) => {
  checkCommit(t, home, BIG, MORE, BOUND_KIB);
});

test("a journal frame's length is known before its data is read: tarSize is what tarBlocks yields, PAX headers, padding and left-out sockets included", (t) => {
  const base = { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000_000, size: 0 };
  const entries: Entry[] = [
    dir('d'),
    ...[0, 1, 511, 512, 513, 4096 + 7].map((n) => file(`d/f${n}`, Buffer.alloc(n, 7))),
    file(`d/${'long-'.repeat(60)}name`, 'long name: PAX path'),
    file('d/caf\u00e9', 'non-ASCII name'),
    symlink('d/link', `/${'t'.repeat(200)}`),
    hardlink('d/hard', 'd/f1'),
    whiteout('d/gone'),
    opaque('d'),
    { ...file('d/xattr', 'x'), xattrs: { 'user.a': Buffer.from([0, 1, 2]) } },
    { ...file('d/ids', 'big ids'), uid: 3_000_000, gid: 2_000_000, mtime: -86_400_000 },
    { ...base, path: 'd/dev', type: 'char', devmajor: 1, devminor: 3 },
    { ...base, path: 'd/fifo', type: 'fifo' },
    { ...base, path: 'd/sock', type: 'socket' },
  ];
  let yielded = 0;
  for (const block of tarBlocks(entries)) yielded += block.length;
  t.is(tarSize(entries), yielded);
  t.is(tarSize([]), 1024, 'an empty tar: the two end blocks');
});

test('tarBlocks gathers headers and small files into few pieces, and GNU tar reads every member back with its bytes', (t) => {
  const entries: Entry[] = [dir('many')];
  for (let i = 0; i < 5000; i++) entries.push(file(`many/f${i}`, i % 7 === 0 ? '' : `content ${i}\n`.repeat(1 + (i % 50))));
  const big = Buffer.alloc(3 * MiB + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  entries.push(file('many/big', big), file('many/after-big', 'the member after a big one'), { ...file('many/pax-xattr', 'x'), xattrs: { 'user.k': Buffer.from('v') } });
  const pieces = [...tarBlocks(entries)];
  // Rule (tar-write.ts): small things are gathered; before, each header and each file was a piece.
  t.true(pieces.length <= 40, `${pieces.length} pieces for ${entries.length} entries`);
  t.is(
    pieces.reduce((n, p) => n + p.length, 0),
    tarSize(entries),
  );
  const d = mkdtempSync(join(tmpdir(), 'layerfs-tar-pieces-'));
  try {
    writeFileSync(join(d, 'x.tar'), Buffer.concat(pieces));
    mkdirSync(join(d, 'out'));
    const r = spawnSync('tar', ['-xf', join(d, 'x.tar'), '-C', join(d, 'out')], { encoding: 'utf8' });
    t.is(r.status, 0, r.stderr);
    for (const e of entries) {
      if (e.type !== 'file') continue;
      const want = Buffer.alloc(e.size);
      e.content!.read(want, 0, e.size, 0);
      t.true(readFileSync(join(d, 'out', e.path)).equals(want), e.path);
    }
    t.is(readdirSync(join(d, 'out', 'many')).length, 5003);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
