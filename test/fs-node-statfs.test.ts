/**
 * NODE-FS: statfs, statfsSync and promises.statfs, on Node's fs and on layerfs (see
 * fs/node-suite.ts): the StatFs object's class, fields, their order and types (numbers, bigints
 * with `{ bigint: true }` only), the errors, and the relations every statfs answer keeps. The
 * numbers themselves are each filesystem's own: a bind mount (HostCore) must give the host's, a
 * view its own sizes (src/fs/statfs.ts).
 */
import test from 'ava';
import { Buffer } from 'node:buffer';
import nodeFs from 'node:fs';
import { norm } from './fs/compare.js';
import { nodeTest } from './fs/node-suite.js';
import { hostSide, memfsSide, unionSide, type Side } from './fs/sides.js';

type Fs = typeof import('node:fs');
type StatFs = Record<string, number | bigint>;

/** What a StatFs is, beyond its numbers. */
function shape(s: StatFs): unknown {
  const v = (k: string) => s[k] as number;
  return {
    class: s.constructor.name,
    keys: Object.keys(s),
    types: Object.values(s).map((x) => typeof x),
    holds: [v('bsize') > 0, v('bfree') <= v('blocks'), v('bavail') <= v('bfree'), v('ffree') <= v('files'), v('blocks') > 0],
  };
}

function errorOf(side: Side, fn: () => unknown): unknown {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return norm(e, side.root);
  }
}

nodeTest(
  "statfs, statfsSync and promises.statfs give a StatFs (bigint with { bigint: true }) and Node's errors",
  async ({ side, p, note }) => {
    const fs = side.fs as Fs;
    fs.writeFileSync(p('f'), 'x');
    fs.symlinkSync('f', p('l'));
    const viaCallback = (...args: unknown[]) =>
      new Promise((resolve) => {
        (fs.statfs as unknown as (...a: unknown[]) => void)(...args, (e: unknown, s: StatFs) => resolve(e ? norm(e, side.root) : shape(s)));
      });
    for (const options of [undefined, { bigint: true }, { bigint: false }, { bigint: 1 }, 'utf8', {}]) {
      const label = JSON.stringify(options) ?? 'none';
      note(`sync ${label}`, shape(fs.statfsSync(p(''), options as never) as unknown as StatFs));
      note(`callback ${label}`, await (options === undefined ? viaCallback(p('f')) : viaCallback(p('f'), options)));
      note(`promise ${label}`, shape((await fs.promises.statfs(p('l'), options as never)) as unknown as StatFs));
    }
    note(
      'missing',
      errorOf(side, () => fs.statfsSync(p('missing'))),
    );
    note(
      'through a file',
      errorOf(side, () => fs.statfsSync(p('f/x'))),
    );
    note(
      'dangling link',
      (() => {
        fs.symlinkSync('nowhere', p('dangling'));
        return errorOf(side, () => fs.statfsSync(p('dangling')));
      })(),
    );
    note(
      'bad path',
      errorOf(side, () => fs.statfsSync(5 as never)),
    );
    note(
      'null options',
      errorOf(side, () => fs.statfsSync(p(''), null as never)),
    );
    note(
      'no callback',
      errorOf(side, () => (fs.statfs as unknown as (p: string) => void)(p(''))),
    );
    note('callback missing', await viaCallback(p('missing')));
    note(
      'promise missing',
      await fs.promises.statfs(p('missing')).then(
        () => 'resolved',
        (e) => norm(e, side.root),
      ),
    );
    note(
      'promise bad path',
      await fs.promises.statfs(5 as never).then(
        () => 'resolved',
        (e) => norm(e, side.root),
      ),
    );
  },
  { tree: false },
);

test("NODE-FS statfs through a bind mount (HostCore) is the host filesystem's own", (t) => {
  const side = hostSide();
  try {
    const fs = side.fs as Fs;
    fs.mkdirSync('/d');
    const host = nodeFs.statfsSync(side.dir);
    const ours = fs.statfsSync('/d');
    // The free counts move with the rest of the machine; these do not.
    t.deepEqual([ours.type, ours.bsize, ours.blocks, ours.files], [host.type, host.bsize, host.blocks, host.files]);
  } finally {
    side.dispose();
  }
});

test("a view's statfs counts its own data: overlay or tmpfs type, used blocks grow with what is written", (t) => {
  for (const [name, side, magic] of [
    ['union', unionSide(), 0x794c7630],
    ['memfs', memfsSide(), 0x01021994],
  ] as const) {
    const fs = side.fs as Fs;
    const before = fs.statfsSync('/');
    fs.writeFileSync('/big', Buffer.alloc(1024 * 1024, 1));
    fs.linkSync('/big', '/same');
    const after = fs.statfsSync('/');
    const used = (s: typeof before) => s.blocks - s.bfree;
    t.is(after.type, magic, name);
    t.is(after.bsize, 4096, name);
    // 1 MiB is 256 blocks of 4096 bytes, counted once for its two names.
    t.true(used(after) - used(before) >= 256 && used(after) - used(before) < 2 * 256, name);
    t.is(after.files - after.ffree - (before.files - before.ffree), 1, name);
    t.is(after.bavail, after.bfree, name);
  }
});
