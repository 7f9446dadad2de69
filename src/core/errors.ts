/**
 * Three kinds of error leave layerfs:
 * - `ArchiveError`: bad input (an archive, layout or layer that cannot be read as claimed). It names
 *   the file and the problem, and carries a stable `code` for scripts.
 * - `StateError`: the engine's on-disk state (src/engine) refused or could not read something. It
 *   names the file or directory and the problem, and carries a stable `code`.
 * - `FsError`: what a syscall on the view returns, shaped like Node's own (code, errno, syscall, path).
 */
import { constants } from 'node:os';

export type ArchiveErrorCode =
  | 'TRUNCATED' // the archive ends inside a header or a member's data
  | 'BAD_CHECKSUM' // a tar header's checksum does not match its bytes
  | 'BAD_HEADER' // a header field cannot be parsed
  | 'DIGEST_MISMATCH' // a blob's sha256 or a layer's diff_id differs from the manifest/config
  | 'UNKNOWN_COMPRESSION' // a layer blob is neither tar, gzip nor zstd
  | 'BAD_COMPRESSION' // a gzip/zstd stream is corrupt and cannot be decompressed
  | 'BAD_INDEX' // a gzip random-access index (.gzi) is torn, altered or not the blob's
  | 'MISSING_BLOB' // the manifest points at a blob the archive does not hold
  | 'UNSAFE_PATH' // an entry climbs out of the root with '..'
  | 'BAD_LINK' // a hard link to nothing, or to a directory
  | 'BAD_WHITEOUT' // a bare '.wh.' or a whiteout of the root
  | 'BAD_MANIFEST' // manifest/index/config JSON malformed or inconsistent
  | 'NOT_AN_IMAGE' // the format could not be recognised
  | 'AMBIGUOUS_IMAGE' // several images and none picked; the message lists the tags
  | 'NO_SUCH_IMAGE' // the asked-for tag/ref is not in the archive
  | 'LIMIT'; // a configured limit was exceeded

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly code: ArchiveErrorCode,
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export type StateErrorCode =
  | 'BAD_NAME' // an id, name or tag that cannot be a record's name (separator, '..', length, characters)
  | 'MALFORMED' // a state file is not the JSON record it should be
  | 'NOT_FOUND' // no record with that id, name, tag or prefix
  | 'AMBIGUOUS' // a prefix matches several ids; the message lists them
  | 'EXISTS' // a record, container name or tag is already taken
  | 'IN_USE' // a removal refused: containers still reference the record
  | 'CORRUPT' // a blob does not match the digest its record holds
  | 'BAD_INPUT' // an argument the store cannot take (e.g. an image archive that is not a file)
  | 'MOUNT_REFUSED' // a mount that cannot be made over what the image has there (a volume over a file, a file over a directory)
  | 'LOCK_TIMEOUT'; // the state lock stayed held by a live process past the timeout

export class StateError extends Error {
  override readonly name = 'StateError';
  constructor(
    readonly code: StateErrorCode,
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

const errnos = constants.errno as Record<string, number>;
const messages: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'illegal operation on a directory',
  ENOTEMPTY: 'directory not empty',
  EXDEV: 'cross-device link not permitted',
  EROFS: 'read-only file system',
  ELOOP: 'too many symbolic links encountered',
  EINVAL: 'invalid argument',
  EBADF: 'bad file descriptor',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EBUSY: 'resource busy or locked',
  ENAMETOOLONG: 'name too long',
  EMLINK: 'too many links',
  ENOTSUP: 'operation not supported',
  ENODATA: 'no data available',
  EFBIG: 'file too large',
  EMFILE: 'too many open files',
};

/** Shaped like the errors Node's own fs throws: `Error` named, own code/errno/syscall/path/dest. */
export class FsError extends Error {
  readonly errno: number;
  // `declare`: no own property unless set, as on Node's errors (ES2022 class fields would add one).
  declare readonly path?: string;
  declare readonly dest?: string;
  constructor(
    readonly code: string,
    readonly syscall: string,
    path?: string,
    dest?: string,
  ) {
    const text = messages[code] ?? code.toLowerCase();
    super(`${code}: ${text}, ${syscall}${path !== undefined ? ` '${path}'` : ''}${dest !== undefined ? ` -> '${dest}'` : ''}`);
    this.errno = -(errnos[code] ?? 0);
    if (path !== undefined) (this as { path?: string }).path = path;
    if (dest !== undefined) (this as { dest?: string }).dest = dest;
  }
}
Object.defineProperty(FsError.prototype, 'name', { value: 'Error' });

export function fsError(code: string, syscall: string, path?: string, dest?: string): FsError {
  return new FsError(code, syscall, path, dest);
}
