import { readFile } from 'node:fs/promises';

/** What `/proc/<pid>/stat` says about a process that matters for telling it apart from a later one. */
export interface ProcessIdentity {
  pid: number;
  /** Field 22 of `/proc/<pid>/stat`: start time in clock ticks since boot. With the pid, it names one process. */
  start: number;
  /** Field 3, the state letter (`R`, `S`, `D`, `Z`, …). */
  state: string;
}

/**
 * Parses the text of `/proc/<pid>/stat`. The command name (field 2) sits in parentheses and may itself hold
 * spaces and `)`, so fields are counted from the last `)`.
 *
 * @returns `undefined` when the text does not have the expected shape.
 */
export function parseProcStat(text: string): ProcessIdentity | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(text.slice(0, text.indexOf(' ')), 10);
  // After ") " come fields 3, 4, …: field N is at index N - 3.
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const start = Number(fields[22 - 3]);
  if (!Number.isSafeInteger(pid) || state === undefined || state === '' || !Number.isSafeInteger(start)) return undefined;
  return { pid, start, state };
}

/**
 * Reads `/proc/<pid>/stat` of a process.
 *
 * @returns the identity, or `undefined` when no such process is visible (or the file cannot be parsed).
 *   Throws only `signal.reason` on abort.
 */
export async function readProcessIdentity(pid: number, options: { signal?: AbortSignal } = {}): Promise<ProcessIdentity | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, { encoding: 'utf8', signal: options.signal }));
  } catch {
    if (options.signal?.aborted) throw options.signal.reason;
    return undefined;
  }
}

/**
 * The kernel's boot id (`/proc/sys/kernel/random/boot_id`), new at every boot. Pids and start times repeat
 * across reboots, so a lock or record that names a process also names the boot.
 *
 * @returns the id, or `undefined` when the file is not readable. Throws only `signal.reason` on abort.
 */
export async function readBootId(options: { signal?: AbortSignal } = {}): Promise<string | undefined> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', { encoding: 'utf8', signal: options.signal })).trim() || undefined;
  } catch {
    if (options.signal?.aborted) throw options.signal.reason;
    return undefined;
  }
}

/**
 * Whether the process `pid` exists and is not a zombie. Falls back to `kill(pid, 0)` when `/proc` hides it
 * (`hidepid`): EPERM there means "exists, not ours". A zombie (killed, not yet reaped by its parent) counts as
 * dead: it holds nothing any more. Throws only `signal.reason` on abort.
 */
export async function isProcessAlive(pid: number, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  // kill(0 or negative) would address process groups, not one process.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const id = await readProcessIdentity(pid, options);
  if (id !== undefined) return id.state !== 'Z' && id.state !== 'X' && id.state !== 'x';
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A process named so that a later, unrelated process that got the same pid (after it exited, or after a reboot)
 * is not taken for it: the pid, its start time and the boot it ran in. What lock files record, for any record.
 */
export interface ProcessStamp {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`). */
  start: number;
  /** `/proc/sys/kernel/random/boot_id` of its boot, when readable. */
  boot?: string;
}

/**
 * Stamps the live process `pid` (see {@link ProcessStamp}).
 * @returns `undefined` when the process is not visible in `/proc`. Throws only `signal.reason` on abort.
 */
export async function stampProcess(pid: number, options: { signal?: AbortSignal } = {}): Promise<ProcessStamp | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const id = await readProcessIdentity(pid, options);
  if (id === undefined) return undefined;
  const boot = await readBootId(options);
  return boot === undefined ? { pid, start: id.start } : { pid, start: id.start, boot };
}

/**
 * Whether the process a stamp names still runs: same pid, same start time, same boot, not a zombie. A process
 * that cannot be checked (not in `/proc`, e.g. hidden by `hidepid`) is not the same: callers that would signal
 * it must not. Throws only `signal.reason` on abort.
 */
export async function isSameProcess(stamp: ProcessStamp, options: { signal?: AbortSignal } = {}): Promise<boolean> {
  if (!Number.isSafeInteger(stamp.pid) || stamp.pid <= 0) return false;
  const id = await readProcessIdentity(stamp.pid, options);
  if (id === undefined || id.state === 'Z' || id.state === 'X' || id.state === 'x' || id.start !== stamp.start) return false;
  if (stamp.boot === undefined) return true;
  const boot = await readBootId(options);
  return boot === undefined || boot === stamp.boot;
}
