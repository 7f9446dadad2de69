/**
 * The guided lessons: predict, act, observe, explain. Each step acts through the lab's own store
 * (the same API calls as the lab's controls), reports what the server answered, and shows the
 * docker/podman command that does the same on a real engine.
 */
import { api } from '../api';
import { bytes, count } from '../format';
import type { LabEvent } from '../types';
import { volumeName } from './stack-picture';
import type { LabStore } from './store';

export interface LessonCtx {
  store: LabStore;
  image: string;
  imageName: string;
  /** A small regular file of the image, and the largest one. */
  small: string;
  big: string;
  bigSize: number;
  bindRoot: boolean;
  /** Makes a name unique to this run of the lesson. */
  n: (base: string) => string;
}

export interface Step {
  title: string;
  predict?: { question: string; choices: string[]; answer: number };
  docker: string[];
  /** Runs the step; returns what happened, in words, from the server's answers. */
  act: () => Promise<string>;
  observe: string;
  explain: string;
}

export interface Lesson {
  id: string;
  title: string;
  summary: string;
  needsBind?: boolean;
  steps: (c: LessonCtx) => Step[];
}

const said = (events: LabEvent[], kind: string) => events.filter((e) => e.kind === kind);
const copyUps = (events: LabEvent[]) => said(events, 'copy-up').filter((e) => e.type !== 'dir');
const printed = (s: string) => (s.trim() ? `printed “${s.trim()}”` : 'printed nothing');

async function exec(c: LessonCtx, name: string, command: string) {
  return c.store.exec(name, command);
}

