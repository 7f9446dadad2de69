/**
 * A container layer beyond memory, saved and committed (test/save-stream.test.ts, and at 4 GiB
 * test/slow/save-stream.test.ts): the data the child writes, the child run in its own process (so
 * that its peak RSS is the cost of the job alone), what GNU tar and sha256sum read back, and the
 * two steps both files check, at their own sizes.
 */
import type { ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1 << 20;

/**
 * `size` pseudo-random bytes named by `seed`, a 1 MiB piece at a time: a random 1 MiB block (the
 * AES-128-CTR keystream of a key made from the seed) with the piece's number stamped at every
 * 4 KiB, so that no piece is another's and a piece written at the wrong place changes the digest;
 * cheap to make (one block is enciphered, not the whole size). The same buffer is yielded each
 * time: use a piece before taking the next.
 */
export function* pseudoRandom(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const block = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32)).update(Buffer.alloc(MiB));
  const piece = Buffer.allocUnsafe(MiB);
  for (let pos = 0, i = 0; pos < size; pos += MiB, i++) {
    block.copy(piece);
    for (let at = 0; at < MiB; at += 4096) piece.writeUInt32LE(i, at);
    yield piece.subarray(0, Math.min(MiB, size - pos));
  }
}

const shas = new Map<string, string>();

/** sha256 hex of pseudoRandom(seed, size): what the file the child wrote must hash to. */
export function pseudoRandomSha(seed: string, size: number): string {
  const key = `${seed}:${size}`;
  if (!shas.has(key)) {
    const h = createHash('sha256');
    for (const piece of pseudoRandom(seed, size)) h.update(piece);
    shas.set(key, h.digest('hex'));
  }
  return shas.get(key)!;
}

export interface ChildReport {
  /** process.resourceUsage().maxRSS of the child at the end, KiB. */
  maxRssKiB: number;
  [key: string]: unknown;
}

/**
 * Runs test/helpers/save-stream-child in a process of its own: the compiled .js under plain node
 * when the test runs compiled (npm test), the .ts through tsx otherwise.
 */
