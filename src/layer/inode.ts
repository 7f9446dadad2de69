/**
 * Inodes and directory entries, kept apart as memfs keeps them: a directory maps names to inodes
 * (or to a whiteout), and several names may share one inode (hard links). Copy-up re-binds a name
 * to a new upper inode; open descriptors hold inodes, not names.
 */
import { nameBytes } from '../archive/names.js';
import type { FileType } from '../entry.js';
import type { FileData } from './data.js';

/** A whiteout in a directory's name table: the name is deleted for everything below (OVL-3, OCI-5). */
export const WHITEOUT: unique symbol = Symbol('whiteout');
export type Whiteout = typeof WHITEOUT;
export type Child = Inode | Whiteout;

/** Layer index of the writable layer in `Inode.layer`. Lower layers are 0 (bottom) upwards. */
export const UPPER = -1;

let nextIno = 1;
/** Inode numbers are unique in the process, so objects from different images never collide. */
export function allocIno(): number {
  return nextIno++;
}

export class Inode {
  ino = allocIno();
  nlink = 1;
  atimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  rdev = 0;
  /** Symlink target, decoded as names are (src/archive/names.ts). */
  target = '';
  xattrs?: Map<string, Buffer>;
  /** Regular files: the bytes. */
  data?: FileData;
  /** Directories: the name table. */
  children?: Map<string, Child>;
  /** Directories in a layer: lower copies of this directory are hidden (OVL-4, OCI-7). */
  opaque = false;
  /** A directory the layer's archive did not list (OCI-14): it takes the attributes found below. */
  implicit = false;
  /** Flattened lower directories: how many layers contribute to the merge (nlink policy, OVL-2). */
  layers = 1;
  /** Upper directories moved with redirectDir: the lower directory they still merge with (OVL-13). */
  redirect?: Inode;
  /** Upper files copied up metadata-only: data still lives in this lower inode (OVL-16). */
  metacopyOf?: Inode;

  constructor(
    public type: FileType,
    public mode: number,
    public uid: number,
    public gid: number,
    public mtimeMs: number,
    /** Which layer the object comes from: 0 = bottom lower layer, UPPER = the writable layer. */
    public layer: number,
  ) {
    this.atimeMs = mtimeMs;
    this.ctimeMs = mtimeMs;
    this.birthtimeMs = mtimeMs;
    if (type === 'dir') this.children = new Map();
  }

  get isDir(): boolean {
    return this.type === 'dir';
  }

  get size(): number {
    if (this.type === 'file') return this.data ? this.data.size : 0;
    // OVL-25: a symlink's size is the byte length of its target (the name codec's bytes).
    if (this.type === 'symlink') return nameBytes(this.target).length;
    return this.type === 'dir' ? 4096 : 0;
  }
}

/** Linux's dev_t encoding (glibc makedev), as Node reports st_rdev. */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) + (major & 0xfff) * 0x100 + (minor & ~0xff) * 0x1000 + Math.floor(major / 0x1000) * 0x100000000;
}

export function devMajor(rdev: number): number {
  return ((rdev / 0x100) & 0xfff) + Math.floor(rdev / 0x100000000) * 0x1000;
}

export function devMinor(rdev: number): number {
  return (rdev & 0xff) + (Math.floor(rdev / 0x1000) & ~0xff);
}

export function isWhiteout(c: Child | undefined): c is Whiteout {
  return c === WHITEOUT;
}
