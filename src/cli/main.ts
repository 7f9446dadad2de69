/**
 * `layerfs`: explore images, run containers, teach layers versus volumes. Each command lives in
 * src/cli/commands/ and registers itself on the program. Usage errors exit 2; runtime errors exit 1
 * with one line (the stack only with --debug).
 */
import { Command, CommanderError } from 'commander';
import { commands } from './commands/index.js';
import { makeOut, UsageError } from './output.js';

const program = new Command('layerfs')
  .description('Copy-on-write layered filesystem emulator: explore images, run containers, learn layers vs volumes')
  .option('--json', 'print JSON for scripts (listings and reports)')
  .option('--debug', 'print the stack of an error')
  .option('--home <dir>', 'state directory (default: $LAYERFS_HOME, else ~/.local/share/layerfs)')
  .showHelpAfterError()
  .exitOverride();

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; everything commander refuses is a usage error.
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  const out = makeOut(program.opts(), process.stderr);
  if (e instanceof UsageError) {
    process.stderr.write(`layerfs: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`layerfs: ${(e as Error).message}\n`);
  if (out.debug) process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
}
