/**
 * RegistryError: a registry, or the way to it, did not give what the distribution spec says it
 * should. It names the reference (or URL) and the problem, and carries a stable `code` for scripts.
 * A registry's own `errors[]` JSON becomes one line with the registry's code and message.
 */
export type RegistryErrorCode =
  | 'BAD_REFERENCE' // a docker:// reference that cannot be parsed
  | 'UNAUTHORIZED' // 401 after the auth flow: the message names the scope asked for
  | 'DENIED' // 403, or a registry error code DENIED
  | 'NOT_FOUND' // 404: no such repository, tag, manifest or blob
  | 'DIGEST_MISMATCH' // content, Docker-Content-Digest and the asked-for digest disagree
  | 'TRUNCATED' // a body kept ending early, after the retries
  | 'TOO_LONG' // a body longer than its descriptor's size
  | 'LIMIT' // a manifest or config over limits.maxJsonBytes
  | 'NO_PLATFORM' // an index offers no manifest for the platform asked for
  | 'BAD_MANIFEST' // a manifest or index that is not what its media type says
  | 'BAD_RESPONSE' // a status, header or body the protocol does not allow
  | 'NETWORK' // the connection failed (refused, reset, TLS)
  | 'BAD_CREDENTIALS'; // an auth file or --creds that cannot be read

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    readonly where: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${problem}`, options);
  }
}

/**
 * The registry's `{"errors":[{"code","message","detail"}]}` body as one line ("CODE: message;
 * CODE2: message2"), or undefined when the body is not that JSON.
 */
export function registryErrorText(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors
    .map((e: { code?: unknown; message?: unknown }) => {
      const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN';
      const message = typeof e?.message === 'string' ? e.message : '';
      return message ? `${code}: ${message}` : code;
    })
    .join('; ');
}
