/**
 * `layerfs`: explore images, run containers, teach layers versus volumes. Each command lives in
 * src/cli/commands/ and registers itself on the program; command modules import the engine and
 * the image code only when a command runs, so `layerfs --help` starts fast (bench figure 4).
 * Rules:
 * - an error is one line, `layerfs: ARGUMENT: problem` (the stack only with --debug), and the
 *   exit code says what kind (output.ts errorReport: 1 failed, 2 usage or in use, 126 a mount
 *   refused);
 * - an unknown option or command, or a missing argument, prints one line and where help is
 *   (`See 'layerfs run --help'.`), not the whole help; exit 2;
 * - output into a closed pipe ends quietly (output.ts quietWhenPipeCloses).
 */
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { errorReport, makeOut, quietWhenPipeCloses } from './output.js';

quietWhenPipeCloses(process.stdout);

const program = new Command('layerfs')
  .description('Copy-on-write layered filesystem emulator: explore images, run containers, learn layers vs volumes')
  .option('--json', 'print JSON for scripts (listings and reports)')
  .option('--debug', 'print the stack of an error')
  .option('--home <dir>', 'state directory (default: $LAYERFS_HOME, else ~/.local/share/layerfs)')
  .configureOutput({ outputError: (text, write) => write(`layerfs: ${text.replace(/^error: /, '').trimEnd()}\n`) })
  .exitOverride();

for (const register of commands) register(program);

/** The command line's deepest command named in argv, for the help hint (`layerfs volume rm`). */
function commandPath(argv: string[]): string {
  let cmd: Command = program;
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

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; everything commander refuses is a usage error.
    if (e.exitCode !== 0 && e.code !== 'commander.help' && e.code !== 'commander.helpDisplayed') {
      process.stderr.write(`See '${commandPath(process.argv.slice(2))} --help'.\n`);
    }
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  const out = makeOut(program.opts(), process.stderr);
  const { text, code } = errorReport(e);
  process.stderr.write(`layerfs: ${text}\n`);
  if (out.debug) process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(code);
}
