import { cpus as hostCpus, constants as osConstants } from 'node:os';
import { isAbsolute, posix } from 'node:path';
import { newError } from '../errors/index.js';
import { parsePlatform } from '../oci/platform.js';
import { normalizeCapability } from '../runtime/spec/capabilities.js';
import type { RlimitRequest } from '../runtime/spec/opts-process.js';
import { normalizeRlimitType } from '../runtime/spec/rlimits.js';

// What a user asks of a new container, in docker's terms (`docker create` flags and the Engine API's
// ContainerConfig/HostConfig), validated before any work. How they combine with the image is in run-config.ts,
// how they become an OCI spec in container-spec.ts.

/** Mount propagation of a bind mount (docker's `bind-propagation`). */
export type BindPropagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave';

/** A host directory or file bind-mounted into the container (docker's `--mount type=bind` and `-v /host:/ctr`). */
export interface BindContainerMount {
  type: 'bind';
  /** Absolute host path. */
  source: string;
  /** Absolute path in the container (not `/`). */
  target: string;
  /** Mount read-only. Default `false`. */
  readonly?: boolean;
  /** Propagation. Default `rprivate`, as docker's. */
  propagation?: BindPropagation;
  /**
   * Create `source` as a directory when it is missing: what docker's `-v` does (its `--mount` refuses a missing
   * source instead). Default `false`.
   */
  createSource?: boolean;
}

/** A tmpfs mounted in the container (docker's `--mount type=tmpfs` and `--tmpfs`): `noexec,nosuid,nodev` as docker's. */
export interface TmpfsContainerMount {
  type: 'tmpfs';
  /** Absolute path in the container (not `/`). */
  target: string;
  /** Size limit in bytes. Default: the kernel's (half of RAM). */
  size?: number;
  /** Mode of its root directory. Default `0o1777`. */
  mode?: number;
  /** Mount read-only. Default `false`. */
  readonly?: boolean;
}

/** A mount of a container; named volumes come later. */
export type ContainerMount = BindContainerMount | TmpfsContainerMount;

/** Cgroup limits (docker's `--memory`, `--cpus`…). Default: none of them. */
export interface ContainerResources {
  /** Memory limit in bytes, at least 6 MiB (docker's minimum). */
  memory?: number;
  /**
   * Memory plus swap in bytes, at least `memory`; `-1` for unlimited swap. Needs `memory`. Default: twice
   * `memory` when the host accounts swap, as docker's.
   */
  memorySwap?: number;
  /** CPUs' worth of time (a CFS quota over a 100 ms period), from 0.01 to the host's CPU count. */
  cpus?: number;
  /** Relative CPU weight, 2..262144 (the kernel's default is 1024). */
  cpuShares?: number;
  /** CPUs the container may run on, e.g. `0-1,3`. */
  cpusetCpus?: string;
  /** Most processes the container may have; `-1` for unlimited. */
  pidsLimit?: number;
}

/** When the engine pulls the image before creating (docker's `--pull`). */
export type PullPolicy = 'missing' | 'always' | 'never';

/** How the container is networked: `none` (its own network namespace with only `lo`) or the host's. */
export type NetworkMode = 'none' | 'host';

/**
 * Options of a new container, with docker's meaning and defaults, so a docker user is not surprised. Only the
 * image is required; everything here is optional. `name`, `labels`, `stdin`, `stopTimeout`, `autoRemove`, `pull`
 * and `platform` are for the engine (its record, pull and lifecycle); the rest shape the runtime spec.
 */
