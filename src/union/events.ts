/**
 * The union's own record of what happened, event by event: copy-ups (with the bytes they copied
 * and the strategy), data copied later (metadata-only or chunked copy-ups), whiteouts, opaque
 * directories, and (recorded by the mount router, into the same log) writes with the mount that
 * took them. The shell and the web lab read this log; nobody reconstructs it from snapshots.
 *
 * Rules:
 * - The log is off until someone asks for it (`UnionState.recordEvents()`): a view nobody watches
 *   pays one property check per event point.
 * - Consecutive writes to the same path through the same mount are one event (bytes added), and so
 *   are consecutive data copies of one path: a `>>` of 1 000 small writes reads as one write. An
 *   event from before the last `mark()` is never merged into.
 * - It keeps the last MAX_EVENTS events; `mark()` and `since(mark)` still count the dropped ones.
 */
import type { Inode } from '../layer/inode.js';
import type { CopyUpStrategy } from './state.js';

export type MountKindName = 'layer' | 'volume' | 'bind' | 'tmpfs';

export type UnionEvent =
  | { kind: 'copy-up'; path: string; type: Inode['type']; bytes: number; strategy: CopyUpStrategy; data: boolean }
  | { kind: 'copy-data'; path: string; bytes: number; strategy: CopyUpStrategy }
  | { kind: 'whiteout'; path: string }
  | { kind: 'opaque'; path: string }
  | { kind: 'write'; path: string; bytes: number; mount: string; mountKind: MountKindName; source?: string };

const MAX_EVENTS = 10_000;

export class EventLog {
  private list: UnionEvent[] = [];
  private dropped = 0;
  /** Events before this count are sealed: a mark was taken after them, so nothing merges into them. */
  private sealed = 0;

  /** A position in the log: what `since` counts from. */
  mark(): number {
    this.sealed = this.dropped + this.list.length;
    return this.sealed;
  }

  /** The events after `mark`, oldest first (copies: the log may merge into its last event). */
  since(mark: number): UnionEvent[] {
    return this.list.slice(Math.max(0, mark - this.dropped)).map((e) => ({ ...e }));
  }

  push(e: UnionEvent): void {
    const last = this.dropped + this.list.length > this.sealed ? this.list[this.list.length - 1] : undefined;
    if (last && e.kind === 'write' && last.kind === 'write' && last.path === e.path && last.mount === e.mount) {
      last.bytes += e.bytes;
      return;
    }
    if (last && e.kind === 'copy-data' && last.kind === 'copy-data' && last.path === e.path) {
      last.bytes += e.bytes;
      return;
    }
    this.list.push(e);
    if (this.list.length > MAX_EVENTS) {
      const cut = this.list.length - MAX_EVENTS;
      this.list.splice(0, cut);
      this.dropped += cut;
    }
  }
}
