import { ContainerkitError, isAbortError, newError } from '../errors/index.js';
import { redact } from '../util/debug.js';
import { printable } from './output.js';

// What node:util parseArgs says, as our own usage message; its own text spans a paragraph and names no code.
function parseArgsError(err: Error & { code: string }, verb: string | undefined): ContainerkitError {
  const where = verb === undefined ? '' : ` for "${verb}"`;
  const hint = verb === undefined ? "see 'containerkit help'" : `see 'containerkit help ${verb}'`;
  const quoted = /'([^']+)'/.exec(err.message)?.[1];
  // "-o, --output <value>" names the option by its long form.
  const option = quoted === undefined ? undefined : (/--[\w-]+/.exec(quoted)?.[0] ?? quoted);
  let message: string;
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') message = `unknown option ${option ?? ''}${where}`;
  else if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE')
    message = `option ${option ?? ''}${where} ${/argument missing/.test(err.message) ? 'needs a value' : 'takes no value'}`;
  else if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') message = `unexpected argument ${option ?? ''}${where}`;
  else message = `invalid arguments${where}: ${err.message.split('. ')[0]}`;
  return newError('ERR_INVALID_ARGUMENT', `${message}; ${hint}`, { cause: err, details: { parseArgsCode: err.code } });
}

/**
 * Prints `err` as the CLI's one line on stderr, `containerkit: <message> (<code>)`, and returns the exit code: 2 for
 * usage errors, 130 for a cancelled operation, 1 otherwise. Credentials are redacted and control characters from
 * peers escaped, so a registry's message cannot act on the terminal.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream, verb?: string): number {
  if (isAbortError(err)) {
    stderr.write('containerkit: cancelled\n');
    return 130;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (!(err instanceof ContainerkitError) && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    err = parseArgsError(err as Error & { code: string }, verb);
  }
  if (err instanceof ContainerkitError) {
    stderr.write(`containerkit: ${printable(redact(err.message))} (${err.code})\n`);
    return err.code === 'ERR_INVALID_ARGUMENT' ? 2 : 1;
  }
  // A foreign error escaped translation (a bug): one line all the same, with the code of its kind; an errno's
  // message already names it (`ENOSPC: no space left on device, write`).
  const message = err instanceof Error ? err.message : String(err);
  const kind = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? 'ERR_IO' : 'ERR_INTERNAL';
  stderr.write(`containerkit: ${printable(redact(message))} (${kind})\n`);
  return 1;
}