export interface CreateOptions {
  /** The container's name: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. Default: one the engine makes up. */
  name?: string;
  /** Replaces the image's `Cmd`. An empty list is the same as none (the image's `Cmd` stays), as docker's. */
  cmd?: string[];
  /**
   * Replaces the image's `Entrypoint`, and then also drops the image's `Cmd` (docker's rule: only `cmd` given
   * here is kept). `[]` (or `['']`, what `--entrypoint ""` sends) clears the entrypoint. Default: the image's.
   */
  entrypoint?: string[];
  /**
   * `KEY=value` entries merged over the image's `Env` (a key given here wins); a bare `KEY` removes that key, as
   * dockerd does (a CLI resolves `-e KEY` from its own environment first: see `parseEnvFlag`).
   */
  env?: string[];
  /** Working directory: absolute; created in the rootfs when missing. Default: the image's `WorkingDir`, else `/`. */
  workdir?: string;
  /** `name`, `uid`, `name:group` or `uid:gid`, resolved in the image's /etc/passwd and /etc/group. Default: the image's `User`, else root. */
  user?: string;
  /** Give the process a terminal (and `TERM=xterm`). Default `false`. */
  tty?: boolean;
  /** Keep stdin open (docker's `-i`, `OpenStdin`). Default `false`. */
  stdin?: boolean;
  /** Labels merged over the image's (a key given here wins). Default: the image's. */
  labels?: Record<string, string>;
  /** Hostname, 1–63 letters, digits, `-` and `.`. Default: the first 12 characters of the id, or the host's name with `network: 'host'`. */
  hostname?: string;
  /** Bind and tmpfs mounts; no two on the same target. Default none. */
  mounts?: ContainerMount[];
  /** Cgroup limits. Default none. */
  resources?: ContainerResources;
  /** Capabilities added to docker's default set (`ALL`: every one the engine holds). Names with or without `CAP_`. */
  capAdd?: string[];
  /** Capabilities removed from docker's default set (`ALL`: all; then only `capAdd` is kept). */
  capDrop?: string[];
  /** All capabilities the engine holds, no seccomp, no masked or read-only paths, the host's devices. Default `false`. */
  privileged?: boolean;
  /** Mount the root filesystem read-only. Default `false`. */
  readonlyRootfs?: boolean;
  /** Run `tini` as pid 1, forwarding signals and reaping zombies (docker's `--init`). Default `false`. */
  init?: boolean;
  /** Network mode. Default `'none'`. */
  network?: NetworkMode;
  /** Signal that stops the container, e.g. `SIGTERM`, `TERM` or `15`. Default: the image's `StopSignal`, else `SIGTERM`. */
  stopSignal?: string;
  /** Seconds between the stop signal and SIGKILL on stop; `-1` waits forever. Default 10. */
  stopTimeout?: number;
  /** Remove the container when it exits (docker's `--rm`). Default `false`. */
  autoRemove?: boolean;
  /** When to pull the image. Default `'missing'`. */
  pull?: PullPolicy;
  /** The image's platform, `os[/arch[/variant]]`. Default: the host's. */
  platform?: string;
  /** Set no_new_privs (docker's `--security-opt no-new-privileges`): setuid binaries gain nothing. Default `false`, as docker's. */
  noNewPrivileges?: boolean;
  /** Resource limits (docker's `--ulimit`), never above the engine's own. Default: the engine's own limits. */
  ulimits?: RlimitRequest[];
}

/** The stop signal when neither the options nor the image's `StopSignal` name one. */
export const DEFAULT_STOP_SIGNAL = 'SIGTERM';

/** Every default of {@link CreateOptions} that is a plain value, in one place (the others come from the image). */
export const CREATE_DEFAULTS = {
  tty: false,
  stdin: false,
  privileged: false,
  readonlyRootfs: false,
  init: false,
  network: 'none',
  stopTimeout: 10,
  autoRemove: false,
  pull: 'missing',
  noNewPrivileges: false,
} as const satisfies Partial<CreateOptions>;

/** Create options with every {@link CREATE_DEFAULTS} key set. */
export type CreateOptionsWithDefaults = CreateOptions & Required<Pick<CreateOptions, keyof typeof CREATE_DEFAULTS>>;

/** `options` with every {@link CREATE_DEFAULTS} value filled in where the option is missing or `undefined`. Pure. */
export function applyCreateDefaults(options: CreateOptions): CreateOptionsWithDefaults {
  const d = CREATE_DEFAULTS;
  return {
    ...options,
    tty: options.tty ?? d.tty,
    stdin: options.stdin ?? d.stdin,
    privileged: options.privileged ?? d.privileged,
    readonlyRootfs: options.readonlyRootfs ?? d.readonlyRootfs,
    init: options.init ?? d.init,
    network: options.network ?? d.network,
    stopTimeout: options.stopTimeout ?? d.stopTimeout,
    autoRemove: options.autoRemove ?? d.autoRemove,
    pull: options.pull ?? d.pull,
    noNewPrivileges: options.noNewPrivileges ?? d.noNewPrivileges,
  };
}

const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const HOSTNAME_PATTERN = /^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/;
const CPUSET_PATTERN = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
const PROPAGATIONS: readonly string[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
/** Docker refuses less memory than this (`linuxMinMemory`). */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

function invalid(option: string, message: string): never {
  throw newError('ERR_INVALID_ARGUMENT', `options.${option} ${message}`, { details: { option } });
}

function checkStringValue(value: unknown, option: string, allowEmpty = false): asserts value is string {
  if (typeof value !== 'string' || value.includes('\0') || (!allowEmpty && value === '')) {
    invalid(option, `must be a ${allowEmpty ? '' : 'non-empty '}string without NUL bytes`);
  }
}

function checkStrings(value: unknown, option: string, allowEmpty = true): asserts value is string[] {
  if (!Array.isArray(value)) invalid(option, 'must be an array of strings');
  value.forEach((v, i) => {
    checkStringValue(v, `${option}[${i}]`, allowEmpty);
  });
}

function checkBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'boolean') invalid(option, 'must be a boolean');
}

