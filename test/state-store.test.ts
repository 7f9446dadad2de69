/**
 * The engine's state store (src/engine): where it lives, its layout and records, the checks on ids
 * and names, reference resolution, the cross-process lock (with two real child processes), stale
 * lock recovery, malformed files, and the cleanup of what killed writers leave. The crash test is
 * test/state-crash.test.ts.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateError, type StateErrorCode } from '../src/core/errors.js';
import { readJson, withLock, writeFileAtomic } from '../src/core/atomic.js';
import { stateHome } from '../src/core/home.js';
import { newId, shortId, type ContainerInput, type ImageRecord, type VolumeRecord } from '../src/engine/records.js';
import { State } from '../src/engine/state.js';
import { CHECK, frameHead, RECORD_EVERY } from '../src/engine/journal.js';
import { readAll } from '../src/source.js';
import { nodeArgs } from './helpers/child.js';

type Ctx = import('ava').ExecutionContext;

const LOCK_CHILD = fileURLToPath(new URL('./helpers/state-lock-child.ts', import.meta.url));
const NOW = '2025-01-02T03:04:05.000Z';

function tempHome(t: Ctx): string {
  const dir = mkdtempSync(join(tmpdir(), 'layerfs-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'home');
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function image(id = newId(), tags: string[] = []): ImageRecord {
  return { id, tags, source: '/tmp/some.tar', format: 'oci-archive', configDigest: `sha256:${id}`, created: NOW };
}

function container(imageId: string, id = newId(), name = `c-${id.slice(0, 8)}`): ContainerInput {
  return { id, name, image: imageId, mounts: [], state: 'created', created: NOW, labels: {} };
}

function volume(name: string, labels: Record<string, string> = {}): VolumeRecord {
  return { name, anonymous: false, created: NOW, labels };
}

/** A pid that was a process a moment ago and is now dead (and reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

async function failsWith(t: Ctx, p: Promise<unknown>, code: StateErrorCode, file: string, text?: string): Promise<StateError> {
  const err = await t.throwsAsync(p, { instanceOf: StateError });
  t.is(err!.code, code, err!.message);
  t.is(err!.file, file);
  t.true(err!.message.startsWith(`${file}: `), `message names ${file}: ${err!.message}`);
  if (text !== undefined) t.true(err!.message.includes(text), `message says ${text}: ${err!.message}`);
  return err!;
}

/** A state holding one image and one container of it, with `layer` as its layer.tar. */
async function oneContainer(t: Ctx, layer: string): Promise<{ home: string; state: State; img: ImageRecord; c: ContainerInput }> {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image();
  await state.putImage(img, Buffer.from('a'));
  const c = container(img.id);
  await state.putContainer(c, { 'layer.tar': Buffer.from(layer) });
  return { home, state, img, c };
}

