import { constants } from 'node:os';
import { newError } from '../errors/index.js';

/**
 * A signal as a number: a name (`'SIGTERM'`) through Node's signal table, or a number 1–64 as it is.
 * @throws ERR_INVALID_ARGUMENT for an unknown name or a number out of range.
 */
export function signalNumber(signal: number | NodeJS.Signals): number {
  // hasOwn: the name comes from a caller, and `constructor` must not pass as a signal.
  const n = typeof signal === 'number' ? signal : Object.hasOwn(constants.signals, signal) ? constants.signals[signal] : undefined;
  if (n === undefined || !Number.isInteger(n) || n <= 0 || n > 64)
    throw newError('ERR_INVALID_ARGUMENT', `signal ${String(signal)} is not a signal name or number`);
  return n;
}
