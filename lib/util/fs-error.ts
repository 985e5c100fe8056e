import { type ContainerkitError, newError } from '../errors/index.js';

/** The errno name (`ENOENT`, `EEXIST`…) of a Node filesystem error, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Translates a Node filesystem error at the boundary: a missing path becomes `ERR_NOT_FOUND`, anything else
 * `ERR_IO` with the errno in `details`; the original is kept as `cause`. `what` reads "cannot <what> <path>".
 */
export function fsError(err: unknown, what: string, path: string): ContainerkitError {
  const errno = errnoOf(err);
  if (errno === 'ENOENT') {
    return newError('ERR_NOT_FOUND', `cannot ${what} ${path}: no such file or directory`, { cause: err, details: { path } });
  }
  return newError('ERR_IO', `cannot ${what} ${path}: ${(err as Error).message}`, { cause: err, details: { errno, path } });
}
