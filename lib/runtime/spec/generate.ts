import { newError } from '../../errors/index.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { logger } from '../../util/debug.js';
import { createDefaultSpec, DEFAULT_CGROUP_NAMESPACE, DEFAULT_PATH_ENV } from './defaults.js';
import { clampRlimits, type HostRlimits, readHostRlimits } from './rlimits.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp-default.js';
import { resolveSeccompProfile, type SeccompProfile } from './seccomp-profile.js';
import { checkString, type SpecContext, type SpecOpt } from './spec-opt.js';

const log = logger('runtime:spec');

/** Options of {@link applySpecOpts} and {@link generateSpec}. */
export interface ApplySpecOptions {
  /** Host path of the rootfs, for user and group lookups. Default: the spec's `root.path` when absolute. */
  rootfs?: string;
  /** The container id (letters, digits, `_`, `+`, `-`, `.`, as runc accepts). */
  id?: string;
  /** Cancels the options that do I/O. */
  signal?: AbortSignal;
  /** Clamp `process.rlimits` to the host's hard limits at the end. Default `true`. */
  clampRlimits?: boolean;
  /** The limits to clamp to. Default: this process's, from `/proc/self/limits`. */
  hostRlimits?: HostRlimits;
  /** A Node `process.arch` value the seccomp profile is resolved for. Default `process.arch`. */
  arch?: string;
}

/** Options of {@link generateSpec}. */
export interface GenerateSpecOptions extends ApplySpecOptions {
  /** The first element of the default cgroup path `/<namespace>/<id>`. Default `containerkit`. */
  namespace?: string;
}

const ID_PATTERN = /^[\w+.-]+$/;

function validate(options: GenerateSpecOptions): void {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
  if (options.rootfs !== undefined) checkString(options.rootfs, 'options.rootfs');
  for (const key of ['id', 'namespace'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || !ID_PATTERN.test(v) || v === '.' || v === '..')) {
      throw newError('ERR_INVALID_ARGUMENT', `options.${key} must use only letters, digits, "_", "+", "-" and "."`);
    }
  }
  if (options.clampRlimits !== undefined && typeof options.clampRlimits !== 'boolean') {
    throw newError('ERR_INVALID_ARGUMENT', 'options.clampRlimits must be a boolean');
  }
  if (options.hostRlimits !== undefined && (typeof options.hostRlimits !== 'object' || options.hostRlimits === null)) {
    throw newError('ERR_INVALID_ARGUMENT', 'options.hostRlimits must be an object');
  }
  if (options.arch !== undefined) checkString(options.arch, 'options.arch');
}

function checkOpts(opts: readonly SpecOpt[]): void {
  if (!Array.isArray(opts)) throw newError('ERR_INVALID_ARGUMENT', 'opts must be an array of spec options');
  for (const [i, o] of opts.entries()) {
    if (typeof o !== 'function') throw newError('ERR_INVALID_ARGUMENT', `opts[${i}] is not a spec option`);
  }
}

async function run(spec: Spec, opts: readonly SpecOpt[], options: ApplySpecOptions, seccomp: SeccompProfile | undefined): Promise<Spec> {
  const { signal } = options;
  const ctx: SpecContext = { rootfs: options.rootfs, id: options.id, signal, seccompProfile: seccomp, finalizers: [] };
  for (const o of opts) {
    signal?.throwIfAborted();
    await o(ctx, spec);
  }
  for (const f of ctx.finalizers) {
    signal?.throwIfAborted();
    await f(ctx, spec);
  }
  if (ctx.seccompProfile !== undefined) {
    // Resolved last: which rules apply depends on the final bounding set (CAP_SYS_ADMIN unlocks mount…).
    const capabilities = spec.process?.capabilities?.bounding ?? [];
    spec.linux = { ...spec.linux, seccomp: resolveSeccompProfile(ctx.seccompProfile, { capabilities, arch: options.arch }) };
  }
  if (options.clampRlimits !== false && spec.process?.rlimits && spec.process.rlimits.length > 0) {
    const host = options.hostRlimits ?? (await readHostRlimits({ signal }));
    const clamped = clampRlimits(spec.process.rlimits, host);
    for (const r of spec.process.rlimits) {
      const c = clamped.find((x) => x.type === r.type);
      if (!c || c.hard !== r.hard || c.soft !== r.soft) log('rlimit %s %o clamped to the host limit: %o', r.type, r, c ?? 'inherited');
    }
    spec.process.rlimits = clamped;
  }
  return spec;
}

/**
 * Applies options to an existing spec (changed in place and returned), then the finalizers options registered,
 * the seccomp profile an option chose (none by default here, unlike {@link generateSpec}), and the rlimit
 * clamp. For specs that did not come from `generateSpec`, e.g. one read from a bundle.
 *
 * @throws ERR_INVALID_ARGUMENT for bad options or opts, and whatever an option throws. Rejects with
 *   `signal.reason` on abort.
 */
export async function applySpecOpts(spec: Spec, opts: readonly SpecOpt[], options: ApplySpecOptions = {}): Promise<Spec> {
  validate(options);
  checkOpts(opts);
  options.signal?.throwIfAborted();
  return run(spec, opts, options, undefined);
}

/**
 * Builds a container's `config.json`: containerd's default Linux spec ({@link createDefaultSpec}), then `opts`
 * in order, then what must come last:
 * - finalizers registered by options (`withInit` wraps the final args);
 * - `PATH` set to {@link DEFAULT_PATH_ENV} when no option (or image) set one;
 * - Docker's default seccomp profile, resolved for the final bounding capabilities and the host architecture,
 *   unless `withoutSeccomp()`, `withPrivileged()` or `withSeccompProfile()` said otherwise;
 * - every rlimit clamped to this process's hard limits (`/proc/self/limits`), so runc can set them.
 *
 * With `options.id` the cgroup path is `/<namespace>/<id>`.
 *
 * @example
 * const spec = await generateSpec([withProcessArgs('sh', '-c', 'id'), withUser('nobody'), withReadonlyRootfs()],
 *   { rootfs: '/var/lib/app/bundle/rootfs', id: 'web-1' });
 *
 * @throws ERR_INVALID_ARGUMENT for bad options or opts; ERR_IO when `/proc/self/limits` cannot be read; and
 *   whatever an option throws (ERR_USER_NOT_FOUND, ERR_FAILED_PRECONDITION…). Rejects with `signal.reason` on
 *   abort.
 */
export async function generateSpec(opts: readonly SpecOpt[] = [], options: GenerateSpecOptions = {}): Promise<Spec> {
  validate(options);
  checkOpts(opts);
  options.signal?.throwIfAborted();
  const spec = createDefaultSpec({ id: options.id, namespace: options.namespace ?? DEFAULT_CGROUP_NAMESPACE });
  await run(spec, opts, options, DEFAULT_SECCOMP_PROFILE);
  const proc = spec.process;
  if (proc && !(proc.env ?? []).some((e) => e.startsWith('PATH='))) proc.env = [DEFAULT_PATH_ENV, ...(proc.env ?? [])];
  return spec;
}
