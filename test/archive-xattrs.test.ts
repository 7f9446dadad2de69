/**
 * OCI-13: xattrs come from PAX SCHILY.xattr.* records as raw bytes, an empty value included (GNU
 * tar writes `SCHILY.xattr.user.empty=`). Ground truth: manifest.py over the directory GNU tar read.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLayers } from '../src/index.js';
import { FIXTURE_TOOLS } from './helpers/fixtures.js';

test('OCI-13 xattrs of a GNU tar layer, empty and binary values included, equal the source tree', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-xattr-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'f'), 'hi\n');
    execFileSync('python3', [
      '-c',
      `import os
os.setxattr('${root}/f', 'user.empty', b'')
os.setxattr('${root}/f', 'user.bin', bytes([0, 255, 10, 200]))`,
    ]);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--format=posix', '-C', root, '-cf', join(dir, 'l.tar'), 'f']);
    const expected = execFileSync('python3', [join(FIXTURE_TOOLS, 'manifest.py'), '--no-root', root], { encoding: 'utf8' });
    t.regex(expected, /user\.empty=0x$/m);
    const view = await openLayers([join(dir, 'l.tar')]);
    t.is(view.manifest(), expected);
    view.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
