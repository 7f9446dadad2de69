/**
 * Real overlayfs mounts for the differential tests.
 *
 * Everything lives on a private tmpfs mounted on a mkdtemp() directory under os.tmpdir(): lowerdirs,
 * upperdir, workdir and the mount point of every case. One filesystem for all layers means overlayfs
 * runs in "samefs" mode, so st_ino of non-directories is the real inode and stable across copy-up
 * (OVL-17), and trusted.* xattrs work (tmpfs supports them).
 *
 * Every mount is registered; `unmount` tries `umount` and falls back to `umount -l`; a process 'exit'
 * hook lazily unmounts whatever is still registered, so a crashed test never leaves a mount behind.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { layerRoot, materializeLayer, type Spec } from './spec.js';

export interface KernelOptions {
  /** redirect_dir=on: renaming lower/merged dirs works (OVL-13). */
  redirectDir?: boolean;
  /** index=on: hard links survive copy-up (OVL-15). */
  index?: boolean;
  /** metacopy=on (implies redirect_dir=on): chmod/chown copy up metadata only (OVL-16). */
  metacopy?: boolean;
  /** No upperdir: a read-only overlay (OVL-18). Needs at least two lowerdirs. */
  readOnly?: boolean;
}

export function optionString(o: KernelOptions): string {
  const parts: string[] = [];
  if (o.readOnly) return 'ro';
  parts.push(`redirect_dir=${o.redirectDir || o.metacopy ? 'on' : 'off'}`);
  parts.push(`index=${o.index ? 'on' : 'off'}`);
  parts.push(`metacopy=${o.metacopy ? 'on' : 'off'}`);
  return parts.join(',');
}

export function describeOptions(o: KernelOptions): string {
  if (o.readOnly) return 'read-only';
  const on = [o.metacopy ? 'metacopy' : '', o.redirectDir || o.metacopy ? 'redirect_dir' : '', o.index ? 'index' : ''].filter((s) => s);
  return on.length ? on.join('+') : 'default';
}

const live = new Set<string>();
/** mkdtemp() directories that tmpfs scratch areas are mounted on: removed after their unmount. */
const scratchDirs = new Set<string>();

function run(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return { ok: false, err: String(r.error) };
  return { ok: r.status === 0, err: `${r.stderr ?? ''}`.trim() || `exit ${r.status}` };
}

/** Unmounts `target`; on failure (EBUSY: an fd still open) detaches it lazily. Never throws. */
export function unmount(target: string): { ok: boolean; lazy: boolean; err?: string } {
  live.delete(target);
  const r = run('umount', [target]);
  if (r.ok) return { ok: true, lazy: false };
  const l = run('umount', ['-l', target]);
  return { ok: l.ok, lazy: true, err: `${r.err}; lazy: ${l.ok ? 'ok' : l.err}` };
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const cleanup = (): void => {
    // Innermost first: overlays before the tmpfs they live on.
    for (const t of [...live].reverse()) {
      spawnSync('umount', ['-l', t]);
      live.delete(t);
    }
    for (const d of scratchDirs) {
      try {
        fs.rmdirSync(d);
      } catch {
        /* not empty or gone */
      }
    }
  };
  process.on('exit', cleanup);
  // A killed test worker (ava's timeout, Ctrl-C) exits through these, not through 'exit' alone.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanup();
      process.kill(process.pid, sig);
    });
  }
}

function mount(args: string[], target: string): { ok: boolean; err: string } {
  hookExit();
  const r = run('mount', [...args, target]);
  if (r.ok) live.add(target);
  return r;
}

/** A private tmpfs for scratch directories. */
export class Scratch {
  private n = 0;
  private constructor(readonly dir: string) {}

  static create(): Scratch {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerfs-kernel-'));
    const r = mount(['-t', 'tmpfs', '-o', 'mode=0755', 'tmpfs'], dir);
    if (!r.ok) {
      fs.rmdirSync(dir);
      throw new Error(`cannot mount tmpfs on ${dir}: ${r.err}`);
    }
    scratchDirs.add(dir);
    return new Scratch(dir);
  }

  /** A fresh empty directory on the tmpfs. */
  fresh(prefix = 'c'): string {
    const d = path.join(this.dir, `${prefix}${this.n++}`);
    fs.mkdirSync(d);
    return d;
  }