/** A child running state-lock-child.ts, with its stdout lines. */
function lockChild(args: string[]): { child: ChildProcess; lines: string[]; line: (want: (l: string) => boolean) => Promise<string> } {
  const child = spawn(process.execPath, [...nodeArgs(LOCK_CHILD), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let buf = '';
  const waiters: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const line = (want: (l: string) => boolean) =>
    new Promise<string>((res, rej) => {
      const check = () => {
        const found = lines.find(want);
        if (found !== undefined) return res(found);
        if (child.exitCode !== null || child.signalCode !== null) return rej(new Error(`child exited: ${stderr}`));
        waiters.push(check);
      };
      child.once('exit', () => setTimeout(check, 50));
      check();
    });
  return { child, lines, line };
}

// ---- where the state lives ----

test('stateHome: the option, then LAYERFS_HOME, then $XDG_DATA_HOME/layerfs, then ~/.local/share/layerfs', (t) => {
  const env = { LAYERFS_HOME: '/srv/lf', XDG_DATA_HOME: '/xdg' };
  t.is(stateHome({ home: '/opt/state', env, homedir: '/home/u' }), '/opt/state');
  t.is(stateHome({ env, homedir: '/home/u' }), '/srv/lf');
  t.is(stateHome({ env: { XDG_DATA_HOME: '/xdg' }, homedir: '/home/u' }), '/xdg/layerfs');
  t.is(stateHome({ env: {}, homedir: '/home/u' }), '/home/u/.local/share/layerfs');
  // Empty counts as unset; a relative XDG_DATA_HOME is invalid (XDG spec) and ignored.
  t.is(stateHome({ home: '', env: { LAYERFS_HOME: '', XDG_DATA_HOME: '' }, homedir: '/home/u' }), '/home/u/.local/share/layerfs');
  t.is(stateHome({ env: { XDG_DATA_HOME: 'rel/xdg' }, homedir: '/home/u' }), '/home/u/.local/share/layerfs');
  // A relative option or LAYERFS_HOME is taken from the current directory.
  t.is(stateHome({ home: 'here', env: {} }), join(process.cwd(), 'here'));
  t.is(stateHome({ env: { LAYERFS_HOME: 'there' } }), join(process.cwd(), 'there'));
});

test('stateHome and State.open read LAYERFS_HOME from the process environment by default', async (t) => {
  const home = tempHome(t);
  const saved = process.env.LAYERFS_HOME;
  // Set and restored with no await in between: other tests in this process never see it.
  process.env.LAYERFS_HOME = home;
  let opening: Promise<State>;
  try {
    t.is(stateHome(), home);
    opening = State.open();
  } finally {
    if (saved === undefined) delete process.env.LAYERFS_HOME;
    else process.env.LAYERFS_HOME = saved;
  }
  const state = await opening;
  t.is(state.home, home);
  t.true(statSync(join(home, 'volumes')).isDirectory());
});

// ---- layout and records ----

test('layout: each record kind in its directory, archive and blobs beside the record', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  t.deepEqual(readdirSync(home).sort(), ['containers', 'images', 'lock', 'volumes']);

  const archiveFile = join(home, '..', 'given.tar');
  writeFileSync(archiveFile, 'the archive bytes');
  const img = image(newId(), ['localhost/a:1']);
  await state.putImage(img, archiveFile);
  const img2 = image();
  await state.putImage(img2, Buffer.from('other archive'));
  t.deepEqual(readdirSync(join(home, 'images', img.id)).sort(), ['archive.tar', 'image.json']);
  t.is(readFileSync(state.imageArchive(img.id), 'utf8'), 'the archive bytes');
  t.is(readFileSync(join(home, 'images', img2.id, 'archive.tar'), 'utf8'), 'other archive');
  t.deepEqual(JSON.parse(readFileSync(join(home, 'images', img.id, 'image.json'), 'utf8')), img);

  const layer = Buffer.from('a layer tar');
  const c = { ...container(img.id), mounts: [{ type: 'volume' as const, source: 'data', target: '/data', readOnly: false }] };
  const stored = await state.putContainer(c, { 'layer.tar': layer });
  t.deepEqual(stored.blobs, { 'layer.tar': { digest: sha256(layer), size: layer.length } });
  t.deepEqual(readdirSync(join(home, 'containers', c.id)).sort(), ['container.json', 'layer.tar']);
  t.deepEqual(JSON.parse(readFileSync(join(home, 'containers', c.id, 'container.json'), 'utf8')), stored);
  t.deepEqual(readFileSync(join(home, 'containers', c.id, 'layer.tar')), layer);

  await state.putVolume(volume('data', { a: 'b' }));
  t.deepEqual(readdirSync(join(home, 'volumes', 'data')).sort(), ['_data', 'volume.json']);
  t.deepEqual(readdirSync(state.volumeData('data')), []);
  t.is(state.volumeData('data'), join(home, 'volumes', 'data', '_data'));

  // Reads give back what was put; a record that is not there is undefined.
  t.deepEqual(await state.getImage(img.id), img);
  t.deepEqual((await state.listImages()).map((i) => i.id).sort(), [img.id, img2.id].sort());
  t.deepEqual(await state.listContainers(), [stored]);
  t.deepEqual(await state.listVolumes(), [volume('data', { a: 'b' })]);
  t.is(await state.getContainer(newId()), undefined);
  t.is(await state.getVolume('nope'), undefined);

  // A second State on the same home (as another process would) sees the same state.
  const again = await State.open(home);
  t.deepEqual(await again.getContainer(c.id), stored);

  // Updates rewrite the record in place; putBlob replaces the blob and its digest together.
  await state.putVolume(volume('data', { a: 'c' }));
  t.deepEqual((await state.getVolume('data'))!.labels, { a: 'c' });
  const layer2 = Buffer.from('a second layer');
  const after = await state.putBlob(c.id, 'layer.tar', layer2);
  t.deepEqual(after.blobs['layer.tar'], { digest: sha256(layer2), size: layer2.length });
  t.deepEqual(await state.readBlob(c.id, 'layer.tar'), layer2);
  t.deepEqual((await state.putContainer({ ...c, state: 'exited' })).blobs, after.blobs, 'a record update keeps the blobs');

  // Removal takes the whole directory; the lock stays free.
  await state.removeContainer(c.id);
  await state.removeVolume('data');
  await state.removeImage(img.id);
  t.deepEqual(readdirSync(join(home, 'containers')), []);
  t.deepEqual(readdirSync(join(home, 'volumes')), []);
  t.deepEqual(readdirSync(join(home, 'images')), [img2.id]);
  t.deepEqual(readdirSync(join(home, 'lock')), []);
  await failsWith(t, state.removeVolume('data'), 'NOT_FOUND', join(home, 'volumes', 'data'));
});

test('records: references are checked, names and tags are unique, used records are not removed', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image(newId(), ['x:1']);
  await state.putImage(img, Buffer.from('a'));
  const c = container(img.id, newId(), 'web');
  await state.putContainer({ ...c, mounts: [{ type: 'volume', source: 'v', target: '/v', readOnly: true }] });
  await state.putVolume(volume('v'));

  const missing = newId();
  await failsWith(t, state.putContainer(container(missing)), 'NOT_FOUND', join(home, 'images', missing), 'does not exist');
  await failsWith(t, state.putContainer(container(img.id, newId(), 'web')), 'EXISTS', join(home, 'containers', c.id, 'container.json'), '"web"');
  const other = image(newId(), ['y:1', 'x:1']);
  await failsWith(t, state.putImage(other, Buffer.from('b')), 'EXISTS', join(home, 'images', img.id, 'image.json'), 'tag "x:1"');
  await failsWith(t, state.putImage(img, Buffer.from('c')), 'EXISTS', join(home, 'images', img.id), 'cannot be replaced');
  await failsWith(t, state.removeImage(img.id), 'IN_USE', join(home, 'images', img.id), `${shortId(c.id)} (web)`);
  await failsWith(t, state.removeVolume('v'), 'IN_USE', join(home, 'volumes', 'v'), `${shortId(c.id)} (web)`);
  const dirArchive = mkdtempSync(join(tmpdir(), 'layerfs-not-a-layout-'));
  t.teardown(() => rmSync(dirArchive, { recursive: true, force: true }));
  await failsWith(t, state.putImage(image(), dirArchive), 'BAD_INPUT', dirArchive, 'not an OCI layout directory');
  await failsWith(t, state.putImage(image(), '/dev/null'), 'BAD_INPUT', '/dev/null', 'an archive file or an OCI layout directory');
  await failsWith(t, state.putImage(image(), join(dirArchive, 'nope.tar')), 'BAD_INPUT', join(dirArchive, 'nope.tar'), 'does not exist');
  // The record's fields are checked before anything is written.
  await failsWith(t, state.putContainer({ ...c, state: 'paused' as never }), 'BAD_INPUT', join(home, 'containers'), 'field "state"');
  await failsWith(t, state.putContainer({ ...c, mounts: [{ type: 'bind', source: '/h', target: 'rel', readOnly: false }] }), 'BAD_INPUT', join(home, 'containers'), 'field "mounts"');
  await failsWith(t, state.putContainer(c, { 'other.tar': Buffer.from('') } as never), 'BAD_NAME', join(home, 'containers', c.id), '"other.tar"');

  // After removing the user, removal goes through.
  await state.removeContainer(c.id);
  await state.removeVolume('v');
  await state.removeImage(img.id);
  t.deepEqual(await state.listImages(), []);
});