function checkInt(value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER, extra?: number): asserts value is number {
  if (value === extra) return;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    invalid(option, `must be an integer from ${min} to ${max}${extra === undefined ? '' : ` or ${extra}`}, got ${String(value)}`);
  }
}

function checkAbsolutePath(value: unknown, option: string): asserts value is string {
  checkStringValue(value, option);
  if (!isAbsolute(value)) invalid(option, `must be an absolute path, got "${value}"`);
}

/**
 * Whether `value` names a signal: `SIGTERM`, `TERM`, `15`, `SIGRTMIN+3`… (docker's `signal.ParseSignal`).
 * Pure.
 */
export function isSignalName(value: string): boolean {
  if (/^\d+$/.test(value)) return Number(value) >= 1 && Number(value) <= 64;
  const name = value.toUpperCase().startsWith('SIG') ? value.toUpperCase() : `SIG${value.toUpperCase()}`;
  return Object.hasOwn(osConstants.signals, name) || /^SIGRTMIN(\+\d{1,2})?$|^SIGRTMAX(-\d{1,2})?$/.test(name);
}

function checkMount(m: unknown, option: string): void {
  if (typeof m !== 'object' || m === null) invalid(option, 'must be an object');
  const mount = m as Record<string, unknown>;
  checkAbsolutePath(mount.target, `${option}.target`);
  if (posix.normalize(mount.target) === '/') invalid(`${option}.target`, 'must not be /');
  checkBoolean(mount.readonly, `${option}.readonly`);
  if (mount.type === 'bind') {
    checkAbsolutePath(mount.source, `${option}.source`);
    if (mount.propagation !== undefined && !PROPAGATIONS.includes(mount.propagation as string)) {
      invalid(`${option}.propagation`, `must be one of ${PROPAGATIONS.join(', ')}`);
    }
    checkBoolean(mount.createSource, `${option}.createSource`);
  } else if (mount.type === 'tmpfs') {
    if (mount.size !== undefined) checkInt(mount.size, `${option}.size`, 1);
    if (mount.mode !== undefined) checkInt(mount.mode, `${option}.mode`, 0, 0o7777);
  } else {
    invalid(`${option}.type`, `must be "bind" or "tmpfs", got ${JSON.stringify(mount.type)}`);
  }
}

function checkResources(r: unknown): void {
  if (typeof r !== 'object' || r === null) invalid('resources', 'must be an object');
  const res = r as ContainerResources;
  if (res.memory !== undefined) checkInt(res.memory, 'resources.memory', MIN_MEMORY_BYTES);
  if (res.memorySwap !== undefined) {
    if (res.memory === undefined) invalid('resources.memorySwap', 'needs resources.memory');
    checkInt(res.memorySwap, 'resources.memorySwap', res.memory, Number.MAX_SAFE_INTEGER, -1);
  }
  if (res.cpus !== undefined) {
    const max = hostCpus().length;
    if (typeof res.cpus !== 'number' || !Number.isFinite(res.cpus) || res.cpus < 0.01 || res.cpus > max) {
      invalid('resources.cpus', `must be a number from 0.01 to ${max} (the host's CPUs), got ${String(res.cpus)}`);
    }
  }
  if (res.cpuShares !== undefined) checkInt(res.cpuShares, 'resources.cpuShares', 2, 262_144);
  if (res.cpusetCpus !== undefined) {
    checkStringValue(res.cpusetCpus, 'resources.cpusetCpus');
    if (!CPUSET_PATTERN.test(res.cpusetCpus)) invalid('resources.cpusetCpus', `must be a CPU list like 0-1,3, got "${res.cpusetCpus}"`);
  }
  if (res.pidsLimit !== undefined) checkInt(res.pidsLimit, 'resources.pidsLimit', 1, Number.MAX_SAFE_INTEGER, -1);
}

function checkCaps(value: unknown, option: string): void {
  checkStrings(value, option, false);
  for (const [i, c] of value.entries()) {
    try {
      normalizeCapability(c, true);
    } catch (err) {
      throw newError('ERR_INVALID_ARGUMENT', `options.${option}[${i}]: unknown capability "${c}"`, { cause: err, details: { option } });
    }
  }
}

const ONE_OF: Record<string, readonly string[]> = { network: ['none', 'host'], pull: ['missing', 'always', 'never'] };

/**
 * Checks create options before any work: types, ranges, formats and conflicts, as dockerd's validation does.
 * Pure (reads only the host's CPU count).
 *
 * @throws ERR_INVALID_ARGUMENT naming the option (`details.option`, e.g. `mounts[1].target`).
 */
