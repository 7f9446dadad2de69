/**
 * An open container: its image's layers under its own writable layer (kept in the state as
 * layer.tar), with its mounts over them (DKR-1…DKR-11). `fs` is the container's filesystem;
 * `save()` writes the container layer back atomically; `close()` saves and lets go of everything
 * (tmpfs contents go with it, DKR-10).
 */
import { statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Volume } from 'memfs';
import { StateError } from '../errors.js';
import type { LayerFs } from '../fs/node-fs.js';
import { createFs } from '../fs/node-fs.js';
import type { LoadedImage } from '../image/index.js';
import { FileCore } from '../mounts/file-core.js';
import { HostCore } from '../mounts/host-core.js';
import { MemfsCore } from '../mounts/memfs-core.js';
import { MountCore } from '../mounts/router.js';
import { MountTable, type Mount as TableMount } from '../mounts/table.js';
import { writeTar } from '../out/tar-write.js';
import type { View } from '../view.js';
import type { ContainerRecord } from './records.js';
import type { State } from './state.js';
import type { EventLog } from '../union/events.js';

export async function tarBytes(entries: Parameters<typeof writeTar>[0]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => chunks.push(c));
  await writeTar(entries, sink);
  return Buffer.concat(chunks);
}

export class Container {
  readonly fs: LayerFs;
  readonly core: MountCore;
  private readonly hosts: Array<HostCore | FileCore> = [];

  constructor(
    private readonly state: State,
    readonly record: ContainerRecord,
    readonly view: View,
    private readonly layer: LoadedImage | undefined,
    readOnlyRoot: boolean,
    trees: Record<string, Volume>,
  ) {
    const mounts: TableMount[] = record.mounts.map((m) => {
      if (m.type === 'tmpfs') return { target: m.target, readOnly: m.readOnly, kind: 'tmpfs', core: new MemfsCore(new Volume()) };
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

  /** Writes the container layer to the state (atomically, with its record). */
  async save(): Promise<void> {
    await this.state.putBlob(this.record.id, 'layer.tar', await tarBytes(this.view.layerEntries()));
  }

  /** Saves the container layer, then lets go of everything. */
  async close(): Promise<void> {
    try {
      await this.save();
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
