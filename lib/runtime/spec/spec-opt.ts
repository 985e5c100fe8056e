import { isAbsolute } from 'node:path';
import { newError } from '../../errors/index.js';
import type { LinuxCapabilities, LinuxResources, Spec, SpecLinux, SpecProcess } from '../../oci/runtime-spec.js';
import type { SeccompProfile } from './seccomp-profile.js';

/**
 * What a {@link SpecOpt} is given besides the spec: where the rootfs is, the container's id, the caller's signal,
 * and two pieces of state that are settled only after every option ran (so an option's place in the list does
 * not matter for them).
 */
export interface SpecContext {
  /** Host path of the rootfs, for user and group lookups. Default: the spec's `root.path` when absolute. */
  readonly rootfs?: string;
  /** The container id, when known. */
  readonly id?: string;
  /** Cancels options that do I/O. */
  readonly signal?: AbortSignal;
  /**
   * The seccomp profile resolved into `linux.seccomp` once all options ran, for the final capability set
   * (Docker's default in `generateSpec`); `undefined` leaves `linux.seccomp` as the options left it.
   */
  seccompProfile: SeccompProfile | undefined;
  /** Steps run after every option, in the order they were added (e.g. `withInit` wrapping the final args). */
  readonly finalizers: SpecOpt[];
}

/**
 * A spec option, in the spirit of containerd's `oci.SpecOpts`: changes the spec in place, may do I/O (user
 * lookup) and may throw. Options run in order; later ones see what earlier ones did.
 */
export type SpecOpt = (ctx: SpecContext, spec: Spec) => void | Promise<void>;

/** One option that applies `opts` in order, like containerd's `oci.Compose`. */
export function composeSpecOpts(...opts: SpecOpt[]): SpecOpt {
  for (const [i, o] of opts.entries()) {
    if (typeof o !== 'function') throw newError('ERR_INVALID_ARGUMENT', `composeSpecOpts: option ${i} is not a function`);
  }
  return async (ctx, spec) => {
    for (const o of opts) {
      ctx.signal?.throwIfAborted();
      await o(ctx, spec);
    }
  };
}

/** @internal The process section, created empty when missing. */
export function setProcess(spec: Spec): SpecProcess {
  spec.process ??= { user: { uid: 0, gid: 0 }, cwd: '/' };
  return spec.process;
}

/** @internal The linux section, created empty when missing. */
export function setLinux(spec: Spec): SpecLinux {
  spec.linux ??= {};
  return spec.linux;
}

/** @internal `linux.resources`, created empty when missing. */
export function setResources(spec: Spec): LinuxResources {
  const linux = setLinux(spec);
  linux.resources ??= {};
  return linux.resources;
}

/** @internal `process.capabilities`, created empty when missing. */
export function setCapabilities(spec: Spec): LinuxCapabilities {
  const proc = setProcess(spec);
  proc.capabilities ??= {};
  return proc.capabilities;
}

/** @internal The rootfs to look users up in: the context's, else an absolute `root.path`. */
export function rootfsOf(ctx: SpecContext, spec: Spec): string | undefined {
  if (ctx.rootfs !== undefined) return ctx.rootfs;
  const path = spec.root?.path;
  return path !== undefined && isAbsolute(path) ? path : undefined;
}

/** @internal Throws ERR_INVALID_ARGUMENT unless `value` is a string without NUL bytes (non-empty unless allowed). */
export function checkString(value: unknown, what: string, allowEmpty = false): asserts value is string {
  if (typeof value !== 'string' || value.includes('\0') || (!allowEmpty && value === '')) {
    throw newError('ERR_INVALID_ARGUMENT', `${what} must be a ${allowEmpty ? '' : 'non-empty '}string without NUL bytes`);
  }
}

/** @internal Throws ERR_INVALID_ARGUMENT unless `value` is an absolute path. */
export function checkAbsolute(value: unknown, what: string): asserts value is string {
  checkString(value, what);
  if (!isAbsolute(value)) throw newError('ERR_INVALID_ARGUMENT', `${what} must be an absolute path, got "${value}"`);
}

/** @internal Throws ERR_INVALID_ARGUMENT unless `value` is a safe integer in [min, max]. */
export function checkInteger(value: unknown, what: string, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw newError('ERR_INVALID_ARGUMENT', `${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}
