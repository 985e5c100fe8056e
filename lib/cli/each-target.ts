import { newError } from '../errors/index.js';
import type { CliContext } from './command.js';
import { printable } from './output.js';

/**
 * docker's multi-target verbs (stop, kill, rm, pause…): `fn` on each target in turn; what it resolves with (lines, or
 * the target as given by default) is printed on stdout, a failure as the CLI's one error line on stderr, and the
 * others still run. Resolves 1 when any failed, else 0. @throws ERR_INVALID_ARGUMENT without a target.
 */
export async function forEachTarget(
  ctx: CliContext,
  verb: string,
  targets: readonly string[],
  fn: (target: string) => Promise<string | string[] | void>,
): Promise<number> {
  if (targets.length === 0) throw newError('ERR_INVALID_ARGUMENT', `${verb} needs at least one container; see 'containerkit help ${verb}'`);
  let failed = false;
  for (const target of targets) {
    try {
      const shown = (await fn(target)) ?? target;
      for (const line of Array.isArray(shown) ? shown : [shown]) ctx.stdout.write(`${printable(line)}\n`);
    } catch (err) {
      failed = true;
      (await import('./report-error.js')).reportError(err, ctx.stderr, verb);
    }
  }
  return failed ? 1 : 0;
}
