/**
 * An open container: its image's layers under its own writable layer (kept in the state as
 * layer.tar plus a journal of later changes, journal.ts), with its mounts over them (DKR-1…DKR-11).
 * `fs` is the container's filesystem; `sync()` appends what changed since the last sync to the
 * journal (the shell calls it after each command, so nothing acknowledged is lost to a kill);
 * `save()` writes the whole layer (compaction); `close()` saves if anything changed, and lets go
 * of everything (tmpfs contents go with it, DKR-10).
 */
import { statSync } from 'node:fs';
import type { Volume } from 'memfs';
import { StateError } from '../core/errors.js';
import type { LayerFs } from '../fs/node-fs.js';
import { createFs } from '../fs/node-fs.js';
import { FileCore } from '../mounts/file-core.js';
import { HostCore } from '../mounts/host-core.js';
import { MemfsCore } from '../mounts/memfs-core.js';
import { MountCore } from '../mounts/router.js';
import { MountTable, type Mount as TableMount } from '../mounts/table.js';
import { tarBlocks, tarSize } from '../out/tar-write.js';
import { walkLayer } from '../union/upper.js';
import type { View } from '../view.js';
import { delta, type Snapshot } from './delta.js';
import { CHECK, frameHead } from './journal.js';
import type { ContainerRecord } from './records.js';
import type { State } from './state.js';
import type { EventLog } from '../union/events.js';

/** The journal is compacted into layer.tar once it would pass this and the layer's own size. */
const COMPACT_MIN = 4 << 20;

/**
 * The clock for a snapshot, once it has moved past every change made so far: a change in the same
 * millisecond as the snapshot is still seen as changed next time (journal.ts's racy rule), but one
 * made before it is not seen again. Waits at most a millisecond.
 */
function nextTick(): number {
  const t0 = Date.now();
  let t = t0;
  while (t === t0) t = Date.now();
  return t;
}

/**
 * A journal frame's bytes, chunk by chunk: its head, then the tar of `entries`. The tar must come
 * to the `tar` bytes the head announces (tarSize and tarBlocks agree by construction; were they
 * not to, the frame is refused before it is committed, as a misframed journal would not open).
 */
function* frameChunks(head: Buffer, entries: Parameters<typeof tarBlocks>[0], tar: number): Generator<Buffer> {
  yield head;
  let written = 0;
  for (const block of tarBlocks(entries)) {
    written += block.length;
    yield block;
  }
  if (written !== tar) throw new Error(`layerfs: a journal frame's tar came to ${written} bytes, not the ${tar} its head announced`);
}

export class Container {
  readonly fs: LayerFs;
  readonly core: MountCore;
  private readonly hosts: Array<HostCore | FileCore> = [];
  /** The writable layer as the last sync (or the open) saw it, and the clock then (journal.ts). */
  private snapshot: Snapshot;
  private since: number;

  constructor(
    private readonly state: State,
    readonly record: ContainerRecord,
    readonly view: View,
    /** What the saved layer's files and the image behind them hold open (closed by dispose). */
    private readonly layer: { close(): void } | undefined,
    readOnlyRoot: boolean,
    trees: Record<string, Volume>,
    /** A new memfs tree for each tmpfs mount. */
    newTmpfs: () => Volume,
    /** The journal's committed length (State.openSaved's journalSize). */
    private journalBytes: number,
    private baseBytes = record.blobs['layer.tar']?.size ?? 0,
  ) {
    this.since = Date.now();
    this.snapshot = this.changes().next;
    const mounts: TableMount[] = record.mounts.map((m) => {
      if (m.type === 'tmpfs') return { target: m.target, readOnly: m.readOnly, kind: 'tmpfs', core: new MemfsCore(newTmpfs()) };
      if (m.type === 'bind' && m.source.startsWith('memfs:')) {
        const tree = trees[m.source.slice(6)];
        if (!tree) throw new StateError('BAD_INPUT', m.source, `container ${record.name} binds ${m.source}: pass that memfs tree in trees when opening it`);
        return { target: m.target, readOnly: m.readOnly, kind: 'bind', core: new MemfsCore(tree), source: m.source };
      }
      const dir = m.type === 'volume' ? state.volumeData(m.source) : m.source;
      // A bind of a single file mounts that file; anything else is a directory.
      const core = m.type === 'bind' && !statSync(dir).isDirectory() ? new FileCore(dir, { readOnly: m.readOnly }) : new HostCore(dir, { readOnly: m.readOnly });
      this.hosts.push(core);
      return { target: m.target, readOnly: m.readOnly, kind: m.type, core, source: m.source };
    });
    const root: TableMount = { target: '/', core: view.core, readOnly: readOnlyRoot, kind: 'layer', source: record.image };
    this.core = new MountCore(new MountTable(root, mounts));
    this.core.events = view.core.s.log;
    this.fs = createFs(this.core);
  }