test('a new image needs its archive', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image();
  await failsWith(t, state.putImage(img), 'BAD_INPUT', join(home, 'images', img.id), 'needs its archive');
  t.deepEqual(readdirSync(join(home, 'images')), []);
});

test('ids and names: no separators, no "..", no dot names, bounded length; refused before any file is touched', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const badNames: Array<[string, string]> = [
    ['', 'is empty'],
    ['a/b', 'path separator'],
    ['../x', 'path separator'],
    ['a\\b', 'path separator'],
    ['..', "contains '..'"],
    ['a..b', "contains '..'"],
    ['.', 'must start with a letter or digit'],
    ['.hidden', 'must start with a letter or digit'],
    ['-x', 'must start'],
    ['a b', 'must start'],
    ['é', 'must start'],
    ['x'.repeat(129), 'longer than 128'],
  ];
  for (const [name, problem] of badNames) {
    const err = await failsWith(t, state.putVolume(volume(name)), 'BAD_NAME', join(home, 'volumes'), problem);
    t.true(err.message.includes(JSON.stringify(name)), err.message);
    await failsWith(t, state.getVolume(name), 'BAD_NAME', join(home, 'volumes'));
    t.throws(() => state.volumeData(name), { instanceOf: StateError });
  }
  const img = image();
  await state.putImage(img, Buffer.from('a'));
  const badIds: Array<[string, string]> = [
    ['abc', '64 lowercase hex'],
    [newId().toUpperCase(), '64 lowercase hex'],
    [`${newId()}0`, '64 lowercase hex'],
    [`../${newId().slice(3)}`, 'path separator'],
    ['', 'is empty'],
  ];
  for (const [id, problem] of badIds) {
    await failsWith(t, state.putContainer(container(img.id, id)), 'BAD_NAME', join(home, 'containers'), problem);
    await failsWith(t, state.getContainer(id), 'BAD_NAME', join(home, 'containers'), problem);
    await failsWith(t, state.removeImage(id), 'BAD_NAME', join(home, 'images'), problem);
  }
  await failsWith(t, state.putContainer(container(img.id, newId(), 'a/b')), 'BAD_NAME', join(home, 'containers'), 'container name');
  await failsWith(t, state.putImage(image(newId(), ['has space']), Buffer.from('a')), 'BAD_NAME', join(home, 'images'), 'tag');
  await failsWith(t, state.putContainer({ ...container(img.id), mounts: [{ type: 'volume', source: '../up', target: '/v', readOnly: false }] }), 'BAD_NAME', join(home, 'volumes'));
  // Nothing escaped into or beside the home; good names at the edges are taken.
  t.deepEqual(readdirSync(join(home, '..')), ['home']);
  t.deepEqual(readdirSync(join(home, 'volumes')), []);
  t.deepEqual(readdirSync(join(home, 'containers')), []);
  for (const name of ['a', '0', 'my-vol_1.2', 'x'.repeat(128)]) await state.putVolume(volume(name));
  t.is((await state.listVolumes()).length, 4);
});