export function validateCreateOptions(options: CreateOptions): void {
  if (typeof options !== 'object' || options === null) throw newError('ERR_INVALID_ARGUMENT', 'options must be an object');
  const o = options;
  if (o.name !== undefined) {
    checkStringValue(o.name, 'name');
    if (!NAME_PATTERN.test(o.name)) invalid('name', `"${o.name}" must match [a-zA-Z0-9][a-zA-Z0-9_.-]+`);
  }
  for (const key of ['cmd', 'entrypoint', 'env'] as const) if (o[key] !== undefined) checkStrings(o[key], key);
  for (const [i, e] of (o.env ?? []).entries()) if (e === '' || e.startsWith('=')) invalid(`env[${i}]`, `"${e}" has an empty key`);
  if (o.workdir !== undefined) checkAbsolutePath(o.workdir, 'workdir');
  if (o.user !== undefined) {
    checkStringValue(o.user, 'user');
    if (!/^[^:]+(:[^:]+)?$/.test(o.user)) invalid('user', `"${o.user}" must be name, uid, name:group or uid:gid`);
  }
  for (const key of ['tty', 'stdin', 'privileged', 'readonlyRootfs', 'init', 'autoRemove', 'noNewPrivileges'] as const) checkBoolean(o[key], key);
  if (o.labels !== undefined) {
    if (typeof o.labels !== 'object' || o.labels === null || Array.isArray(o.labels)) invalid('labels', 'must be an object of strings');
    for (const [k, v] of Object.entries(o.labels)) {
      checkStringValue(k, 'labels (a key)');
      checkStringValue(v, `labels.${k}`, true);
    }
  }
  if (o.hostname !== undefined) {
    checkStringValue(o.hostname, 'hostname');
    if (!HOSTNAME_PATTERN.test(o.hostname)) invalid('hostname', `"${o.hostname}" must be 1-63 letters, digits, "-" and "."`);
  }
  if (o.mounts !== undefined) {
    if (!Array.isArray(o.mounts)) invalid('mounts', 'must be an array');
    const targets = new Set<string>();
    o.mounts.forEach((m, i) => {
      checkMount(m, `mounts[${i}]`);
      const target = posix.normalize(m.target).replace(/\/$/, '');
      if (targets.has(target)) invalid(`mounts[${i}].target`, `duplicates mount point ${target}`);
      targets.add(target);
    });
  }
  if (o.resources !== undefined) checkResources(o.resources);
  if (o.capAdd !== undefined) checkCaps(o.capAdd, 'capAdd');
  if (o.capDrop !== undefined) checkCaps(o.capDrop, 'capDrop');
  for (const key of ['network', 'pull'] as const) {
    const v = o[key];
    if (v !== undefined && !ONE_OF[key]!.includes(v)) invalid(key, `must be one of ${ONE_OF[key]!.map((x) => `'${x}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  if (o.stopSignal !== undefined) {
    checkStringValue(o.stopSignal, 'stopSignal');
    if (!isSignalName(o.stopSignal)) invalid('stopSignal', `"${o.stopSignal}" is not a signal`);
  }
  if (o.stopTimeout !== undefined) checkInt(o.stopTimeout, 'stopTimeout', 0, Number.MAX_SAFE_INTEGER, -1);
  if (o.platform !== undefined) {
    checkStringValue(o.platform, 'platform');
    try {
      parsePlatform(o.platform);
    } catch (err) {
      throw newError('ERR_INVALID_ARGUMENT', `options.platform "${o.platform}" is not os[/arch[/variant]]`, { cause: err, details: { option: 'platform' } });
    }
  }
  if (o.ulimits !== undefined) {
    if (!Array.isArray(o.ulimits)) invalid('ulimits', 'must be an array of { type, soft, hard }');
    o.ulimits.forEach((u, i) => {
      if (typeof u !== 'object' || u === null) invalid(`ulimits[${i}]`, 'must be { type, soft, hard }');
      checkStringValue(u.type, `ulimits[${i}].type`);
      try {
        normalizeRlimitType(u.type);
      } catch (err) {
        throw newError('ERR_INVALID_ARGUMENT', `options.ulimits[${i}].type "${u.type}" is not a resource limit`, {
          cause: err,
          details: { option: `ulimits[${i}].type` },
        });
      }
      for (const k of ['soft', 'hard'] as const) {
        if (u[k] !== Infinity) checkInt(u[k], `ulimits[${i}].${k}`, 0);
      }
      if (u.soft > u.hard) invalid(`ulimits[${i}]`, 'has its soft limit above its hard limit');
    });
  }
}
