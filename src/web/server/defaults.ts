/** What `layerfs serve` needs before the server is loaded (its --help, its checks): no imports. */
export const DEFAULT_UPLOAD_LIMIT = 4 * 1024 ** 3;

/** Loopback addresses (as Docker counts them): no token is needed there. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