export const LESSONS: Lesson[] = [
  {
    id: 'copy-up',
    title: 'A write or a chmod copies the whole file up',
    summary: 'The image layers are read-only: the first change to a file copies it into the container layer.',
    steps: (c) => {
      const box = c.n('cu');
      return [
        {
          title: 'Start a container',
          docker: [`docker run -it --name ${box} ${c.imageName} sh`],
          act: async () => {
            await c.store.create({ image: c.image, name: box, copyUp: 'full', mounts: [], volumesFrom: [] });
            return `Container ${box} runs on the image's layers with an empty container layer.`;
          },
          observe: 'The stack on the right: the image layers at the bottom, an empty container layer above them.',
          explain: 'A container adds one writable layer on top of the image. Nothing is copied when it starts.',
        },
        {
          title: `Append a line to ${c.small}`,
          predict: {
            question: `You append 6 bytes to ${c.small}, which lives in an image layer. What does the container layer get?`,
            choices: ['only the 6 new bytes', 'the whole file, then the 6 bytes appended to it', 'nothing: the image layer is changed in place'],
            answer: 1,
          },
          docker: [`docker exec ${box} sh -c 'echo hello >> ${c.small}'`],
          act: async () => {
            const r = await exec(c, box, `echo hello >> ${c.small}`);
            const cu = copyUps(r.events);
            return cu.length ? cu.map((e) => `copy-up ${e.path}: ${bytes(e.bytes ?? 0)} copied (${e.strategy})`).join('; ') : 'no copy-up reported';
          },
          observe: 'The terminal and the container layer box: a copy-up of the whole file, then the write.',
          explain:
            'overlayfs never writes into a lower layer: before the first write it copies the whole file up (OVL-6, OVL-7), then the write lands in the copy. The image layer keeps its original bytes.',
        },
        {
          title: `chmod the largest file, ${c.big}`,
          predict: {
            question: `chmod 600 ${c.big} (${bytes(c.bigSize)}) changes only its mode. How many bytes of data are copied with the default (full) copy-up?`,
            choices: ['0 B: only the mode changes', `${bytes(c.bigSize)}: the whole file`, '4 KiB: one page'],
            answer: 1,
          },
          docker: [`docker exec ${box} chmod 600 ${c.big}`],
          act: async () => {
            const r = await exec(c, box, `chmod 600 ${c.big}`);
            const cu = copyUps(r.events);
            return cu.length ? cu.map((e) => `copy-up ${e.path}: ${bytes(e.bytes ?? 0)} copied (${e.strategy})`).join('; ') : 'no copy-up reported';
          },
          observe: 'The bytes of the copy-up: the whole file, for a change of metadata.',
          explain: "Docker's overlay2 copies the whole file for any change, even chmod or chown. This is why a `RUN chmod` in a Dockerfile can double an image.",
        },
        {
          title: 'The same chmod with metadata-only copy-up',
          predict: {
            question: "Switch to metadata copy-up (the kernel's metacopy=on) and chmod the file again in a fresh container. How many data bytes now?",
            choices: ['0 B', `${bytes(c.bigSize)}`, 'half of it'],
            answer: 0,
          },
          docker: [`# kernel overlayfs: mount -t overlay overlay -o metacopy=on,lowerdir=…,upperdir=…,workdir=… /merged`, `docker run --rm ${c.imageName} chmod 600 ${c.big}`],
          act: async () => {
            const meta = c.n('meta');
            await c.store.create({ image: c.image, name: meta, copyUp: 'metadata', mounts: [], volumesFrom: [] });
            const r = await exec(c, meta, `chmod 600 ${c.big}`);
            const cu = copyUps(r.events);
            return cu.length ? cu.map((e) => `copy-up ${e.path}: ${e.data === false ? 'metadata only, 0 B of data' : bytes(e.bytes ?? 0)} (${e.strategy})`).join('; ') : 'no copy-up reported';
          },
          observe: 'The copy-up says "metadata only": the data stays in the image layer until something writes it.',
          explain:
            "With metacopy=on, overlayfs copies only the inode (mode, owner, xattrs) and points at the lower data; the data is copied on the first write (OVL-16). The lab's strategy switch compares the three on the same command.",
        },
      ];
    },
  },
  {
    id: 'whiteout',
    title: 'Deleting is a whiteout: the image does not shrink',
    summary: 'rm in a container hides the lower file; committed, the deletion is a marker on top of the old bytes.',
    steps: (c) => {
      const box = c.n('wh');
      const tag = `localhost/lesson-${c.n('wh')}:v2`;
      return [
        {
          title: 'Start a container',
          docker: [`docker run -it --name ${box} ${c.imageName} sh`],
          act: async () => {
            await c.store.create({ image: c.image, name: box, mounts: [], volumesFrom: [] });
            return `Container ${box} started.`;
          },
          observe: 'An empty container layer.',
          explain: 'Same start as before.',
        },
        {
          title: `Delete ${c.big}`,
          predict: {
            question: `You rm ${c.big}. What does the container layer hold afterwards?`,
            choices: ['nothing: the file is removed from the image layer', 'a whiteout: a marker that hides the lower file', 'a copy of the file flagged as deleted'],
            answer: 1,
          },
          docker: [`docker exec ${box} rm ${c.big}`, `docker diff ${box}`],
          act: async () => {
            const r = await exec(c, box, `rm ${c.big}`);
            const w = said(r.events, 'whiteout');
            return w.length ? `whiteout at ${w.map((e) => e.path).join(', ')}` : `no whiteout reported (${r.stderr.trim() || 'no error'})`;
          },
          observe: 'The container layer box lists the path as a whiteout.',
          explain:
            'A lower layer cannot change, so a deletion is recorded above it: a whiteout (a 0/0 character device for the kernel, a `.wh.NAME` file in an image layer) that hides the name (OVL-3, OVL-9).',
        },
        {
          title: 'Commit and compare the sizes',
          predict: {
            question: 'You commit the container as a new image. Is the new image smaller than the old one?',
            choices: ['yes, by the size of the file', 'no: it is a bit larger', 'the same size'],
            answer: 1,
          },
          docker: [`docker commit ${box} ${tag}`, `docker history ${tag}`],
          act: async () => {
            const before = await api.image(c.image);
            const r = await c.store.commit(box, tag);
            const sum = (ls: Array<{ size: number }>) => ls.reduce((s, l) => s + l.size, 0);
            const top = r.layers[r.layers.length - 1];
            return `old image ${count(sum(before.layers))} B in ${before.layers.length} layers; new image ${count(sum(r.layers))} B in ${r.layers.length}: the new layer adds ${count(top.size)} B and deletes ${top.deleted} path(s); the deleted file's ${bytes(c.bigSize)} are still stored in a layer below.`;
          },
          observe: 'The new layer only adds a whiteout; every old layer is still there with the file in it.',
          explain:
            'Layers are shared and immutable: deleting in a later layer hides a file but every byte of it is still pulled and stored. Delete in the same RUN that created it, or use a multi-stage build. The explorer\'s Wasted space tab counts these bytes as "deleted later".',
        },
      ];
    },
  },
  {
    id: 'rm',
    title: 'The container layer dies with rm, the volume does not',
    summary: 'Writes into a volume outlive the container; writes into the container layer go with it.',
    steps: (c) => {
      const one = c.n('first');
      const two = c.n('second');
      const vol = c.n('data');
      return [
        {
          title: 'Start a container with a named volume at /data',
          docker: [`docker run -it --name ${one} -v ${vol}:/data ${c.imageName} sh`],
          act: async () => {
            await c.store.create({ image: c.image, name: one, mounts: [{ type: 'volume', source: vol, target: '/data' }], volumesFrom: [] });
            return `${one} has volume ${vol} mounted at /data.`;
          },
          observe: 'A mount box above the union: /data is served by the volume, not by any layer.',
          explain: "A volume is a directory of its own mounted over the container's filesystem; it is not a layer.",
        },
        {
          title: 'Write one file into the volume and one into the container layer',
          docker: [`docker exec ${one} sh -c 'echo kept > /data/note; echo lost > /note'`],
          act: async () => {
            const r = await exec(c, one, 'echo kept > /data/note; echo lost > /note');
            const w = said(r.events, 'write');
            return w.map((e) => `${e.path} → ${e.mountKind === 'layer' ? 'container layer' : `${e.mountKind} ${e.source ?? e.mount}`}`).join('; ') || 'no writes reported';
          },
          observe: 'Each write shows in the box that took it: /data/note in the volume, /note in the container layer.',
          explain: 'The mount table decides where a write lands, before the union is asked.',
        },
        {
          title: `rm ${one}, then run a new container on the same volume`,
          predict: { question: 'In the new container, which files are there?', choices: ['both', 'only /data/note', 'only /note', 'neither'], answer: 1 },
          docker: [`docker rm ${one}`, `docker run --rm -v ${vol}:/data ${c.imageName} sh -c 'cat /data/note; cat /note'`],
          act: async () => {
            await c.store.remove(one, false);
            await c.store.create({ image: c.image, name: two, mounts: [{ type: 'volume', source: vol, target: '/data' }], volumesFrom: [] });
            const a = await exec(c, two, 'cat /data/note');
            const b = await exec(c, two, 'cat /note');
            return `cat /data/note ${printed(a.stdout)}; cat /note ${b.status === 0 ? printed(b.stdout) : `failed: ${b.stderr.trim()}`}`;
          },
          observe: "The terminal: the volume's file survived, the container layer's did not.",
          explain: 'rm deletes the container and its writable layer. A named volume belongs to no container: it stays until `docker volume rm` (DKR-9).',
        },
      ];
    },
  },
  {
    id: 'volumes',
    title: 'Named and anonymous volumes, and rm -v',
    summary: "rm -v removes a container's anonymous volumes; named volumes stay.",
    steps: (c) => {
      const box = c.n('vols');
      const vol = c.n('keep');
      return [
        {
          title: 'A container with a named and an anonymous volume',
          docker: [`docker run -it --name ${box} -v ${vol}:/named -v /anon ${c.imageName} sh`],
          act: async () => {
            await c.store.create({
              image: c.image,
              name: box,
              mounts: [
                { type: 'volume', source: vol, target: '/named' },
                { type: 'volume', target: '/anon' },
              ],
              volumesFrom: [],
            });
            await exec(c, box, 'echo a > /named/a; echo b > /anon/b');
            const mine = c.store.volumes.filter((v) => v.usedBy.includes(box));
            return `volumes of ${box}: ${mine.map((v) => volumeName(v.name) + (v.anonymous && !/^[0-9a-f]{64}$/.test(v.name) ? ' (anonymous)' : '')).join(', ')}`;
          },
          observe: 'The volume list (left) shows both; the anonymous one has a generated name.',
          explain: '`-v /anon` creates an anonymous volume: a volume like any other, with a random name, tied to the container that made it.',
        },
        {
          title: `rm -v ${box}`,
          predict: { question: 'Which volumes are left after rm -v?', choices: ['none', `only ${vol}`, 'only the anonymous one', 'both'], answer: 1 },
          docker: [`docker rm -v ${box}`, 'docker volume ls'],
          act: async () => {
            const r = await c.store.remove(box, true);
            const left = c.store.volumes.some((v) => v.name === vol);
            return `removed anonymous: ${r.volumes.map(volumeName).join(', ') || 'none'}; ${vol} ${left ? 'is still there' : 'is gone'}`;
          },
          observe: 'The volume list: the named volume is still there.',
          explain: '`rm -v` removes the anonymous volumes of the container; a named volume may be shared and is never removed with a container (DKR-1, DKR-7).',
        },
      ];
    },
  },
  {
    id: 'bind',
    title: 'A bind mount sees the host',
    summary: 'A bind mount is a host directory: what the container writes there is on the host, in no layer.',
    needsBind: true,
    steps: (c) => {
      const one = c.n('bind1');
      const two = c.n('bind2');
      // The server's --bind-root itself ('/' in the API): binds may only name paths that exist there.
      const dir = '/';
      const note = `/host/${c.n('hello')}`;
      return [
        {
          title: 'Bind the host directory at /host and write into it',
          docker: [`docker run --rm -v "$PWD":/host ${c.imageName} sh -c 'echo from-container > ${note}'`],
          act: async () => {
            await c.store.create({ image: c.image, name: one, mounts: [{ type: 'bind', source: dir, target: '/host' }], volumesFrom: [] });
            const r = await exec(c, one, `echo from-container > ${note}`);
            const w = said(r.events, 'write');
            return w.map((e) => `${e.path} → ${e.mountKind}`).join('; ') || 'no write reported';
          },
          observe: "The write lands in the bind box: it is a file of the host, under the server's --bind-root.",
          explain: 'A bind mount shows a host directory as it is: no copy, no layer (DKR-3).',
        },
        {
          title: 'Another container binding the same directory',
          predict: { question: `A second, unrelated container binds the same host directory. Does it see ${note}?`, choices: ['yes', 'no: each container has its own copy'], answer: 0 },
          docker: [`docker run --rm -v "$PWD":/host ${c.imageName} cat ${note}`],
          act: async () => {
            await c.store.create({ image: c.image, name: two, mounts: [{ type: 'bind', source: dir, target: '/host' }], volumesFrom: [] });
            const r = await exec(c, two, `cat ${note}`);
            return `cat ${note} ${r.status === 0 ? printed(r.stdout) : `failed: ${r.stderr.trim()}`}`;
          },
          observe: "The second container reads what the first wrote: both see the host's directory.",
          explain: 'Both containers look at one host directory: the host and every container binding it share its files.',
        },
      ];
    },
  },
  {
    id: 'volumes-from',
    title: "--volumes-from shares another container's volumes",
    summary: "The second container mounts the first one's volumes at the same paths.",
    steps: (c) => {
      const one = c.n('owner');
      const two = c.n('guest');
      return [
        {
          title: 'A container with an anonymous volume at /shared',
          docker: [`docker run -d --name ${one} -v /shared ${c.imageName} sleep infinity`],
          act: async () => {
            await c.store.create({ image: c.image, name: one, mounts: [{ type: 'volume', target: '/shared' }], volumesFrom: [] });
            return `${one} has an anonymous volume at /shared.`;
          },
          observe: 'The mount box of /shared.',
          explain: "Only this container knows the anonymous volume's name.",
        },
        {
          title: `Run a second container with --volumes-from ${one} and write into /shared`,
          predict: { question: `The guest writes /shared/msg. Does ${one} see it?`, choices: ['yes: it is the same volume', 'no: the guest got a copy'], answer: 0 },
          docker: [`docker run --rm --volumes-from ${one} ${c.imageName} sh -c 'echo hi > /shared/msg'`, `docker exec ${one} cat /shared/msg`],
          act: async () => {
            await c.store.create({ image: c.image, name: two, mounts: [], volumesFrom: [{ container: one }] });
            await exec(c, two, 'echo hi > /shared/msg');
            const r = await exec(c, one, 'cat /shared/msg');
            return `${one}: cat /shared/msg ${r.status === 0 ? printed(r.stdout) : `failed: ${r.stderr.trim()}`}`;
          },
          observe: "Both containers' stacks show the same volume at /shared.",
          explain: '--volumes-from mounts the same volumes (and binds) at the same targets, with their modes unless :ro or :rw forces one (DKR-6).',
        },
      ];
    },
  },
  {
    id: 'commit',
    title: 'commit keeps the container layer, not the volume',
    summary: 'A commit turns the container layer into an image layer; volumes are not part of it.',
    steps: (c) => {
      const box = c.n('commit');
      const vol = c.n('vol');
      const tag = `localhost/lesson-${c.n('commit')}:v1`;
      return [
        {
          title: 'Write into the container layer and into a volume',
          docker: [`docker run -it --name ${box} -v ${vol}:/data ${c.imageName} sh -c 'echo layer > /in-layer; echo volume > /data/in-volume'`],
          act: async () => {
            await c.store.create({ image: c.image, name: box, mounts: [{ type: 'volume', source: vol, target: '/data' }], volumesFrom: [] });
            const r = await exec(c, box, 'echo layer > /in-layer; echo volume > /data/in-volume');
            return said(r.events, 'write')
              .map((e) => `${e.path} → ${e.mountKind === 'layer' ? 'container layer' : e.mountKind}`)
              .join('; ');
          },
          observe: 'One write in the container layer, one in the volume.',
          explain: 'As in the rm lesson.',
        },
        {
          title: `Commit ${box} as ${tag}`,
          predict: { question: 'Which of the two files does the new image have?', choices: ['both', 'only /in-layer', 'only /data/in-volume', 'neither'], answer: 1 },
          docker: [`docker commit ${box} ${tag}`, `docker run --rm ${tag} sh -c 'ls /in-layer /data'`],
          act: async () => {
            const r = await c.store.commit(box, tag);
            const id = r.image.id;
            // Looked up by name across the new image (find never answers 404 for a missing path).
            const has = async (p: string) => (await api.find(id, p.split('/').pop()!, { type: 'any' })).entries.some((e) => e.path === p);
            const [a, b] = await Promise.all([has('/in-layer'), has('/data/in-volume')]);
            return `the new image has ${r.layers.length} layers; /in-layer ${a ? 'is in it' : 'is missing'}; /data/in-volume ${b ? 'is in it' : 'is missing'}`;
          },
          observe: "The new layer appears on top of the image's layers (below the terminal), without the volume's file.",
          explain: "commit packs the container layer (with its whiteouts) as a new layer; mounts are not part of the container's filesystem, so a volume's content never enters an image (DKR-12).",
        },
      ];
    },
  },
];
