/**
 * Argument checking as Node's `fs` does it: a bad argument is a TypeError or RangeError with a
 * `code` (ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE) and Node's message text.
 *
 * Such errors are thrown synchronously even by callback-style functions, while filesystem errors go
 * to the callback; `isArgError` tells the two apart.
 */
import { Buffer } from 'node:buffer';
import { inspect } from 'node:util';

const argErrors = new WeakSet<object>();

/**
 * Calls `cb(...args)` in a later turn with `this` undefined, as Node calls an fs callback
 * (setImmediate alone would call it on the Immediate).
 */
export function callLater(cb: (...args: never[]) => unknown, ...args: unknown[]): void {
  setImmediate(applyPlain, cb, args);
}

function applyPlain(cb: (...args: never[]) => unknown, args: unknown[]): void {
  (cb as (...a: unknown[]) => unknown)(...args);
}

/** True for an argument error (thrown synchronously by callback APIs, like Node). */
export function isArgError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && argErrors.has(e);
}

/** Marks an error raised while checking arguments (e.g. by url.fileURLToPath). */
export function markArgError<T>(e: T): T {
  if (typeof e === 'object' && e !== null) argErrors.add(e);
  return e;
}

type NodeErrorClass = new (message: string) => Error & { code: string };
const nodeErrorClasses = new Map<string, NodeErrorClass>();

/**
 * One of Node's own JavaScript errors (its NodeError classes): an instance of `Base` whose
 * `constructor` is `Base`, with an own `code`; toString() and the stack's first line read
 * "TypeError [ERR_X]: message". (Errors Node's C++ layer throws have no code in either.)
 */
export function nodeError(Base: ErrorConstructor, code: string, message: string): Error & { code: string } {
  const key = `${Base.name} ${code}`;
  let Class = nodeErrorClasses.get(key);
  if (!Class) {
    Class = class NodeError extends Base {
      code = code;
      // A class accessor cannot be spelled `get constructor()`: the computed key is the only way to name it.
      // biome-ignore lint/complexity/useLiteralKeys: see above
      override get ['constructor'](): ErrorConstructor {
        return Base;
      }
      override toString(): string {
        return `${this.name} [${code}]: ${this.message}`;
      }
    };
    nodeErrorClasses.set(key, Class);
  }
  const e = new Class(message);
  e.stack = (e.stack ?? '').replace(/^\w+/, `${e.name} [${code}]`);
  return e;
}

/** An argument error: a NodeError, marked to be thrown synchronously. */
function make(Ctor: ErrorConstructor, code: string, message: string): Error {
  return markArgError(nodeError(Ctor, code, message));
}

/** Node's description of a received value ("type number (1)", "an instance of Object"...). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      if (Object.is(value, -0)) return 'type number (-0)';
      return `type number (${value})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && typeof ctor.name === 'string') return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return s.includes("'") ? `type string (${JSON.stringify(s)})` : `type string ('${s}')`;
    }
  }
  return String(value);
}

/** `expected` is Node's phrase after "must be", e.g. "of type number". */
export function invalidArgType(name: string, expected: string, actual: unknown): Error {
  const kind = name.includes('.') ? 'property' : 'argument';
  return make(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" ${kind} must be ${expected}. Received ${describe(actual)}`);
}

export function invalidArgValue(name: string, value: unknown, reason = 'is invalid'): Error {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  const kind = name.includes('.') ? 'property' : 'argument';
  return make(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${kind} '${name}' ${reason}. Received ${shown}`);
}

/** Node groups the digits of big integers with '_' in this message. */
function groupDigits(n: string): string {
  let out = '';
  let i = n.length;
  const start = n[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) out = `_${n.slice(i - 3, i)}${out}`;
  return `${n.slice(0, i)}${out}`;
}

export function outOfRange(name: string, range: string, received: unknown): Error {
  let shown: string;
  if (Number.isInteger(received) && Math.abs(received as number) > 2 ** 32) shown = groupDigits(String(received));
  else if (typeof received === 'bigint') {
    shown = String(received);
    if (received > 2n ** 32n || received < -(2n ** 32n)) shown = groupDigits(shown);
    shown += 'n';
  } else shown = inspect(received);
  return make(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
}

export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function validateInt32(value: unknown, name: string, min = -2147483648, max = 2147483647): asserts value is number {
  validateInteger(value, name, min, max);
}

export function validateUint32(value: unknown, name: string): asserts value is number {
  validateInteger(value, name, 0, 4294967295);
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
}

// biome-ignore lint/suspicious/noExplicitAny: a callback of any signature (what Node's validateFunction accepts)
export function validateFunction(value: unknown, name: string): asserts value is (...args: any[]) => unknown {
  if (typeof value !== 'function') throw invalidArgType(name, 'of type function', value);
}

/** A plain options object (arrays and functions are refused, like Node); null only if allowed. */
export function validateObject(value: unknown, name: string, nullable = false): void {
  if (value === null && nullable) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgType(name, 'of type object', value);
  }
}

export function validateBuffer(value: unknown, name = 'buffer'): asserts value is ArrayBufferView {
  if (!ArrayBuffer.isView(value)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
}

/** The file descriptor argument: an int32 >= 0 (-0 counts as 0). */
/**
 * The descriptor check of Node's C++ layer (close, fstat, fsync, fdatasync, ftruncate, fchmod,
 * fchown, futimes): a number, in range if finite (checked first), then an integer. -0 is 0.
 */
export function validateFdRange(value: unknown, name = 'fd'): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (Number.isFinite(value) && (value < 0 || value > 2147483647)) throw outOfRange(name, '>= 0 && <= 2147483647', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  return value === 0 ? 0 : value;
}

/** The descriptor check of Node's JavaScript layer (getValidatedFd: read, write, readv, writev...). */
export function validateFd(value: unknown, name = 'fd'): number {
  if (Object.is(value, -0)) return 0;
  validateInt32(value, name, 0);
  return value;
}

/** Options' `encoding` must be one Buffer knows (or 'buffer'), as getOptions() checks. */
export function assertEncoding(encoding: unknown): void {
  if (encoding && encoding !== 'buffer' && !Buffer.isEncoding(encoding as string)) {
    throw invalidArgValue('encoding', encoding, 'is invalid encoding');
  }
}

/** A hex string must have an even length (validateEncoding). */
export function validateEncoding(data: string, encoding: unknown): void {
  if (encoding === 'hex' && data.length % 2 !== 0) {
    throw invalidArgValue('encoding', encoding, `is invalid for data of length ${data.length}`);
  }
}

/** Data to write: a string or an ArrayBufferView; anything else is refused. */
export function validateStringAfterView(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', value);
}
