/**
 * The union's own record of what happened in the writable layer: each copy-up (with the bytes of
 * file data it copied, counted as they are copied), each whiteout and each opaque directory,
 * appended where it happens (copy-up.ts, namespace.ts). The shell, the web app and the benchmark
 * read it (`mark()` before, `since(mark)` after) instead of guessing from paths.
 * Layers are numbered as `where` numbers them: 1 = the bottom image layer.
 * The log keeps the last LIMIT events: a reader that falls further behind is told how many it missed.
 */
import type { FileData } from '../layer/data.js';
import type { Inode } from '../layer/inode.js';

export type ObjectType = Inode['type'];

export interface CopyUpEvent {
  kind: 'copy-up';
  path: string;
  type: ObjectType;
  /** The image layer the object came from. */
  layer: number;
  /** Bytes of file data copied so far (0 for a directory, or a metadata-only copy-up). */
  bytes: number;
}

export interface WhiteoutEvent {
  kind: 'whiteout';
  path: string;
  /** What the whiteout hides: the image object's type and layer. */
  hides: ObjectType;
  layer: number;
  /** unlink/rmdir, or the old name of a rename. */
  by: 'remove' | 'rename';
}

export interface OpaqueEvent {
  kind: 'opaque';
  path: string;
  /** What the image has there, which it hides whole (none: nothing was there). */
  hides?: ObjectType;
  layer?: number;
  by: 'mkdir' | 'rename';
}

export type UnionEvent = CopyUpEvent | WhiteoutEvent | OpaqueEvent;

const LIMIT = 10_000;

export class EventLog {
  private events: UnionEvent[] = [];
  /** Events dropped from the front so far: event n is at events[n - dropped]. */
  private dropped = 0;
  /** The copy-up event of an upper inode, and of the data a chunked copy is filling in. */
  private readonly ofInode = new WeakMap<Inode, CopyUpEvent>();
  private readonly ofData = new WeakMap<FileData, CopyUpEvent>();

  /** The number of events so far: pass it to since(). */
  mark(): number {
    return this.dropped + this.events.length;
  }

  /** The events after `mark`, and how many of them are no longer kept. */
  since(mark: number): { events: UnionEvent[]; missed: number } {
    const from = Math.max(0, mark - this.dropped);
    return { events: this.events.slice(from), missed: Math.max(0, this.dropped - mark) };
  }

  private push(e: UnionEvent): void {
    this.events.push(e);
    if (this.events.length > LIMIT * 2) {
      this.dropped += this.events.length - LIMIT;
      this.events = this.events.slice(-LIMIT);
    }
  }

  copyUp(up: Inode, lower: Inode, path: string): void {
    const e: CopyUpEvent = { kind: 'copy-up', path, type: lower.type, layer: lower.layer + 1, bytes: 0 };
    this.ofInode.set(up, e);
    this.push(e);
  }

  /** `n` bytes of file data copied into the upper inode `up` (a full copy). */
  bytes(up: Inode, n: number): void {
    const e = this.ofInode.get(up);
    if (e) e.bytes += n;
  }

  /** The upper inode `up` now fills in `data` chunk by chunk: bytes are counted as written. */
  track(up: Inode, data: FileData): void {
    const e = this.ofInode.get(up);
    if (e) this.ofData.set(data, e);
  }

  dataBytes(data: FileData, n: number): void {
    const e = this.ofData.get(data);
    if (e) e.bytes += n;
  }

  whiteout(path: string, hidden: Inode, by: WhiteoutEvent['by']): void {
    this.push({ kind: 'whiteout', path, hides: hidden.type, layer: hidden.layer + 1, by });
  }

  opaque(path: string, hidden: Inode | undefined, by: OpaqueEvent['by']): void {
    this.push({ kind: 'opaque', path, hides: hidden?.type, layer: hidden ? hidden.layer + 1 : undefined, by });
  }
}
