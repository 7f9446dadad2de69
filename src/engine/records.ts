/**
 * What the state directory holds, record by record (state.ts stores them): the record types, the
 * rules for ids, names and tags, and the field checks every record passes before it is written
 * and after it is read (a record edited by hand, or written by another version, is BAD_RECORD).
 */
import { randomBytes } from 'node:crypto';
import { StateError, type StateErrorCode } from '../core/errors.js';
import type { ImageFormat } from '../image/detect.js';

export interface ImageRecord {
  /** 64 lowercase hex digits (Docker uses the config digest's hex). */
  id: string;
  tags: string[];
  /** Where the archive came from. */
  source: string;
  format: ImageFormat;
  /** `sha256:<64 hex>` */
  configDigest: string;
  /** ISO 8601 */
  created: string;
  /**
   * The tag that picks this image in its archive when the archive holds several (`load --tag`
   * of a multi-image archive): the stored archive is the one given, so it is opened by it again.
   */
  archiveTag?: string;
}

export interface Mount {
  /** A named volume of this store, a path on the host, or a tmpfs (in memory; `source` unused). */
  type: 'volume' | 'bind' | 'tmpfs';
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
  /** A volume mounted with volume-nocopy: not seeded from the image at this mount (DKR-2). */
  noCopy?: boolean;
}

export type ContainerStatus = 'created' | 'running' | 'exited';
export type BlobName = 'layer.tar';
/** The append-only journal of changes since layer.tar (journal.ts): its ref is a chain digest. */
export const JOURNAL = 'layer.journal';
export interface BlobRef {
  digest: string;
  size: number;
}

export interface ContainerRecord {
  id: string;
  name: string;
  /** The id of an image in this store. */
  image: string;
  mounts: Mount[];
  state: ContainerStatus;
  created: string;
  labels: Record<string, string>;
  /** The digest and size of each blob, kept by the store (putContainer, putBlob). */
  blobs: Partial<Record<BlobName | typeof JOURNAL, BlobRef>>;
}

/** What a caller puts: the store fills in `blobs`. */
export type ContainerInput = Omit<ContainerRecord, 'blobs'>;

export interface VolumeRecord {
  name: string;
  /** Created for a container without a name (named by a random id, like Docker). */
  anonymous: boolean;
  created: string;
  labels: Record<string, string>;
}

export const BLOB_NAMES: readonly BlobName[] = ['layer.tar'];
const MAX_NAME = 128;
const MAX_TAG = 255;

/** A new random id: 64 hex digits, like Docker (which also redraws when the short id is all digits). */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d{12}/.test(id)) return id;
  }
}

/** The 12-digit short form of an id. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

// ---- validation ----

/**
 * An id is 64 lowercase hex digits. A name (container, volume) is 1 to 128 characters of letters,
 * digits, '_', '.' and '-', starting with a letter or digit (Docker's rule), and holds no '..'. So
 * neither can be a path separator, '.', '..' or one of the store's dot-named scratch entries.
 */
export function checkKey(dir: string, what: string, value: unknown, kind: 'id' | 'name'): string {
  const bad = (problem: string): never => {
    throw new StateError('BAD_NAME', dir, `${what} ${JSON.stringify(value)} ${problem}`);
  };
  if (typeof value !== 'string') return bad('is not a string');
  if (value === '') return bad('is empty');
  if (/[/\\]/.test(value)) return bad('contains a path separator');
  if (value.includes('..')) return bad("contains '..'");
  if (kind === 'id') {
    if (!/^[0-9a-f]{64}$/.test(value)) return bad('is not 64 lowercase hex digits');
  } else {
    if (value.length > MAX_NAME) return bad(`is longer than ${MAX_NAME} characters`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) {
      return bad("must start with a letter or digit and hold only letters, digits, '_', '.' and '-'");
    }
  }
  return value;
}

