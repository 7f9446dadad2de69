/** fs-monkey ships no types; the one call the tests make. */
declare module 'fs-monkey' {
  /** Copies `vol`'s fs methods onto `target` (default: require('fs')); returns the undo. */
  export function patchFs(vol: object, target?: object): () => void;
}
