/**
 * `layerfs bench` (CLI-bench): on a fixture image, the default paths are the 10 largest regular
 * files of truth/rootfs.manifest, and the bytes each strategy copies, measured from what the
 * writable layer holds afterwards, follow from the file sizes the truth lists: a full copy holds
 * the file, metadata-only holds nothing until data changes, chunked holds the 4 KiB chunks
 * written. Errors: a path not in the image, a directory (exit 2, naming it); --kernel without root
 * says so and runs the rest. --svg writes a chart.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES, truth } from './helpers/fixtures.js';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));
const ARCHIVE = join(FIXTURES, 'layers', 'docker-archive.tar');
const CHUNK = 4096;

// Without the capability to mount (uid 0 kept, so a checkout in a 0700 directory stays readable).
function cli(args: string[], noCaps = false): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, argv] = noCaps ? ['setpriv', ['--bounding-set=-all', '--inh-caps=-all', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  return new Promise((resolve) => {
    execFile(cmd as string, argv as string[], { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

interface Row {
  path: string;
  size: number;
  how: string;
  op: string;
  ms: { median: number; min: number; max: number };
  bytesCopied: number;
}

/**
 * Regular files of the flattened image, per truth/rootfs.manifest: path → size; a hard-linked file
 * once, by the first name of its group (the linkgroup column).
 */
const FILES = new Map(
  truth('layers', 'rootfs.manifest')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter((f) => f[1] === 'f' && (f[8] === '-' || f[8] === f[0]))
    .map((f) => [f[0]!, Number(f[5])]),
);

/** What the writable layer holds for a file of `size` after `op` under `how` (the copy-up rules, worked out by hand). */
function expected(how: string, op: string, size: number): number {
  const mid = size >> 1;
  // The write puts one byte at size/2: an empty file becomes 1 byte long.
  const written = Math.max(size, mid + 1);
  const chunkAt = (pos: number, fileSize: number) => Math.min(CHUNK, fileSize - Math.floor(pos / CHUNK) * CHUNK);
  if (how === 'full') return op === 'append' ? size + 1 : op === 'truncate' ? mid : op === 'write' ? written : size;
  if (how === 'metadata') return op === 'chmod' ? 0 : op === 'append' ? size + 1 : op === 'truncate' ? mid : written;
  // chunked: only the chunk a write lands in; a truncate or chmod writes none.
  if (op === 'write') return chunkAt(mid, written);
  if (op === 'append') return chunkAt(size, size + 1);
  return 0;
}

let home = '';
test.before(() => {
  home = mkdtempSync(join(tmpdir(), 'layerfs-cli-bench-'));
  chmodSync(home, 0o777); // the no-root case runs as nobody
});
test.after.always(() => rmSync(home, { recursive: true, force: true }));

test('CLI-bench: default paths are the 10 largest regular files (a hard-linked file once); bytes copied per strategy and operation follow from their sizes', async (t) => {
  const svg = join(home, 'chart.svg');
  const r = await cli(['--home', home, '--json', 'bench', ARCHIVE, '--repeat', '2', '--svg', svg]);
  t.is(r.code, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { rows: Row[] }).rows;
  const paths = [...new Set(rows.map((x) => x.path))];
  t.is(paths.length, Math.min(10, FILES.size));
  const smallest = Math.min(...paths.map((p) => FILES.get(p)!));
  for (const [p, size] of FILES) if (!paths.includes(p)) t.true(size <= smallest, `${p} (${size} B) is larger than a chosen file`);
  for (const p of paths) {
    const size = FILES.get(p);
    t.truthy(size !== undefined, `${p} is a regular file of the image`);
    for (const how of ['full', 'metadata', 'chunked']) {
      for (const op of ['write', 'chmod', 'append', 'truncate']) {
        const row = rows.find((x) => x.path === p && x.how === how && x.op === op);
        t.truthy(row, `${p} ${how} ${op}`);
        t.is(row!.size, size!);
        t.is(row!.bytesCopied, expected(how, op, size!), `${p} ${how} ${op}`);
        t.true(row!.ms.min <= row!.ms.median && row!.ms.median <= row!.ms.max);
      }
    }
  }
  const chart = readFileSync(svg, 'utf8');
  t.true(chart.startsWith('<svg') && chart.trimEnd().endsWith('</svg>'));
});

test('CLI-bench: --strategy and --ops pick the rows; the table names every row', async (t) => {
  const r = await cli(['--home', home, 'bench', ARCHIVE, '/etc/motd', '--strategy', 'chunked', '--ops', 'write,chmod', '--repeat', '1']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.regex(lines[0]!, /^PATH\s+SIZE\s+HOW\s+OP\s+MEDIAN\s+RANGE\s+COPIED\s+MEMORY$/);
  t.is(lines.length, 3);
  t.regex(lines[1]!, /^\/etc\/motd\s+25 B\s+chunked\s+write\s.*\s25 B\s/);
  t.regex(lines[2]!, /^\/etc\/motd\s+25 B\s+chunked\s+chmod\s.*\s0 B\s/);
});

test('CLI-bench: a path not in the image and a directory are usage errors naming them', async (t) => {
  const r = await cli(['--home', home, 'bench', ARCHIVE, '/etc/motd', '/no/such', '/etc']);
  t.is(r.code, 2);
  t.regex(r.stderr, /\/no\/such: no such file in the image/);
  t.regex(r.stderr, /\/etc: is a directory/);
  const bad = await cli(['--home', home, 'bench', ARCHIVE, '--ops', 'write,explode']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--ops takes a comma-separated list of write, chmod, append, truncate; got "write,explode"/);
});

test('CLI-bench: --kernel without root says so and runs the rest', async (t) => {
  const r = await cli(['--home', home, '--json', 'bench', ARCHIVE, '/etc/motd', '--kernel', '--repeat', '1', '--ops', 'chmod'], true);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /--kernel: the kernel rows need root/);
  const out = JSON.parse(r.stdout) as { rows: Row[]; kernelSkipped?: string };
  t.deepEqual(
    out.rows.map((x) => x.how),
    ['full', 'metadata', 'chunked'],
  );
  t.truthy(out.kernelSkipped);
});
