import { newError } from '../errors/index.js';
import type { WaitCondition, WaitOptions } from './engine-types.js';
import { isLive, type Lifecycle } from './lifecycle.js';
import type { ContainerRecord } from './record.js';

// docker wait: polls the record (cheap: one small file), woken at once by changes this process makes, and settles
// it now and then so an exit nobody watches (a task of another process) is still seen.

const POLL_MS = 200;
const SETTLE_EVERY = 5;
const CONDITIONS: readonly WaitCondition[] = ['next-exit', 'not-running', 'removed'];

/** The exit code of `id`'s last `die` event in the root's log (another process recorded and removed it). */
async function lastDieCode(life: Lifecycle, id: string, signal?: AbortSignal): Promise<number | undefined> {
  let code: number | undefined;
  for await (const event of life.eventsLog.read({ signal })) {
    if (event.Type === 'container' && event.Action === 'die' && event.Actor.ID === id) code = Number(event.Actor.Attributes.exitCode ?? NaN);
  }
  return code !== undefined && Number.isSafeInteger(code) ? code : undefined;
}

/**
 * Waits for `condition` and resolves with the container's real exit code: `'not-running'` returns at once for a
 * container that is not running; `'next-exit'` waits for an exit after the call; `'removed'` waits until the
 * container is gone, keeping the code of its last exit. @internal
 */
export async function waitContainer(life: Lifecycle, reference: string, options: WaitOptions = {}): Promise<{ exitCode: number }> {
  const { condition = 'not-running', signal } = options;
  if (!CONDITIONS.includes(condition)) throw newError('ERR_INVALID_ARGUMENT', `options.condition must be one of ${CONDITIONS.join(', ')}`);
  signal?.throwIfAborted();
  const first = await life.store.resolve(reference, { signal });
  const { id } = first;
  const finishedBefore = first.state.finishedAt;
  let seen: ContainerRecord = first;
  for (let round = 0; ; round++) {
    signal?.throwIfAborted();
    const record = round % SETTLE_EVERY === 0 ? await life.settle(id, signal) : await life.store.get(id, { signal }).catch(() => undefined);
    if (record === undefined) {
      const code = life.exits.get(id)?.code ?? (seen.state.status === 'exited' ? seen.state.exitCode : await lastDieCode(life, id, signal));
      return { exitCode: code ?? 0 };
    }
    seen = record;
    const stopped = !isLive(record);
    if (condition === 'not-running' && stopped) return { exitCode: record.state.exitCode };
    if (condition === 'next-exit' && stopped && record.state.finishedAt !== finishedBefore) return { exitCode: record.state.exitCode };
    await life.nextChange(id, POLL_MS, signal);
  }
}
