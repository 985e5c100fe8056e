import { isIP } from 'node:net';

/**
 * The host part of `host[:port]` (IPv6 in brackets or bare), lower-cased: `[::1]:5000` → `::1`,
 * `Localhost:5000` → `localhost`.
 */
export function hostnameOf(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  // A bare IPv6 address has several colons; only `name:port` has exactly one.
  const colons = h.split(':').length - 1;
  return colons === 1 ? h.slice(0, h.indexOf(':')) : h;
}

/**
 * Whether a registry host is a loopback address, the hosts dockerd talks plain HTTP to by default: `localhost`,
 * `127.0.0.0/8` and `::1`, with or without a port.
 */
export function isLoopbackHost(host: string): boolean {
  const name = hostnameOf(host);
  if (name === 'localhost') return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || name === '0:0:0:0:0:0:0:1';
  return false;
}
