import { readFile } from 'node:fs/promises';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { newError } from '../errors/index.js';
import { errnoOf } from '../util/fs-error.js';
import { writeFileAtomic } from '../util/index.js';
import { makeDirs } from '../util/make-dirs.js';
import type { NetworkMode } from './create-options.js';

// The files docker gives every container at /etc/hosts, /etc/hostname and /etc/resolv.conf: written by the
// engine in the container's directory (as dockerd does in /var/lib/docker/containers/<id>/) and bind-mounted
// over the image's, so the image is never changed. Rules from libnetwork's sandbox_dns_unix.go.

/** Where {@link writeContainerFiles} put the files, for {@link ContainerSpecContext.files}. */
export interface ContainerFiles {
  /** `<dir>/hosts`, mounted at `/etc/hosts`. */
  hostsPath: string;
  /** `<dir>/hostname`, mounted at `/etc/hostname`. */
  hostnamePath: string;
  /** `<dir>/resolv.conf`, mounted at `/etc/resolv.conf`. */
  resolvConfPath: string;
}

/** Options of {@link writeContainerFiles}. */
export interface ContainerFilesOptions {
  /** The container's hostname (see `containerHostname`). */
  hostname: string;
  /** Default `'none'`. */
  network?: NetworkMode;
  /** The host's resolver config. Default `/etc/resolv.conf`. */
  hostResolvConf?: string;
  /** The host's hosts file, copied for `network: 'host'`. Default `/etc/hosts`. */
  hostHosts?: string;
  signal?: AbortSignal;
}

/** docker's default hosts file of a container in its own network namespace. */
const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
].join('\n');

/** libnetwork's fallback when no usable nameserver is left (Google's public DNS). */
const DEFAULT_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/**
 * The resolv.conf of a container in its own network namespace: the host's, without nameservers on loopback
 * (127.0.0.0/8, ::1), which it cannot reach; docker's default nameservers when none is left. Pure.
 */
export function containerResolvConf(hostText: string): string {
  const lines = hostText.split('\n');
  const isLoopback = (ns: string): boolean => /^127\./.test(ns) || ns === '::1' || ns === '0:0:0:0:0:0:0:1';
  const kept = lines.filter((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    return !m || !isLoopback(m[1]!);
  });
  if (!kept.some((line) => /^\s*nameserver\s/.test(line))) {
    while (kept.length > 0 && kept[kept.length - 1]!.trim() === '') kept.pop();
    kept.push(...DEFAULT_NAMESERVERS.map((ns) => `nameserver ${ns}`));
  }
  const text = kept.join('\n');
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * The hostname a container gets: the option, else the host's name with `network: 'host'` (docker's rule),
 * else the first 12 characters of the id.
 */
export function containerHostname(options: { hostname?: string; network?: NetworkMode }, id: string): string {
  if (options.hostname !== undefined) return options.hostname;
  if (options.network === 'host') return hostHostname();
  return id.slice(0, 12);
}

async function readHostFile(path: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw newError('ERR_IO', `cannot read ${path}: ${(err as Error).message}`, { cause: err, details: { path, errno: errnoOf(err) } });
  }
}

/**
 * Writes `hosts`, `hostname` and `resolv.conf` into `containerDir` (created if missing), each atomically:
 * - `network: 'none'`: docker's default hosts file (localhost and the IPv6 names), the host's resolv.conf without
 *   loopback nameservers (docker's defaults when none is left);
 * - `network: 'host'`: copies of the host's `/etc/hosts` and `/etc/resolv.conf`.
 *
 * @returns the paths, for `buildContainerSpec`'s `files`.
 * @throws ERR_INVALID_ARGUMENT for a bad hostname or network; ERR_IO when a host file cannot be read or a file
 *   cannot be written. Rejects with `signal.reason` on abort.
 */
export async function writeContainerFiles(containerDir: string, options: ContainerFilesOptions): Promise<ContainerFiles> {
  const { hostname, network = 'none', hostResolvConf = '/etc/resolv.conf', hostHosts = '/etc/hosts', signal } = options;
  if (typeof containerDir !== 'string' || containerDir === '') throw newError('ERR_INVALID_ARGUMENT', 'containerDir must be a non-empty path');
  if (typeof hostname !== 'string' || !/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,63}$/.test(hostname)) {
    throw newError('ERR_INVALID_ARGUMENT', `options.hostname "${String(hostname)}" is not a hostname`);
  }
  if (network !== 'none' && network !== 'host') throw newError('ERR_INVALID_ARGUMENT', `options.network must be 'none' or 'host'`);
  signal?.throwIfAborted();
  const files: ContainerFiles = {
    hostsPath: join(containerDir, 'hosts'),
    hostnamePath: join(containerDir, 'hostname'),
    resolvConfPath: join(containerDir, 'resolv.conf'),
  };
  const hostResolv = (await readHostFile(hostResolvConf, signal)) ?? '';
  let hosts: string;
  let resolv: string;
  if (network === 'host') {
    hosts = (await readHostFile(hostHosts, signal)) ?? `${DEFAULT_HOSTS}\n`;
    resolv = hostResolv;
  } else {
    hosts = `${DEFAULT_HOSTS}\n`;
    resolv = containerResolvConf(hostResolv);
  }
  await makeDirs(containerDir);
  await writeFileAtomic(files.hostsPath, hosts, { mode: 0o644, signal });
  await writeFileAtomic(files.hostnamePath, `${hostname}\n`, { mode: 0o644, signal });
  await writeFileAtomic(files.resolvConfPath, resolv, { mode: 0o644, signal });
  return files;
}