  get id(): string {
    return this.record.id;
  }

  /**
   * The union's event log for this container (src/union/events.ts): copy-ups, whiteouts, opaque
   * directories, and every write with the mount that took it.
   */
  get events(): EventLog {
    return this.view.core.s.log;
  }

  /** Where a path is served from: the container layer (copied up or not), a volume, a bind, a tmpfs. */
  where(path: string): { kind: string; source?: string; path: string; target: string } {
    const at = this.core.where(path);
    return { kind: at.mount.kind, source: at.mount.source, path: at.rel, target: at.mount.target };
  }

  /** The writable layer against the last sync's snapshot (journal.ts delta). */
  private changes(): ReturnType<typeof delta> {
    return delta((visit) => walkLayer(this.view.core.s, visit), this.snapshot ?? new Map(), this.since);
  }

  /**
   * Saves what changed in the container layer since the last sync as one journal frame, which
   * commits itself (atomic: after a kill the container opens with all of it or none of it). Writes
   * nothing when nothing changed; writes the whole layer instead (compaction) once the journal
   * would outgrow it (and 4 MiB), so a journal never costs more than a rewrite would have, or when
   * the change is too big for one frame (its length field is 32 bits). The frame is streamed to
   * the journal, its files' data read from the writable layer a chunk at a time: a changed file
   * of gigabytes is never one buffer. Returns whether anything was written.
   */
  async sync(): Promise<boolean> {
    const since = nextTick();
    const d = this.changes();
    if (d.changed.length === 0 && d.drop.length === 0) {
      this.snapshot = d.next;
      this.since = since;
      return false;
    }
    // The frame's size is known from the entries before any of their data is read.
    const tar = tarSize(d.changed);
    const head = frameHead(d.drop, tar);
    if (head === undefined || this.journalBytes + head.length + tar + CHECK > Math.max(COMPACT_MIN, this.baseBytes)) await this.save();
    else this.journalBytes = (await this.state.appendJournal(this.record.id, frameChunks(head, d.changed, tar))).size;
    this.snapshot = d.next;
    this.since = since;
    return true;
  }

  /**
   * Writes the whole container layer to the state (atomically, with its record); ends the journal.
   * The tar is streamed into the state (State.putBlob), a chunk at a time: never one buffer.
   */
  async save(): Promise<void> {
    const since = nextTick();
    const next = this.changes().next;
    const rec = await this.state.putBlob(this.record.id, 'layer.tar', tarBlocks(this.view.layerEntries()));
    this.baseBytes = rec.blobs['layer.tar']!.size;
    this.journalBytes = 0;
    this.snapshot = next;
    this.since = since;
  }

  /** Saves the container layer (when anything changed since it was opened), then lets go of everything. */
  async close(): Promise<void> {
    try {
      const d = this.changes();
      if (this.journalBytes > 0 || d.changed.length > 0 || d.drop.length > 0) await this.save();
    } finally {
      this.dispose();
    }
  }

  /** Lets go of everything without saving (for a look at a container another process has open). */
  dispose(): void {
    for (const h of this.hosts) h.closeAll();
    this.view.close();
    this.layer?.close();
  }
}
