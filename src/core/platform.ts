/** Go's GOARCH names, as image configs and indexes spell them (Node's process.arch → GOARCH). */
export const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
