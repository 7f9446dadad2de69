/**
 * `layerfs`'s command line as a function: runCli(argv) builds the program, runs one command line
 * and says how it ended. Each command lives in src/cli/commands/ and registers itself on the
 * program; command modules import the engine and the image code only when a command runs, so
 * `layerfs --help` starts fast (bench figure 4). main.ts runs it as the process; tests and
 * embedders run it in-process with streams of their own (io.ts).
 * Rules:
 * - an error is one line, `layerfs: ARGUMENT: problem` (the stack only with --debug), and the
 *   exit code says what kind (output.ts errorReport: 1 failed, 2 usage or in use, 126 a mount
 *   refused);
 * - an unknown option or command, or a missing argument, prints one line and where help is
 *   (`See 'layerfs run --help'.`), not the whole help; exit 2.
 */
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { io, withIo, type CliIo } from './io.js';
import { errorReport, makeOut } from './output.js';

function program(): Command {
  const p = new Command('layerfs')
    .description('Copy-on-write layered filesystem emulator: explore images, run containers, learn layers vs volumes')
    .option('--json', 'print JSON for scripts (listings and reports)')
    .option('--debug', 'print the stack of an error')
    .option('--home <dir>', 'state directory (default: $LAYERFS_HOME, else ~/.local/share/layerfs)')
    .configureOutput({
      writeOut: (text) => io().stdout.write(text),
      writeErr: (text) => io().stderr.write(text),
      outputError: (text, write) => write(`layerfs: ${text.replace(/^error: /, '').trimEnd()}\n`),
    })
    .exitOverride()
    // An in-process run's environment (runCli's env) names the state directory as the process's would.
    .hook('preAction', (root) => {
      if (!root.opts().home && io().env.LAYERFS_HOME) root.setOptionValue('home', io().env.LAYERFS_HOME);
    });
  for (const register of commands) register(p);
  return p;
}

/** The command line's deepest command named in argv, for the help hint (`layerfs volume rm`). */
function commandPath(p: Command, argv: string[]): string {
  let cmd: Command = p;
  const names = ['layerfs'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--home') i++;
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    names.push(a);
    cmd = sub;
  }
  return names.join(' ');
}

/**
 * Runs the command line `argv` (without node and the script). Resolves `exit` when the command
 * ended in a way that ends the process at once (an error, a usage error, --help), else undefined:
 * the command's status is then io().exitCode, and the process ends when its work does.
 */
export async function runArgv(argv: string[]): Promise<number | undefined> {
  const p = program();
  try {
    await p.parseAsync(argv, { from: 'user' });
    return undefined;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; everything commander refuses is a usage error.
      if (e.exitCode !== 0 && e.code !== 'commander.help' && e.code !== 'commander.helpDisplayed') {
        io().stderr.write(`See '${commandPath(p, argv)} --help'.\n`);
      }
      return e.exitCode === 0 ? 0 : 2;
    }
    const out = makeOut(p.opts(), io().stderr);
    const { text, code } = errorReport(e);
    io().stderr.write(`layerfs: ${text}\n`);
    if (out.debug) io().stderr.write(`${(e as Error).stack}\n`);
    return code;
  }
}

export interface CliRun {
  /** The exit status, as the process would have it. */
  code: number;
}

/**
 * Runs one command line in-process with `streams` for stdin, stdout and stderr and `env` for the
 * environment (default: the process's): what `layerfs ARGV...` would print and its exit status.
 * Commands that take over the process (run's interactive shell, serve) are meant for main.ts.
 */
export async function runCli(argv: string[], ctx: Omit<CliIo, 'exitCode' | 'atEnd'>): Promise<CliRun> {
  const ends: Array<() => void> = [];
  const run: CliIo = { ...ctx, exitCode: undefined, atEnd: (fn) => void ends.push(fn) };
  const exit = await withIo(run, () => runArgv(argv));
  for (const fn of ends) withIo(run, async () => fn());
  return { code: exit ?? run.exitCode ?? 0 };
}
