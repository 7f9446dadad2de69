/**
 * Where a view's writable layer keeps file data beyond its memory budget: anonymous scratch files
 * (src/archive/spill.ts's openSpill: O_TMPFILE in the temp dir, so nothing is left on disk even
 * after a kill). Rules:
 * - A view holds at most `budget` bytes of upper file data in memory (the `spill` option, default
 *   SPILL_DEFAULT); a file whose data would take the total past it moves to a scratch file of its
 *   own, and a chunked copy-up's new chunks go to one once the budget is used up.
 * - Memory is counted when taken and given back when a file's data shrinks, moves to disk or is
 *   collected (a FinalizationRegistry); a scratch file is closed when its data is collected or the
 *   view is closed.
 */
import { closeSync } from 'node:fs';
import { openSpill } from '../archive/spill.js';

/** Default memory budget of one view's writable layer: 8 MiB. */
export const SPILL_DEFAULT = 8 << 20;

export class SpillStore {
  /** Bytes of upper file data held in memory now. */
  inMemory = 0;
  /** Scratch files opened so far (a figure for tests and the benchmark). */
  filesOpened = 0;
  /** One handle per scratch file (a handle, not the number: a closed fd's number is reused). */
  private readonly open = new Set<{ fd: number }>();
  private readonly closer = new FinalizationRegistry<{ fd: number }>((h) => this.closeFd(h));
  private readonly giveBack = new FinalizationRegistry<{ bytes: number }>((held) => {
    this.inMemory -= held.bytes;
  });

  constructor(readonly budget: number = SPILL_DEFAULT) {}

  /** Whether `bytes` more may be held in memory. */
  allows(bytes: number): boolean {
    return this.inMemory + bytes <= this.budget;
  }

  /** Records memory taken (negative: given back) by `held`, tracked until its owner is collected. */
  track(owner: object, held: { bytes: number }, delta: number): void {
    if (held.bytes === 0 && delta > 0) this.giveBack.register(owner, held, held);
    held.bytes += delta;
    this.inMemory += delta;
    if (held.bytes === 0) this.giveBack.unregister(held);
  }

  /** A new scratch file for `owner`, closed when the owner is collected or the view closes. */
  scratch(owner: object): number {
    const h = { fd: openSpill() };
    this.open.add(h);
    this.filesOpened++;
    this.closer.register(owner, h);
    return h.fd;
  }

  private closeFd(h: { fd: number }): void {
    if (!this.open.delete(h)) return;
    try {
      closeSync(h.fd);
    } catch {
      /* already closed */
    }
  }

  /** Closes every scratch file (the view is closed: its writable layer's data is gone). */
  close(): void {
    for (const h of [...this.open]) this.closeFd(h);
  }
}
