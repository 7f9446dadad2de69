/**
 * `cp` between the host and a container, against `podman cp` on a real container of the same
 * image (podman create --runtime runc, from the fixture podman loaded): the same copies, then the
 * container's filesystem as `podman export` / `layerfs export` write it, listed by GNU tar (type,
 * mode, owner, size, path); refusals; copies to the host compared by the fixtures' manifest.py;
 * tar streams both ways. podman's default ownership (the container's user) is ours; podman's
 * --archive=false (the source's owner) is our -a, docker's -a.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { layerfsIn as layerfs, tempDir } from './helpers/cli.js';
import { FIXTURES } from './helpers/fixtures.js';
import { havePodman, podman, podmanBytes } from './helpers/podman.js';
import { manifestOf } from './helpers/tools.js';

const IMAGE = join(FIXTURES, 'layers/docker-archive.tar');

/** A host tree: files owned by 1234:2345, a nested directory, a symlink. */
function hostTree(dir: string): string {
  const h = join(dir, 'host');
  mkdirSync(join(h, 'd/sub'), { recursive: true });
  writeFileSync(join(h, 'f'), 'hi\n', { mode: 0o640 });
  writeFileSync(join(h, 'd/x'), 'x\n');
  writeFileSync(join(h, 'd/sub/s'), 's\n', { mode: 0o600 });
  symlinkSync('x', join(h, 'd/link'));
  for (const p of ['f', 'd', 'd/x']) chownSync(join(h, p), 1234, 2345);
  return h;
}

