/**
 * The union's event log (src/union/events.ts), the record the shell and the web lab show. Each
 * event follows the rule it reports: OVL-9 a removed lower name leaves a whiteout, OVL-10 a
 * directory made over a deleted name is opaque, OVL-7 parents are copied up first, OVL-6/OVL-16
 * a copy-up copies the whole file (full), nothing until data is needed (metadata), or only the
 * 4 KiB chunks written (chunked). Every whiteout and opaque directory the saved writable layer holds
 * (the layer the kernel differential suite compares with a real upperdir) was reported, and the
 * bytes reported add up to the view's own copy-up counter.
 */
import test from 'ava';
import { constants as C } from 'node:fs';
import type { Entry } from '../src/entry.js';
import { CHUNK } from '../src/layer/data.js';
import { buildLayer } from '../src/layer/build.js';
import { flatten } from '../src/layer/flatten.js';
import { UnionCore } from '../src/union/core.js';
import type { UnionEvent } from '../src/union/events.js';
import type { UnionOptions } from '../src/union/state.js';
import { upperEntries } from '../src/union/upper.js';
import { dir, file } from './helpers/entries.js';

const BIG = 10_000;
const layers: Entry[][] = [[dir('etc'), file('etc/motd', 'hello\n'), file('etc/big', 'x'.repeat(BIG)), dir('srv'), file('srv/a', 'a'), dir('srv/sub'), file('srv/sub/b', 'b')]];

function union(opts: UnionOptions = {}): UnionCore {
  return new UnionCore(flatten(layers.map((l, i) => buildLayer(l, i, `layer${i}`))), opts);
}

function append(u: UnionCore, path: string, text: string): void {
  const fd = u.open(path, C.O_WRONLY | C.O_APPEND, 0);
  u.write(fd, Buffer.from(text), 0, text.length, null);
  u.close(fd);
}

const copied = (events: UnionEvent[]) => events.reduce((s, e) => s + (e.kind === 'copy-up' || e.kind === 'copy-data' ? e.bytes : 0), 0);

test('events: OVL-9 whiteouts, OVL-10 opaque directories, OVL-7 parents first; the saved layer holds every marker reported', (t) => {
  const u = union();
  const log = u.s.log;
  const at = log.mark();
  u.unlink('/etc/motd');
  u.rename('/srv/a', '/srv/a2');
  u.unlink('/srv/sub/b');
  u.rmdir('/srv/sub');
  u.mkdir('/srv/sub', 0o755);
  const { events } = log.since(at);
  t.deepEqual(events, [
    { kind: 'copy-up', path: '/etc', type: 'dir', layer: 1, bytes: 0, strategy: 'full', data: true },
    { kind: 'whiteout', path: '/etc/motd', hides: 'file', layer: 1, by: 'remove' },
    { kind: 'copy-up', path: '/srv', type: 'dir', layer: 1, bytes: 0, strategy: 'full', data: true },
    { kind: 'copy-up', path: '/srv/a', type: 'file', layer: 1, bytes: 1, strategy: 'full', data: true },
    { kind: 'whiteout', path: '/srv/a', hides: 'file', layer: 1, by: 'rename' },
    // OVL-7: removing /srv/sub/b puts its parent in the writable layer first.
    { kind: 'copy-up', path: '/srv/sub', type: 'dir', layer: 1, bytes: 0, strategy: 'full', data: true },
    { kind: 'whiteout', path: '/srv/sub/b', hides: 'file', layer: 1, by: 'remove' },
    { kind: 'whiteout', path: '/srv/sub', hides: 'dir', layer: 1, by: 'remove' },
    { kind: 'opaque', path: '/srv/sub', hides: 'dir', layer: 1, by: 'mkdir' },
  ]);
  const markers = upperEntries(u.s)
    .filter((e) => e.type === 'whiteout' || e.type === 'opaque')
    .map((e) => `${e.type} /${e.path}`);
  for (const m of markers)
    t.true(
      events.some((e) => `${e.kind} ${e.path}` === m),
      `${m} was reported`,
    );
  t.is(copied(events), u.s.stats.copyUpBytes);
});

for (const strategy of ['full', 'metadata', 'chunked'] as const) {
  test(`events: copy-up strategy ${strategy} reports the bytes it copies (OVL-6, OVL-16, chunks of ${CHUNK} B)`, (t) => {
    const u = union({ copyUp: strategy });
    const log = u.s.log;
    let at = log.mark();
    u.chmod('/etc/big', 0o600, true);
    const chmod = log.since(at).events.find((e) => e.path === '/etc/big');
    // A chmod needs no data: only the metadata strategy leaves it behind (OVL-16).
    t.like(chmod, { kind: 'copy-up', strategy, data: strategy !== 'metadata', bytes: strategy === 'full' ? BIG : 0 });
    at = log.mark();
    append(u, '/etc/big', '!');
    const write = log.since(at).events;
    // Then the 1-byte append: metadata copies the whole file now; chunked reads the last chunk's lower bytes.
    const later = { full: 0, metadata: BIG, chunked: BIG - Math.floor(BIG / CHUNK) * CHUNK }[strategy];
    t.is(copied(write), later);
    if (later)
      t.like(
        write.find((e) => e.kind === 'copy-data'),
        { path: '/etc/big', bytes: later, strategy },
      );
    t.is(
      write.find((e) => e.kind === 'write'),
      undefined,
      "writes are the mount router's to record",
    );
    t.is(copied(log.since(0).events), u.s.stats.copyUpBytes);
  });
}
