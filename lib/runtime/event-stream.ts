/**
 * The `runc events` child behind `OCIRuntime.events`: started on first iteration, stopped when the consumer leaves
 * the loop or the signal aborts.
 * @internal
 * @module
 */

import { onAbort } from '../util/abort.js';
import { childExit, collect, Scratch, spawnRunc } from './command.js';
import { runcFailure } from './errors.js';
import { decodeEvents } from './events.js';
import type { OCIRuntimeOptions } from './options.js';
import type { RuncEvent } from './types.js';

/**
 * Runs `runc <verbArgs>` and yields its decoded events. Ends when runc exits 0, and quietly when `signal` aborts
 * (an endless stream has no result to fail: STYLE §16); throws a `RuncError` when runc fails. Leaving the loop
 * early, or the abort, SIGTERMs runc.
 */
export async function* streamEvents(
  options: OCIRuntimeOptions,
  what: string,
  verbArgs: string[],
  signal?: AbortSignal,
): AsyncGenerator<RuncEvent, void, undefined> {
  if (signal?.aborted) return;
  const scratch = await Scratch.open(options);
  const { child, argv } = spawnRunc(options, scratch.logPath, verbArgs, ['ignore', 'pipe', 'pipe']);
  const stderr = collect(child.stderr);
  const exited = childExit(child, argv);
  exited.catch(() => undefined); // awaited below; a consumer that leaves early must not leave it unhandled
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  // onAbort also covers an abort during Scratch.open, after the check above.
  const stopListening = onAbort(signal, stop);
  try {
    for await (const event of decodeEvents(child.stdout!)) {
      if (signal?.aborted) break;
      yield event;
    }
    const exit = await exited;
    if (signal?.aborted) return;
    if (exit.code !== 0) throw runcFailure({ argv, what, exitCode: exit.code, signal: exit.signal, logText: await scratch.readLog(), stderr: stderr.text() });
  } finally {
    stopListening();
    stop();
    await exited.catch(() => undefined);
    await scratch.dispose();
  }
}
