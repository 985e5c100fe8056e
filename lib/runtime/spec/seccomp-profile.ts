import { release } from 'node:os';
import { newError } from '../../errors/index.js';
import type { LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSyscall } from '../../oci/runtime-spec.js';

// Seccomp profiles in Docker's file format (the format of moby's `profiles/seccomp/default.json`, also what
// `docker run --security-opt seccomp=file.json` reads), and their resolution into the `linux.seccomp` section
// of a runtime spec for one set of capabilities, one architecture and one kernel.

/** A condition on a rule of a {@link SeccompProfile}: every listed criterion must hold. */
export interface SeccompRuleFilter {
  /** Capability names (`CAP_SYS_ADMIN`), matched against the process's bounding set. */
  readonly caps?: readonly string[];
  /** Architectures by their native names: `amd64`, `x86`, `x32`, `arm`, `arm64`, `ppc64le`, `s390x`… */
  readonly arches?: readonly string[];
  /** A kernel version such as `4.8`, compared with the running kernel. */
  readonly minKernel?: string;
}

/** One rule of a {@link SeccompProfile}: a runtime-spec syscall rule, kept or dropped by its filters. */
export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: LinuxSeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly LinuxSeccompArg[];
  /** The rule is kept only when all of these hold (all caps present, the arch listed, the kernel new enough). */
  readonly includes?: SeccompRuleFilter;
  /** The rule is dropped when any of these holds (any cap present, the arch listed, the kernel new enough). */
  readonly excludes?: SeccompRuleFilter;
  readonly comment?: string;
}

/** An architecture and the sub-architectures that go with it (`SCMP_ARCH_X86_64` with `X86` and `X32`). */
export interface SeccompArchMapEntry {
  readonly architecture: string;
  readonly subArchitectures?: readonly string[] | null;
}

/**
 * A seccomp profile in Docker's JSON format. A plain runtime-spec `LinuxSeccomp` is one too (a profile without
 * filters or arch map resolves to itself).
 */
export interface SeccompProfile {
  readonly defaultAction: LinuxSeccompAction;
  readonly defaultErrnoRet?: number;
  /** Explicit architectures; not together with `archMap`. */
  readonly architectures?: readonly string[] | null;
  /** Architectures per host architecture: only the host's entry is used. */
  readonly archMap?: readonly SeccompArchMapEntry[] | null;
  readonly flags?: readonly string[] | null;
  readonly listenerPath?: string;
  readonly listenerMetadata?: string;
  readonly syscalls?: readonly SeccompRule[] | null;
}

/** Options of {@link resolveSeccompProfile}. */
export interface ResolveSeccompOptions {
  /** The process's bounding capability set, which `caps` filters are matched against. Default: none. */
  capabilities?: readonly string[];
  /** A Node `process.arch` value (`x64`, `arm64`…) or a native name (`amd64`). Default `process.arch`. */
  arch?: string;
  /** The kernel release compared with `minKernel` filters, e.g. `6.1.0-18-amd64`. Default `os.release()`. */
  kernelRelease?: string;
}

// Node's process.arch → the native names profiles filter on (moby's names; ppc64 Node builds are little-endian).
const NODE_TO_NATIVE: Record<string, string> = {
  x64: 'amd64',
  ia32: 'x86',
  arm: 'arm',
  arm64: 'arm64',
  ppc64: 'ppc64le',
  s390: 's390',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
  mips: 'mips',
  mipsel: 'mipsel',
};

// Native names → libseccomp's architecture tokens, for picking the host's archMap entry.
const NATIVE_TO_SCMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  x86: 'SCMP_ARCH_X86',
  x32: 'SCMP_ARCH_X32',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  loongarch64: 'SCMP_ARCH_LOONGARCH64',
  mips: 'SCMP_ARCH_MIPS',
  mipsel: 'SCMP_ARCH_MIPSEL',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
};

/** The native architecture name (`amd64`, `arm64`…) for a Node `process.arch` value; native names pass through. */
export function nativeArch(arch: string = process.arch): string {
  return NODE_TO_NATIVE[arch] ?? arch;
}

