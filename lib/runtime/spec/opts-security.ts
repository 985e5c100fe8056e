import { newError } from '../../errors/index.js';
import type { Spec } from '../../oci/runtime-spec.js';
import { KNOWN_CAPABILITIES, normalizeCapability, readPermittedCapabilities } from './capabilities.js';
import type { SeccompProfile } from './seccomp-profile.js';
import { type SpecOpt, setCapabilities, setLinux, setResources } from './spec-opt.js';

// Options on what the process may do: capabilities, seccomp, privileged mode.

function normalizeList(caps: readonly string[], what: string, allowAll: boolean): string[] {
  if (!Array.isArray(caps)) throw newError('ERR_INVALID_ARGUMENT', `${what}: capabilities must be an array`);
  return [...new Set(caps.map((c) => normalizeCapability(c, allowAll)))];
}

/**
 * Sets the bounding, effective and permitted capability sets to exactly `caps` (names with or without `CAP_`,
 * any case), and keeps only those of them in the inheritable set. The seccomp profile follows: it is resolved
 * for the final bounding set.
 *
 * @throws ERR_INVALID_ARGUMENT for an unknown capability.
 */
export function withCapabilities(caps: readonly string[]): SpecOpt {
  const list = normalizeList(caps, 'withCapabilities', false);
  return (_ctx, spec) => {
    const c = setCapabilities(spec);
    c.bounding = [...list];
    c.effective = [...list];
    c.permitted = [...list];
    if (c.inheritable) c.inheritable = c.inheritable.filter((x) => list.includes(x));
  };
}

/**
 * Adds capabilities to the bounding, effective and permitted sets (`ALL` adds every known one). A capability
 * the calling process lacks makes runc fail; see {@link withPrivileged} for "all that can be had".
 *
 * @throws ERR_INVALID_ARGUMENT for an unknown capability.
 */
export function withAddedCapabilities(caps: readonly string[]): SpecOpt {
  const requested = normalizeList(caps, 'withAddedCapabilities', true);
  const list = requested.includes('ALL') ? [...KNOWN_CAPABILITIES] : requested;
  return (_ctx, spec) => {
    const c = setCapabilities(spec);
    for (const set of ['bounding', 'effective', 'permitted'] as const) {
      const current = c[set] ?? [];
      c[set] = [...current, ...list.filter((x) => !current.includes(x))];
    }
  };
}

/**
 * Removes capabilities from every set (`ALL` empties them).
 *
 * @throws ERR_INVALID_ARGUMENT for an unknown capability.
 */
export function withDroppedCapabilities(caps: readonly string[]): SpecOpt {
  const list = normalizeList(caps, 'withDroppedCapabilities', true);
  const all = list.includes('ALL');
  return (_ctx, spec) => {
    const c = setCapabilities(spec);
    for (const set of ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const) {
      if (c[set]) c[set] = all ? [] : c[set]!.filter((x) => !list.includes(x));
    }
  };
}

/**
 * Uses `profile` for seccomp: a profile in Docker's JSON format (resolved at the end of spec generation for the
 * final capabilities and the host architecture) or a ready runtime-spec `linux.seccomp` section.
 *
 * @throws ERR_INVALID_ARGUMENT when `profile` has no `defaultAction`.
 */
export function withSeccompProfile(profile: SeccompProfile): SpecOpt {
  if (typeof profile !== 'object' || profile === null || typeof profile.defaultAction !== 'string') {
    throw newError('ERR_INVALID_ARGUMENT', 'withSeccompProfile: profile.defaultAction is required');
  }
  return (ctx, spec) => {
    ctx.seccompProfile = profile;
    if (spec.linux) delete spec.linux.seccomp;
  };
}

/** Runs the container without a seccomp filter (Docker's `--security-opt seccomp=unconfined`). */
export function withoutSeccomp(): SpecOpt {
  return (ctx, spec) => {
    ctx.seccompProfile = undefined;
    if (spec.linux) delete spec.linux.seccomp;
  };
}

/** Makes `/sys` and cgroup mounts read-write, as privileged containers have them. */
function makeSystemMountsWritable(spec: Spec): void {
  for (const m of spec.mounts ?? []) {
    if ((m.type === 'sysfs' || m.type === 'cgroup') && m.options) m.options = m.options.map((o) => (o === 'ro' ? 'rw' : o));
  }
}

/**
 * A privileged container, like containerd's `WithPrivileged` and `docker run --privileged`: every capability the
 * calling process holds (its permitted set: a runtime it starts cannot grant more), no seccomp filter, no masked
 * or read-only paths, writable `/sys` and cgroup mounts, and every device allowed in the device cgroup.
 *
 * @throws ERR_IO when `/proc/self/status` cannot be read.
 */
export function withPrivileged(): SpecOpt {
  return async (ctx, spec) => {
    const caps = await readPermittedCapabilities({ signal: ctx.signal });
    const c = setCapabilities(spec);
    c.bounding = [...caps];
    c.effective = [...caps];
    c.permitted = [...caps];
    ctx.seccompProfile = undefined;
    const linux = setLinux(spec);
    delete linux.seccomp;
    delete linux.maskedPaths;
    delete linux.readonlyPaths;
    setResources(spec).devices = [{ allow: true, access: 'rwm' }];
    makeSystemMountsWritable(spec);
  };
}
