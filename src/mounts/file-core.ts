/**
 * A bind mount of a single host file (`-v /host/file:/etc/conf`): the mount's root is the file.
 * Every call on the root goes to that file through a HostCore confined to the file's directory;
 * nothing can be below a file, so any deeper path is ENOTDIR.
 */
import { basename, dirname } from 'node:path';
import { fsError } from '../core/errors.js';
import type { Core, DirEntryInfo, StatFsInfo, StatInfo } from '../core/core.js';
import { HostCore } from './host-core.js';

export class FileCore implements Core {
  readonly host: HostCore;
  private readonly name: string;

  constructor(file: string, opts: { readOnly?: boolean } = {}) {
    this.host = new HostCore(dirname(file), opts);
    this.name = '/' + basename(file);
  }

  private p(path: string, syscall: string): string {
    if (path === '/' || path === '') return this.name;
    throw fsError('ENOTDIR', syscall, path);
  }

  stat(path: string, follow: boolean): StatInfo {
    return this.host.stat(this.p(path, 'stat'), follow);
  }
  tryStat(path: string, follow: boolean): StatInfo | undefined {
    return path === '/' || path === '' ? this.host.tryStat(this.name, follow) : undefined;
  }
  access(path: string, mode: number): void {
    this.host.access(this.p(path, 'access'), mode);
  }
  readdir(path: string): DirEntryInfo[] {
    return this.host.readdir(this.p(path, 'scandir'));
  }
  mkdir(path: string, mode: number): void {
    this.host.mkdir(this.p(path, 'mkdir'), mode);
  }
  rmdir(path: string): void {
    this.host.rmdir(this.p(path, 'rmdir'));
  }
  unlink(path: string): void {
    this.host.unlink(this.p(path, 'unlink'));
  }
  rename(from: string, to: string): void {
    this.host.rename(this.p(from, 'rename'), this.p(to, 'rename'));
  }
  symlink(target: string, path: string): void {
    this.host.symlink(target, this.p(path, 'symlink'));
  }
  readlink(path: string): string {
    return this.host.readlink(this.p(path, 'readlink'));
  }
  link(existing: string, newPath: string): void {
    this.host.link(this.p(existing, 'link'), this.p(newPath, 'link'));
  }
  chmod(path: string, mode: number, follow: boolean): void {
    this.host.chmod(this.p(path, 'chmod'), mode, follow);
  }
  chown(path: string, uid: number, gid: number, follow: boolean): void {
    this.host.chown(this.p(path, 'chown'), uid, gid, follow);
  }
  utimes(path: string, a: number, m: number, follow: boolean): void {
    this.host.utimes(this.p(path, 'utime'), a, m, follow);
  }
  truncate(path: string, length: number): void {
    this.host.truncate(this.p(path, 'open'), length);
  }
  realpath(path: string): string {
    this.p(path, 'realpath');
    return '/';
  }
  open(path: string, flags: number, mode: number): number {
    return this.host.open(this.p(path, 'open'), flags, mode);
  }
  close(fd: number): void {
    this.host.close(fd);
  }
  read(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    return this.host.read(fd, b, o, l, p);
  }
  write(fd: number, b: Uint8Array, o: number, l: number, p: number | null): number {
    return this.host.write(fd, b, o, l, p);
  }
  fstat(fd: number): StatInfo {
    return this.host.fstat(fd);
  }
  ftruncate(fd: number, length: number): void {
    this.host.ftruncate(fd, length);
  }
  fchmod(fd: number, mode: number): void {
    this.host.fchmod(fd, mode);
  }
  fchown(fd: number, uid: number, gid: number): void {
    this.host.fchown(fd, uid, gid);
  }
  futimes(fd: number, a: number, m: number): void {
    this.host.futimes(fd, a, m);
  }
  fsync(fd: number): void {
    this.host.fsync(fd);
  }
  statfs(path: string): StatFsInfo {
    return this.host.statfs(this.p(path, 'statfs'));
  }
  closeAll(): void {
    this.host.closeAll();
  }
}
