/**
 * What `exec` needs beside argv: the process spec checked and written for `--process`, and reaching the exec'd
 * process through its pid file (runc cannot forward SIGKILL or SIGSTOP to it).
 * @internal
 * @module
 */
import { rm, writeFile } from 'node:fs/promises';
import { newError } from '../errors/index.js';
import type { SpecProcess } from '../oci/index.js';
import { readPidFile } from './command.js';
import type { ForegroundHooks } from './process.js';

/** Throws `ERR_INVALID_ARGUMENT` unless `spec` has non-empty string args, a cwd and a user. */
export function checkProcessSpec(spec: SpecProcess): void {
  const ok =
    typeof spec === 'object' &&
    spec !== null &&
    Array.isArray(spec.args) &&
    spec.args.length > 0 &&
    spec.args.every((a) => typeof a === 'string') &&
    typeof spec.cwd === 'string' &&
    typeof spec.user === 'object' &&
    spec.user !== null;
  if (!ok) throw newError('ERR_INVALID_ARGUMENT', 'process must be a runtime-spec process with non-empty args, cwd and user');
}

/**
 * Writes the process spec for `--process` (0600; `terminal` from `tty` when given) and removes a caller's pid
 * file, so a stale pid in it is never taken for the new process's.
 */
export async function writeProcessSpec(path: string, spec: SpecProcess, tty: boolean | undefined, callerPidFile: string | undefined): Promise<void> {
  await writeFile(path, JSON.stringify({ ...spec, terminal: tty ?? spec.terminal ?? false }), { mode: 0o600 });
  if (callerPidFile !== undefined) await rm(callerPidFile, { force: true });
}

/** Sends `sig` to `pid`; false when there is no such process. */
export function signalPid(pid: number, sig: NodeJS.Signals): boolean {
  // 0 and negative pids address process groups (an empty pid file read as a number is 0): never this one.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Hooks that reach an exec'd process through the pid file runc writes once it started. */
export function pidFileHooks(pidFile: string): ForegroundHooks {
  return {
    signalDirect: async (sig) => {
      const pid = await readPidFile(pidFile);
      return pid !== undefined && signalPid(pid, sig);
    },
    afterAbort: async () => undefined,
  };
}
