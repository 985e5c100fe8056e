import { readFile } from 'node:fs/promises';
import { newError } from '../../errors/index.js';
import type { PosixRlimit } from '../../oci/runtime-spec.js';

// Resource limits and the host's ceiling on them. A process without CAP_SYS_RESOURCE cannot raise a hard limit
// above its own: runc then fails with "setrlimit: Operation not permitted" (Docker's RLIMIT_NOFILE 1048576
// does on these machines, where root's hard nofile limit is 20000). So limits are clamped to the hard limits of
// the process that builds the spec, which the runtime it starts inherits.

/** A soft and hard limit; `Infinity` stands for "unlimited". */
export interface RlimitValue {
  soft: number;
  hard: number;
}

/** The limits of a process by `RLIMIT_*` name, e.g. `{ RLIMIT_NOFILE: { soft: 1024, hard: 20000 } }`. */
export type HostRlimits = Record<string, RlimitValue>;

// The row labels of /proc/<pid>/limits (fs/proc/base.c) and the resource each names.
const PROC_LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** Every resource name runc accepts in `process.rlimits`. */
export const RLIMIT_TYPES: readonly string[] = Object.values(PROC_LIMIT_NAMES);

/**
 * The canonical `RLIMIT_*` name of a resource: `nofile`, `NOFILE` and `RLIMIT_NOFILE` all give `RLIMIT_NOFILE`.
 *
 * @throws ERR_INVALID_ARGUMENT for an unknown resource.
 */
export function normalizeRlimitType(type: string): string {
  const upper = typeof type === 'string' ? type.trim().toUpperCase() : '';
  const full = upper.startsWith('RLIMIT_') ? upper : `RLIMIT_${upper}`;
  if (!RLIMIT_TYPES.includes(full)) throw newError('ERR_INVALID_ARGUMENT', `unknown rlimit type "${String(type)}"`);
  return full;
}

function parseLimitValue(text: string): number | undefined {
  if (text === 'unlimited') return Infinity;
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** Parses the text of `/proc/<pid>/limits`; rows it does not recognise are skipped. */
export function parseProcLimits(text: string): HostRlimits {
  const out: HostRlimits = {};
  for (const line of text.split('\n')) {
    // Columns: a label padded to 26 characters, then soft, hard and (optionally) units.
    const label = line.slice(0, 26).trim();
    const type = PROC_LIMIT_NAMES[label];
    if (type === undefined) continue;
    const [softText, hardText] = line.slice(26).trim().split(/\s+/);
    const soft = parseLimitValue(softText ?? '');
    const hard = parseLimitValue(hardText ?? '');
    if (soft !== undefined && hard !== undefined) out[type] = { soft, hard };
  }
  return out;
}

/**
 * Reads this process's limits from `/proc/self/limits`.
 *
 * @throws ERR_IO when the file cannot be read. Rejects with `signal.reason` on abort.
 */
export async function readHostRlimits(options: { signal?: AbortSignal } = {}): Promise<HostRlimits> {
  options.signal?.throwIfAborted();
  try {
    return parseProcLimits(await readFile('/proc/self/limits', { encoding: 'utf8', signal: options.signal }));
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw newError('ERR_IO', `cannot read /proc/self/limits: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Clamps each limit to the host's hard limit for its resource: the hard limit to at most the host's, the soft
 * limit to at most the (clamped) hard limit. `Infinity` asks for "as high as allowed". A JSON number from
 * JavaScript cannot carry RLIM_INFINITY (2^64−1), so a limit that stays unlimited after clamping is left out:
 * the container then inherits the runtime's own limit for it. Resources the host table lacks are kept as they
 * are (unless unlimited). Pure; returns new objects.
 */
export function clampRlimits(rlimits: readonly PosixRlimit[], host: HostRlimits): PosixRlimit[] {
  const out: PosixRlimit[] = [];
  for (const r of rlimits) {
    const ceiling = host[r.type]?.hard ?? Infinity;
    const hard = Math.min(r.hard, ceiling);
    const soft = Math.min(r.soft, hard);
    if (!Number.isFinite(hard) || !Number.isFinite(soft)) continue;
    out.push({ type: r.type, hard, soft });
  }
  return out;
}
