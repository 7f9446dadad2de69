/**
 * `layerfs demo` (and so `npm start`) runs to the end with no input and tells what happened. The
 * facts checked come from the bundled image's description (scripts/sample-image.ts: a 1 MiB
 * library, /etc/os-release, VOLUME /srv/www with index.html and assets/) and Docker's rules.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/layerfs.js', import.meta.url));

test('the demo runs without input and reports copy-up, whiteout, opaque dir, volume, bind, volumes-from, commit and rm', async (t) => {
  const { stdout } = await promisify(execFile)('node', [BIN, 'demo'], { encoding: 'utf8', timeout: 60_000 });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts a terminal colour sequence
  t.notRegex(stdout, /\x1b\[/, 'no colour when stdout is not a TTY');
  t.regex(stdout, /3 read-only layers/);
  t.regex(stdout, /seeded from the image's \/srv\/www: assets, index\.html/);
  t.regex(stdout, /writing 1 byte into \/usr\/lib\/libbig\.so \(1\.0 MiB\) copied 1\.0 MiB/);
  t.regex(stdout, /'chunked' stores 4\.0 KiB/);
  t.regex(stdout, /the writable layer holds: whiteout etc\/os-release/);
  t.regex(stdout, /dir var\/cache\/app \+ opaque var\/cache\/app/);
  t.regex(stdout, /served by the volume "site"/);
  t.regex(stdout, /now says: written in the container/);
  t.regex(stdout, /the sidecar reads \/srv\/www\/visits\.txt: 1/);
  t.regex(stdout, /\/etc\/os-release exists: false \(the whiteout was committed\)/);
  t.regex(stdout, /visits\.txt exists: false \(volume data is not committed\)/);
  t.regex(stdout, /\/etc\/os-release exists: true \(the layer change is gone\)/);
  t.regex(stdout, /visits\.txt says 1 \(volume data survives rm\)/);
});
