/**
 * Image verbs of the engine, with podman's rules (checked against podman 4.3):
 * - a tag is on one image only: tagging (or loading) an image with a tag another image has moves
 *   the tag, and the move is reported (the other image keeps its other tags, or becomes dangling);
 * - `tag` stores the full form (normalizeRef: `app` → `localhost/app:latest`);
 * - `rmi REF`: REF names a tag of an image that has other tags: only that tag goes ("Untagged");
 *   else the image goes ("Untagged" for each tag, then "Deleted"); removing an image by id while it
 *   has several tags is refused without force; an image a container uses is refused (IN_USE), with
 *   force its containers are removed first;
 * - `image prune`: the dangling images (no tag) no container uses; with `all`, every image no
 *   container uses.
 */
import { StateError } from '../core/errors.js';
import { normalizeRef, refAliases } from '../image/select.js';
import { checkTag, shortId, type ImageRecord } from './records.js';
import type { State } from './state.js';

export interface TagMove {
  tag: string;
  /** The image the tag was taken from, as it is now. */
  from: ImageRecord;
}

/** Puts each of `tags` on `rec` (stored), moving them from other images; returns the image and the moves. */
export async function addTags(state: State, rec: ImageRecord, tags: string[]): Promise<{ image: ImageRecord; moved: TagMove[] }> {
  const moved: TagMove[] = [];
  for (const tag of tags) {
    checkTag(state.home, tag);
    for (const other of await state.listImages()) {
      if (other.id === rec.id || !other.tags.includes(tag)) continue;
      const from = { ...other, tags: other.tags.filter((t) => t !== tag) };
      await state.putImage(from);
      moved.push({ tag, from });
    }
  }
  const have = (await state.getImage(rec.id))?.tags ?? rec.tags;
  const image = { ...rec, tags: [...have, ...tags.filter((t) => !have.includes(t))] };
  await state.putImage(image);
  return { image, moved };
}

export async function tag(state: State, ref: string, newTag: string): Promise<{ image: ImageRecord; tag: string; moved: TagMove[] }> {
  const img = await state.resolveImage(ref);
  const full = normalizeRef(newTag);
  return { ...(await addTags(state, img, [full])), tag: full };
}

export interface RmiResult {
  untagged: string[];
  /** The id of the image removed (none when only a tag went). */
  deleted?: string;
  /** Containers removed first (force). */
  removedContainers: string[];
}

export async function rmi(state: State, ref: string, opts: { force?: boolean } = {}): Promise<RmiResult> {
  const img = await state.resolveImage(ref);
  const byTag = img.tags.find((t) => t === ref) ?? img.tags.find((t) => refAliases(t).has(ref));
  if (byTag !== undefined && img.tags.length > 1) {
    await state.putImage({ ...img, tags: img.tags.filter((t) => t !== byTag) });
    return { untagged: [byTag], removedContainers: [] };
  }
  if (byTag === undefined && img.tags.length > 1 && !opts.force) {
    throw new StateError('IN_USE', ref, `unable to delete image ${img.id} by ID with more than one tag (${img.tags.join(', ')}): untag it or force the removal`);
  }
  const users = (await state.listContainers()).filter((c) => c.image === img.id);
  if (users.length > 0 && !opts.force) {
    throw new StateError('IN_USE', ref, `image is in use by container ${users.map((c) => `${shortId(c.id)} (${c.name})`).join(', ')}: remove the container first, or force the removal`);
  }
  for (const c of users) await state.removeContainer(c.id);
  await state.removeImage(img.id);
  return { untagged: img.tags, deleted: img.id, removedContainers: users.map((c) => c.name) };
}

/** Removes the images no container uses (dangling ones only, unless `all`); returns them. */
export async function imagePrune(state: State, opts: { all?: boolean } = {}): Promise<ImageRecord[]> {
  const used = new Set((await state.listContainers()).map((c) => c.image));
  const gone: ImageRecord[] = [];
  for (const img of await state.listImages()) {
    if (used.has(img.id) || (img.tags.length > 0 && !opts.all)) continue;
    await state.removeImage(img.id);
    gone.push(img);
  }
  return gone;
}
