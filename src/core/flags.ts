/**
 * open(2) flags Node does not export. Node passes numeric flags to the kernel unchanged, so these
 * work with node:fs on Linux and mean the same to layerfs's cores.
 */
import { constants as C } from 'node:fs';

/**
 * Linux's O_PATH: a handle that opens nothing, only names an object. This value is the generic
 * one (x86, arm, arm64, riscv, powerpc, s390, loongarch, mips).
 */
export const O_PATH = 0o10000000;
/** Linux's O_CLOEXEC (not among Node's fs.constants either). */
const O_CLOEXEC = 0o2000000;

/**
 * open(2) with O_PATH keeps only these flags (the kernel's build_open_flags): no access mode, no
 * O_CREAT, O_EXCL, O_TRUNC or O_APPEND; a missing name is ENOENT and nothing is copied up.
 */
export function pathOnly(flags: number): number {
  return flags & (O_PATH | C.O_DIRECTORY | C.O_NOFOLLOW | O_CLOEXEC);
}
