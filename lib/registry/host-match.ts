import { BlockList, isIP } from 'node:net';
import { newError } from '../errors/index.js';

/**
 * Matching of registry hosts against lists of patterns: which hosts are spoken to over plain HTTP, and which are
 * reached without the proxy (NO_PROXY).
 */

/** The default plain-HTTP hosts, as dockerd's: loopback only. */
export const DEFAULT_PLAIN_HTTP_HOSTS: readonly string[] = Object.freeze(['localhost', '127.0.0.0/8', '::1/128']);

/** A `host[:port]` split into its lower-case hostname (IPv6 without brackets) and port. */
export function splitHost(host: string): { hostname: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) return { hostname: bracketed[1]!.toLowerCase(), port: bracketed[2] };
  const colons = host.split(':').length - 1;
  if (colons === 1) {
    const [hostname, port] = host.split(':') as [string, string];
    return { hostname: hostname.toLowerCase(), port };
  }
  return { hostname: host.toLowerCase(), port: undefined };
}

/**
 * A compiled list of host patterns: `host`, `host:port`, IP addresses and CIDR ranges (`10.0.0.0/8`, `::1/128`).
 * A pattern without a port matches every port.
 */
export class HostMatcher {
  readonly #names = new Set<string>();
  readonly #blocks = new BlockList();

  /** @throws ERR_INVALID_ARGUMENT (naming `name`) for a pattern that is not a host, host:port, IP or CIDR. */
  constructor(patterns: readonly string[], name = 'hosts') {
    for (const raw of patterns) {
      if (typeof raw !== 'string' || raw.trim() === '') throw newError('ERR_INVALID_ARGUMENT', `${name} entries must be non-empty strings`);
      const pattern = raw.trim().toLowerCase();
      const cidr = /^([0-9a-f.:]+)\/(\d{1,3})$/.exec(pattern);
      if (cidr) {
        const family = isIP(cidr[1]!);
        const prefix = Number(cidr[2]);
        if (family === 0 || prefix > (family === 4 ? 32 : 128)) throw newError('ERR_INVALID_ARGUMENT', `${name}: invalid CIDR ${JSON.stringify(raw)}`);
        this.#blocks.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
        continue;
      }
      const { hostname, port } = splitHost(pattern);
      if (!/^[a-z0-9._:-]+$/.test(hostname)) throw newError('ERR_INVALID_ARGUMENT', `${name}: invalid host ${JSON.stringify(raw)}`);
      const family = isIP(hostname);
      if (family !== 0 && port === undefined) this.#blocks.addAddress(hostname, family === 4 ? 'ipv4' : 'ipv6');
      else this.#names.add(port === undefined ? hostname : `${hostname}:${port}`);
    }
  }

  /** Whether `host` (`name`, `name:port`, `ip:port`, `[v6]:port`) matches one of the patterns. */
  matches(host: string): boolean {
    const { hostname, port } = splitHost(host);
    if (this.#names.has(hostname) || (port !== undefined && this.#names.has(`${hostname}:${port}`))) return true;
    const family = isIP(hostname);
    return family !== 0 && this.#blocks.check(hostname, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * Whether `NO_PROXY` (comma- or space-separated) exempts `host` from the proxy, with curl's rules: `*` matches
 * everything, `example.com` and `.example.com` match the domain and its subdomains, an entry with a port matches
 * only that port, and IPs and CIDR ranges match addresses.
 */
export function isNoProxy(host: string, noProxy: string | undefined): boolean {
  if (noProxy === undefined || noProxy.trim() === '') return false;
  const { hostname, port } = splitHost(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (/\/\d+$/.test(entry) || isIP(entry) !== 0) {
      try {
        if (new HostMatcher([entry]).matches(hostname)) return true;
      } catch {
        // An entry we cannot read exempts nothing.
      }
      continue;
    }
    const split = splitHost(entry);
    if (split.port !== undefined && split.port !== port) continue;
    const domain = split.hostname.replace(/^\*?\./, '');
    if (hostname === domain || hostname.endsWith(`.${domain}`)) return true;
  }
  return false;
}
