/**
 * `layerfs` as a process (bin/layerfs.js imports its bundle, src/cli/build.mjs): runs the
 * command line of process.argv (program.ts). Output into a closed pipe ends quietly (output.ts
 * quietWhenPipeCloses); an error, a usage error or --help ends the process at once with its
 * status, and otherwise the process ends when the command's work does, with the status the
 * command set.
 */
import { quietWhenPipeCloses } from './output.js';
import { runArgv } from './program.js';

quietWhenPipeCloses(process.stdout);

const exit = await runArgv(process.argv.slice(2));
if (exit !== undefined) process.exit(exit);
