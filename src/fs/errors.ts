/**
 * The few errors Node's `fs` raises itself rather than passing on from a syscall.
 */
import { constants as os } from 'node:os';
import { markArgError, nodeError } from './args.js';

/**
 * Node's SystemError, as thrown by rm() on a directory without `recursive`:
 * "SystemError [ERR_FS_EISDIR]: Path is a directory: rm returned EISDIR (is a directory) /p".
 * Its errno is positive (os.constants.errno), unlike a syscall error's.
 */
export class SystemError extends Error {
  readonly info: { code: string; message: string; path: string; syscall: string; errno: number };
  readonly errno: number;
  readonly syscall: string;
  readonly path: string;

  /** `errno` is the code's unless given (Node's cpSync gives EINVAL for an ERR_FS_EISDIR). */
  constructor(
    readonly code: string,
    prefix: string,
    info: { code: string; message: string; path: string; syscall: string; errno?: string },
  ) {
    const errno = (os.errno as Record<string, number>)[info.errno ?? info.code];
    super(`${prefix}: ${info.syscall} returned ${info.code} (${info.message}) ${info.path}`);
    Object.defineProperty(this, 'name', { value: 'SystemError', enumerable: false, configurable: true, writable: true });
    this.info = { code: info.code, message: info.message, path: info.path, syscall: info.syscall, errno };
    this.errno = errno;
    this.syscall = info.syscall;
    this.path = info.path;
    // Node's stack starts as toString() does, with the code.
    this.stack = (this.stack ?? '').replace(/^\w+/, `SystemError [${code}]`);
  }

  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}

export function rmIsDirectory(path: string): SystemError {
  return new SystemError('ERR_FS_EISDIR', 'Path is a directory', { code: 'EISDIR', message: 'is a directory', path, syscall: 'rm' });
}

/** readFile of more than 2 GiB - 1 (Node's kIoMaxLength). */
export function fileTooLarge(size: number): Error {
  return nodeError(RangeError, 'ERR_FS_FILE_TOO_LARGE', `File size (${size}) is greater than 2 GiB`);
}

/** symlink()'s type must be 'dir', 'file' or 'junction' when given as a string. */
export function invalidSymlinkType(type: string): Error {
  return markArgError(nodeError(Error, 'ERR_FS_INVALID_SYMLINK_TYPE', `Symlink type must be one of "dir", "file", or "junction". Received "${type}"`));
}

/** ERR_METHOD_NOT_IMPLEMENTED: "The lchmod() method is not implemented". */
export function notImplemented(what: string): Error {
  return nodeError(Error, 'ERR_METHOD_NOT_IMPLEMENTED', `The ${what} method is not implemented`);
}

/** Errors Node's C++ layer raises for a bad `mode` of access() and copyFile(). */
function badMode(mode: unknown): Error {
  if (typeof mode !== 'number') {
    const e = new TypeError('mode must be int32 or null/undefined') as TypeError & { code: string };
    e.code = 'ERR_INVALID_ARG_TYPE';
    return markArgError(e);
  }
  const e = new RangeError('mode is out of range: >= 0 && <= 7') as RangeError & { code: string };
  e.code = 'ERR_OUT_OF_RANGE';
  return markArgError(e);
}

/** The 0..7 mode of access() (F_OK default) and copyFile() (0 default): any number in range, truncated. */
export function validMode(mode: unknown): number {
  if (mode == null) return 0;
  if (typeof mode !== 'number' || mode < 0 || mode > 7) throw badMode(mode);
  return Math.trunc(mode) || 0;
}