test('newId: 64 hex digits, distinct, and the short id is never all digits', (t) => {
  const ids = Array.from({ length: 2000 }, newId);
  t.is(new Set(ids).size, ids.length);
  for (const id of ids) {
    t.regex(id, /^[0-9a-f]{64}$/);
    t.notRegex(shortId(id), /^\d{12}$/);
    t.is(shortId(id).length, 12);
  }
});

test('references: full id, name or tag, unique prefix; an ambiguous prefix lists its matches', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const tail = (c: string) => c.repeat(58);
  const img = image(`abcdef${tail('1')}`, ['localhost/app:1']);
  const img2 = image(`abcd00${tail('2')}`);
  await state.putImage(img, Buffer.from('a'));
  await state.putImage(img2, Buffer.from('b'));
  const a = container(img.id, `123456789abc${'0'.repeat(52)}`, 'alpha');
  const b = container(img.id, `123456789abd${'0'.repeat(52)}`, 'beta');
  await state.putContainer(a);
  await state.putContainer(b);

  t.is((await state.resolveContainer(a.id)).id, a.id);
  t.is((await state.resolveContainer(shortId(a.id))).id, a.id);
  t.is((await state.resolveContainer(shortId(b.id))).id, b.id);
  t.is((await state.resolveContainer('beta')).id, b.id);
  const amb = await failsWith(t, state.resolveContainer('123456789ab'), 'AMBIGUOUS', join(home, 'containers'), shortId(a.id));
  t.true(amb.message.includes(shortId(b.id)), amb.message);
  await failsWith(t, state.resolveContainer('ffff'), 'NOT_FOUND', join(home, 'containers'), '"ffff"');
  await failsWith(t, state.resolveContainer('gamma'), 'NOT_FOUND', join(home, 'containers'));

  t.is((await state.resolveImage('localhost/app:1')).id, img.id);
  t.is((await state.resolveImage(`sha256:${img2.id}`)).id, img2.id);
  t.is((await state.resolveImage('abcde')).id, img.id);
  t.is((await state.resolveImage('sha256:abcd0')).id, img2.id);
  const amb2 = await failsWith(t, state.resolveImage('abcd'), 'AMBIGUOUS', join(home, 'images'), shortId(img.id));
  t.true(amb2.message.includes(shortId(img2.id)), amb2.message);
});

// ---- damaged files ----

test('malformed JSON: a StateError naming the file; missing is undefined', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image();
  await state.putImage(img, Buffer.from('a'));
  const c = container(img.id);
  await state.putContainer(c);
  const file = join(home, 'containers', c.id, 'container.json');

  writeFileSync(file, '{"id": ');
  await failsWith(t, state.getContainer(c.id), 'MALFORMED', file, 'not valid JSON');
  await failsWith(t, state.listContainers(), 'MALFORMED', file);
  await failsWith(t, readJson(file), 'MALFORMED', file);
  writeFileSync(file, '');
  await failsWith(t, state.getContainer(c.id), 'MALFORMED', file, 'not valid JSON');
  writeFileSync(file, '[1, 2]');
  await failsWith(t, state.getContainer(c.id), 'MALFORMED', file, 'not a JSON object');
  writeFileSync(file, JSON.stringify({ ...c, blobs: {}, mounts: 'none' }));
  await failsWith(t, state.getContainer(c.id), 'MALFORMED', file, 'field "mounts"');
  const stranger = newId();
  writeFileSync(file, JSON.stringify({ ...c, id: stranger, blobs: {} }));
  await failsWith(t, state.getContainer(c.id), 'MALFORMED', file, `lives in "${c.id}"`);

  t.is(await readJson(join(home, 'no-such.json')), undefined);
});