  dispose(): void {
    unmount(this.dir);
    try {
      fs.rmdirSync(this.dir);
      scratchDirs.delete(this.dir);
    } catch {
      /* still busy after a lazy unmount: the exit hook tries again */
    }
  }
}

let probe: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

/**
 * Whether this process may mount overlayfs here (root, overlay and tmpfs available, trusted xattrs
 * and whiteout devices creatable). Probed once per process by mounting a tiny overlay.
 */
export function canMount(): Promise<{ ok: true } | { ok: false; reason: string }> {
  probe ??= (async () => {
    if (process.platform !== 'linux') return { ok: false as const, reason: `platform is ${process.platform}, not linux` };
    if (process.getuid?.() !== 0) return { ok: false as const, reason: 'not running as root' };
    let scratch: Scratch;
    try {
      scratch = Scratch.create();
    } catch (e) {
      return { ok: false as const, reason: String((e as Error).message) };
    }
    try {
      const m = await mountSpec(scratch, [[{ type: 'file', path: 'f', content: 'x' }], [{ type: 'whiteout', path: 'g' }]], {});
      try {
        if (fs.readFileSync(path.join(m.mnt, 'f'), 'utf8') !== 'x') return { ok: false as const, reason: 'overlay probe read wrong data' };
      } finally {
        m.release();
      }
      return { ok: true as const };
    } catch (e) {
      return { ok: false as const, reason: `overlay mount refused: ${(e as Error).message}` };
    } finally {
      scratch.dispose();
    }
  })();
  return probe;
}

export interface MountedCase {
  /** The overlay mount point (what ops run against). */
  mnt: string;
  /** lowerdirs, BOTTOM FIRST like the spec. */
  lowers: string[];
  upper?: string;
  work?: string;
  /** Unmounts (lazily if busy) and deletes the case's directories. Idempotent; never throws. */
  release(): { ok: boolean; lazy: boolean; err?: string };
}

/**
 * Materialises `spec` into lowerdirs on the scratch tmpfs and mounts the overlay. An rw overlay's
 * root shows the upperdir's own attributes (OVL-2, OVL-26): as podman's storage makes a container's
 * upperdir, it takes the mode and owner of the top layer's root, and its mtime is the time it was
 * made (now), which is what the emulator's writable layer does too.
 */
export async function mountSpec(scratch: Scratch, spec: Spec, opts: KernelOptions): Promise<MountedCase> {
  const base = scratch.fresh();
  const lowers: string[] = [];
  let mnt = '';
  let released = false;
  let mounted = false;
  const release = (): { ok: boolean; lazy: boolean; err?: string } => {
    if (released) return { ok: true, lazy: false };
    released = true;
    const r = mounted ? unmount(mnt) : { ok: true, lazy: false };
    try {
      fs.rmSync(base, { recursive: true, force: true });
    } catch {
      /* busy after a lazy unmount */
    }
    return r;
  };
  try {
    for (let i = 0; i < spec.length; i++) {
      const d = path.join(base, `l${i}`);
      fs.mkdirSync(d);
      await materializeLayer(spec[i], d);
      lowers.push(d);
    }
    mnt = path.join(base, 'm');
    fs.mkdirSync(mnt);
    const lowerdir = `lowerdir=${[...lowers].reverse().join(':')}`;
    let upper: string | undefined;
    let work: string | undefined;
    let opt: string;
    if (opts.readOnly) {
      if (lowers.length < 2) throw new Error('a read-only overlay needs at least two lower layers');
      opt = `${lowerdir},ro`;
    } else {
      upper = path.join(base, 'u');
      work = path.join(base, 'w');
      fs.mkdirSync(upper);
      fs.mkdirSync(work);
      const root = layerRoot(spec.length ? spec[spec.length - 1] : []);
      fs.chownSync(upper, root.uid, root.gid);
      fs.chmodSync(upper, root.mode);
      opt = `${lowerdir},upperdir=${upper},workdir=${work},${optionString(opts)}`;
    }
    const r = mount(['-t', 'overlay', 'overlay', '-o', opt], mnt);
    if (!r.ok) throw new Error(`mount -o ${optionString(opts)}: ${r.err}`);
    mounted = true;
    return { mnt, lowers, upper, work, release };
  } catch (e) {
    release();
    throw e;
  }
}
