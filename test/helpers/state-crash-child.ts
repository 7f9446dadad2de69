/**
 * The writer that test/state-crash.test.ts kills with SIGKILL. Run by nodeArgs (helpers/child.ts: compiled, or through tsx):
 *   state-crash-child.ts <home> <container id> <run tag> <stop at line n> <pause|race>
 * It prints "ready" before it opens the state (so a kill can land in open's own recovery), then
 * loops, printing a line before each step starts and after each step is durable:
 *   committing <k> / committed <k>   putContainer of generation k begins / is durable
 *   appending <k>.<j> / appended <k>.<j>   frame j of generation k's journal: begun / committed
 *   syncing <file> / synced <file>   a new file in volume "data": begun / written and fsynced
 *   created/filled/removing/removed <volume>   a scratch volume made, filled with 4 files, removed
 * The kill point is chosen from this progress, never from elapsed time: with `pause` the child stops
 * dead right after printing line n (the parent kills it there: an exact point between steps); with
 * `race` it goes on, and the parent kills it as soon as it has read line n (inside the next step).
 * Contents are self-describing and checksummed (layerBlob, volumeFile below, which the parent
 * imports to check them), so the parent can tell a torn or mismatched state from a whole one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fsyncDir } from '../../src/core/atomic.js';
import { frameHead } from '../../src/engine/journal.js';
import { State } from '../../src/engine/state.js';

export function sha256hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A layer of generation `gen`: "layer gen=<gen>\n", 1 to 256 KiB of random bytes, "\nsha256=<hex of all before>". */
export function layerBlob(gen: number): Buffer {
  const body = Buffer.concat([Buffer.from(`layer gen=${gen}\n`), randomBytes(1024 + Math.floor(Math.random() * 255 * 1024))]);
  return Buffer.concat([body, Buffer.from(`\nsha256=${sha256hex(body)}`)]);
}

/** The generation of a whole layerBlob; throws saying what is wrong with a torn or foreign one. */
export function layerGen(blob: Buffer): number {
  const trailer = blob.subarray(-72).toString('latin1');
  const m = /^\nsha256=([0-9a-f]{64})$/.exec(trailer);
  if (m === null) throw new Error(`layer blob of ${blob.length} bytes has no checksum trailer`);
  if (sha256hex(blob.subarray(0, -72)) !== m[1]) throw new Error(`layer blob of ${blob.length} bytes fails its checksum`);
  const head = /^layer gen=(\d+)\n/.exec(blob.subarray(0, 32).toString('latin1'));
  if (head === null) throw new Error('layer blob has no generation header');
  return Number(head[1]);
}

/** Frame j of generation `gen`'s journal: a self-describing tar stand-in, "frame <gen>.<j>\n", 1 to 100 KiB, its checksum. */
export function frameBody(gen: number, j: number): Buffer {
  const body = Buffer.concat([Buffer.from(`frame ${gen}.${j}\n`), randomBytes(1024 + Math.floor(Math.random() * 99 * 1024))]);
  return Buffer.concat([body, Buffer.from(`\nsha256=${sha256hex(body)}`)]);
}

/** The "<gen>.<j>" of a whole frameBody; throws saying what is wrong with a torn or foreign one. */
export function frameName(body: Buffer): string {
  const m = /^\nsha256=([0-9a-f]{64})$/.exec(body.subarray(-72).toString('latin1'));
  if (m === null || sha256hex(body.subarray(0, -72)) !== m[1]) throw new Error(`frame of ${body.length} bytes fails its checksum`);
  const head = /^frame (\d+\.\d+)\n/.exec(body.subarray(0, 32).toString('latin1'));
  if (head === null) throw new Error('frame has no name');
  return head[1]!;
}

/** A volume file's content: JSON naming the file, a random payload and the checksum of both. */
export function volumeFile(name: string): string {
  const payload = randomBytes(50 + Math.floor(Math.random() * 2000)).toString('hex');
  return JSON.stringify({ name, payload, sha: sha256hex(name + payload) });
}

/** Throws saying what is wrong unless `text` is a whole volumeFile(name). */
export function checkVolumeFile(name: string, text: string): void {
  const v = JSON.parse(text) as { name: string; payload: string; sha: string };
  if (v.name !== name) throw new Error(`volume file ${name} holds the content of ${v.name}`);
  if (v.sha !== sha256hex(v.name + v.payload)) throw new Error(`volume file ${name} fails its checksum`);
}

let said = 0;
let stopAt = Infinity;
let pause = false;

function say(line: string): void {
  // Written synchronously to the pipe, so the parent has the line before the next step starts.
  process.stdout.write(`${line}\n`);
  // `pause`: block the whole thread here (no timer, no I/O) until the parent's SIGKILL.
  if (++said === stopAt && pause) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

async function writeSynced(path: string, data: string): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function main(home: string, id: string, tag: string): Promise<void> {
  say('ready');
  const state = await State.open(home);
  let rec = (await state.getContainer(id))!;
  const data = state.volumeData('data');
  for (let i = 0; ; i++) {
    const gen = Number(rec.labels.gen) + 1;
    const blob = layerBlob(gen);
    // The padding makes the record big (up to 1 MiB), so that writing it takes long enough for
    // kills to land inside the write: an in-place write would then be seen torn.
    const pad = 'p'.repeat(Math.floor(Math.random() * 1024 * 1024));
    say(`committing ${gen}`);
    rec = await state.putContainer({ ...rec, labels: { gen: String(gen), blob: sha256hex(blob), pad } }, { 'layer.tar': blob });
    say(`committed ${gen}`);

    // Frames of the new layer's journal (STATE-6): up to 300 KiB, past RECORD_EVERY at times.
    for (let j = 0; j < 3; j++) {
      const body = frameBody(gen, j);
      say(`appending ${gen}.${j}`);
      await state.appendJournal(id, Buffer.concat([frameHead([], body.length)!, body]));
      say(`appended ${gen}.${j}`);
    }

    const name = `${tag}-${i}`;
    say(`syncing ${name}`);
    await writeSynced(join(data, name), volumeFile(name));
    await fsyncDir(data);
    say(`synced ${name}`);

    if (i % 3 === 2) {
      const scratch = `scratch-${tag}-${i}`;
      await state.putVolume({ name: scratch, anonymous: false, created: new Date().toISOString(), labels: {} });
      say(`created ${scratch}`);
      for (let j = 0; j < 4; j++) await writeSynced(join(state.volumeData(scratch), `f${j}`), volumeFile(`${scratch}/f${j}`));
      await fsyncDir(state.volumeData(scratch));
      say(`filled ${scratch}`);
      say(`removing ${scratch}`);
      await state.removeVolume(scratch);
      say(`removed ${scratch}`);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [home, id, tag, at, mode] = process.argv.slice(2) as [string, string, string, string, string];
  stopAt = Number(at);
  pause = mode === 'pause';
  await main(home, id, tag);
}