test('readBlob checks the blob against its record: CORRUPT names the file', async (t) => {
  const { home, state, img, c } = await oneContainer(t, 'good layer');
  const file = join(home, 'containers', c.id, 'layer.tar');
  writeFileSync(file, 'evil layer');
  await failsWith(t, state.readBlob(c.id, 'layer.tar'), 'CORRUPT', file, sha256(Buffer.from('good layer')));
  rmSync(file);
  await failsWith(t, state.readBlob(c.id, 'layer.tar'), 'CORRUPT', file, 'is missing');
  const bare = container(img.id);
  await state.putContainer(bare);
  t.is(await state.readBlob(bare.id, 'layer.tar'), undefined);
});

test('openSaved gives layer.tar and the journal frames as windows onto their files, checked against the record: CORRUPT names the file', async (t) => {
  const { home, state, c } = await oneContainer(t, 'good layer');
  const frame = Buffer.concat([frameHead([], 5)!, Buffer.from('frame')]);
  await state.appendJournal(c.id, frame);
  const saved = await state.openSaved(c.id);
  t.deepEqual(readAll(saved.base!), Buffer.from('good layer'));
  t.deepEqual(
    saved.frames.map((f) => [f.drop, readAll(f.tar).toString()]),
    [[[], 'frame']],
  );
  saved.close();
  const file = join(home, 'containers', c.id, 'layer.tar');
  writeFileSync(file, 'evil layer');
  await failsWith(t, state.openSaved(c.id), 'CORRUPT', file, sha256(Buffer.from('good layer')));
  rmSync(file);
  await failsWith(t, state.openSaved(c.id), 'CORRUPT', file, 'is missing');
  await state.putBlob(c.id, 'layer.tar', Buffer.from('good layer'));
  await state.appendJournal(c.id, frame);
  const journal = join(home, 'containers', c.id, 'layer.journal');
  writeFileSync(journal, Buffer.concat([frameHead([], 5)!, Buffer.from('fraME')]));
  await failsWith(t, state.openSaved(c.id), 'CORRUPT', journal, 'the record commits');
});

const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('STATE-6 a frame commits itself (its check is the chain digest after it); the record names the journal when it starts and again past RECORD_EVERY bytes', async (t) => {
  const { home, state, c } = await oneContainer(t, 'base');
  const journal = join(home, 'containers', c.id, 'layer.journal');
  const record = join(home, 'containers', c.id, 'container.json');
  const payload = (i: number) => Buffer.alloc(10 << 10, i);
  const frame = (i: number) => Buffer.concat([frameHead([`/gone${i}`], payload(i).length)!, payload(i)]);
  // The chain as journal.ts states it, worked out here from the bytes on disk.
  let chain = hex('');
  const first = await state.appendJournal(c.id, frame(0));
  const bytes0 = readFileSync(journal);
  chain = hex(chain + hex(bytes0.subarray(0, bytes0.length - 32)));
  t.is(bytes0.subarray(bytes0.length - 32).toString('hex'), chain, 'the check is the chain digest after the frame');
  t.deepEqual(first, { digest: `sha256:${chain}`, size: bytes0.length });
  t.deepEqual(JSON.parse(readFileSync(record, 'utf8')).blobs['layer.journal'], first, 'the first frame starts the journal: the record names it');
  const named = readFileSync(record);
  let end = first;
  let i = 1;
  for (; end.size - first.size <= RECORD_EVERY; i++) {
    t.deepEqual(readFileSync(record), named, `frame ${i}: the record is not written again`);
    const at = end.size;
    end = await state.appendJournal(c.id, frame(i));
    const bytes = readFileSync(journal);
    chain = hex(chain + hex(bytes.subarray(at, bytes.length - 32)));
    t.deepEqual(end, { digest: `sha256:${chain}`, size: bytes.length });
  }
  t.true(i > 2);
  t.deepEqual(JSON.parse(readFileSync(record, 'utf8')).blobs['layer.journal'], end, `once more than RECORD_EVERY bytes are past it, the record names the end again`);
  const saved = await state.openSaved(c.id);
  t.is(saved.journalSize, end.size);
  t.deepEqual(
    saved.frames.map((f) => [f.drop, readAll(f.tar).equals(payload(saved.frames.indexOf(f)))]),
    Array.from({ length: i }, (_, k) => [[`/gone${k}`], true]),
  );
  saved.close();
});

