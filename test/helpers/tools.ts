/** Real tools the tests use as ground truth: their output, or a clear error naming the command. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURE_TOOLS } from './fixtures.js';

const execFileP = promisify(execFile);
const MANIFEST_PY = join(FIXTURE_TOOLS, 'manifest.py');

export async function run(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.stdout || err.message).trim()}`);
  }
}

/** The fixtures' canonical manifest of a directory tree, the root itself left out. */
export const manifestOf = (dir: string) => run('python3', [MANIFEST_PY, '--no-root', dir]);

/**
 * A directory with what tar writers get wrong (binary xattr values, names and link targets that
 * are not UTF-8 and longer than ustar holds, uid/gid past 262143 (6 octal digits), mode 0000, a fifo, an
 * mtime past 2038), written by python (the kernel) and packed by GNU tar as a PAX layer.
 */
export const BUILD_TREE = String.raw`
import os, sys
root = os.fsencode(sys.argv[1])
def p(*parts): return os.path.join(root, *parts)
os.mkdir(p(b'data'))
with open(p(b'data', b'bin-xattr'), 'wb') as f: f.write(b'payload with a binary xattr\n')
os.setxattr(p(b'data', b'bin-xattr'), b'user.bin', bytes(range(256)))
os.setxattr(p(b'data', b'bin-xattr'), b'user.text', 'ünïcode'.encode())
os.mkdir(p(b'data', b'caf\xe9'))
with open(p(b'data', b'caf\xe9', b'x' * 120 + b'\xff.txt'), 'wb') as f: f.write(b'long non-UTF-8 name\n')
os.symlink(b'/target/\xfe' + b'z' * 120, p(b'data', b'long-binary-link'))
with open(p(b'data', b'big-ids'), 'wb') as f: f.write(b'owned by large ids\n')
os.chown(p(b'data', b'big-ids'), 2000000, 3000000)
with open(p(b'data', b'zero-mode'), 'wb') as f: f.write(b'mode 0000\n')
os.chmod(p(b'data', b'zero-mode'), 0)
os.mkfifo(p(b'data', b'fifo'))
os.utime(p(b'data', b'bin-xattr'), (4102444800, 4102444800))
`;

export async function gnuTarLayer(work: string): Promise<{ layer: string; src: string }> {
  const src = mkdtempSync(join(work, 'src-'));
  await run('python3', ['-c', BUILD_TREE, src]);
  const layer = join(work, 'layer.tar');
  await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '--format=posix', '-cf', layer, '-C', src, '.']);
  return { layer, src };
}
