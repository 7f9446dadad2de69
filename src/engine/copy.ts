/**
 * `cp` between the host and a container, with docker cp's rules (checked against podman 4.3's
 * `podman cp`), through the container's `fs` (so writes follow the copy-up rules and the mounts):
 * - SRC must exist ("could not be found on the host / on container C");
 * - a file: into DEST when DEST is a directory (under its own name), else as DEST, whose parent must
 *   be a directory; DEST ending in `/` must be an existing directory;
 * - a directory: DEST missing is made and gets SRC's contents; DEST an existing directory gets SRC
 *   inside it under its own name, or SRC's contents when SRC ends in `/.`; DEST a file is refused
 *   ("destination must be a directory when copying a directory");
 * - symlinks are copied as links; modes and mtimes are kept;
 * - owner: into a container, the container's user (the image's User as uid[:gid], names looked up
 *   in the container's /etc/passwd and /etc/group; root when none), or with `archive` the source's
 *   uid/gid (docker cp -a; podman cp --archive=false); onto the host, the caller, or with
 *   `archive` the container's uid/gid (docker cp -a);
 * - `-` for SRC is a tar stream (stdin) extracted into the directory DEST; `-` for DEST writes SRC
 *   as a tar stream (stdout), under its base name, with the container's owners.
 */
