/**
 * "Nothing acknowledged is lost": a shell command's changes to the container layer are saved when
 * the command finishes (Container.sync appends them to the journal), so killing the real
 * `layerfs start` process between commands (SIGKILL, SIGTERM, SIGHUP, or its stdin closed) loses
 * nothing; the journal replays to exactly the layer the live view had; a torn tail is ignored, a
 * damaged frame is CORRUPT; a small change does not rewrite a big layer.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../src/engine/engine.js';
import { StateError } from '../src/core/errors.js';

const BIN = new URL('../bin/layerfs.js', import.meta.url).pathname;
const SAMPLE = new URL('../images/sample.tar', import.meta.url).pathname;

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(home: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, '--home', home, ...args], { env: { ...process.env, NO_COLOR: '1' } });
}

function finish(child: ChildProcessWithoutNullStreams, input?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
  });
}

const layerfs = (home: string, args: string[], input = ''): Promise<Result> => finish(start(home, args), input);

async function home(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'layerfs-durable-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Sends lines to a running shell and waits until `marker` shows on its stdout. */
function untilOutput(child: ChildProcessWithoutNullStreams, lines: string, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const on = (d: Buffer) => {
      seen += d;
      if (seen.includes(marker)) {
        child.stdout.off('data', on);
        resolve();
      }
    };
    child.stdout.on('data', on);
    child.once('exit', () => reject(new Error(`the shell exited before printing ${marker}: ${seen}`)));
    child.stdin.write(lines);
  });
}

const ends: Array<[string, (c: ChildProcessWithoutNullStreams) => void, (r: Result) => boolean, string]> = [
  ['kill -9', (c) => c.kill('SIGKILL'), (r) => r.signal === 'SIGKILL', 'Exited (killed)'],
  ['SIGTERM', (c) => c.kill('SIGTERM'), (r) => r.code === 143, 'Exited (143)'],
  ['SIGHUP', (c) => c.kill('SIGHUP'), (r) => r.code === 129, 'Exited (129)'],
  ['closed stdin', (c) => c.stdin.end(), (r) => r.code === 0, 'Exited (0)'],
];

for (const [how, end, ended, status] of ends) {
  test(`CLI-durable: a shell command's change survives ${how} of the real layerfs start process`, async (t) => {
    const h = await home(t);
    const made = await layerfs(h, ['run', '--name', 'keep', SAMPLE, '-c', 'echo made > /made']);
    t.is(made.code, 0, made.stderr);
    const child = start(h, ['start', 'keep']);
    const done = finish(child);
    // `echo ready` prints only after the line before it ran and the shell saved it.
    await untilOutput(child, 'echo precious > /etc/precious\nrm /etc/motd\necho ready\n', 'ready');
    end(child);
    const r = await done;
    t.true(ended(r), `${how}: code ${r.code} signal ${r.signal}; ${r.stderr}`);
    t.false(/\n\s+at /.test(r.stderr), r.stderr);
    const ps = await layerfs(h, ['ps', '-a']);
    t.regex(ps.stdout, new RegExp(`${status.replace(/[()]/g, '\\$&')}.*keep`));
    const again = await layerfs(h, ['start', 'keep', '-c', 'cat /etc/precious; cat /made; ls /etc']);
    t.is(again.code, 0, again.stderr);
    t.is(again.stdout.split('\n').slice(0, 2).join('\n'), 'precious\nmade');
    t.false(again.stdout.includes('motd'), again.stdout);
  });
}

/** The layer as the live view has it (entries' metadata and bytes): the ground truth a replay must give. */
function layerOf(c: Awaited<ReturnType<Engine['open']>>): string {
  return c.view.manifest();
}

const ops = fc.oneof(
  fc.record({ op: fc.constant('write' as const), name: fc.constantFrom('a', 'b', 'd/x', 'etc/motd', 'usr/lib/libbig.so'), data: fc.string({ maxLength: 40 }) }),
  fc.record({ op: fc.constant('rm' as const), name: fc.constantFrom('a', 'b', 'd', 'etc/motd', 'etc', 'var/cache/app', 'usr/lib/libbig.so') }),
  fc.record({ op: fc.constant('mkdir' as const), name: fc.constantFrom('d', 'var/cache/app', 'etc', 'd/e') }),
  fc.record({ op: fc.constant('chmod' as const), name: fc.constantFrom('a', 'd', 'etc/os-release'), mode: fc.integer({ min: 0, max: 0o777 }) }),
  fc.record({ op: fc.constant('link' as const), name: fc.constantFrom('a', 'b'), to: fc.constantFrom('h1', 'd/h2') }),
  fc.record({ op: fc.constant('rename' as const), name: fc.constantFrom('a', 'b', 'h1'), to: fc.constantFrom('b', 'c', 'd/r') }),
  fc.record({ op: fc.constant('symlink' as const), name: fc.constantFrom('s', 'd/s'), to: fc.constantFrom('/etc/motd', 'nowhere') }),
  fc.record({ op: fc.constant('sync' as const) }),
);
type Op = typeof ops extends fc.Arbitrary<infer T> ? T : never;

function apply(c: Awaited<ReturnType<Engine['open']>>, o: Op): void {
  const fs = c.view.fs;
  const p = (n: string) => `/${n}`;
  try {
    if (o.op === 'write') fs.writeFileSync(p(o.name), o.data);
    else if (o.op === 'rm') fs.rmSync(p(o.name), { recursive: true, force: true });
    else if (o.op === 'mkdir') fs.mkdirSync(p(o.name), { recursive: true });
    else if (o.op === 'chmod') fs.chmodSync(p(o.name), o.mode);
    else if (o.op === 'link') fs.linkSync(p(o.name), p(o.to));
    else if (o.op === 'rename') fs.renameSync(p(o.name), p(o.to));
    else if (o.op === 'symlink') fs.symlinkSync(o.to, p(o.name));
  } catch (e) {
    if (typeof (e as NodeJS.ErrnoException).code !== 'string') throw e;
  }
}

