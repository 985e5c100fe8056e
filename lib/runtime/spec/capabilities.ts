import { readFile } from 'node:fs/promises';
import { newError } from '../../errors/index.js';

/** Every Linux capability up to Linux 6.x, indexed by its number (`CAP_CHOWN` is 0, `CAP_CHECKPOINT_RESTORE` 40). */
export const KNOWN_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** containerd's (and Docker's) default capability set for a container's process, in containerd's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * The canonical name of a capability: `chown`, `CHOWN` and `cap_chown` all give `CAP_CHOWN`. `ALL` (any case)
 * is returned as `ALL` when `allowAll` is set.
 *
 * @throws ERR_INVALID_ARGUMENT for a name that is not a known capability.
 */
export function normalizeCapability(name: string, allowAll = false): string {
  if (typeof name !== 'string') throw newError('ERR_INVALID_ARGUMENT', 'capability names must be strings');
  const upper = name.trim().toUpperCase();
  if (allowAll && upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!KNOWN_CAPABILITIES.includes(full)) {
    throw newError('ERR_INVALID_ARGUMENT', `unknown capability "${name}"`, { details: { capability: name } });
  }
  return full;
}

/** The capability names set in a hex mask from `/proc/<pid>/status` (`CapEff: 000001fffeffffff`). */
export function capabilitiesFromMask(hex: string): string[] {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex.trim())) throw newError('ERR_INVALID_ARGUMENT', `"${hex}" is not a capability mask`);
  const mask = BigInt(`0x${hex.trim()}`);
  return KNOWN_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * The capabilities this process may hand to a container: its permitted set (`CapPrm` in `/proc/self/status`),
 * which for root lacks what the host withheld (here, CAP_SYS_RESOURCE). A runtime started by this process cannot
 * grant a container more than that: capset(2) refuses with EPERM.
 *
 * @throws ERR_IO when `/proc/self/status` cannot be read or has no CapPrm line. Rejects with `signal.reason`
 *   on abort.
 */
export async function readPermittedCapabilities(options: { signal?: AbortSignal } = {}): Promise<string[]> {
  options.signal?.throwIfAborted();
  let text: string;
  try {
    text = await readFile('/proc/self/status', { encoding: 'utf8', signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw newError('ERR_IO', `cannot read /proc/self/status: ${(err as Error).message}`, { cause: err });
  }
  const line = /^CapPrm:\s*([0-9a-fA-F]+)\s*$/m.exec(text);
  if (!line) throw newError('ERR_IO', '/proc/self/status has no CapPrm line');
  return capabilitiesFromMask(line[1]!);
}
