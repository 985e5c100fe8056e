/**
 * Timing one side: a child process under GNU time (wall time from the harness's clock, peak RSS from time's
 * `%M`), or an in-process call.
 */
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import type { InProcessCommand, ProcessCommand, Side, SideResult } from './scenario.js';

/** GNU time; `%M` is the child's peak RSS in KiB. */
export const TIME_BINARY = '/usr/bin/time';

// Output beyond this is dropped: sides print results, not data.
const OUTPUT_CAP = 1024 * 1024;

/** Throws a loud error unless GNU time is installed where the harness expects it and understands `-f %M`. */
export async function checkTimeBinary(): Promise<void> {
  try {
    await access(TIME_BINARY, constants.X_OK);
  } catch {
    throw new Error(`${TIME_BINARY} is missing: the bench measures peak RSS with GNU time (Debian package "time"); install it with apt-get install time`);
  }
  const probe = await runProcess('peer', { kind: 'process', argv: ['true'] }, process.cwd(), new AbortController().signal);
  if (probe.exitCode !== 0 || probe.peakRssKiB === null || probe.peakRssKiB <= 0) {
    throw new Error(`${TIME_BINARY} -f %M did not report a peak RSS; is it GNU time?`);
  }
}

/** Appends to a capped buffer list; returns the new total. */
function collect(parts: Buffer[], total: number, chunk: Buffer): number {
  if (total < OUTPUT_CAP) parts.push(chunk.subarray(0, OUTPUT_CAP - total));
  return total + chunk.length;
}

/**
 * Splits GNU time's own lines off the end of the child's stderr. With `-f %M` time appends one line with the
 * number, preceded by "Command exited with non-zero status N" or "Command terminated by signal N" when the child
 * failed.
 */
export function parseTimeStderr(stderr: string): { stderr: string; peakRssKiB: number | null } {
  const lines = stderr.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const last = lines.at(-1);
  if (last === undefined || !/^\d+$/.test(last.trim())) return { stderr, peakRssKiB: null };
  lines.pop();
  if (/^Command (exited with non-zero status|terminated by signal) \d+$/.test(lines.at(-1) ?? '')) lines.pop();
  return { stderr: lines.length > 0 ? `${lines.join('\n')}\n` : '', peakRssKiB: Number(last.trim()) };
}

/**
 * Runs one side's command as a fresh child under `/usr/bin/time -f %M`. The clock starts just before the spawn
 * and stops when the child has exited and closed its output, so both sides pay their whole process life.
 * On abort the child's process group is killed and the promise rejects with `signal.reason`.
 */
export function runProcess(side: Side, command: ProcessCommand, defaultCwd: string, signal: AbortSignal): Promise<SideResult> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    const start = process.hrtime.bigint();
    // detached: its own process group, so an abort reaches the measured program, not only time.
    const child = spawn(TIME_BINARY, ['-f', '%M', ...command.argv], {
      cwd: command.cwd ?? defaultCwd,
      env: { ...process.env, ...command.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const onAbort = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes = collect(stdout, outBytes, chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errBytes = collect(stderr, errBytes, chunk);
    });
    child.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error(`could not start ${TIME_BINARY} for ${command.argv.join(' ')}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, sig) => {
      const end = process.hrtime.bigint();
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const parsed = parseTimeStderr(Buffer.concat(stderr).toString('utf8'));
      resolve({
        side,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: parsed.stderr,
        exitCode: code ?? (sig === null ? 1 : 128),
        wallSeconds: Number(end - start) / 1e9,
        peakRssKiB: parsed.peakRssKiB,
      });
    });
  });
}

/** Times an in-process call with the harness's clock; there is no child, so no peak RSS. */
export async function runInProcess(side: Side, command: InProcessCommand, signal: AbortSignal): Promise<SideResult> {
  signal.throwIfAborted();
  const start = process.hrtime.bigint();
  const out = await command.run(signal);
  const end = process.hrtime.bigint();
  return { side, stdout: out ?? '', stderr: '', exitCode: 0, wallSeconds: Number(end - start) / 1e9, peakRssKiB: null };
}