/** `tar -tv` lines of the paths we copied, without times: type+mode, owner, size, name. */
function listing(tar: Buffer): string[] {
  const lines = execFileSync('tar', ['-tv', '--numeric-owner'], { input: tar, maxBuffer: 64 << 20, encoding: 'utf8' }).split('\n');
  return lines
    .filter((l) => / (\.\/)?(newf|newd|dot|keep|etc\/f|etc\/t1)(\/|$| )/.test(l))
    .map((l) => {
      const f = l.split(/\s+/);
      return [f[0], f[1], f[2], f.slice(5).join(' ').replace(/^\.\//, '').replace(/\/$/, '')].join(' ');
    })
    .sort();
}

test('cp into a container: files, directories, DEST/., existing directories, -a, a tar stream, as podman cp does it', async (t) => {
  if (!havePodman(t)) return;
  const w = await tempDir(t, 'layerfs-cp-');
  const h = hostTree(w);
  const tarIn = join(w, 'in.tar');
  execFileSync('bash', ['-c', 'mkdir -p "$1/ts" && echo t > "$1/ts/t1" && chown 77:88 "$1/ts/t1" && tar -C "$1/ts" -cf "$2" t1', '-', w, tarIn]);
  const name = `lfv-cp-${process.pid}`;
  t.is(podman(['load', '-i', IMAGE]).code, 0);
  t.is(podman(['create', '--name', name, 'localhost/layers:latest', 'true']).code, 0);
  t.teardown(() => void podman(['rm', '-f', name]));
  // [podman args, layerfs args] for the same copy.
  const copies: Array<[string[], string[]]> = [
    [
      ['cp', `${h}/f`, `${name}:/newf`],
      ['cp', `${h}/f`, 'c:/newf'],
    ],
    [
      ['cp', `${h}/d`, `${name}:/newd`],
      ['cp', `${h}/d`, 'c:/newd'],
    ],
    [
      ['cp', `${h}/d`, `${name}:/newd`],
      ['cp', `${h}/d`, 'c:/newd'],
    ],
    [
      ['cp', `${h}/d/.`, `${name}:/dot`],
      ['cp', `${h}/d/.`, 'c:/dot'],
    ],
    [
      ['cp', `${h}/f`, `${name}:/etc`],
      ['cp', `${h}/f`, 'c:/etc'],
    ],
    [
      ['cp', '--archive=false', `${h}/f`, `${name}:/keep`],
      ['cp', '-a', `${h}/f`, 'c:/keep'],
    ],
  ];
  const home = join(w, 'home');
  t.is((await layerfs(home, ['create', '--name', 'c', IMAGE])).code, 0);
  for (const [p, l] of copies) {
    const pr = podman(p);
    t.is(pr.code, 0, `podman ${p.join(' ')}: ${pr.stderr}`);
    const lr = await layerfs(home, l);
    t.is(lr.code, 0, `layerfs ${l.join(' ')}: ${lr.stderr}`);
  }
  const pt = podman(['cp', '-', `${name}:/etc`], readFileSync(tarIn));
  t.is(pt.code, 0, pt.stderr);
  const lt = await layerfs(home, ['cp', '-', 'c:/etc'], readFileSync(tarIn));
  t.is(lt.code, 0, lt.stderr);
  // podman export writes to a file (it opens /dev/stdout itself, which a pipe may not allow).
  const exported = podman(['export', '-o', join(w, 'podman.tar'), name]);
  t.is(exported.code, 0, exported.stderr);
  const want = listing(readFileSync(join(w, 'podman.tar')));
  t.true(want.length > 10, want.join('\n'));
  const got = listing((await layerfs(home, ['export', 'c', '-o', '-'])).out);
  t.deepEqual(got, want);

  // Refusals: both refuse, with podman's words.
  const refusals: Array<[string[], string[], RegExp]> = [
    [['cp', `${h}/d`, `${name}:/newf`], ['cp', `${h}/d`, 'c:/newf'], /destination must be a directory when copying a directory/],
    [['cp', `${h}/f`, `${name}:/nodir/f`], ['cp', `${h}/f`, 'c:/nodir/f'], /could not be found on container/],
    [['cp', `${h}/f`, `${name}:/nodir2/`], ['cp', `${h}/f`, 'c:/nodir2/'], /could not be found on container/],
    [['cp', `${h}/nosuch`, `${name}:/x`], ['cp', `${h}/nosuch`, 'c:/x'], /could not be found on the host/],
  ];
  for (const [p, l, words] of refusals) {
    const pr = podman(p);
    t.not(pr.code, 0);
    t.regex(pr.stderr, words);
    const lr = await layerfs(home, l);
    t.is(lr.code, 1, lr.stderr);
    t.regex(lr.stderr, words);
  }
});

test('cp out of a container: a directory to the host, and a tar stream to stdout, as podman cp does it', async (t) => {
  if (!havePodman(t)) return;
  const w = await tempDir(t, 'layerfs-cp-');
  const h = hostTree(w);
  const name = `lfv-cpo-${process.pid}`;
  t.is(podman(['load', '-i', IMAGE]).code, 0);
  t.is(podman(['create', '--name', name, 'localhost/layers:latest', 'true']).code, 0);
  t.teardown(() => void podman(['rm', '-f', name]));
  const home = join(w, 'home');
  t.is((await layerfs(home, ['create', '--name', 'c', IMAGE])).code, 0);
  t.is(podman(['cp', `${h}/d`, `${name}:/newd`]).code, 0);
  t.is((await layerfs(home, ['cp', `${h}/d`, 'c:/newd'])).code, 0);
  // A directory out to a new host path, and into an existing one, and a file of the image.
  mkdirSync(join(w, 'p'));
  mkdirSync(join(w, 'l'));
  for (const [src, dest] of [
    ['/newd', 'a'],
    ['/newd', 'a'],
    ['/etc', 'etc'],
  ] as const) {
    const pr = podman(['cp', `${name}:${src}`, join(w, 'p', dest)]);
    t.is(pr.code, 0, pr.stderr);
    const r = await layerfs(home, ['cp', `c:${src}`, join(w, 'l', dest)]);
    t.is(r.code, 0, r.stderr);
  }
  // Extended attributes are not copied (Node has no xattr calls; podman keeps them): that column is left out.
  const noXattrs = (m: string) =>
    m
      .split('\n')
      .map((l) => l.split('\t').slice(0, 9).join('\t'))
      .join('\n');
  t.is(noXattrs(await manifestOf(join(w, 'l'))), noXattrs(await manifestOf(join(w, 'p'))));
  // A tar stream of SRC under its base name, with the container's owners.
  const tars = [podmanBytes(['cp', `${name}:/newd`, '-']), (await layerfs(home, ['cp', 'c:/newd', '-'])).out];
  const names = tars.map((b) =>
    execFileSync('tar', ['-tv', '--numeric-owner'], { input: b, encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const f = l.split(/\s+/);
        return `${f[0]} ${f[1]} ${f.slice(5).join(' ').replace(/\/$/, '')}`;
      })
      .sort(),
  );
  t.deepEqual(names[1], names[0]);
});