test('CLI-durable: the journal replays to exactly the layer the live view had, after any changes synced between any of them', async (t) => {
  const h = await home(t);
  const engine = await Engine.open({ home: h });
  const img = await engine.load(SAMPLE);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.array(ops, { maxLength: 6 }), { minLength: 1, maxLength: 5 }), async (batches) => {
      const rec = await engine.create(img.id, { name: `p${n++}` });
      let c = await engine.open(rec.id);
      try {
        for (const batch of batches) {
          for (const o of batch) if (o.op !== 'sync') apply(c, o);
          await c.sync();
          const live = layerOf(c);
          const other = await engine.open(rec.id);
          try {
            t.is(layerOf(other), live);
          } finally {
            other.dispose();
          }
        }
        // Reopened in the same state, it goes on from there.
        c.dispose();
        c = await engine.open(rec.id);
        c.view.fs.writeFileSync('/after', 'x');
        await c.sync();
        const live = layerOf(c);
        await c.close();
        const last = await engine.open(rec.id);
        t.is(layerOf(last), live);
        last.dispose();
      } finally {
        c.dispose();
        await engine.rm(rec.id);
      }
    }),
    { numRuns: 12, seed: 0x11 },
  );
});

test('CLI-durable: two writes in one millisecond with the same size and time are both saved (racily clean files count as changed)', async (t) => {
  const h = await home(t);
  const engine = await Engine.open({ home: h });
  const c = await engine.open((await engine.create(SAMPLE, { name: 'racy' })).id);
  for (let i = 0; i < 50; i++) {
    c.view.fs.writeFileSync('/r', `v${i % 10}`);
    c.view.fs.utimesSync('/r', 1000, 1000);
    await c.sync();
    const other = await engine.open('racy');
    t.is(other.view.fs.readFileSync('/r', 'utf8'), `v${i % 10}`);
    other.dispose();
  }
  c.dispose();
});

test('CLI-durable, STATE-6: a sync is one flush of the journal (the record is not rewritten); a torn tail is ignored and cut off by the next sync; a damaged frame the record names is CORRUPT', async (t) => {
  const h = await home(t);
  const engine = await Engine.open({ home: h });
  const rec = await engine.create(SAMPLE, { name: 'torn' });
  const c = await engine.open(rec.id);
  c.view.fs.writeFileSync('/one', '1');
  await c.sync();
  const journal = join(h, 'containers', rec.id, 'layer.journal');
  const record = join(h, 'containers', rec.id, 'container.json');
  const named = readFileSync(record);
  c.view.fs.writeFileSync('/two', '2');
  await c.sync();
  t.deepEqual(readFileSync(record), named, 'the second frame commits itself: the record stays as it was');
  const committed = statSync(journal).size;
  // A kill in the middle of the next append: half a frame's bytes.
  appendFileSync(journal, Buffer.concat([Buffer.from('LFJ2'), Buffer.alloc(600, 7)]));
  const reader = await engine.open(rec.id);
  t.is(reader.view.fs.readFileSync('/one', 'utf8'), '1');
  t.is(reader.view.fs.readFileSync('/two', 'utf8'), '2');
  t.false(reader.view.fs.existsSync('/three'));
  reader.dispose();
  c.view.fs.writeFileSync('/three', '3');
  await c.sync();
  c.dispose();
  const after = await engine.open(rec.id);
  t.deepEqual(
    ['/one', '/two', '/three'].map((p) => after.view.fs.readFileSync(p, 'utf8')),
    ['1', '2', '3'],
  );
  after.dispose();
  t.false(readFileSync(journal).subarray(committed).includes(Buffer.alloc(600, 7)), 'the torn tail was cut off');
  const bytes = readFileSync(journal);
  bytes[40] ^= 0xff;
  writeFileSync(journal, bytes);
  const e = await t.throwsAsync(engine.open(rec.id), { instanceOf: StateError });
  t.is((e as StateError).code, 'CORRUPT');
  t.regex(e!.message, /layer\.journal/);
});

test('CLI-durable: saving a small change to a container with a big layer appends a small frame, not the layer; close compacts it', async (t) => {
  const h = await home(t);
  const engine = await Engine.open({ home: h });
  const rec = await engine.create(SAMPLE, { name: 'big' });
  const c = await engine.open(rec.id);
  c.view.fs.writeFileSync('/big.bin', Buffer.alloc(8 << 20, 1));
  // A file changed in the very millisecond of a save's clock is saved again by the next sync (it
  // is "racily clean"): the waits keep these writes out of that millisecond.
  await sleep(5);
  await c.save();
  const dir = join(h, 'containers', rec.id);
  const layer = statSync(join(dir, 'layer.tar'));
  c.view.fs.writeFileSync('/etc/precious', 'precious\n');
  await sleep(5);
  t.true(await c.sync());
  t.false(await c.sync(), 'nothing changed: nothing written');
  const journal = statSync(join(dir, 'layer.journal')).size;
  t.true(journal < 16 << 10, `journal ${journal} B`);
  t.is(statSync(join(dir, 'layer.tar')).mtimeMs, layer.mtimeMs, 'layer.tar is not rewritten');
  await c.close();
  t.throws(() => statSync(join(dir, 'layer.journal')), { code: 'ENOENT' });
  const again = await engine.open(rec.id);
  t.is(again.view.fs.readFileSync('/etc/precious', 'utf8'), 'precious\n');
  t.is(again.view.fs.statSync('/big.bin').size, 8 << 20);
  again.dispose();
});
