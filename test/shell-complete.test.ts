/**
 * The shell in a terminal: tab completion (the completer itself, on a container of the sample
 * image, against the names its layers hold) and one real session under tmux (a pseudo-terminal):
 * Tab completes a path, the history file in the state directory keeps the commands typed.
 * tmux missing: fails in CI, skips visibly elsewhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { completer } from '../src/cli/shell/complete.js';
import { Session } from '../src/cli/shell/session.js';
import { Engine } from '../src/engine/engine.js';
import { BIN, SAMPLE, tempDir } from './helpers/cli.js';

const quiet = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

test("shell: tab completion of command names (first word) and of the container's paths (other words)", async (t) => {
  const h = await tempDir(t, 'layerfs-complete-');
  const engine = await Engine.open({ home: h });
  const c = await engine.open((await engine.create(SAMPLE)).id);
  try {
    const session = new Session(c, { stdout: quiet(), stderr: quiet() });
    const complete = completer(session.ctx);
    t.deepEqual(complete('ec'), [['echo '], 'ec']);
    t.deepEqual(complete('ls /etc; he'), [['head ', 'help '], 'he']);
    t.deepEqual(complete('cat /etc/mo'), [['/etc/motd'], '/etc/mo']);
    t.deepEqual(complete('ls /e'), [['/etc/'], '/e']);
    // Relative to the working directory (the image's WorkingDir, /srv/www); names as the layers hold them.
    const www = execFileSync(
      'bash',
      ['-c', `for l in $(tar -xOf "$1" manifest.json | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)[0]["Layers"]))'); do tar -xOf "$1" $l | tar -tv; done`, '-', SAMPLE],
      { encoding: 'utf8' },
    )
      .split('\n')
      .map((l) => /^(.)\S* .* srv\/www\/([^/]+)\/?$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => (m[1] === 'd' ? `${m[2]}/` : m[2]!))
      .sort();
    t.deepEqual(complete('cat '), [www, '']);
    t.deepEqual(complete('cat /nowhere/x'), [[], '/nowhere/x']);
  } finally {
    c.dispose();
  }
});

function tmux(...args: string[]): string {
  return execFileSync('tmux', args, { encoding: 'utf8' });
}

test('shell: in a terminal (tmux), Tab completes a path and the history is kept in the state directory', async (t) => {
  if (spawnSync('tmux', ['-V']).status !== 0) {
    if (process.env.CI === 'true') t.fail('tmux is not installed (add it to .ci/run)');
    else t.log('SKIPPED: tmux is not installed');
    return t.pass();
  }
  const h = await tempDir(t, 'layerfs-tmux-');
  const name = `layerfs-test-${process.pid}`;
  const sock = join(h, 'tmux.sock');
  const run = (...a: string[]) => tmux('-S', sock, ...a);
  run('new-session', '-d', '-s', name, '-x', '160', '-y', '40', `env NO_COLOR=1 ${process.execPath} ${BIN} --home ${h} run --name tty ${SAMPLE}`);
  t.teardown(() => {
    spawnSync('tmux', ['-S', sock, 'kill-server']);
  });
  const screen = () => run('capture-pane', '-p', '-t', name);
  const waitFor = async (what: RegExp) => {
    for (let i = 0; i < 600; i++) {
      if (what.test(screen())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.fail(`timed out waiting for ${what}; the screen:\n${screen()}`);
  };
  await waitFor(/tty:\/srv\/www# ?$/m);
  run('send-keys', '-t', name, 'cat /etc/mo', 'Tab');
  await waitFor(/# cat \/etc\/motd ?$/m);
  run('send-keys', '-t', name, 'Enter');
  await waitFor(/Welcome to the sample image/);
  run('send-keys', '-t', name, 'exit', 'Enter');
  // The shell ends with exit: the session goes away.
  for (let i = 0; i < 300 && spawnSync('tmux', ['-S', sock, 'has-session', '-t', name]).status === 0; i++) await new Promise((r) => setTimeout(r, 100));
  const file = join(h, 'shell-history');
  t.true(existsSync(file));
  t.is(readFileSync(file, 'utf8'), 'cat /etc/motd\nexit\n');
});