test('STATE-6 past the frames the record names, the first frame that is torn or fails its check ends the journal, and the next append cuts it off; in the named part it is CORRUPT', async (t) => {
  const { home, state, c } = await oneContainer(t, 'base');
  const journal = join(home, 'containers', c.id, 'layer.journal');
  const frame = (text: string) => Buffer.concat([frameHead([], text.length)!, Buffer.from(text)]);
  const tars = async () => {
    const saved = await state.openSaved(c.id);
    const out = saved.frames.map((f) => readAll(f.tar).toString());
    saved.close();
    return out;
  };
  await state.appendJournal(c.id, frame('one'));
  const two = await state.appendJournal(c.id, frame('two'));
  // A kill mid-append: a frame's head and part of its tar.
  writeFileSync(journal, frame('three').subarray(0, 14), { flag: 'a' });
  t.deepEqual(await tars(), ['one', 'two'], 'a torn frame is not one');
  const three = await state.appendJournal(c.id, frame('three'));
  t.is(statSync(journal).size, three.size);
  t.deepEqual(await tars(), ['one', 'two', 'three'], 'the next append cut the torn tail off');
  // A frame whose check fails (a flush that did not finish before a power loss) ends the journal.
  const bytes = readFileSync(journal);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(journal, bytes);
  t.deepEqual(await tars(), ['one', 'two']);
  const four = await state.appendJournal(c.id, frame('four'));
  t.is(four.size, two.size + frame('four').length + CHECK, 'the failed frame was cut off');
  t.deepEqual(await tars(), ['one', 'two', 'four']);
  // The record names the first frame: damage there is CORRUPT, naming the journal.
  const damaged = readFileSync(journal);
  damaged[20] ^= 0xff;
  writeFileSync(journal, damaged);
  await failsWith(t, state.openSaved(c.id), 'CORRUPT', journal, 'the frame at byte 0 fails its check');
});

test('STATE-6 a journal of LFJ1 frames (no checks, committed by the record alone, as written before) still opens, and takes new frames after it', async (t) => {
  const { home, state, c } = await oneContainer(t, 'base');
  const header = Buffer.from(JSON.stringify({ drop: ['/old'] }));
  const head = Buffer.alloc(12);
  head.write('LFJ1');
  head.writeUInt32BE(4 + header.length + 3, 4);
  head.writeUInt32BE(header.length, 8);
  const v1 = Buffer.concat([head, header, Buffer.from('old')]);
  const dir = join(home, 'containers', c.id);
  writeFileSync(join(dir, 'layer.journal'), Buffer.concat([v1, Buffer.from('LFJ1 torn')]));
  const rec = JSON.parse(readFileSync(join(dir, 'container.json'), 'utf8'));
  rec.blobs['layer.journal'] = { digest: `sha256:${hex(hex('') + hex(v1))}`, size: v1.length };
  writeFileSync(join(dir, 'container.json'), JSON.stringify(rec));
  const frames = async () => {
    const saved = await state.openSaved(c.id);
    const out = saved.frames.map((f) => [f.drop, readAll(f.tar).toString()]);
    saved.close();
    return out;
  };
  t.deepEqual(await frames(), [[['/old'], 'old']], 'an LFJ1 frame past the record is not one');
  await state.appendJournal(c.id, Buffer.concat([frameHead([], 3)!, Buffer.from('new')]));
  t.deepEqual(await frames(), [
    [['/old'], 'old'],
    [[], 'new'],
  ]);
});

test('a blob is streamed into the state chunk by chunk: the record names the digest and size of every chunk written', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image();
  await state.putImage(img, Buffer.from('a'));
  const c = container(img.id);
  const chunks = ['a layer ', 'in ', 'three chunks'].map((x) => Buffer.from(x));
  async function* stream() {
    for (const chunk of chunks) yield chunk;
  }
  const whole = Buffer.concat(chunks);
  t.deepEqual((await state.putContainer(c, { 'layer.tar': stream() })).blobs['layer.tar'], { digest: sha256(whole), size: whole.length }, 'a new container');
  const again = Buffer.concat([whole, whole]);
  t.deepEqual((await state.putBlob(c.id, 'layer.tar', [...chunks, ...chunks])).blobs['layer.tar'], { digest: sha256(again), size: again.length }, 'a new blob of an existing one');
  t.deepEqual(await state.readBlob(c.id, 'layer.tar'), again);
  const after = await state.appendJournal(c.id, chunks);
  t.is(after.size, whole.length + CHECK, 'the chunks, then the 32-byte check');
});

