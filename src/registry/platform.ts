/**
 * `--platform OS/ARCH[/VARIANT]` and picking a manifest from an index by it:
 * - the default is the host's (linux, Go's name for process.arch, arm's variant from the build);
 * - os and architecture must be equal; a variant asked for must be equal, where arm64 without a
 *   variant is v8 (as containerd's platform matcher has it); with no variant asked for, the
 *   first entry of the os and architecture is taken;
 * - attestation manifests (`unknown/unknown`) are never images;
 * - no match is NO_PLATFORM listing what the index offers.
 */
import { GOARCH } from '../core/platform.js';
import { RegistryError } from './errors.js';
import type { Descriptor, Platform } from './manifest.js';

export function hostPlatform(): Platform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  const armVersion = (process.config.variables as { arm_version?: string }).arm_version;
  const variant = architecture === 'arm' && armVersion ? `v${armVersion}` : undefined;
  return { os: 'linux', architecture, ...(variant ? { variant } : {}) };
}

export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/i.test(p))) {
    throw new RegistryError('BAD_REFERENCE', '--platform', `expected OS/ARCH[/VARIANT] (linux/amd64, linux/arm64/v8), got ${JSON.stringify(text)}`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function platformText(p: Platform | undefined): string {
  return p ? [p.os, p.architecture, p.variant].filter(Boolean).join('/') : 'no platform';
}

const variantOf = (p: Platform): string | undefined => p.variant ?? (p.architecture === 'arm64' ? 'v8' : undefined);

export function pickPlatform(entries: Descriptor[], wanted: Platform, where: string): Descriptor {
  const images = entries.filter((d) => d.platform && d.platform.os !== 'unknown' && d.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest');
  const hit = images.find((d) => d.platform!.os === wanted.os && d.platform!.architecture === wanted.architecture && (wanted.variant === undefined || variantOf(d.platform!) === variantOf(wanted)));
  if (hit) return hit;
  const offered = images.map((d) => platformText(d.platform)).join(', ') || 'none';
  throw new RegistryError('NO_PLATFORM', where, `no manifest for ${platformText(wanted)}; the index offers ${offered} (pick one with --platform)`);
}
