/**
 * A mount target inside a container: an absolute path, without '..', and not the root itself.
 * Kept apart from engine.ts so the command line can check a -v/--mount spec without loading the
 * engine.
 */
import { StateError } from '../core/errors.js';

/** The target in normal form (`/a/b`): BAD_INPUT, naming it, when it cannot be one. */
export function normalTarget(target: string): string {
  if (!target.startsWith('/')) throw new StateError('BAD_INPUT', target, 'a mount target must be an absolute path');
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new StateError('BAD_INPUT', target, "a mount target may not contain '..'");
  if (parts.length === 0) throw new StateError('BAD_INPUT', target, 'cannot mount over /');
  return '/' + parts.join('/');
}
