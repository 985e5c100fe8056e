import { newError } from '../../errors/index.js';
import type { LinuxCpu, Spec } from '../../oci/runtime-spec.js';
import { checkAbsolute, checkInteger, checkString, type SpecOpt, setLinux, setResources } from './spec-opt.js';

// Options on the container's Linux environment: hostname, namespaces, cgroup path and limits, annotations.

function setCpu(spec: Spec): LinuxCpu {
  const resources = setResources(spec);
  resources.cpu ??= {};
  return resources.cpu;
}

/** The CFS period Docker uses for `--cpus`, in microseconds. */
const CFS_PERIOD_US = 100_000;

/**
 * Sets the container's hostname (it has its own UTS namespace by default).
 *
 * @throws ERR_INVALID_ARGUMENT for an empty name or one longer than 64 characters.
 */
export function withHostname(hostname: string): SpecOpt {
  checkString(hostname, 'withHostname: hostname');
  if (hostname.length > 64) throw newError('ERR_INVALID_ARGUMENT', 'withHostname: hostname is longer than 64 characters');
  return (_ctx, spec) => {
    spec.hostname = hostname;
  };
}

/**
 * Limits the container's memory, in bytes (`linux.resources.memory.limit`).
 *
 * @throws ERR_INVALID_ARGUMENT for a value that is not a positive integer.
 */
export function withMemoryLimit(bytes: number): SpecOpt {
  checkInteger(bytes, 'withMemoryLimit: bytes', 1);
  return (_ctx, spec) => {
    const resources = setResources(spec);
    resources.memory = { ...resources.memory, limit: bytes };
  };
}

/**
 * Limits the container to `cpus` CPUs' worth of time, like Docker's `--cpus` (a CFS quota over a 100 ms
 * period; `1.5` gives quota 150000). For pinning to CPUs use `linux.resources.cpu.cpus` instead.
 *
 * @throws ERR_INVALID_ARGUMENT for a value that is not a positive finite number (at least 0.01).
 */
export function withCPUs(cpus: number): SpecOpt {
  if (typeof cpus !== 'number' || !Number.isFinite(cpus) || cpus < 0.01) {
    throw newError('ERR_INVALID_ARGUMENT', `withCPUs: cpus must be a number of at least 0.01, got ${String(cpus)}`);
  }
  return (_ctx, spec) => {
    const cpu = setCpu(spec);
    cpu.quota = Math.round(cpus * CFS_PERIOD_US);
    cpu.period = CFS_PERIOD_US;
  };
}

/**
 * Sets the relative CPU weight (`cpu.shares`, default 1024 in the kernel).
 *
 * @throws ERR_INVALID_ARGUMENT outside 2..262144.
 */
export function withCPUShares(shares: number): SpecOpt {
  checkInteger(shares, 'withCPUShares: shares', 2, 262_144);
  return (_ctx, spec) => {
    setCpu(spec).shares = shares;
  };
}

/**
 * Sets the CFS quota and period in microseconds (`--cpu-quota`, `--cpu-period`); quota -1 means unlimited.
 *
 * @throws ERR_INVALID_ARGUMENT for a quota below 1000 (other than -1) or a period outside 1000..1000000.
 */
export function withCPUQuota(quota: number, period: number = CFS_PERIOD_US): SpecOpt {
  if (quota !== -1) checkInteger(quota, 'withCPUQuota: quota', 1000);
  checkInteger(period, 'withCPUQuota: period', 1000, 1_000_000);
  return (_ctx, spec) => {
    const cpu = setCpu(spec);
    cpu.quota = quota;
    cpu.period = period;
  };
}

/**
 * Limits the number of processes in the container (`pids.max`); -1 means unlimited.
 *
 * @throws ERR_INVALID_ARGUMENT for a value that is neither -1 nor a positive integer.
 */
export function withPidsLimit(limit: number): SpecOpt {
  if (limit !== -1) checkInteger(limit, 'withPidsLimit: limit', 1);
  return (_ctx, spec) => {
    setResources(spec).pids = { limit };
  };
}

/**
 * Joins an existing network namespace (e.g. `/var/run/netns/ck-1` or `/proc/<pid>/ns/net`) instead of creating
 * one; a CNI plugin has usually wired it.
 *
 * @throws ERR_INVALID_ARGUMENT for a relative path.
 */
export function withNetNSPath(path: string): SpecOpt {
  checkAbsolute(path, 'withNetNSPath: path');
  return (_ctx, spec) => {
    const linux = setLinux(spec);
    const others = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network');
    linux.namespaces = [...others, { type: 'network', path }];
  };
}

/** Shares the host's network namespace (Docker's `--network host`): no network namespace entry at all. */
export function withHostNetwork(): SpecOpt {
  return (_ctx, spec) => {
    const linux = setLinux(spec);
    linux.namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network');
  };
}

/**
 * Sets `linux.cgroupsPath`: a path below the cgroup root for the cgroupfs driver (default `/<namespace>/<id>`),
 * or `slice:prefix:name` for runc's `--systemd-cgroup`.
 *
 * @throws ERR_INVALID_ARGUMENT for an empty path.
 */
export function withCgroupsPath(path: string): SpecOpt {
  checkString(path, 'withCgroupsPath: path');
  return (_ctx, spec) => {
    setLinux(spec).cgroupsPath = path;
  };
}

/**
 * Merges annotations into the spec's (a key given again replaces the earlier value).
 *
 * @throws ERR_INVALID_ARGUMENT for an empty key or a non-string value.
 */
export function withAnnotations(annotations: Readonly<Record<string, string>>): SpecOpt {
  if (typeof annotations !== 'object' || annotations === null) throw newError('ERR_INVALID_ARGUMENT', 'withAnnotations: annotations must be an object');
  for (const [k, v] of Object.entries(annotations)) {
    checkString(k, 'withAnnotations: each key');
    checkString(v, `withAnnotations: the value of ${k}`, true);
  }
  return (_ctx, spec) => {
    spec.annotations = { ...spec.annotations, ...annotations };
  };
}
