/**
 * The union's event log (src/union/events.ts) against the kernel: the same layers and operations
 * run on a real overlay mount and on the emulator; the whiteouts and opaque directories the log
 * reports (their net effect, in order) must be exactly the ones the kernel's upperdir holds, every
 * object reported copied up must be in the kernel's upperdir, and a full copy-up of a file reports
 * the bytes of the whole lower file. Skips visibly where overlayfs cannot be mounted (fails in CI).
 */
import test from 'ava';
import { openLayers } from '../src/index.js';
import type { UnionEvent } from '../src/union/events.js';
import type { UnionCore } from '../src/union/core.js';
import { setup, skipped } from './kernel/ava.js';
import { runKernel } from './kernel/harness.js';
import { runOps, type FsLike, type Op } from './ops/ops.js';
import { dir, file, specTars, type Spec } from './kernel/spec.js';

const env = setup(test);

/** What the events leave behind, path by path: a later whiteout or opaque directory replaces all below it. */
function net(events: UnionEvent[]): Map<string, UnionEvent> {
  const out = new Map<string, UnionEvent>();
  for (const e of events) {
    if (e.kind !== 'copy-up') for (const p of [...out.keys()]) if (p.startsWith(e.path + '/')) out.delete(p);
    if (e.kind === 'copy-up' && out.has(e.path)) continue;
    out.set(e.path, e);
  }
  return out;
}

function scenario(title: string, spec: Spec, ops: Op[], check: (events: UnionEvent[], t: import('ava').ExecutionContext) => void): void {
  test.serial(title, async (t) => {
    if (env.noKernel && process.env.CI === 'true') return t.fail(`CI must compare with the kernel: ${env.noKernel}`);
    if (skipped(t, env)) return;
    const k = await runKernel(env.scratch!, { spec, opts: {}, ops });
    const upper = k.upper!;
    const fields = upper.filter((l) => !l.startsWith('links ')).map((l) => l.split(' '));
    const kernelWhiteouts = fields
      .filter((f) => f[1] === 'whiteout')
      .map((f) => '/' + f[0])
      .sort();
    const kernelOpaque = fields
      .filter((f) => f[1] === 'dir' && f.includes('opaque'))
      .map((f) => '/' + f[0])
      .sort();
    const kernelPaths = new Set(upper.map((l) => '/' + l.split(' ')[0]));
    const view = await openLayers(await specTars(spec), { copyUp: 'full', umask: 0o022 });
    try {
      const s = (view.core as UnionCore).s;
      const mark = s.log.mark();
      const results = runOps(view.fs as unknown as FsLike, '/', ops);
      t.deepEqual(results, k.results, 'the emulator answers every op as the kernel did');
      const { events, missed } = s.log.since(mark);
      t.is(missed, 0);
      t.log(events.map((e) => JSON.stringify(e)).join('\n'));
      const left = net(events);
      const kinds = (kind: string) =>
        [...left.values()]
          .filter((e) => e.kind === kind)
          .map((e) => e.path)
          .sort();
      t.deepEqual(kinds('whiteout'), kernelWhiteouts, 'whiteouts reported = whiteouts in the kernel upperdir');
      t.deepEqual(kinds('opaque'), kernelOpaque, 'opaque directories reported = opaque directories in the kernel upperdir');
      for (const p of kinds('copy-up')) t.true(kernelPaths.has(p), `${p} reported copied up is in the kernel upperdir`);
      check(events, t);
    } finally {
      view.close();
    }
  });
}

scenario(
  'OVL-9 rm of an image file: the log reports a whiteout hiding the file of its layer',
  [[dir('etc'), file('etc/a', 'aaaa')], [file('etc/motd', 'hello\n')]],
  [{ op: 'unlink', path: '/etc/motd' }],
  (events, t) => {
    t.deepEqual(
      events.find((e) => e.kind === 'whiteout'),
      { kind: 'whiteout', path: '/etc/motd', hides: 'file', layer: 2, by: 'remove' },
    );
    t.deepEqual(
      events.filter((e) => e.kind === 'copy-up').map((e) => [e.path, e.bytes]),
      [['/etc', 0]],
      'only the parent directory is copied up, no data',
    );
  },
);

scenario(
  'OVL-10 rm -r d; mkdir d over an image directory: an opaque directory, nothing copied up',
  [[dir('d'), file('d/x', 'xxxxxxxx'), dir('d/sub'), file('d/sub/y', 'yy')]],
  [
    { op: 'rm', path: '/d', recursive: true },
    { op: 'mkdir', path: '/d' },
  ],
  (events, t) => {
    const last = events[events.length - 1];
    t.deepEqual(last, { kind: 'opaque', path: '/d', hides: 'dir', layer: 1, by: 'mkdir' });
    t.is(
      events.filter((e) => e.kind === 'copy-up').reduce((n, e) => n + (e.kind === 'copy-up' ? e.bytes : 0), 0),
      0,
      'no file data copied',
    );
  },
);

scenario(
  'OVL-6 appending to an image file copies it up whole: the log reports its bytes',
  [[dir('srv'), file('srv/data', 'x'.repeat(5000))]],
  [{ op: 'appendFile', path: '/srv/data', data: 'more' }],
  (events, t) => {
    t.deepEqual(
      events.filter((e) => e.kind === 'copy-up').map((e) => [e.path, e.type, e.kind === 'copy-up' && e.bytes]),
      [
        ['/srv', 'dir', 0],
        ['/srv/data', 'file', 5000],
      ],
    );
  },
);

scenario('OVL-9 rename of an image file: a whiteout at the old name (by rename)', [[file('a', 'abc')]], [{ op: 'rename', from: '/a', to: '/b' }], (events, t) => {
  t.true(events.some((e) => e.kind === 'whiteout' && e.path === '/a' && e.by === 'rename' && e.layer === 1));
});

scenario(
  'OVL-10 mkdir over a removed image file: opaque, hiding a file',
  [[file('x', 'abc')], [file('y', 'y')]],
  [
    { op: 'unlink', path: '/x' },
    { op: 'mkdir', path: '/x' },
  ],
  (events, t) => {
    t.deepEqual(events[events.length - 1], { kind: 'opaque', path: '/x', hides: 'file', layer: 1, by: 'mkdir' });
  },
);
