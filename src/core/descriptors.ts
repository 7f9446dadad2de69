/**
 * One descriptor table for every core (union, mount router, host): numbers → open-file entries.
 * An entry holds the open object itself (an inode reference, a host descriptor, a mount and its
 * inner descriptor), never a path to look up again: a descriptor keeps working on its object
 * after the object's name is unlinked, renamed or reused, as on Linux.
 *
 * Numbers follow open(2): the lowest free number from 3 (0-2 are stdio), so a closed number is
 * reused. An unknown number is EBADF, with the caller's syscall name.
 */
import { fsError } from '../errors.js';

export class DescriptorTable<T> {
  private readonly entries = new Map<number, T>();

  get size(): number {
    return this.entries.size;
  }

  /** Registers an open object and returns its descriptor number. */
  add(entry: T): number {
    let fd = 3;
    while (this.entries.has(fd)) fd++;
    this.entries.set(fd, entry);
    return fd;
  }

  /** The entry behind `fd`; EBADF (named after `syscall`) if none is open. */
  get(fd: number, syscall: string): T {
    const e = this.entries.get(fd);
    if (e === undefined) throw fsError('EBADF', syscall);
    return e;
  }

  /** Frees `fd` and returns its entry (EBADF if none). */
  remove(fd: number, syscall = 'close'): T {
    const e = this.get(fd, syscall);
    this.entries.delete(fd);
    return e;
  }

  /** Frees every number and returns the entries (teardown). */
  clear(): T[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    return all;
  }
}
