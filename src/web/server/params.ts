/**
 * Reading a call's query: each parameter is checked, and a bad one is a 400 naming the parameter,
 * what it must be and what was given. Paths are paths inside the image or container, in the
 * manifests' display form; `..` is refused.
 */
import { normalPath, type Stack } from '../../explore/stack.js';
import { badRequest } from './errors.js';

export type Query = Record<string, string | string[] | undefined>;

export function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest(`${name} is given ${v.length} times; give it once`);
  return v;
}

export function int(q: Query, name: string, min: number, max: number): number | undefined {
  const v = str(q, name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw badRequest(`${name} must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function bool(q: Query, name: string): boolean {
  const v = str(q, name);
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw badRequest(`${name} must be 1, true, 0 or false, got ${JSON.stringify(v)}`);
}

export function oneOf<T extends string>(q: Query, name: string, values: readonly T[]): T | undefined {
  const v = str(q, name);
  if (v === undefined || v === '') return undefined;
  if (!(values as readonly string[]).includes(v)) throw badRequest(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** A path inside the image or container: '/'-rooted display form; default '/'. */
export function pathParam(q: Query, name = 'path', required = false): string {
  const v = str(q, name);
  if (v === undefined || v === '') {
    if (required) throw badRequest(`${name} is required (a path inside the image, e.g. /etc/motd)`);
    return '/';
  }
  try {
    return normalPath(v);
  } catch (e) {
    throw badRequest((e as Error).message, v);
  }
}

/** `layer=N` (0..count) and `changes=N` (1..count), not both. */
export function layerParams(q: Query, stack: Stack): { layer?: number; changes?: number } {
  const layer = int(q, 'layer', 0, Number.MAX_SAFE_INTEGER);
  const changes = int(q, 'changes', 0, Number.MAX_SAFE_INTEGER);
  if (layer !== undefined && changes !== undefined) throw badRequest('layer and changes cannot be given together');
  if (layer !== undefined && layer > stack.count) throw badRequest(`layer must be 0..${stack.count} (this image has ${stack.count} layer(s)), got ${layer}`);
  if (changes !== undefined && (changes < 1 || changes > stack.count)) {
    throw badRequest(`changes must be a layer number 1..${stack.count} (this image has ${stack.count} layer(s)), got ${changes}`);
  }
  return { layer, changes };
}
