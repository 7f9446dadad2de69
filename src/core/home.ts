/**
 * Where the engine keeps its state (images, containers, volumes), as Docker keeps /var/lib/docker.
 * The first of these that is set wins:
 *   1. the `home` option;
 *   2. the environment variable `LAYERFS_HOME`;
 *   3. `$XDG_DATA_HOME/layerfs` (the XDG base directory spec: used only when absolute);
 *   4. `~/.local/share/layerfs` (the XDG default for XDG_DATA_HOME).
 * An empty string counts as unset. The result is always an absolute path (a relative option or
 * LAYERFS_HOME is taken from the current directory). The directory is not created here:
 * `State.open` creates it.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface StateHomeOptions {
  /** The state directory; overrides everything else. */
  home?: string;
  /** The environment to read (default `process.env`); for tests and embedders. */
  env?: NodeJS.ProcessEnv;
  /** The user's home directory (default `os.homedir()`). */
  homedir?: string;
}

export function stateHome(opts: StateHomeOptions = {}): string {
  const env = opts.env ?? process.env;
  // 1 and 2: the option, then LAYERFS_HOME; either may be relative to the current directory.
  const explicit = nonEmpty(opts.home) ?? nonEmpty(env.LAYERFS_HOME);
  if (explicit !== undefined) return resolve(explicit);
  // 3: the XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = nonEmpty(env.XDG_DATA_HOME);
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'layerfs');
  // 4: the XDG default.
  return join(opts.homedir ?? homedir(), '.local', 'share', 'layerfs');
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
