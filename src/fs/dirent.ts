/**
 * fs.Dirent: a directory entry's name, the directory it was read from (parentPath, and its older
 * alias path, as in Node 20) and its type. As Node's, the constructor is public:
 * `new Dirent(name, type, path)` with `type` one of fs.constants.UV_DIRENT_* (UNKNOWN answers no
 * to every is...() question).
 */
import type { Buffer } from 'node:buffer';
import { constants } from 'node:fs';
import type { FileType } from '../entry.js';

/** fs.constants.UV_DIRENT_* (present at run time, missing from @types/node). */
const C = constants as typeof constants & Record<`UV_DIRENT_${'UNKNOWN' | 'FILE' | 'DIR' | 'LINK' | 'FIFO' | 'SOCKET' | 'CHAR' | 'BLOCK'}`, number>;

const kType = Symbol('type');

const UV: Record<FileType, number> = {
  file: C.UV_DIRENT_FILE,
  dir: C.UV_DIRENT_DIR,
  symlink: C.UV_DIRENT_LINK,
  fifo: C.UV_DIRENT_FIFO,
  socket: C.UV_DIRENT_SOCKET,
  char: C.UV_DIRENT_CHAR,
  block: C.UV_DIRENT_BLOCK,
};

/** The UV_DIRENT_* constant of a core's file type. */
export function uvDirentType(type: FileType): number {
  return UV[type] ?? C.UV_DIRENT_UNKNOWN;
}

export class Dirent {
  name: string | Buffer;
  parentPath: string;
  path: string;
  [kType]: number;

  constructor(name: string | Buffer, type: number, path: string) {
    this.name = name;
    this.parentPath = path;
    this.path = path;
    this[kType] = type;
  }

  isDirectory(): boolean {
    return this[kType] === C.UV_DIRENT_DIR;
  }
  isFile(): boolean {
    return this[kType] === C.UV_DIRENT_FILE;
  }
  isBlockDevice(): boolean {
    return this[kType] === C.UV_DIRENT_BLOCK;
  }
  isCharacterDevice(): boolean {
    return this[kType] === C.UV_DIRENT_CHAR;
  }
  isSymbolicLink(): boolean {
    return this[kType] === C.UV_DIRENT_LINK;
  }
  isFIFO(): boolean {
    return this[kType] === C.UV_DIRENT_FIFO;
  }
  isSocket(): boolean {
    return this[kType] === C.UV_DIRENT_SOCKET;
  }
}
