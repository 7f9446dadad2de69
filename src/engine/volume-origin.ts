/**
 * Where a volume's content came from: the record its first mount writes when it copies the image's
 * directory into the empty volume (DKR-2). It names the image, the image directory, when, and for
 * each object copied its image layer (1 = bottom) with the size and mtime it had, so `where` can
 * say "copied from image layer N at the first mount" (and "changed since" when it no longer
 * matches). Kept beside the volume's data as seed.json; removed with the volume.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeJsonAtomic } from '../core/atomic.js';

export interface VolumeOrigin {
  image: string;
  imageName: string;
  /** The image directory copied (the mount target). */
  path: string;
  /** ISO 8601 */
  at: string;
  /** By path inside the volume ('/x/y'). */
  files: Record<string, { layer: number; size: number; mtimeMs: number }>;
}

const file = (volumeData: string) => join(dirname(volumeData), 'seed.json');

export function writeVolumeOrigin(volumeData: string, origin: VolumeOrigin): Promise<void> {
  return writeJsonAtomic(file(volumeData), origin);
}

/** The volume's origin record, if its first mount copied anything into it. */
export function readVolumeOrigin(volumeData: string): VolumeOrigin | undefined {
  try {
    return JSON.parse(readFileSync(file(volumeData), 'utf8')) as VolumeOrigin;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file(volumeData)}: unreadable volume origin record: ${(e as Error).message}`, { cause: e });
  }
}
