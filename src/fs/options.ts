/**
 * Option and flag parsing shared by the sync, callback and promise APIs, following Node's
 * lib/internal/fs/utils.js: string flags to O_* numbers, modes (number or octal string), times
 * (Date, seconds, numeric string), encodings of returned names.
 */
import { Buffer } from 'node:buffer';
import { constants as C } from 'node:fs';
import { nameBytes } from '../archive/names.js';
import { validateAbortSignal } from './abort.js';
import { assertEncoding, invalidArgType, invalidArgValue, validateInt32, validateUint32 } from './args.js';

export type Opts = Record<string, unknown>;

/**
 * Options given as undefined/null/function mean the defaults, a string means { encoding }, an
 * object is taken as is; anything else is an argument error. The encoding is checked, and so is
 * `signal` when given (an AbortSignal), for every call, as Node's getOptions does.
 */
export function getOptions(options: unknown, defaults: Opts = {}): Opts {
  if (options == null || typeof options === 'function') return defaults;
  let o: Opts;
  if (typeof options === 'string') o = { ...defaults, encoding: options };
  else if (typeof options === 'object') o = options as Opts;
  else throw invalidArgType('options', 'one of type string or object', options);
  assertEncoding(o.encoding);
  if (o.signal !== undefined) validateAbortSignal(o.signal, 'options.signal');
  return o;
}

/**
 * Node's copyObject, used where it copies options before changing them (appendFile, streams):
 * every enumerable property, inherited ones included (for...in), unlike a spread.
 */
export function copyObject(source: object): Opts {
  const target: Opts = {};
  // eslint-disable-next-line guard-for-in
  for (const key in source) target[key] = (source as Opts)[key];
  return target;
}

const FLAGS: Record<string, number> = {
  r: C.O_RDONLY,
  rs: C.O_RDONLY | C.O_SYNC,
  sr: C.O_RDONLY | C.O_SYNC,
  'r+': C.O_RDWR,
  'rs+': C.O_RDWR | C.O_SYNC,
  'sr+': C.O_RDWR | C.O_SYNC,
  w: C.O_TRUNC | C.O_CREAT | C.O_WRONLY,
  wx: C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  xw: C.O_TRUNC | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  'w+': C.O_TRUNC | C.O_CREAT | C.O_RDWR,
  'wx+': C.O_TRUNC | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  'xw+': C.O_TRUNC | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  a: C.O_APPEND | C.O_CREAT | C.O_WRONLY,
  ax: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  xa: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_EXCL,
  as: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_SYNC,
  sa: C.O_APPEND | C.O_CREAT | C.O_WRONLY | C.O_SYNC,
  'a+': C.O_APPEND | C.O_CREAT | C.O_RDWR,
  'ax+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  'xa+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_EXCL,
  'as+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_SYNC,
  'sa+': C.O_APPEND | C.O_CREAT | C.O_RDWR | C.O_SYNC,
};

/**
 * Node's stringToFlags: a number is an int32 taken as is (`name` in its error), null means 'r',
 * strings from the table; any other value is "The argument 'flags' is invalid", whatever `name`.
 */
export function stringToFlags(flags: unknown, name = 'flags'): number {
  if (typeof flags === 'number') {
    validateInt32(flags, name);
    return flags;
  }
  if (flags == null) return C.O_RDONLY;
  if (typeof flags === 'string' && Object.hasOwn(FLAGS, flags)) return FLAGS[flags];
  throw invalidArgValue('flags', flags);
}

/** A mode: uint32, or a string of octal digits. */
export function parseFileMode(value: unknown, name: string, def?: number): number {
  value ??= def;
  if (typeof value === 'string') {
    if (!/^[0-7]+$/.test(value)) {
      throw invalidArgValue(name, value, 'must be a 32-bit unsigned integer or an octal string');
    }
    value = Number.parseInt(value, 8);
  }
  validateUint32(value, name);
  return value;
}

/** A time argument in seconds: a numeric string, a finite number (negative means now), or a Date. */
export function toUnixTimestamp(time: unknown, name = 'time'): number {
  // Node's `+time == time`: a string that converts to a number (not NaN).
  if (typeof time === 'string' && !Number.isNaN(+time)) return +time;
  if (typeof time === 'number' && Number.isFinite(time)) return time < 0 ? Date.now() / 1000 : time;
  if (time instanceof Date) return time.getTime() / 1000;
  throw invalidArgType(name, 'an instance of Date or an Time in seconds', time);
}

/**
 * Seconds to the milliseconds a stat would then report: libuv keeps whole microseconds (it
 * truncates tv_nsec to a multiple of 1000), so does this.
 */
export function secondsToMs(t: number): number {
  let sec = Math.trunc(t);
  let nsec = Math.trunc((t - sec) * 1e9);
  nsec -= nsec % 1000;
  if (nsec < 0) {
    nsec += 1e9;
    sec -= 1;
  }
  return sec * 1000 + nsec / 1e6;
}

/**
 * A name or path the core returned, in the encoding the caller asked for: 'buffer' gives its raw
 * bytes (a U+DC80+byte character is that byte again, see src/archive/names.ts), other encodings
 * encode those bytes; utf8 keeps the string as it is.
 */
export function encodeName(s: string, encoding: unknown): string | Buffer {
  if (!encoding || encoding === 'utf8' || encoding === 'utf-8') return s;
  const b = nameBytes(s);
  return encoding === 'buffer' ? b : b.toString(encoding as BufferEncoding);
}

/** Node's isInt32 (isFd): a number whose int32 conversion is itself. */
export function isFd(v: unknown): v is number {
  return typeof v === 'number' && v === (v | 0);
}

/** Data to write as bytes: a view over the caller's bytes, or a string encoded. */
export function toBytes(data: ArrayBufferView | string, encoding?: unknown): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, (encoding as BufferEncoding) || 'utf8');
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
