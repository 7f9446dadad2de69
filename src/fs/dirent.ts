/**
 * fs.Dirent: a directory entry's name, the directory it was read from (parentPath, and its older
 * alias path, as in Node 20) and its type.
 */
import type { Buffer } from 'node:buffer';
import type { FileType } from '../entry.js';

const kType = Symbol('type');

export class Dirent {
  name: string | Buffer;
  parentPath: string;
  path: string;
  [kType]: FileType;

  constructor(name: string | Buffer, type: FileType, parentPath: string) {
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this[kType] = type;
  }

  isFile(): boolean { return this[kType] === 'file'; }
  isDirectory(): boolean { return this[kType] === 'dir'; }
  isSymbolicLink(): boolean { return this[kType] === 'symlink'; }
  isBlockDevice(): boolean { return this[kType] === 'block'; }
  isCharacterDevice(): boolean { return this[kType] === 'char'; }
  isFIFO(): boolean { return this[kType] === 'fifo'; }
  isSocket(): boolean { return this[kType] === 'socket'; }
}