/** A tag: 1 to 255 printable characters without spaces. */
export function checkTag(dir: string, tag: unknown): string {
  if (typeof tag !== 'string' || tag === '' || tag.length > MAX_TAG || !/^[\x21-\x7e]+$/.test(tag)) {
    throw new StateError('BAD_NAME', dir, `tag ${JSON.stringify(tag)} must be 1 to ${MAX_TAG} printable characters without spaces`);
  }
  return tag;
}

type Field = [test: (v: unknown) => boolean, expected: string];
const isString = (v: unknown): boolean => typeof v === 'string';
const isDate: Field = [(v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)), 'an ISO 8601 date'];
const isLabels: Field = [(v) => isObject(v) && Object.values(v).every(isString), 'an object of strings'];
const isMount = (v: unknown): boolean =>
  isObject(v)
  && (v.type === 'volume' || v.type === 'bind' || v.type === 'tmpfs')
  && isString(v.source)
  && typeof v.target === 'string'
  && v.target.startsWith('/')
  && typeof v.readOnly === 'boolean'
  && (v.noCopy === undefined || typeof v.noCopy === 'boolean');
const isBlobs = (v: unknown): boolean =>
  isObject(v)
  && Object.entries(v).every(
    ([k, b]) => ([...BLOB_NAMES, JOURNAL] as readonly string[]).includes(k) && isObject(b) && typeof b.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(b.digest) && Number.isSafeInteger(b.size),
  );

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const IMAGE_FIELDS: Record<keyof ImageRecord, Field> = {
  id: [isString, 'a string'],
  tags: [(v) => Array.isArray(v) && v.every(isString), 'an array of strings'],
  source: [isString, 'a string'],
  format: [(v) => v === 'docker-archive' || v === 'oci-archive' || v === 'oci-layout', "'docker-archive', 'oci-archive' or 'oci-layout'"],
  configDigest: [(v) => typeof v === 'string' && /^sha256:[0-9a-f]{64}$/.test(v), "'sha256:' and 64 hex digits"],
  created: isDate,
  archiveTag: [(v) => v === undefined || isString(v), 'a string when present'],
};
export const CONTAINER_FIELDS: Record<keyof ContainerRecord, Field> = {
  id: [isString, 'a string'],
  name: [isString, 'a string'],
  image: [isString, 'a string'],
  mounts: [(v) => Array.isArray(v) && v.every(isMount), 'an array of {type, source, target (absolute), readOnly}'],
  state: [(v) => v === 'created' || v === 'running' || v === 'exited', "'created', 'running' or 'exited'"],
  created: isDate,
  labels: isLabels,
  blobs: [isBlobs, 'an object of {digest, size} by blob name'],
};
const { blobs: _storeOwned, ...inputFields } = CONTAINER_FIELDS;
/** A container's fields as a caller gives them: the blobs are the store's to fill in. */
export const INPUT_FIELDS = inputFields;
export const VOLUME_FIELDS: Record<keyof VolumeRecord, Field> = {
  name: [isString, 'a string'],
  anonymous: [(v) => typeof v === 'boolean', 'a boolean'],
  created: isDate,
  labels: isLabels,
};

/**
 * Checks `value` has each field of the record kind, with the right type, and returns just those
 * fields (unknown ones are dropped, absent optional ones stay absent). Reading a file, a bad shape is MALFORMED; writing, BAD_INPUT.
 */
export function shape<T>(code: StateErrorCode, file: string, value: unknown, fields: Record<keyof T, Field>): T {
  if (!isObject(value)) throw new StateError(code, file, 'is not a JSON object');
  const out: Record<string, unknown> = {};
  for (const [key, [test, expected]] of Object.entries(fields) as Array<[string, Field]>) {
    if (!test(value[key])) throw new StateError(code, file, `field "${key}" must be ${expected}, not ${JSON.stringify(value[key])}`);
    // An optional field that is absent stays absent.
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out as T;
}

// ---- the store ----
