/**
 * What checkpoint and restore need around runc: finding criu before runc looks for it (so a missing criu is a
 * clear `ERR_CRIU_MISSING`, not a version-check failure), and reading criu's own log when it fails.
 * @internal
 * @module
 */
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { newError } from '../errors/index.js';
import { RuncError } from './errors.js';

const CRIU_ERROR_LINES = 20;

/**
 * Resolves the criu runc will use: `criu` (an absolute path, or a name searched in `PATH` of `env`). Returns the
 * path; throws `ERR_CRIU_MISSING` when there is no executable there.
 */
export async function findCriu(criu: string, env: NodeJS.ProcessEnv): Promise<string> {
  const candidates =
    isAbsolute(criu) || criu.includes('/')
      ? [criu]
      : (env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, criu));
  for (const path of candidates) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw newError(
    'ERR_CRIU_MISSING',
    `checkpoint and restore need criu, and ${JSON.stringify(criu)} was not found${isAbsolute(criu) ? '' : ' in PATH'} (Debian: apt-get install criu)`,
    {
      details: { criu },
    },
  );
}

/** The `Error (…)` lines of a criu log, last {@link CRIU_ERROR_LINES} of them. */
export function criuErrorLines(logText: string): string[] {
  return logText
    .split('\n')
    .filter((line) => /\bError \(/.test(line))
    .map((line) => line.replace(/^\(\s*[\d.]+\)\s*/, '').trim())
    .slice(-CRIU_ERROR_LINES);
}

/**
 * For a failure runc blames on criu (`criu failed: type DUMP errno 0\nlog file: …/dump.log`), reads the named
 * criu log and returns the error with `details.criuLog` and `details.criuErrors`, and the first criu error in the
 * message. runc names the log relative to criu's work dir (`workDir`: the work path, else the image path). Other
 * errors are returned as they are.
 */
export async function withCriuEvidence(err: RuncError, workDir: string): Promise<RuncError> {
  if (err.code !== 'ERR_CRIU_FAILED') return err;
  const named = /log file: (\S+)/.exec(String(err.details.runcMessage ?? ''))?.[1];
  if (named === undefined) return err;
  const logPath = resolve(workDir, named);
  const lines = criuErrorLines(await readFile(logPath, 'utf8').catch(() => ''));
  const first = lines[0];
  const message = err.message.split('\n')[0] + (first === undefined ? ` (criu log: ${logPath})` : ` (criu: ${first}; log: ${logPath})`);
  return new RuncError(err.code, message, { ...err.details, criuLog: logPath, criuErrors: lines });
}
