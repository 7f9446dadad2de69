/**
 * Open files. A descriptor holds a reference to the object, not its name: copy-up of the object
 * re-points it, so a read-only descriptor opened before copy-up reads the new data (OVL-8, as
 * kernel 6.18 behaves); a name unlinked, renamed or reused afterwards does not redirect it (OVL-23).
 * Opening for write or with O_TRUNC copies up even if nothing is written; read-only opens never
 * do; special files are never copied up (OVL-6). O_PATH opens name an object only (OVL-24).
 */
import { constants as C } from 'node:fs';
import { DescriptorTable } from '../core/descriptors.js';
import { openFollow, openPathRefusal, openRefusal } from '../core/path-rules.js';
import { O_PATH, pathOnly } from '../core/flags.js';
import { fsError } from '../core/errors.js';
import { BufferData } from '../layer/data.js';
import { copyUp, writeData } from './copy-up.js';
import { createAt, newUpper } from './namespace.js';
import type { Obj, Ref, UnionState } from './state.js';
import { inodeOf, lookup, resolve, walk, type Loc } from './walk.js';

interface OpenFile {
  ref: Ref;
  flags: number;
  pos: number;
}

export class FileTable {
  private readonly files = new DescriptorTable<OpenFile>();

  constructor(private readonly s: UnionState) {}

  get openCount(): number {
    return this.files.size;
  }

  open(path: string, flags: number, mode: number): number {
    if (flags & O_PATH) return this.openPath(path, pathOnly(flags));
    const s = this.s;
    const acc = flags & 3;
    const writing = acc !== C.O_RDONLY;
    // The walk makes O_CREAT with a trailing slash EISDIR (core/walk.ts), openRefusal the rest.
    const loc = resolve(s, path, openFollow(flags), 'open', (flags & C.O_CREAT) !== 0);
    const found = loc.node && inodeOf(loc.node);
    const no = openRefusal(flags, found && { isDir: found.isDir, isLink: found.type === 'symlink' }, loc.slash);
    if (no) throw fsError(no, 'open', path);
    let ref: Ref;
    if (!loc.node) {
      if (s.readOnly) throw fsError('EROFS', 'open', path);
      const ino = newUpper(s, 'file', mode);
      ino.data = new BufferData();
      createAt(s, loc, ino);
      ref = { upper: ino, path: '/' + loc.names.join('/') };
    } else {
      const ino = inodeOf(loc.node);
      const trunc = (flags & C.O_TRUNC) !== 0;
      if ((writing || trunc) && s.readOnly) throw fsError('EROFS', 'open', path);
      if ((writing || trunc) && ino.type === 'file') {
        const up = copyUp(s, loc as Loc & { node: Obj }, true, trunc);
        // POSIX: O_TRUNC on an existing file stamps mtime and ctime, even when it was empty.
        if (trunc) {
          up.data!.truncate(0);
          up.mtimeMs = up.ctimeMs = Date.now();
        }
      }
      ref = this.refTo(loc as Loc & { node: Obj });
    }
    return this.files.add({ ref, flags, pos: 0 });
  }

  /** A reference to the object at `loc`; one still in a lower layer is re-pointed by its copy-up. */
  private refTo(loc: Loc & { node: Obj }): Ref {
    const ref: Ref = { upper: loc.node.upper, lower: loc.node.lower, path: '/' + loc.names.join('/') };
    // Tracked while lower only, and with index=on while its name still shows a lower inode.
    if (!ref.upper || (this.s.index && ref.lower && !ref.lower.isDir)) this.s.lowerRefs.add(ref);
    return ref;
  }

  /**
   * OVL-24, open(2) with O_PATH: only O_DIRECTORY and O_NOFOLLOW count. With O_NOFOLLOW a last
   * symlink is opened itself (fstat shows the link); O_DIRECTORY wants a directory (a symlink is
   * ENOTDIR, not ELOOP). Nothing is created, truncated or copied up.
   */
  private openPath(path: string, flags: number): number {
    const loc = resolve(this.s, path, (flags & C.O_NOFOLLOW) === 0, 'open');
    const found = loc.node && inodeOf(loc.node);
    const no = openPathRefusal(flags, found && { isDir: found.isDir, isLink: found.type === 'symlink' }, loc.slash);
    if (no) throw fsError(no, 'open', path);
    return this.files.add({ ref: this.refTo(loc as Loc & { node: Obj }), flags, pos: 0 });
  }

