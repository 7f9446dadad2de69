/**
 * Making results of the two sides comparable, and calling an fs function in one of three flavours.
 *
 * WHAT IS COMPARED: error code, syscall, path, dest and message (with the real side's root cut
 * out); argument errors by code, class and message; Stats by type, permission bits, nlink, uid, gid
 * and size (not for directories); Dirents by name, type and parentPath; Buffers by content;
 * readdir-like arrays of names sorted (directory order is the filesystem's own: ext4 hashes,
 * memfs sorts).
 *
 * NOT COMPARED, AND WHY: st_dev/st_ino/st_blocks/st_blksize (each filesystem numbers its own);
 * directory st_size (ext4 reports 4096, memfs 0); times, except where a test set them.
 */
import { Buffer } from 'node:buffer';
import { promisify } from 'node:util';
import type { Side } from './sides.js';

export type Flavour = 'sync' | 'callback' | 'promise';
export const FLAVOURS: Flavour[] = ['sync', 'callback', 'promise'];

type Fn = (...args: any[]) => any;

/** `s` with the real side's root taken out: '<root>/a' is '/a', '<root>' alone is '/'. */
export function cut(s: string, root: string): string {
  return root ? s.split(`${root}/`).join('/').split(root).join('/') : s;
}

function isStats(
  v: object,
): v is { mode: number | bigint; nlink: number | bigint; uid: number | bigint; gid: number | bigint; size: number | bigint; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean } {
  return 'mode' in v && 'nlink' in v && typeof (v as { isDirectory?: unknown }).isDirectory === 'function';
}

function typeName(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string {
  return d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : 'other';
}

/** A JSON-friendly, root-independent form of any result or error. */
export function norm(v: unknown, root: string): unknown {
  if (v instanceof Error) {
    const e = v as Error & { code?: string; syscall?: string; path?: string; dest?: string };
    const out: Record<string, unknown> = { err: e.code ?? e.name, message: cut(e.message, root) };
    if (e.syscall !== undefined) out.syscall = e.syscall;
    if (e.path !== undefined) out.path = cut(String(e.path), root);
    if (e.dest !== undefined) out.dest = cut(String(e.dest), root);
    if (!e.syscall) out.class = e.name;
    return out;
  }
  if (Buffer.isBuffer(v)) return { buffer: cut(v.toString('latin1'), root) };
  if (typeof v === 'string') return cut(v, root);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) {
    const items = v.map((x) => norm(x, root));
    const sortable = v.every((x) => typeof x === 'string' || Buffer.isBuffer(x) || (x && typeof x === 'object' && 'parentPath' in x));
    return sortable ? items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) : items;
  }
  if (v && typeof v === 'object') {
    if (isStats(v)) {
      const big = typeof v.mode === 'bigint';
      const out: Record<string, unknown> = {
        type: typeName(v),
        perm: Number(v.mode) & 0o7777,
        nlink: Number(v.nlink),
        uid: Number(v.uid),
        gid: Number(v.gid),
        class: big ? 'BigIntStats' : 'Stats',
      };
      if (!v.isDirectory()) out.size = Number(v.size);
      return out;
    }
    if ('parentPath' in v && typeof (v as { isFile?: unknown }).isFile === 'function') {
      const d = v as unknown as { name: unknown; parentPath: string; path: string; isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean };
      return { dirent: norm(d.name, root), type: typeName(d), parentPath: cut(d.parentPath, root), path: cut(d.path, root) };
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = norm(x, root);
    return out;
  }
  return v;
}

export type Outcome = { ok: unknown } | { err: unknown };

/**
 * Calls `name` on a side's fs in a flavour: `xSync(...args)`, `x(...args, cb)` (checking the
 * callback is not called before `x` returns), or `promises.x(...args)`.
 */
export async function call(side: Side, flavour: Flavour, name: string, ...args: unknown[]): Promise<Outcome> {
  const fs = side.fs as unknown as Record<string, Fn> & { promises: Record<string, Fn> };
  const done = (v: unknown): Outcome => ({ ok: norm(v, side.root) });
  const failed = (e: unknown): Outcome => ({ err: norm(e, side.root) });
  try {
    if (flavour === 'sync') return done(fs[`${name}Sync`](...args));
    if (flavour === 'promise') {
      if (name === 'exists') return done(await promisify(fs.exists)(...args));
      return done(await fs.promises[name](...args));
    }
    return await new Promise<Outcome>((resolve) => {
      let returned = false;
      const cb = (err: unknown, ...results: unknown[]) => {
        if (!returned) resolve({ err: 'callback called before the call returned' });
        else if (name === 'exists') resolve(done(err));
        else if (err) resolve(failed(err));
        else resolve(done(results.length > 1 ? results : results[0]));
      };
      fs[name](...args, cb);
      returned = true;
    });
  } catch (e) {
    return failed(e);
  }
}

/** Every object under the side's root: path, type, permission bits, owner, nlink, size, target, content. */
export function snapshot(side: Side): unknown[] {
  const fs = side.fs as typeof import('node:fs');
  const out: unknown[] = [];
  const walk = (rel: string) => {
    for (const name of (fs.readdirSync(side.p(rel)) as string[]).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(side.p(r));
      const e: Record<string, unknown> = { path: r, ...(norm(st, side.root) as object) };
      if (st.isSymbolicLink()) e.target = cut(fs.readlinkSync(side.p(r)), side.root);
      if (st.isFile()) e.content = fs.readFileSync(side.p(r), 'latin1');
      out.push(e);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** What calling `fn` throws (code, name and message), or 'no throw': for sync checks against Node. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return 'no throw';
  } catch (e) {
    const err = e as Error & { code?: string };
    return { code: err.code, name: err.name, message: err.message };
  }
}