/** `major.minor` of a kernel release string (`6.1.0-18-amd64` → `[6, 1]`), or undefined when it has none. */
function kernelVersion(text: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function kernelAtLeast(running: [number, number], wanted: string): boolean {
  const want = kernelVersion(wanted);
  if (want === undefined) throw newError('ERR_INVALID_ARGUMENT', `seccomp profile: minKernel "${wanted}" is not a kernel version`);
  return running[0] !== want[0] ? running[0] > want[0] : running[1] >= want[1];
}

interface Host {
  arch: string;
  caps: ReadonlySet<string>;
  kernel: [number, number];
}

function keepRule(rule: SeccompRule, host: Host): boolean {
  const ex = rule.excludes;
  if (ex) {
    if (ex.arches?.includes(host.arch)) return false;
    if (ex.caps?.some((c) => host.caps.has(c))) return false;
    if (ex.minKernel !== undefined && kernelAtLeast(host.kernel, ex.minKernel)) return false;
  }
  const inc = rule.includes;
  if (inc) {
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(host.arch)) return false;
    if (inc.caps && !inc.caps.every((c) => host.caps.has(c))) return false;
    if (inc.minKernel !== undefined && !kernelAtLeast(host.kernel, inc.minKernel)) return false;
  }
  return true;
}

function toSyscall(rule: SeccompRule): LinuxSyscall {
  if (!Array.isArray(rule.names) || rule.names.length === 0) {
    throw newError('ERR_INVALID_ARGUMENT', 'seccomp profile: every syscall rule needs a non-empty "names" list');
  }
  const out: LinuxSyscall = { names: [...rule.names], action: rule.action };
  if (rule.errnoRet !== undefined) out.errnoRet = rule.errnoRet;
  if (rule.args && rule.args.length > 0) out.args = rule.args.map((a) => ({ ...a }));
  return out;
}

/**
 * Turns a profile in Docker's format into the `linux.seccomp` section of a runtime spec, the way moby's
 * `setupSeccomp` does: the architectures are the host's `archMap` entry (its architecture and
 * sub-architectures), and each rule is kept only when its `includes` all hold and none of its `excludes` does,
 * for the given bounding capabilities, architecture and kernel. Pure apart from reading `os.release()` when
 * `kernelRelease` is not given.
 *
 * @throws ERR_INVALID_ARGUMENT when the profile has both `architectures` and `archMap`, a rule without names,
 *   or a `minKernel` that is not a version; or when the kernel release cannot be parsed.
 */
export function resolveSeccompProfile(profile: SeccompProfile, options: ResolveSeccompOptions = {}): LinuxSeccomp {
  if (typeof profile !== 'object' || profile === null || typeof profile.defaultAction !== 'string') {
    throw newError('ERR_INVALID_ARGUMENT', 'seccomp profile: defaultAction is required');
  }
  if (profile.architectures && profile.architectures.length > 0 && profile.archMap && profile.archMap.length > 0) {
    throw newError('ERR_INVALID_ARGUMENT', 'seccomp profile: use either "architectures" or "archMap", not both');
  }
  const releaseText = options.kernelRelease ?? release();
  const kernel = kernelVersion(releaseText);
  if (kernel === undefined) throw newError('ERR_INVALID_ARGUMENT', `kernel release "${releaseText}" has no version`);
  const host: Host = { arch: nativeArch(options.arch), caps: new Set(options.capabilities ?? []), kernel };

  const out: LinuxSeccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  const architectures = [...(profile.architectures ?? [])];
  const scmpArch = NATIVE_TO_SCMP[host.arch];
  const entry = profile.archMap?.find((e) => e.architecture === scmpArch);
  if (entry) architectures.push(entry.architecture, ...(entry.subArchitectures ?? []));
  if (architectures.length > 0) out.architectures = architectures;
  if (profile.flags && profile.flags.length > 0) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  out.syscalls = (profile.syscalls ?? []).filter((r) => keepRule(r, host)).map(toSyscall);
  return out;
}