test('a blob stream that fails half way changes nothing: the old layer and journal stay, no scratch file is left', async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image();
  await state.putImage(img, Buffer.from('a'));
  const c = container(img.id);
  const before = await state.putContainer(c, { 'layer.tar': Buffer.from('old layer') });
  const frame = Buffer.concat([frameHead([], 5)!, Buffer.from('frame')]);
  await state.appendJournal(c.id, frame);
  const committed = await state.getContainer(c.id);
  function* failing() {
    yield Buffer.alloc(3 << 20, 1);
    throw new Error('the writable layer failed a read');
  }
  await t.throwsAsync(state.putBlob(c.id, 'layer.tar', failing()), { message: 'the writable layer failed a read' });
  await t.throwsAsync(state.putContainer(container(img.id), { 'layer.tar': failing() }), { message: 'the writable layer failed a read' });
  await t.throwsAsync(state.appendJournal(c.id, failing()), { message: 'the writable layer failed a read' });
  t.deepEqual(await state.getContainer(c.id), committed);
  t.deepEqual(committed!.blobs['layer.tar'], before.blobs['layer.tar']);
  t.deepEqual(
    (await state.listContainers()).map((x) => x.id),
    [c.id],
    'no container was half made',
  );
  t.deepEqual(readdirSync(join(home, 'containers')), [c.id]);
  t.deepEqual(readdirSync(join(home, 'containers', c.id)).sort(), ['container.json', 'layer.journal', 'layer.tar']);
  // The torn tail the failed append left is past the committed length: ignored.
  const saved = await state.openSaved(c.id);
  t.deepEqual(readAll(saved.base!), Buffer.from('old layer'));
  t.deepEqual(
    saved.frames.map((f) => readAll(f.tar).toString()),
    ['frame'],
  );
  saved.close();
});

// ---- atomic writes and leftovers ----

test('writeFileAtomic replaces the whole file, and on failure leaves the target and no temp file', async (t) => {
  const dir = tempHome(t);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'f.json');
  await writeFileAtomic(file, 'one');
  await writeFileAtomic(file, 'two');
  t.is(readFileSync(file, 'utf8'), 'two');
  t.deepEqual(readdirSync(dir), ['f.json']);
  // A target that is a non-empty directory: the rename fails after the temp file was written.
  const blocked = join(dir, 'blocked');
  mkdirSync(join(blocked, 'inside'), { recursive: true });
  const err = await t.throwsAsync(writeFileAtomic(blocked, 'three'));
  t.truthy((err as NodeJS.ErrnoException).code);
  t.deepEqual(readdirSync(dir).sort(), ['blocked', 'f.json']);
  t.deepEqual(readdirSync(blocked), ['inside']);
});

test("open deletes dead writers' scratch entries (not live ones, not volume content) and settles blob commits", async (t) => {
  const home = tempHome(t);
  const state = await State.open(home);
  const img = image();
  await state.putImage(img, Buffer.from('a'));
  const c = container(img.id);
  const oldLayer = Buffer.from('old layer');
  await state.putContainer(c, { 'layer.tar': oldLayer });
  const interrupted = container(img.id);
  await state.putContainer(interrupted, { 'layer.tar': oldLayer });
  await state.putVolume(volume('data'));

  const dead = deadPid();
  const cdir = join(home, 'containers', c.id);
  const leftovers = [
    join(home, `.new-${dead}-0123abcd-lock`),
    join(home, 'images', `.new-${dead}-0123abcd-${newId()}`),
    join(cdir, `.tmp-${dead}-0123abcd-container.json`),
    join(home, 'volumes', `.trash-${dead}-0123abcd-old`),
  ];
  mkdirSync(join(leftovers[0]!, `${dead}-x-00`), { recursive: true });
  mkdirSync(leftovers[1]!);
  writeFileSync(join(leftovers[1]!, 'archive.tar'), 'half');
  writeFileSync(leftovers[2]!, '{"torn');
  mkdirSync(join(leftovers[3]!, '_data'), { recursive: true });
  // A staged blob no record names: a commit killed before its commit point.
  const uncommitted = join(cdir, `.blob-${sha256(Buffer.from('never')).slice(7)}-layer.tar`);
  writeFileSync(uncommitted, 'never');
  // A commit killed after its commit point: the record names the new digest, layer.tar is old.
  const newLayer = Buffer.from('new layer');
  const idir = join(home, 'containers', interrupted.id);
  writeFileSync(join(idir, `.blob-${sha256(newLayer).slice(7)}-layer.tar`), newLayer);
  const rec = JSON.parse(readFileSync(join(idir, 'container.json'), 'utf8'));
  rec.blobs['layer.tar'] = { digest: sha256(newLayer), size: newLayer.length };
  writeFileSync(join(idir, 'container.json'), JSON.stringify(rec));
  // Kept: a live writer's scratch (this process), and volume content that looks like scratch.
  const live = join(cdir, `.tmp-${process.pid}-0123abcd-container.json`);
  writeFileSync(live, 'in progress');
  const decoys = [join(state.volumeData('data'), `.tmp-${dead}-0123abcd-mine`), join(state.volumeData('data'), `.trash-${dead}-0123abcd-x`)];
  for (const d of decoys) writeFileSync(d, 'user data');

  await State.open(home);
  for (const l of leftovers) t.false(existsSync(l), l);
  t.false(existsSync(uncommitted));
  t.true(existsSync(live));
  for (const d of decoys) t.is(readFileSync(d, 'utf8'), 'user data');
  t.deepEqual(readFileSync(join(cdir, 'layer.tar')), oldLayer);
  t.deepEqual(readFileSync(join(idir, 'layer.tar')), newLayer, 'the committed blob was rolled forward');
  t.deepEqual(readdirSync(idir).sort(), ['container.json', 'layer.tar']);
  t.deepEqual(await state.readBlob(interrupted.id, 'layer.tar'), newLayer);
});

