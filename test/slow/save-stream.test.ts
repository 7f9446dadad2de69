/**
 * `npm run test:slow`: test/save-stream.test.ts at full size. A container holding 4 GiB in one file
 * (saved whole as layer.tar: a 4 GiB change cannot be one journal frame, whose length field is 32
 * bits) and 256 MiB in another (one journal frame) is saved, then reopened,
 * committed into the state and compacted, each step in a child process that peaks under 250 MiB of
 * RSS; GNU tar and sha256sum read every byte back (test/helpers/save-stream.ts). The data is real
 * (pseudo-random, no holes): the temp directory needs about 20 GiB free at the peak of the commit
 * (layer.tar, the commit's layer and image, the stored copy, the compacted layer.tar).
 */
import test from 'ava';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkCommit, checkSave } from '../helpers/save-stream.js';
import { requireOrSkip } from '../helpers/require.js';

const GiB = 1024 ** 3;
const BIG = 4 * GiB;
const MORE = 256 * 1024 ** 2;
const BOUND_KIB = 250 * 1024;
const NEEDED = 20 * GiB;

let home = '';
test.before(() => {
  home = mkdtempSync(join(tmpdir(), 'layerfs-slow-save-stream-'));
});
test.after.always(() => rmSync(home, { recursive: true, force: true }));

const free = (): number => {
  const s = statfsSync(tmpdir());
  return s.bavail * s.bsize;
};

test.serial('beyond memory: saving 4 GiB as layer.tar, then 256 MiB as a journal frame, peaks under 250 MiB RSS; GNU tar reads them back', (t) => {
  if (!requireOrSkip(t, free() < NEEDED && `${tmpdir()} has ${(free() / GiB).toFixed(1)} GiB free; the 4 GiB save and commit need ${NEEDED / GiB} GiB`)) return;
  checkSave(t, home, BIG, MORE, BOUND_KIB);
});

test.serial('beyond memory: reopening, committing and compacting that 4.25 GiB container peaks under 250 MiB RSS; GNU tar reads the committed layer and the new layer.tar', (t) => {
  if (!requireOrSkip(t, free() < NEEDED - 5 * GiB && `${tmpdir()} has ${(free() / GiB).toFixed(1)} GiB free; the 4 GiB commit needs ${NEEDED / GiB} GiB`)) return;
  checkCommit(t, home, BIG, MORE, BOUND_KIB);
});
