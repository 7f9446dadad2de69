/**
 * Escape test (issue 3): an image whose symlinks point at `/` and climb with `..`, a bind mount
 * whose own symlinks point outside its source, and writes and reads through all of them. Nothing
 * outside the bind source and the state directory may be read or changed: sentinels outside are
 * checked byte for byte (and mode and mtime), and the probe names written never appear on the host
 * outside those two places.
 */
import test from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import type { Entry } from '../src/entry.js';
import { writeImage } from '../src/out/image-write.js';
import { BufferSource } from '../src/source.js';
import { tarBuffer } from '../bench/layers.js';
import { createHash } from 'node:crypto';

const T = Date.UTC(2024, 0, 1);
const d = (path: string): Entry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: T, size: 0 });
const l = (path: string, target: string): Entry => ({ path, type: 'symlink', linkname: target, mode: 0o777, uid: 0, gid: 0, mtime: T, size: 0 });
const f = (path: string, text: string): Entry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: T, size: text.length, content: new BufferSource(Buffer.from(text)) });

async function hostileImage(dest: string): Promise<void> {
  const tar = await tarBuffer([
    d('etc-real'),
    f('etc-real/passwd', 'root:x:0:0\n'),
    l('etc', '/'),
    l('x', '../../../..'),
    l('up', '../../../../outside/sentinel'),
    l('hostpasswd', '/etc/passwd'),
    d('data'),
    d('deep'),
    d('deep/er'),
    l('deep/er/out', '../../../../../..'),
  ]);
  const digest = 'sha256:' + createHash('sha256').update(tar).digest('hex');
  const src = new BufferSource(tar);
  await writeImage(
    {
      config: { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [digest] }, history: [{ created_by: 'hostile' }] },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: tar.length, blob: src, diffId: digest, tar: src }],
      tag: 'localhost/hostile:latest',
    },
    dest,
    'docker-archive',
  );
}

function fingerprint(p: string): string {
  const st = statSync(p);
  return `${readFileSync(p, 'hex')} ${st.mode} ${st.mtimeMs} ${st.uid}:${st.gid}`;
}

test('escape: symlinks in the image and in a bind source never lead out of the bind source or the state', async (t) => {
  const top = mkdtempSync(join(tmpdir(), 'layerfs-escape-'));
  try {
    const outside = join(top, 'outside');
    const bind = join(top, 'bind');
    const home = join(top, 'state');
    mkdirSync(outside);
    mkdirSync(bind);
    writeFileSync(join(outside, 'sentinel'), 'do not touch\n');
    writeFileSync(join(bind, 'inside'), 'bind content\n');
    symlinkSync('../outside/sentinel', join(bind, 'bx'));
    symlinkSync(outside, join(bind, 'babs'));
    symlinkSync('/', join(bind, 'broot'));
    const before = fingerprint(join(outside, 'sentinel'));
    const hostPasswd = fingerprint('/etc/passwd');
    const image = join(top, 'hostile.tar');
    await hostileImage(image);

    const e = await Engine.open({ home });
    const c = await e.open((await e.create(image, { mounts: [{ type: 'bind', source: bind, target: '/data' }] })).id);
    const fs = c.fs;
    const probe = 'layerfs-escape-probe';
    // Reads: each resolves inside the container.
    t.is(fs.readFileSync('/etc/etc/etc-real/passwd', 'utf8'), 'root:x:0:0\n');
    t.is(fs.readFileSync('/x/x/data/inside', 'utf8'), 'bind content\n');
    t.is(fs.readFileSync('/deep/er/out/data/inside', 'utf8'), 'bind content\n');
    t.throws(() => fs.readFileSync('/up'), { code: 'ENOENT' }, '../../outside/sentinel is no file of the container');
    t.throws(() => fs.readFileSync('/data/bx'), { code: 'ENOENT' }, "the bind source's link is resolved in the container");
    t.throws(() => fs.readFileSync('/hostpasswd'), { code: 'ENOENT' });
    // Writes through every kind of link land in the container (layer or bind), never outside.
    fs.writeFileSync('/x/data/' + probe + '-1', 'via x');
    fs.mkdirSync('/outside', { recursive: true });
    fs.writeFileSync('/data/bx', 'via the bind link');
    fs.writeFileSync('/up', 'via up');
    t.throws(() => fs.writeFileSync('/data/babs/' + probe + '-2', 'via babs'), { code: 'ENOENT' }, 'a host path in a link means that path in the container');
    fs.writeFileSync('/data/broot/' + probe + '-3', 'via broot');
    fs.writeFileSync('/etc/' + probe + '-4', 'via etc');
    fs.appendFileSync('/hostpasswd', 'not the host\n');
    fs.chmodSync('/data/bx', 0o600);
    fs.rmSync('/deep/er/out/outside', { recursive: true, force: true });
    t.is(fs.readFileSync('/' + probe + '-4', 'utf8'), 'via etc');
    t.is(readFileSync(join(bind, probe + '-1'), 'utf8'), 'via x', 'a write into the bind reaches the host at once');
    await c.close();

    t.is(fingerprint(join(outside, 'sentinel')), before, 'the sentinel outside is untouched');
    t.is(fingerprint('/etc/passwd'), hostPasswd, "the host's /etc/passwd is untouched");
    t.deepEqual(readdirSync(outside), ['sentinel']);
    t.deepEqual(readdirSync(top).sort(), ['bind', 'hostile.tar', 'outside', 'state']);
    for (const dir of ['/', '/etc', tmpdir()]) {
      t.false(
        readdirSync(dir).some((n) => n.startsWith(probe)),
        `no probe file in ${dir}`,
      );
    }
    t.false(existsSync('/outside'));
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
});