export function runChild(...args: string[]): ChildReport {
  const compiled = import.meta.url.endsWith('.js');
  const child = fileURLToPath(new URL(`./save-stream-child.${compiled ? 'js' : 'ts'}`, import.meta.url));
  const r = spawnSync(process.execPath, [...(compiled ? [] : ['--import=tsx']), child, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`save-stream child ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport;
}

/**
 * What GNU tar reads in a tar that a shell command writes to its stdout (`cat "$1"`, a member
 * extracted from an archive; `args` are its $1, $2…), in one pass: each regular file's size (from
 * its header) and the sha256sum of its data as tar extracts it (`--to-command`, which pipes each
 * file's data into sha256sum).
 */
export function gnuTarFiles(producer: string, ...args: string[]): Map<string, { size: number; sha256: string }> {
  const each = 'printf "%s %s " "$TAR_SIZE" "$TAR_FILENAME"; sha256sum';
  const out = execFileSync('sh', ['-c', `${producer} | tar -xf - --to-command='${each}'`, 'sh', ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const files = new Map<string, { size: number; sha256: string }>();
  for (const line of out.trim().split('\n')) {
    const m = /^(\d+) (.*) ([0-9a-f]{64}) {2}-$/.exec(line);
    if (!m) throw new Error(`tar --to-command: cannot read the line ${JSON.stringify(line)}`);
    files.set(m[2]!, { size: Number(m[1]), sha256: m[3]! });
  }
  return files;
}

/** Where a journal's first frame's tar starts: after `LFJ2`, the payload length, the header length and the header. */
export function firstFrameTar(journal: string): number {
  const head = Buffer.alloc(12);
  const fd = openSync(journal, 'r');
  try {
    readSync(fd, head, 0, 12, 0);
  } finally {
    closeSync(fd);
  }
  if (head.subarray(0, 4).toString('latin1') !== 'LFJ2') throw new Error(`${journal} does not start with a frame`);
  return 12 + head.readUInt32BE(8);
}

const mib = (bytes: number) => `${Math.round(bytes / (1 << 20))} MiB`;

/**
 * Step 1, in a child: /big.bin (`big` bytes) saved whole as layer.tar, then /more.bin (`more`
 * bytes) appended to the journal as one frame. Its peak RSS must stay under `boundKiB`; GNU tar
 * finds each file, whole (its size, and the sha256sum of its data), in layer.tar and in the
 * frame's tar.
 */
export function checkSave(t: ExecutionContext, home: string, big: number, more: number, boundKiB: number): void {
  const r = runChild('save', home, String(big), String(more));
  t.log(`peak RSS ${mib(r.maxRssKiB * 1024)} saving ${mib(big)} + ${mib(more)}`);
  t.true(r.maxRssKiB < boundKiB, `peak RSS ${mib(r.maxRssKiB * 1024)}`);
  const dir = join(home, 'containers', String(r.id));
  const layer = gnuTarFiles('cat "$1"', join(dir, 'layer.tar'));
  t.deepEqual(layer.get('big.bin'), { size: big, sha256: pseudoRandomSha('big', big) }, 'layer.tar: big.bin');
  t.false(layer.has('more.bin'), 'the second file is in the journal, not layer.tar');
  // The frame was appended, not compacted: the journal holds it, and its tar is one GNU tar reads.
  const journal = join(dir, 'layer.journal');
  t.true(Number(r.journalBytes) > more && Number(r.journalBytes) < Number(r.layerBytes), `journal ${r.journalBytes} B, layer.tar ${r.layerBytes} B`);
  const frame = gnuTarFiles('tail -c +"$2" "$1"', journal, String(firstFrameTar(journal) + 1));
  t.deepEqual([...frame.keys()], ['more.bin'], 'the frame holds what changed only');
  t.deepEqual(frame.get('more.bin'), { size: more, sha256: pseudoRandomSha('more', more) }, 'the frame: more.bin');
}

/**
 * Step 2, in a child: that container reopened (layer.tar and the journal), committed into the
 * state, then closed (the journal compacted into a new layer.tar). Its peak RSS must stay under
 * `boundKiB`; GNU tar finds both files whole in the committed layer (the last layer of the stored
 * image's OCI layout) and in the new layer.tar.
 */
export function checkCommit(t: ExecutionContext, home: string, big: number, more: number, boundKiB: number): void {
  const r = runChild('commit', home);
  t.log(`peak RSS ${mib(r.maxRssKiB * 1024)} reopening, committing and compacting ${mib(big + more)}`);
  t.true(r.maxRssKiB < boundKiB, `peak RSS ${mib(r.maxRssKiB * 1024)}`);
  // The committed image is an OCI layout over the blob store (STATE-1; a docker-archive copy before it).
  const layout = join(home, 'images', String(r.imageId), 'layout');
  const blob = (digest: string) => join(layout, 'blobs', 'sha256', digest.slice(7));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { layers: Array<{ digest: string }> };
  const dir = join(home, 'containers', String(r.id));
  t.false(existsSync(join(dir, 'layer.journal')), 'closing compacted the journal into layer.tar');
  const want = { size: big, sha256: pseudoRandomSha('big', big) };
  const wantMore = { size: more, sha256: pseudoRandomSha('more', more) };
  for (const [what, files] of [
    ['the committed layer', gnuTarFiles('cat "$1"', blob(manifest.layers.at(-1)!.digest))],
    ['the compacted layer.tar', gnuTarFiles('cat "$1"', join(dir, 'layer.tar'))],
  ] as const) {
    t.deepEqual(files.get('big.bin'), want, `${what}: big.bin`);
    t.deepEqual(files.get('more.bin'), wantMore, `${what}: more.bin`);
  }
}
