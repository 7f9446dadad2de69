/**
 * The union's own record of what happened, event by event: each copy-up (with the bytes of file
 * data it copied and the strategy), data copied later (a metadata-only or chunked copy-up filling
 * in), each whiteout and opaque directory, and (recorded by the mount router into the same log)
 * writes with the mount that took them. The shell, the web lab and the benchmark read it
 * (`mark()` before, `since(mark)` after); nobody reconstructs it from paths or snapshots.
 *
 * Rules:
 * - Layers are numbered as `where` numbers them: 1 = the bottom image layer.
 * - Bytes copied while the copy-up's own event is still open (no `mark()` since) are added to it;
 *   bytes copied after a mark are a `copy-data` event of their own, so a later reader sees them.
 * - Consecutive writes to one path through one mount are one event (bytes added), and so are
 *   consecutive data copies of one path: a `>>` of 1,000 small writes reads as one write. An event
 *   from before the last `mark()` is never merged into.
 * - It keeps the last LIMIT events; `since` says how many a reader that fell behind missed.
 */
import type { FileData } from '../layer/data.js';
import type { Inode } from '../layer/inode.js';

export type ObjectType = Inode['type'];
export type Strategy = 'full' | 'metadata' | 'chunked';
export type MountKindName = 'layer' | 'volume' | 'bind' | 'tmpfs';

export interface CopyUpEvent {
  kind: 'copy-up';
  path: string;
  type: ObjectType;
  /** The image layer the object came from. */
  layer: number;
  /** Bytes of file data copied (0 for a directory, or a metadata-only copy-up so far). */
  bytes: number;
  strategy: Strategy;
  /** The copy has data of its own (false: metadata only, the data is still the image's). */
  data: boolean;
}

export interface CopyDataEvent {
  kind: 'copy-data';
  path: string;
  bytes: number;
  strategy: Strategy;
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

export interface WriteEvent {
  kind: 'write';
  path: string;
  bytes: number;
  /** The mount point that took the write, its kind and (volumes, binds) its source. */
  mount: string;
  mountKind: MountKindName;
  source?: string;
}

export type UnionEvent = CopyUpEvent | CopyDataEvent | WhiteoutEvent | OpaqueEvent | WriteEvent;

const LIMIT = 10_000;

export class EventLog {
  private events: UnionEvent[] = [];
  /** Events dropped from the front so far: event n is at events[n - dropped]. */
  private dropped = 0;
  /** Events before this count are sealed: a mark was taken after them. */
  private sealed = 0;
  /** The copy-up event of an upper inode, and of the data a chunked copy is filling in. */
  private readonly ofInode = new WeakMap<Inode, { e: CopyUpEvent; at: number }>();
  private readonly ofData = new WeakMap<FileData, { e: CopyUpEvent; at: number }>();

  /** The number of events so far: pass it to since(). */
  mark(): number {
    this.sealed = this.dropped + this.events.length;
    return this.sealed;
  }

  /** The events after `mark` (copies), and how many of them are no longer kept. */
  since(mark: number): { events: UnionEvent[]; missed: number } {
    const from = Math.max(0, mark - this.dropped);
    return { events: this.events.slice(from).map((e) => ({ ...e })), missed: Math.max(0, this.dropped - mark) };
  }

  private push(e: UnionEvent): number {
    this.events.push(e);
    if (this.events.length > LIMIT * 2) {
      this.dropped += this.events.length - LIMIT;
      this.events = this.events.slice(-LIMIT);
    }
    return this.dropped + this.events.length - 1;
  }

  /** The last event, if it is still open for merging. */
  private open(): UnionEvent | undefined {
    return this.dropped + this.events.length > this.sealed ? this.events[this.events.length - 1] : undefined;
  }

  copyUp(up: Inode, lower: Inode, path: string, strategy: Strategy): void {
    const e: CopyUpEvent = { kind: 'copy-up', path, type: lower.type, layer: lower.layer + 1, bytes: 0, strategy, data: lower.type !== 'file' };
    this.ofInode.set(up, { e, at: this.push(e) });
  }

  /** `n` bytes of file data copied into the upper inode `up` at `path` (a full copy). */
  bytes(up: Inode, n: number, path?: string): void {
    const c = this.ofInode.get(up);
    if (c) c.e.data = true;
    this.addBytes(c, n, path);
  }

  /** The upper inode `up` now fills in `data` chunk by chunk: bytes are counted as written. */
  track(up: Inode, data: FileData): void {
    const c = this.ofInode.get(up);
    if (!c) return;
    c.e.data = true;
    this.ofData.set(data, c);
  }

  dataBytes(data: FileData, n: number): void {
    this.addBytes(this.ofData.get(data), n);
  }

  private addBytes(c: { e: CopyUpEvent; at: number } | undefined, n: number, path?: string): void {
    if (n <= 0) return;
    if (c && c.at >= this.sealed) {
      c.e.bytes += n;
      return;
    }
    const p = path ?? c?.e.path;
    if (p === undefined) return;
    const last = this.open();
    if (last?.kind === 'copy-data' && last.path === p) last.bytes += n;
    else this.push({ kind: 'copy-data', path: p, bytes: n, strategy: c?.e.strategy ?? 'full' });
  }

  whiteout(path: string, hidden: Inode, by: WhiteoutEvent['by']): void {
    this.push({ kind: 'whiteout', path, hides: hidden.type, layer: hidden.layer + 1, by });
  }

  opaque(path: string, hidden: Inode | undefined, by: OpaqueEvent['by']): void {
    this.push({ kind: 'opaque', path, hides: hidden?.type, layer: hidden ? hidden.layer + 1 : undefined, by });
  }

  /** `n` bytes written to `path` through a mount (the router records these). */
  write(path: string, n: number, mount: string, mountKind: MountKindName, source?: string): void {
    if (n <= 0) return;
    const last = this.open();
    if (last?.kind === 'write' && last.path === path && last.mount === mount) {
      last.bytes += n;
      return;
    }
    this.push({ kind: 'write', path, bytes: n, mount, mountKind, ...(source !== undefined ? { source } : {}) });
  }
}
