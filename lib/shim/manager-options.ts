import { basename, isAbsolute } from 'node:path';
import { newError } from '../errors/index.js';
import type { ShimManagerOptions } from './manager-types.js';

const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;

function positive(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)) {
    throw newError('ERR_INVALID_ARGUMENT', `options.${name} must be a finite number > 0`);
  }
}

function nonEmpty(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'string' || value === '')) throw newError('ERR_INVALID_ARGUMENT', `options.${name} must be a non-empty string`);
}

/** Checks a `ShimManager`'s options before any work. @throws ERR_INVALID_ARGUMENT naming a bad option. */
export function checkManagerOptions(options: ShimManagerOptions): void {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
  const { stateDir, namespace = 'containerkit', shimBinary = 'containerd-shim-runc-v2', runcRoot, runcBinary } = options;
  if (typeof stateDir !== 'string' || !isAbsolute(stateDir)) throw newError('ERR_INVALID_ARGUMENT', 'options.stateDir must be an absolute path');
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace))
    throw newError('ERR_INVALID_ARGUMENT', 'options.namespace must be 1–76 letters, digits, _ . -');
  nonEmpty(shimBinary, 'shimBinary');
  nonEmpty(runcBinary, 'runcBinary');
  if (runcRoot !== undefined && (typeof runcRoot !== 'string' || !isAbsolute(runcRoot)))
    throw newError('ERR_INVALID_ARGUMENT', 'options.runcRoot must be an absolute path');
  if (options.loggerBinary !== undefined && (typeof options.loggerBinary !== 'string' || !isAbsolute(options.loggerBinary))) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.loggerBinary must be an absolute path');
  }
  if (options.events !== undefined && !(['listen', 'if-free', 'none'] as unknown[]).includes(options.events)) {
    throw newError('ERR_INVALID_ARGUMENT', "options.events must be 'listen', 'if-free' or 'none'");
  }
  for (const key of ['connectTimeoutMs', 'callTimeoutMs', 'shimLogMaxBytes', 'logMaxBytes'] as const) positive(options[key], key);
}

/** What a container id may be: what the shim accepts in a socket path and runc in a state dir. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,75}$/;

/** Checks `ShimManager.start`'s id and bundle. @throws ERR_INVALID_ARGUMENT naming what is wrong. */
export function checkStartArgs(id: string, bundle: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    throw newError('ERR_INVALID_ARGUMENT', 'id must be 1–76 letters, digits, _ . - (starting with a letter or digit)');
  if (typeof bundle !== 'string' || !isAbsolute(bundle)) throw newError('ERR_INVALID_ARGUMENT', 'bundle must be an absolute path');
  // The shim's delete subcommand finds the bundle from its working directory's name.
  if (basename(bundle) !== id)
    throw newError('ERR_INVALID_ARGUMENT', `the bundle directory must be named after the id (${id}): the shim's delete finds it that way`);
}
