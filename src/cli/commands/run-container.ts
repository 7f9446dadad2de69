/**
 * A shell on a container, shared by `run` and `start`. Rules:
 * - the container is `running` while the shell is open, with the shell's pid in its labels; it is
 *   `exited` after, with the shell's status (`layerfs.exit-code`), its layer saved either way;
 * - a container marked running whose process is gone (killed) counts as exited;
 * - a container open in another live shell cannot be started again, nor removed;
 * - with `-c`, the script runs and the shell ends; else commands come from stdin, with a prompt
 *   when stdin is a TTY;
 * - after each line read from stdin, the container layer's changes are saved (Container.sync):
 *   a line the shell has answered survives a kill of the shell (SIGKILL too);
 * - SIGTERM and SIGHUP (a closed terminal) end the shell as the end of input does, with status
 *   128 + the signal's number, the container saved and marked exited.
 */
import type { Command } from 'commander';
import { constants as osConstants } from 'node:os';
import type { Engine } from '../../engine/engine.js';
import type { ContainerRecord, ContainerStatus } from '../../engine/records.js';
import { makeOut, paint } from '../output.js';
import { io } from '../io.js';

/** The engine of the state directory --home names (imported here, when a command runs: not for --help). */
export async function openEngine(cmd: Command): Promise<Engine> {
  const { Engine } = await import('../../engine/engine.js');
  return Engine.open({ home: (cmd.optsWithGlobals() as { home?: string }).home });
}

export const PID = 'layerfs.pid';
export const EXIT = 'layerfs.exit-code';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state as it is now: `running` only while the shell's process lives. */
export function liveStatus(rec: ContainerRecord): ContainerStatus {
  if (rec.state !== 'running') return rec.state;
  const pid = Number(rec.labels[PID]);
  return pid && alive(pid) ? 'running' : 'exited';
}

/** Docker's STATUS column: Created, Up, Exited (N). */
export function statusText(rec: ContainerRecord): string {
  const s = liveStatus(rec);
  if (s === 'created') return 'Created';
  if (s === 'running') return `Up (pid ${rec.labels[PID]})`;
  return rec.state === 'running' ? 'Exited (killed)' : `Exited (${rec.labels[EXIT] ?? 0})`;
}

export function refuseRunning(rec: ContainerRecord, doing: string): void {
  if (liveStatus(rec) === 'running') throw new Error(`cannot ${doing} container ${rec.name}: it is running (pid ${rec.labels[PID]}); exit its shell first`);
}

/** rm -f: the shell holding a running container is killed (SIGKILL, as docker rm -f) and waited for. */
export async function killShell(rec: ContainerRecord): Promise<void> {
  if (liveStatus(rec) !== 'running') return;
  const pid = Number(rec.labels[PID]);
  process.kill(pid, 'SIGKILL');
  // Polled without blocking the event loop: a shell that is this process's own child (a run
  // in-process, runCli) is reaped by it, and stays a zombie (alive to kill -0) until then.
  const until = Date.now() + 5000;
  while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  if (alive(pid)) throw new Error(`container ${rec.name}: its shell (pid ${pid}) did not end after SIGKILL`);
}

/** Sets a container's state and labels (undefined removes a label). */
export async function mark(engine: Engine, id: string, state: ContainerStatus, labels: Record<string, string | undefined>): Promise<void> {
  const rec = (await engine.state.getContainer(id))!;
  const merged = { ...rec.labels, ...labels };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  await engine.state.putContainer({ ...rec, state, labels: merged as Record<string, string> });
}

/** Opens the shell on a container; returns the shell's exit status. */
export async function shell(engine: Engine, ref: string, opts: { script?: string; json?: boolean }): Promise<number> {
  const rec = await engine.state.resolveContainer(ref);
  refuseRunning(rec, 'start');
  const { readCommands, Session } = await import('../shell/session.js');
  const { completer, history } = await import('../shell/complete.js');
  const container = await engine.open(rec.id);
  let status = 1;
  try {
    await mark(engine, rec.id, 'running', { [PID]: String(process.pid), [EXIT]: undefined });
    const out = makeOut(opts, io().stderr);
    const session = new Session(container, {
      stdout: io().stdout,
      stderr: io().stderr,
      note: (t) => paint(out, 'dim', t),
      volumeOrigin: (v) => engine.volumeOrigin(v),
    });
    if (opts.script !== undefined) session.runLine(opts.script);
    else {
      if (io().stdin.isTTY) {
        io().stderr.write(`${paint(out, 'bold', rec.name)} (${rec.id.slice(0, 12)}): a shell on the container's filesystem; type help, exit to leave\n`);
        for (const m of rec.mounts) io().stderr.write(`  ${m.target}: ${m.type}${m.type === 'tmpfs' ? '' : ` ${m.source}`}${m.readOnly ? ' (read-only)' : ''}\n`);
      }
      const prompt = () => `${paint(out, 'cyan', rec.name)}:${session.ctx.cwd}# `;
      const sync = async (): Promise<void> => {
        try {
          await container.sync();
        } catch (e) {
          io().stderr.write(`layerfs: the container layer could not be saved: ${(e as Error).message}\n`);
          session.status = 1;
        }
      };
      let signalled: number | undefined;
      const onSignal = (sig: NodeJS.Signals) => {
        signalled = 128 + osConstants.signals[sig];
        io().stdin.push(null);
      };
      process.once('SIGTERM', onSignal).once('SIGHUP', onSignal);
      try {
        await readCommands(session, io().stdin, io().stdout, prompt, { completer: completer(session.ctx), history: history(engine.state.home), afterLine: sync });
      } finally {
        process.off('SIGTERM', onSignal).off('SIGHUP', onSignal);
      }
      if (signalled !== undefined) session.status = signalled;
    }
    status = session.status;
  } finally {
    try {
      await container.close();
    } finally {
      await mark(engine, rec.id, 'exited', { [PID]: undefined, [EXIT]: String(status) });
    }
  }
  return status;
}
