/**
 * One descriptor table for every core (union, mount router, host): numbers → open-file entries.
 * An entry holds the open object itself (an inode reference, a host descriptor, a mount and its
 * inner descriptor), never a path to look up again: a descriptor keeps working on its object
 * after the object's name is unlinked, renamed or reused, as on Linux (OVL-23).
 *
 * Numbers follow open(2): the lowest free number from 3 (0-2 are stdio), so a closed number is
 * reused. Freed numbers wait in a min-heap, so opening stays O(log n) with many files open. An
 * unknown number is EBADF, with the caller's syscall name.
 */
import { fsError } from './errors.js';

export class DescriptorTable<T> {
  private readonly entries = new Map<number, T>();
  /** Numbers below `next` that were freed (a binary min-heap). */
  private readonly freed: number[] = [];
  private next = 3;

  get size(): number {
    return this.entries.size;
  }

  /** Registers an open object and returns its descriptor number. */
  add(entry: T): number {
    const fd = this.freed.length > 0 ? this.popFreed() : this.next++;
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
    this.pushFreed(fd);
    return e;
  }

  /** Frees every number and returns the entries (teardown). */
  clear(): T[] {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.freed.length = 0;
    this.next = 3;
    return all;
  }

  private pushFreed(n: number): void {
    const h = this.freed;
    let i = h.push(n) - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (h[up] <= n) break;
      h[i] = h[up];
      i = up;
    }
    h[i] = n;
  }

  private popFreed(): number {
    const h = this.freed;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const c = l + 1 < h.length && h[l + 1] < h[l] ? l + 1 : l;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