  /** The open file behind `fd`. An O_PATH descriptor opens nothing: only fstat and close take it (EBADF). */
  private get(fd: number, syscall: string, pathOk = false): OpenFile {
    const f = this.files.get(fd, syscall);
    if (f.flags & O_PATH && !pathOk) throw fsError('EBADF', syscall);
    return f;
  }

  close(fd: number): void {
    const f = this.files.remove(fd);
    this.s.lowerRefs.delete(f.ref);
  }

  /** The object behind `fd`; `pathOk`: an O_PATH descriptor will do (fstat). */
  ref(fd: number, syscall: string, pathOk = false): Ref {
    return this.get(fd, syscall, pathOk).ref;
  }

  read(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const f = this.get(fd, 'read');
    if ((f.flags & 3) === C.O_WRONLY) throw fsError('EBADF', 'read');
    const ino = inodeOf(f.ref);
    if (ino.isDir) throw fsError('EISDIR', 'read');
    if (!ino.data) return 0;
    const pos = position ?? f.pos;
    const n = ino.data.read(buf, off, len, pos);
    if (position === null) f.pos = pos + n;
    return n;
  }

  write(fd: number, buf: Uint8Array, off: number, len: number, position: number | null): number {
    const f = this.get(fd, 'write');
    if ((f.flags & 3) === C.O_RDONLY) throw fsError('EBADF', 'write');
    const ino = f.ref.upper!;
    if (!ino.data) throw fsError('EINVAL', 'write');
    // A zero-length write changes nothing: no size, no times (Linux).
    if (len === 0) return 0;
    // An O_APPEND write goes to the end whatever the position (observed on 6.18, as POSIX says).
    const pos = f.flags & C.O_APPEND ? ino.data.size : (position ?? f.pos);
    writeData(this.s, ino.data, buf, off, len, pos);
    if (position === null || f.flags & C.O_APPEND) f.pos = pos + len;
    const now = Date.now();
    ino.mtimeMs = ino.ctimeMs = now;
    return len;
  }

  /** ftruncate on a descriptor not open for writing is EINVAL (observed on 6.18). */
  ftruncate(fd: number, length: number): void {
    const f = this.get(fd, 'ftruncate');
    if ((f.flags & 3) === C.O_RDONLY) throw fsError('EINVAL', 'ftruncate');
    if (length < 0) throw fsError('EINVAL', 'ftruncate');
    const ino = f.ref.upper!;
    if (!ino.data) throw fsError('EINVAL', 'ftruncate');
    ino.data.truncate(length);
    ino.mtimeMs = ino.ctimeMs = Date.now();
  }

  /**
   * OVL-23: fchmod/fchown/futimes change the descriptor's own object. One still in a lower layer
   * is copied up at the name it has now (a rename moved it); if that name was removed meanwhile,
   * the kernel's copy-up finds the whiteout or the new object there and fails with EEXIST
   * (observed on 6.18), and nothing changes.
   */
  upperOf(fd: number, syscall: string): Obj {
    const ref = this.ref(fd, syscall);
    if (this.s.readOnly) throw fsError('EROFS', syscall);
    if (!ref.upper) {
      if (ref.gone) throw fsError('EEXIST', syscall);
      const loc = lookup(this.s, ref.path, false, syscall);
      // The name is tracked (moveRefs, dropRefs); another object there would be a bug, not a target.
      if (loc.node.lower !== ref.lower) throw fsError('EEXIST', syscall);
      copyUp(this.s, loc, false);
      ref.upper = loc.node.upper;
      if (!this.s.index) this.s.lowerRefs.delete(ref);
    } else if (this.s.index && ref.lower && !ref.gone && this.s.lowerRefs.has(ref)) {
      // OVL-15: the index copy is linked at the descriptor's name by a copy-up through it (the
      // kernel links lower names of an indexed inode lazily).
      const loc = walk(this.s, ref.path, false);
      if (typeof loc !== 'string' && loc.node?.upper === ref.upper) copyUp(this.s, loc as Loc & { node: Obj }, false);
    }
    return ref;
  }
}