import * as host from 'node:fs';
import { posix, resolve as hostResolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import tarStream from 'tar-stream';
import type { Entry } from '../entry.js';
import { StateError } from '../core/errors.js';
import type { LayerFs } from '../fs/node-fs.js';
import { writeTar } from '../out/tar-write.js';
import type { Container } from './container.js';

export interface CopyOptions {
  /** Keep the source's uid/gid (docker cp -a). */
  archive?: boolean;
}

type Owner = { uid: number; gid: number };

/** The filesystem operations a copy needs, on the host or in the container. */
interface Side {
  lstat(p: string): host.Stats | undefined;
  readdir(p: string): string[];
  readFile(p: string): Buffer;
  readlink(p: string): string;
  mkdir(p: string, mode: number): void;
  writeFile(p: string, data: Buffer, mode: number): void;
  symlink(target: string, p: string): void;
  finish(p: string, st: { mode: number; mtimeMs: number; atimeMs: number; uid: number; gid: number }, link: boolean, owner: Owner | undefined): void;
}

function sideOf(fs: LayerFs | typeof host): Side {
  const f = fs as typeof host;
  return {
    lstat: (p) => f.lstatSync(p, { throwIfNoEntry: false }) as host.Stats | undefined,
    readdir: (p) => (f.readdirSync(p) as unknown as string[]).map(String).sort(),
    readFile: (p) => f.readFileSync(p) as Buffer,
    readlink: (p) => String(f.readlinkSync(p)),
    mkdir: (p, mode) => f.mkdirSync(p, { mode }),
    writeFile: (p, data, mode) => {
      // An existing file is replaced (its old mode does not stay).
      if (f.lstatSync(p, { throwIfNoEntry: false })?.isFile()) f.unlinkSync(p);
      f.writeFileSync(p, data, { mode });
    },
    symlink: (t, p) => {
      if (f.lstatSync(p, { throwIfNoEntry: false })) f.unlinkSync(p);
      f.symlinkSync(t, p);
    },
    finish: (p, st, link, owner) => {
      if (owner) f.lchownSync(p, owner.uid, owner.gid);
      if (link) return;
      f.chmodSync(p, st.mode & 0o7777);
      f.utimesSync(p, st.atimeMs / 1000, st.mtimeMs / 1000);
    },
  };
}

/** Copies the object at `src` (from) to the new or replaced path `dest` (to), recursively. */
function copyObject(from: Side, src: string, to: Side, dest: string, owner: (st: host.Stats) => Owner | undefined): void {
  const st = from.lstat(src)!;
  if (st.isSymbolicLink()) {
    to.symlink(from.readlink(src), dest);
    to.finish(dest, st, true, owner(st));
  } else if (st.isDirectory()) {
    if (!to.lstat(dest)?.isDirectory()) to.mkdir(dest, 0o700);
    for (const name of from.readdir(src)) copyObject(from, posix.join(src, name), to, posix.join(dest, name), owner);
    to.finish(dest, st, false, owner(st));
  } else if (st.isFile()) {
    to.writeFile(dest, from.readFile(src), st.mode & 0o7777);
    to.finish(dest, st, false, owner(st));
  }
  // Devices, fifos and sockets are left out (docker cp copies them only as root on the host).
}

/** Where a copy of SRC goes under docker cp's rules (see the header), or the error that refuses it. */
function target(to: Side, srcIsDir: boolean, srcPath: string, dest: string, destName: string, missing: (p: string) => Error): { path: string; contents: boolean } {
  const st = to.lstat(dest);
  const dotContents = /(^|\/)\.$/.test(srcPath);
  if (st?.isDirectory()) {
    if (srcIsDir && dotContents) return { path: dest, contents: true };
    return { path: posix.join(dest, posix.basename(posix.resolve('/', srcPath))), contents: false };
  }
  if (srcIsDir && st) throw new StateError('BAD_INPUT', destName, 'destination must be a directory when copying a directory');
  const parent = to.lstat(posix.dirname(dest));
  if (!parent?.isDirectory()) throw missing(destName);
  return { path: dest, contents: srcIsDir };
}

/** The container's user as uid/gid: the image's User, names looked up in its /etc/passwd and /etc/group. */
export function containerUser(c: Container): Owner {
  const user = c.view.image.config.config.User ?? '';
  if (user === '') return { uid: 0, gid: 0 };
  const [u, g] = user.split(':') as [string, string?];
  const table = (file: string) => {
    try {
      return String(c.fs.readFileSync(file))
        .split('\n')
        .map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const passwd = table('/etc/passwd');
  const row = /^\d+$/.test(u) ? passwd.find((r) => r[2] === u) : passwd.find((r) => r[0] === u);
  const uid = /^\d+$/.test(u) ? Number(u) : Number(row?.[2] ?? 0);
  const gid = g === undefined ? Number(row?.[3] ?? 0) : /^\d+$/.test(g) ? Number(g) : Number(table('/etc/group').find((r) => r[0] === g)?.[2] ?? 0);
  return { uid, gid };
}

const notInContainer = (c: Container) => (p: string) => new StateError('NOT_FOUND', p, `could not be found on container ${c.record.name}: no such file or directory`);
const notOnHost = (p: string) => new StateError('NOT_FOUND', p, 'could not be found on the host: no such file or directory');

/** Host SRC → container DEST. */
export function copyIn(c: Container, src: string, dest: string, opts: CopyOptions = {}): void {
  const from = sideOf(host);
  const to = sideOf(c.fs);
  const srcAbs = hostResolve(src) + (src.endsWith('/.') ? '/.' : '');
  const st = from.lstat(srcAbs);
  if (!st) throw notOnHost(src);
  const user = containerUser(c);
  const owner = (s: host.Stats): Owner => (opts.archive ? { uid: s.uid, gid: s.gid } : user);
  const destAbs = posix.resolve('/', dest) + (dest.endsWith('/') && dest !== '/' ? '/' : '');
  const t = target(to, st.isDirectory(), src, destAbs.replace(/\/+$/, '') || '/', dest, notInContainer(c));
  if (destAbs.endsWith('/') && !st.isDirectory() && !to.lstat(destAbs.slice(0, -1))?.isDirectory()) throw notInContainer(c)(dest);
  copyTo(from, srcAbs.replace(/\/\.$/, ''), to, t, owner);
}

/** Container SRC → host DEST. */
export function copyOut(c: Container, src: string, dest: string, opts: CopyOptions = {}): void {
  const from = sideOf(c.fs);
  const to = sideOf(host);
  const srcAbs = posix.resolve('/', src);
  const st = from.lstat(srcAbs);
  if (!st) throw notInContainer(c)(src);
  const owner = (s: host.Stats): Owner | undefined => (opts.archive ? { uid: s.uid, gid: s.gid } : undefined);
  const destAbs = hostResolve(dest);
  if (dest.endsWith('/') && !st.isDirectory() && !to.lstat(destAbs)?.isDirectory()) throw notOnHost(dest);
  const t = target(to, st.isDirectory(), src, destAbs, dest, notOnHost);
  copyTo(from, srcAbs, to, t, owner);
}

function copyTo(from: Side, src: string, to: Side, t: { path: string; contents: boolean }, owner: (st: host.Stats) => Owner | undefined): void {
  if (!t.contents) {
    copyObject(from, src, to, t.path, owner);
    return;
  }
  if (!to.lstat(t.path)) to.mkdir(t.path, 0o700);
  for (const name of from.readdir(src)) copyObject(from, posix.join(src, name), to, posix.join(t.path, name), owner);
  const st = from.lstat(src)!;
  to.finish(t.path, st, false, owner(st));
}

/** Container SRC → a tar stream (docker cp SRC -): SRC under its base name (its contents for `/.`). */
export async function copyOutTar(c: Container, src: string, sink: Writable): Promise<void> {
  const fs = sideOf(c.fs);
  const srcAbs = posix.resolve('/', src);
  const st = fs.lstat(srcAbs);
  if (!st) throw notInContainer(c)(src);
  const entries: Entry[] = [];
  const add = (p: string, name: string) => {
    const s = fs.lstat(p)!;
    const base = { path: name, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: s.mtimeMs, size: 0 };
    if (s.isSymbolicLink()) entries.push({ ...base, type: 'symlink', linkname: fs.readlink(p) });
    else if (s.isDirectory()) {
      if (name !== '') entries.push({ ...base, type: 'dir' });
      for (const n of fs.readdir(p)) add(posix.join(p, n), name === '' ? n : `${name}/${n}`);
    } else if (s.isFile()) {
      const data = fs.readFile(p);
      entries.push({ ...base, type: 'file', size: data.length, content: { size: data.length, read: (b, o, l, pos) => data.copy(b, o, pos, Math.min(data.length, pos + l)) } });
    }
  };
  add(srcAbs, /(^|\/)\.$/.test(src) ? '' : posix.basename(srcAbs) || '');
  await writeTar(entries, sink);
}

/** A tar stream → the directory DEST of the container (docker cp - C:DEST). */
export async function copyInTar(c: Container, input: Readable, dest: string, opts: CopyOptions = {}): Promise<number> {
  const fs = sideOf(c.fs);
  const destAbs = posix.resolve('/', dest);
  if (!fs.lstat(destAbs)?.isDirectory()) throw new StateError('BAD_INPUT', dest, `is not a directory in container ${c.record.name}: a tar stream is extracted into a directory`);
  const user = containerUser(c);
  const extract = tarStream.extract();
  const dirs: Array<{ path: string; st: Parameters<Side['finish']>[1] }> = [];
  let count = 0;
  const done = new Promise<void>((resolveDone, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (d: unknown) => chunks.push(d as Buffer));
      stream.on('end', () => {
        try {
          const rel = posix.normalize(h.name).replace(/^(\.\/)+|\/+$/g, '');
          if (rel.split('/').includes('..') || rel.startsWith('/')) throw new StateError('BAD_INPUT', h.name, `tar member ${JSON.stringify(h.name)} leaves the destination directory`);
          const p = rel === '.' || rel === '' ? destAbs : posix.join(destAbs, rel);
          const mtimeMs = (h.mtime ?? new Date()).getTime();
          const st = { mode: h.mode ?? 0o644, mtimeMs, atimeMs: mtimeMs, uid: h.uid ?? 0, gid: h.gid ?? 0 };
          const owner = opts.archive ? { uid: st.uid, gid: st.gid } : user;
          if (h.type === 'directory') {
            if (!fs.lstat(p)?.isDirectory()) fs.mkdir(p, 0o700);
            dirs.push({ path: p, st: { ...st, ...owner } });
          } else if (h.type === 'symlink') {
            fs.symlink(h.linkname ?? '', p);
            fs.finish(p, st, true, owner);
          } else if (h.type === 'file' || h.type === 'contiguous-file') {
            fs.writeFile(p, Buffer.concat(chunks), st.mode & 0o7777);
            fs.finish(p, st, false, owner);
          } else if (h.type === 'link') {
            c.fs.linkSync(posix.join(destAbs, posix.normalize(h.linkname ?? '').replace(/^(\.\/)+/, '')), p);
          }
          count++;
          next();
        } catch (e) {
          reject(e);
        }
      });
      stream.resume();
    });
    extract.on('finish', () => resolveDone());
    extract.on('error', reject);
  });
  input.pipe(extract);
  await done;
  // Directories last, deepest first: their times are not changed by what went into them after.
  for (const d of dirs.reverse()) fs.finish(d.path, d.st, false, { uid: d.st.uid, gid: d.st.gid });
  return count;
}

/** `C:PATH` → the container and the path; anything else is a host path. */
export function splitCopyArg(arg: string): { container?: string; path: string } {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*):(.*)$/.exec(arg);
  // As docker: NAME:PATH names a container (NAME has no '/'); a host path holding ':' can be written ./a:b.
  if (m && !host.existsSync(arg)) return { container: m[1], path: m[2] === '' ? '/' : m[2]! };
  return { path: arg };
}
