import { isAbortError } from '../errors/index.js';
import type { CliContext } from './command.js';

// runc's words when the container's command cannot be run (`exec: "nosuch": executable file not found in $PATH`).
const EXEC_FAILURE = /exec: "(?:[^"\\]|\\.)*": ([^\n]*)/;

/**
 * docker run's exit code for a run that failed before the container's own exit: 127 for a command not found, 126
 * for one not executable, 125 for every other engine or usage error (docker's codes, so scripts can tell them from
 * the container's), 130 for a cancelled setup. Prints the one-line error first.
 */
export async function runFailure(ctx: CliContext, err: unknown, verb: string): Promise<number> {
  const printed = (await import('./report-error.js')).reportError(err, ctx.stderr, verb);
  if (isAbortError(err)) return printed;
  const code = (err as { code?: unknown } | null)?.code;
  const reason = EXEC_FAILURE.exec(err instanceof Error ? err.message : '')?.[1] ?? '';
  if (code === 'ERR_CONTAINER_COMMAND_NOT_FOUND' || /executable file not found|no such file or directory/i.test(reason)) return 127;
  if (code === 'ERR_CONTAINER_COMMAND_NOT_EXECUTABLE' || /permission denied/i.test(reason)) return 126;
  return 125;
}
