/**
 * fs.Stats and the `{ bigint: true }` variant, built from the core's StatInfo. Fields, their order
 * and the Date fields follow Node's lib/internal/fs/utils.js.
 */
import { constants as C } from 'node:fs';
import type { StatInfo } from '../core/core.js';

/** Node's dateFromMs: the Date of a (possibly fractional) millisecond time, rounded. */
function dateFromMs(ms: number | bigint): Date {
  return new Date(Math.round(Number(ms)));
}

abstract class StatsBase<T extends number | bigint> {
  abstract dev: T;
  abstract mode: T;
  protected abstract typeIs(fmt: number): boolean;
  isDirectory(): boolean {
    return this.typeIs(C.S_IFDIR);
  }
  isFile(): boolean {
    return this.typeIs(C.S_IFREG);
  }
  isBlockDevice(): boolean {
    return this.typeIs(C.S_IFBLK);
  }
  isCharacterDevice(): boolean {
    return this.typeIs(C.S_IFCHR);
  }
  isSymbolicLink(): boolean {
    return this.typeIs(C.S_IFLNK);
  }
  isFIFO(): boolean {
    return this.typeIs(C.S_IFIFO);
  }
  isSocket(): boolean {
    return this.typeIs(C.S_IFSOCK);
  }
}

export class Stats extends StatsBase<number> {
  // Declared, not defined, so that the own keys come in Node's order (dev ... birthtimeMs, atime ...).
  declare atime: Date;
  declare mtime: Date;
  declare ctime: Date;
  declare birthtime: Date;

  /** Node's constructor signature (fs.Stats is public and sometimes constructed by libraries). */
  constructor(
    public dev: number,
    public mode: number,
    public nlink: number,
    public uid: number,
    public gid: number,
    public rdev: number,
    public blksize: number,
    public ino: number,
    public size: number,
    public blocks: number,
    public atimeMs: number,
    public mtimeMs: number,
    public ctimeMs: number,
    public birthtimeMs: number,
  ) {
    super();
    this.atime = dateFromMs(atimeMs);
    this.mtime = dateFromMs(mtimeMs);
    this.ctime = dateFromMs(ctimeMs);
    this.birthtime = dateFromMs(birthtimeMs);
  }

  protected typeIs(fmt: number): boolean {
    return (this.mode & C.S_IFMT) === fmt;
  }
}

/** Nanoseconds of a millisecond time, split so that the float's integer part stays exact. */
function nsOf(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export class BigIntStats extends StatsBase<bigint> {
  dev: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  rdev: bigint;
  blksize: bigint;
  ino: bigint;
  size: bigint;
  blocks: bigint;
  atimeMs: bigint;
  mtimeMs: bigint;
  ctimeMs: bigint;
  birthtimeMs: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
  atime: Date;
  mtime: Date;
  ctime: Date;
  birthtime: Date;

  constructor(s: StatInfo) {
    super();
    this.dev = BigInt(s.dev);
    this.mode = BigInt(s.mode);
    this.nlink = BigInt(s.nlink);
    this.uid = BigInt(s.uid);
    this.gid = BigInt(s.gid);
    this.rdev = BigInt(s.rdev);
    this.blksize = BigInt(s.blksize);
    this.ino = BigInt(s.ino);
    this.size = BigInt(s.size);
    this.blocks = BigInt(s.blocks);
    this.atimeNs = nsOf(s.atimeMs);
    this.mtimeNs = nsOf(s.mtimeMs);
    this.ctimeNs = nsOf(s.ctimeMs);
    this.birthtimeNs = nsOf(s.birthtimeMs);
    // Milliseconds are the nanoseconds divided down, as Node computes them.
    this.atimeMs = this.atimeNs / 1_000_000n;
    this.mtimeMs = this.mtimeNs / 1_000_000n;
    this.ctimeMs = this.ctimeNs / 1_000_000n;
    this.birthtimeMs = this.birthtimeNs / 1_000_000n;
    this.atime = dateFromMs(this.atimeMs);
    this.mtime = dateFromMs(this.mtimeMs);
    this.ctime = dateFromMs(this.ctimeMs);
    this.birthtime = dateFromMs(this.birthtimeMs);
  }

  protected typeIs(fmt: number): boolean {
    return (this.mode & BigInt(C.S_IFMT)) === BigInt(fmt);
  }
}

/** Stats of a core StatInfo; `bigint` selects BigIntStats. */
export function toStats(s: StatInfo, bigint = false): Stats | BigIntStats {
  if (bigint) return new BigIntStats(s);
  return new Stats(s.dev, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.blksize, s.ino, s.size, s.blocks, s.atimeMs, s.mtimeMs, s.ctimeMs, s.birthtimeMs);
}

/** The S_IF* type bits of a mode. */
export function isType(mode: number, fmt: number): boolean {
  return (mode & C.S_IFMT) === fmt;
}
