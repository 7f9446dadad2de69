/**
 * A container's mount table: the root (its layers) and what is mounted over paths inside it
 * (volumes, bind mounts, tmpfs). A path belongs to the mount with the longest target that is a
 * prefix of it, component by component (DKR-1…DKR-11 build on this).
 */
import type { Core } from '../core/core.js';

export type MountKind = 'layer' | 'volume' | 'bind' | 'tmpfs';

export interface Mount {
  /** Absolute, normalised path in the container: '/' for the root, no trailing slash otherwise. */
  target: string;
  core: Core;
  readOnly: boolean;
  kind: MountKind;
  /** Volume name, host path, or image reference: what `where` reports. */
  source?: string;
}

export interface Placed {
  mount: Mount;
  /** The path inside the mount ('/' is the mount's root). */
  rel: string;
}

export class MountTable {
  private readonly byTarget = new Map<string, Mount>();

  /** Symlinks followed in one lookup across the mounts before ELOOP (Linux's MAXSYMLINKS). */
  readonly maxHops: number;

  constructor(
    readonly root: Mount,
    mounts: Mount[] = [],
    opts: { maxSymlinkHops?: number } = {},
  ) {
    this.maxHops = opts.maxSymlinkHops ?? 40;
    if (root.target !== '/') throw new Error(`the root mount must be at '/', not ${root.target}`);
    this.byTarget.set('/', root);
    for (const m of mounts) {
      if (!/^\/[^\0]*[^/]$/.test(m.target) || m.target.split('/').some((p) => p === '.' || p === '..')) {
        throw new Error(`mount target must be an absolute normalised path, not ${JSON.stringify(m.target)}`);
      }
      this.byTarget.set(m.target, m);
    }
  }

  get mounts(): Mount[] {
    return [...this.byTarget.values()];
  }

  /** True when only the root is mounted: the router can pass calls straight through. */
  get trivial(): boolean {
    return this.byTarget.size === 1;
  }

  /** The mount holding a canonical path (given as components), and the path inside it. */
  place(parts: string[]): Placed {
    for (let i = parts.length; i > 0; i--) {
      const m = this.byTarget.get('/' + parts.slice(0, i).join('/'));
      if (m) return { mount: m, rel: '/' + parts.slice(i).join('/') };
    }
    return { mount: this.root, rel: '/' + parts.join('/') };
  }

  isMountPoint(parts: string[]): boolean {
    return parts.length > 0 && this.byTarget.has('/' + parts.join('/'));
  }
}
