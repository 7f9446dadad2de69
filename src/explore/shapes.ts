/**
 * The JSON shapes explore answers (the CLI's --json and the web API, docs/api.md), declared once
 * here with no imports, so the web page's browser code type-checks against these same declarations.
 */

export type ChangeKind = 'A' | 'D' | 'M';

/** Where a visible path comes from (`--origin`, origin.ts). */
export interface Origin {
  layer: number;
  merges: number[];
  hides: number[];
}

/** The treemap source (sizes.ts). */
export interface SizeNode {
  name: string;
  path: string;
  type: string;
  bytes: number;
  files: number;
  children?: SizeNode[];
}

/** A path in one layer, for the file viewer's versions (versions.ts). */
export interface Version {
  layer: number;
  kind: 'entry' | 'deleted';
  how?: 'whiteout' | 'opaque' | 'replaced-parent';
  type?: string;
  mode?: string;
  uid?: number;
  gid?: number;
  size?: number;
  sha256?: string;
  target?: string;
  change?: ChangeKind;
  fields?: string[];
}

export type WasteCause = 'overwritten' | 'deleted' | 'metadata-duplicate' | 'duplicate' | 'hidden';

export interface WastedCopy {
  layer: number;
  bytes: number;
  reason: 'overwritten' | 'duplicate' | 'deleted' | 'hidden';
  /** The layer that hid it. */
  by?: number;
  /** A duplicate: the metadata the hiding copy changed (mode, owner, xattrs); empty when none. */
  changed?: string[];
  cause: WasteCause;
}

export interface WastedPath {
  path: string;
  bytes: number;
  copies: WastedCopy[];
}

/** Wasted space (waste.ts). */
export interface Waste {
  totalBytes: number;
  /** Bytes stored in layers 2..N. */
  userBytes: number;
  wastedBytes: number;
  efficiency: number;
  userWastedRatio: number;
  /** Wasted bytes per cause. */
  causes: Record<WasteCause, number>;
  /** Largest first. */
  paths: WastedPath[];
}

/** One layer of `inspect` (inspect.ts). */
export interface LayerReport {
  layer: number;
  digest: string;
  diffId: string;
  mediaType: string;
  /** Bytes of the uncompressed tar. */
  size: number;
  /** Bytes of the blob as stored. */
  compressedSize: number;
  createdBy: string | null;
  added: number;
  modified: number;
  deleted: number;
  /** Bytes of this layer's copies not visible in the final image (waste.ts). */
  wastedBytes: number;
}

/** What a diff shows of a path before or after: type, size, symlink target. */
export interface DiffSide {
  type: string;
  size: number;
  target?: string;
}

/** One path of a diff (docs/json.md): podman's A/C/D; a changed path says which fields differ. */
export interface DiffEntry {
  kind: 'A' | 'C' | 'D';
  path: string;
  fields?: string[];
  /** What was there before (C, D) and after (A, C). */
  before?: DiffSide;
  after?: DiffSide;
}

/** One path of `ls`/`tree --json` (listing.ts): the manifest's fields, the change and the origin. */
export interface ListItem {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  target?: string;
  linkgroup?: string;
  xattrs?: string;
  layer: number;
  change?: ChangeKind;
  fields?: string[];
  origin?: Origin;
}

/** One entry of a tree level (level.ts): a list item with its name, bytes and children. */
export interface LevelEntry extends ListItem {
  name: string;
  /** A file's size, a directory's total. */
  bytes: number;
  /** Direct children of a directory. */
  children: number;
  /** With `changes`: the A/M/D paths of the step below this directory. */
  changesBelow?: number;
}

/** One page of a directory level (level.ts, GET /api/images/ID/tree). */
export interface Level {
  path: string;
  layer: number;
  changes: number | null;
  total: number;
  offset: number;
  limit: number;
  entries: LevelEntry[];
}