// ---- the lock ----

test('lock: two processes each increment a counter N times under it; the result is exactly 2N', async (t) => {
  const N = 60;
  const home = tempHome(t);
  const state = await State.open(home);
  await state.putVolume(volume('counter', { count: '0' }));
  const kids = [lockChild(['count', home, String(N)]), lockChild(['count', home, String(N)])];
  t.teardown(() => {
    for (const k of kids) k.child.kill('SIGKILL');
  });
  await Promise.all(kids.map((k) => k.line((l) => l === 'ready')));
  for (const k of kids) k.child.stdin!.end('go\n');
  const results = await Promise.all(kids.map(async (k) => JSON.parse(await k.line((l) => l.startsWith('{'))) as { seen: number[] }));
  t.is((await state.getVolume('counter'))!.labels.count, String(2 * N));
  // Every read-modify-write saw a count no other did: none was interleaved with another.
  const seen = [...results[0]!.seen, ...results[1]!.seen].sort((x, y) => x - y);
  t.deepEqual(
    seen,
    Array.from({ length: 2 * N }, (_, i) => i),
  );
  // The two really ran at the same time, taking turns: otherwise this proves nothing.
  const [a, b] = results as [(typeof results)[0], (typeof results)[0]];
  t.true(a.seen.some((v) => v > Math.min(...b.seen)) && b.seen.some((v) => v > Math.min(...a.seen)), 'the two took turns');
});

test('lock: a live holder blocks (LOCK_TIMEOUT naming it); once it is SIGKILLed its stale lock is broken', async (t) => {
  const home = tempHome(t);
  await State.open(home);
  const holder = lockChild(['hold', home]);
  t.teardown(() => holder.child.kill('SIGKILL'));
  await holder.line((l) => l === 'locked');
  t.is(readdirSync(join(home, 'lock')).length, 1);
  await failsWith(t, State.open(home, { lockTimeoutMs: 300 }), 'LOCK_TIMEOUT', join(home, 'lock'), `pid ${holder.child.pid}`);

  holder.child.kill('SIGKILL');
  await once(holder.child, 'exit');
  t.deepEqual(
    readdirSync(join(home, 'lock')).map((n) => n.split('-')[0]),
    [String(holder.child.pid)],
    'the dead holder left its entry',
  );
  const state = await State.open(home, { lockTimeoutMs: 5000 });
  t.deepEqual(readdirSync(join(home, 'lock')), []);
  await state.putVolume(volume('after'));
});

test('lock: an entry of a dead pid, or of a live pid with another start time (a reused pid), is stale', async (t) => {
  const home = tempHome(t);
  const lock = join(home, 'lock');
  for (const entry of [`${deadPid()}-x-00`, `${process.pid}-1-00`, 'not-an-entry']) {
    mkdirSync(join(lock, entry), { recursive: true });
    t.is(await withLock(home, () => readdirSync(lock).length, { timeoutMs: 500 }), 1, `took the lock over ${entry}`);
    t.deepEqual(readdirSync(lock), []);
  }
});

test('lock: re-entrant within one async context; concurrent contexts of one process take turns', async (t) => {
  const home = tempHome(t);
  t.is(await withLock(home, () => withLock(home, () => 'nested', { timeoutMs: 500 })), 'nested');
  let inside = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    [0, 1, 2, 3].map((i) =>
      withLock(home, async () => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 5));
        order.push(i);
        inside--;
      }),
    ),
  );
  t.is(most, 1);
  t.is(order.length, 4);
  t.deepEqual(readdirSync(join(home, 'lock')), []);
});
