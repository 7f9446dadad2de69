/**
 * The mount options of `run`, read as Docker reads them (semantics.md §3); a malformed one is a
 * usage error (exit 2).
 * - `-v DST` (absolute): a new anonymous volume at DST;
 * - `-v SRC:DST[:OPTS]`: SRC absolute or starting with `./` or `../` is a bind of that host path,
 *   created when missing (DKR-4); anything else names a volume (created on first use, DKR-1);
 *   OPTS is a comma list of `ro`, `rw`, `nocopy`;
 * - `--mount type=volume|bind|tmpfs,source=…,target=…[,readonly][,volume-nocopy]` (also `src`,
 *   `dst`/`destination`, `ro`; booleans may say `=true`/`=false`): a bind's source must exist;
 * - `--tmpfs DST`: an in-memory mount at DST (its content goes when the shell exits);
 * - `--volumes-from C[:ro|:rw]`: C's volumes and binds, their modes kept or forced.
 */
import { resolve } from 'node:path';
import type { MountSpec } from '../../engine/engine.js';
import { checkKey } from '../../engine/records.js';
import { normalTarget } from '../../engine/targets.js';
import { StateError } from '../../core/errors.js';
import { UsageError } from '../output.js';

/** A target the engine would refuse (relative, '..', the root) is a usage error, named with its flag. */
function checkTarget(flag: string, spec: string, target: string): void {
  try {
    normalTarget(target);
  } catch (e) {
    if (!(e instanceof StateError)) throw e;
    throw new UsageError(`${flag} ${spec}: ${e.problem} (the target is an absolute path in the container, not /)`);
  }
}

/** A volume source must be a volume name; a relative host path is not one (Docker's hint). */
function checkVolumeName(flag: string, spec: string, name: string): void {
  try {
    checkKey('', 'volume name', name, 'name');
  } catch {
    throw new UsageError(`${flag} ${spec}: "${name}" is not a volume name (letters, digits, '_', '.' and '-', starting with a letter or digit); use an absolute path (or ./) for a host directory`);
  }
}

/** Commander's collector for a repeatable option. */
export const collect = (value: string, list: string[]): string[] => [...list, value];

const isHostPath = (s: string) => s.startsWith('/') || s.startsWith('./') || s.startsWith('../') || s === '.' || s === '..';

export function parseVolumeFlag(spec: string): MountSpec {
  const parts = spec.split(':');
  if (parts.length === 1) {
    if (!spec.startsWith('/')) throw new UsageError(`-v ${spec}: an anonymous volume needs an absolute path in the container`);
    checkTarget('-v', spec, spec);
    return { type: 'volume', target: spec };
  }
  if (parts.length > 3) throw new UsageError(`-v ${spec}: expected SRC:DST[:OPTIONS]`);
  const [source, target, opts = ''] = parts as [string, string, string?];
  if (source === '' || !target.startsWith('/')) throw new UsageError(`-v ${spec}: expected SRC:DST[:OPTIONS] with DST an absolute path`);
  checkTarget('-v', spec, target);
  if (!isHostPath(source)) checkVolumeName('-v', spec, source);
  const spec2: MountSpec = isHostPath(source) ? { type: 'bind', source: resolve(source), target, createSource: true } : { type: 'volume', source, target };
  for (const o of opts.split(',').filter((x) => x !== '')) {
    if (o === 'ro') spec2.readOnly = true;
    else if (o === 'rw') spec2.readOnly = false;
    else if (o === 'nocopy' && spec2.type === 'volume') spec2.noCopy = true;
    else throw new UsageError(`-v ${spec}: unknown option "${o}" (ro, rw${spec2.type === 'volume' ? ', nocopy' : ''})`);
  }
  return spec2;
}

function flag(spec: string, key: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`--mount ${spec}: ${key} takes true or false, not "${value}"`);
}

export function parseMountFlag(spec: string): MountSpec {
  const fields: Record<string, string | undefined> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    fields[eq < 0 ? part : part.slice(0, eq)] = eq < 0 ? undefined : part.slice(eq + 1);
  }
  const out: Partial<MountSpec> = {};
  for (const [key, value] of Object.entries(fields)) {
    switch (key) {
      case 'type':
        if (value !== 'volume' && value !== 'bind' && value !== 'tmpfs') throw new UsageError(`--mount ${spec}: type must be volume, bind or tmpfs`);
        out.type = value;
        break;
      case 'source':
      case 'src':
        out.source = value;
        break;
      case 'target':
      case 'destination':
      case 'dst':
        out.target = value;
        break;
      case 'readonly':
      case 'ro':
        out.readOnly = flag(spec, key, value);
        break;
      case 'volume-nocopy':
        out.noCopy = flag(spec, key, value);
        break;
      default:
        throw new UsageError(`--mount ${spec}: unknown field "${key}"`);
    }
  }
  const type = out.type ?? 'volume';
  if (!out.target?.startsWith('/')) throw new UsageError(`--mount ${spec}: target=ABSOLUTE_PATH is required`);
  checkTarget('--mount', spec, out.target);
  if (type === 'volume' && out.source) checkVolumeName('--mount', spec, out.source);
  if (type === 'bind' && !out.source) throw new UsageError(`--mount ${spec}: a bind needs source=HOST_PATH`);
  if (type === 'tmpfs' && out.source) throw new UsageError(`--mount ${spec}: a tmpfs takes no source`);
  if (type !== 'volume' && out.noCopy) throw new UsageError(`--mount ${spec}: volume-nocopy is for volumes`);
  return { ...out, type, target: out.target, source: type === 'bind' ? resolve(out.source!) : out.source || undefined };
}

export function parseTmpfsFlag(spec: string): MountSpec {
  if (!spec.startsWith('/') || spec.includes(':')) throw new UsageError(`--tmpfs ${spec}: expected an absolute path (no options)`);
  checkTarget('--tmpfs', spec, spec);
  return { type: 'tmpfs', target: spec };
}

export function parseVolumesFrom(spec: string): { container: string; mode?: 'ro' | 'rw' } {
  const [container, mode, extra] = spec.split(':');
  if (!container || extra !== undefined || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
    throw new UsageError(`--volumes-from ${spec}: expected CONTAINER[:ro|:rw]`);
  }
  return { container, mode: mode as 'ro' | 'rw' | undefined };
}
