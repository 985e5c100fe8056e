import { endianness } from 'node:os';
import { type ContainerkitError, newError } from '../errors/index.js';

/**
 * The platform an image or runtime is built for, with the OCI image-spec field names (as found in an index's
 * `manifests[].platform` and in image configs). Values follow Go's GOOS/GOARCH (`linux`, `amd64`, `arm64`).
 */
export interface Platform {
  /** CPU architecture, e.g. `amd64`, `arm64`, `arm`, `386`, `s390x`. */
  architecture: string;
  /** Operating system, e.g. `linux`, `windows`. */
  os: string;
  /** OS version, used by Windows images (`10.0.17763.1234`). */
  'os.version'?: string;
  /** Required OS features, e.g. `win32k`. */
  'os.features'?: string[];
  /** CPU variant, e.g. `v7` for 32-bit arm, `v8.2` for arm64, `v3` for amd64. */
  variant?: string;
}

// Go's go/build syslist: single-component specifiers are looked up here (OS first, then architecture).
const KNOWN_OS = new Set([
  'aix',
  'android',
  'darwin',
  'dragonfly',
  'freebsd',
  'hurd',
  'illumos',
  'ios',
  'js',
  'linux',
  'nacl',
  'netbsd',
  'openbsd',
  'plan9',
  'solaris',
  'windows',
  'zos',
]);
const KNOWN_ARCH = new Set([
  '386',
  'amd64',
  'amd64p32',
  'arm',
  'armbe',
  'arm64',
  'arm64be',
  'ppc64',
  'ppc64le',
  'loong64',
  'mips',
  'mipsle',
  'mips64',
  'mips64le',
  'mips64p32',
  'mips64p32le',
  'ppc',
  'riscv',
  'riscv64',
  's390',
  's390x',
  'sparc',
  'sparc64',
  'wasm',
]);

/** Whether `os` (normalised) is an operating system Go knows. */
export function isKnownOS(os: string): boolean {
  return KNOWN_OS.has(os);
}

/** Whether `architecture` (normalised) is an architecture Go knows. */
export function isKnownArchitecture(architecture: string): boolean {
  return KNOWN_ARCH.has(architecture);
}

function normalizeOS(os: string): string {
  const lower = os.toLowerCase();
  return lower === 'macos' ? 'darwin' : lower;
}

// containerd's table: common aliases become Go names, and the variant is spelled `vN`, with the "default"
// variants of amd64 (v1) and arm64 (v8) dropped and 32-bit arm defaulting to v7.
function normalizeArch(architecture: string, variant: string): [string, string] {
  const arch = architecture.toLowerCase();
  const v = variant.toLowerCase();
  switch (arch) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', v === 'v1' ? '' : v];
    case 'aarch64':
    case 'arm64':
      if (v === '8' || v === 'v8' || v === 'v8.0') return ['arm64', ''];
      return ['arm64', v === '9' || v === '9.0' || v === 'v9.0' ? 'v9' : v];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (v === '' || v === '7') return ['arm', 'v7'];
      return ['arm', v === '5' || v === '6' || v === '8' ? `v${v}` : v];
    default:
      return [arch, v];
  }
}

function invalidPlatform(input: string, problem: string, details: Record<string, unknown> = {}, cause?: unknown): ContainerkitError {
  const shown = JSON.stringify(input.length > 200 ? `${input.slice(0, 200)}…` : input);
  return newError('ERR_INVALID_PLATFORM', `invalid platform ${shown}: ${problem}`, { cause, details: { platform: input, ...details } });
}

function buildPlatform(os: string, architecture: string, variant: string, version = '', features: readonly string[] = []): Platform {
  const platform: Platform = { architecture, os };
  if (version !== '') platform['os.version'] = version;
  if (features.length > 0) platform['os.features'] = [...features];
  if (variant !== '') platform.variant = variant;
  return platform;
}

/**
 * Returns the canonical form of a platform: lower-case OS (`macos` → `darwin`), Go architecture names
 * (`aarch64` → `arm64`, `x86_64`/`x86-64` → `amd64`, `i386` → `386`, `armhf` → `arm/v7`, `armel` → `arm/v6`),
 * variants as `vN` (`arm` without variant → `v7`; `arm64/v8` and `amd64/v1` lose their variant, `arm64/v9.0` is
 * `v9`) and sorted,
 * de-duplicated `os.features`. Unlike containerd, an empty OS stays empty instead of becoming the host's.
 *
 * @throws ERR_INVALID_PLATFORM when `os` or `architecture` is not a string, or another field has a wrong type.
 */
export function normalizePlatform(platform: Platform): Platform {
  if (typeof platform !== 'object' || platform === null) throw invalidPlatform(String(platform), 'platform must be an object');
  const { os, architecture, variant = '', 'os.version': version = '', 'os.features': features = [] } = platform;
  const shown = `${String(os)}/${String(architecture)}`;
  if (typeof os !== 'string') throw invalidPlatform(shown, 'os must be a string', { field: 'os' });
  if (typeof architecture !== 'string') throw invalidPlatform(shown, 'architecture must be a string', { field: 'architecture' });
  if (typeof variant !== 'string') throw invalidPlatform(shown, 'variant must be a string', { field: 'variant' });
  if (typeof version !== 'string') throw invalidPlatform(shown, 'os.version must be a string', { field: 'os.version' });
  if (!Array.isArray(features) || features.some((f) => typeof f !== 'string')) {
    throw invalidPlatform(shown, 'os.features must be an array of strings', { field: 'os.features' });
  }
  const [arch, v] = normalizeArch(architecture, variant);
  return buildPlatform(normalizeOS(os), arch, v, version, [...new Set(features)].sort());
}

const OS_PART = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$/;
const OTHER_PART = /^[A-Za-z0-9_.-]+$/;

function decodeOption(input: string, value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch (err) {
    throw invalidPlatform(input, `bad %-escape in OS option "${value}"`, { component: value }, err);
  }
}

/** Options of {@link parsePlatform}. */
export interface ParsePlatformOptions {
  /** Fills in the part a single-component specifier leaves out. Default: {@link hostPlatform}(). */
  host?: Platform;
}

/**
 * Parses a platform specifier the way containerd's `platforms.Parse` does: `os`, `arch` or `os/arch[/variant]`,
 * where `os` may carry options, `os(version+feature+…)` (values %-escaped). A single component is an OS if Go
 * knows it (the architecture and variant are then the host's), else an architecture (the OS is the host's).
 * The result is normalised ({@link normalizePlatform}) except that a two-part `os/arm` leaves the default `v7`
 * off, a three-part `os/arm64/v8` keeps its `v8` (so that formatting round-trips), and OS features keep the
 * order given.
 *
 * @throws ERR_INVALID_PLATFORM naming the bad component: empty or malformed components, more than three
 *   parts, wildcards, or a single component that is neither a known OS nor a known architecture.
 */
export function parsePlatform(specifier: string, options: ParsePlatformOptions = {}): Platform {
  if (typeof specifier !== 'string') throw invalidPlatform(String(specifier), 'specifier must be a string');
  if (specifier.includes('*')) throw invalidPlatform(specifier, 'wildcards are not supported');
  const parts = specifier.split('/');
  if (parts.length > 3) throw invalidPlatform(specifier, 'expected os[/arch[/variant]], got more than three parts');
  const [first = '', ...rest] = parts;
  const osMatch = OS_PART.exec(first);
  if (!osMatch) {
    throw invalidPlatform(specifier, `OS component "${first}" must match ${OS_PART.source}`, { component: first });
  }
  for (const part of rest) {
    if (!OTHER_PART.test(part)) {
      throw invalidPlatform(specifier, `component "${part}" must match ${OTHER_PART.source}`, { component: part });
    }
  }
  const os = normalizeOS(osMatch[1] ?? '');
  const version = decodeOption(specifier, osMatch[2] ?? '');
  const features = (osMatch[3] ?? '')
    .split('+')
    .slice(1)
    .map((f) => decodeOption(specifier, f));

  if (rest.length === 0) {
    const host = normalizePlatform(options.host ?? hostPlatform());
    if (isKnownOS(os)) {
      // Only 32-bit arm takes the host's variant, and not the default v7 (as containerd does).
      const variant = host.architecture === 'arm' && host.variant !== 'v7' ? (host.variant ?? '') : '';
      return buildPlatform(os, host.architecture, variant, version, features);
    }
    const [arch, variant] = normalizeArch(first, '');
    if (isKnownArchitecture(arch)) return buildPlatform(host.os, arch, arch === 'arm' && variant === 'v7' ? '' : variant);
    throw invalidPlatform(specifier, `"${first}" is neither a known operating system nor a known architecture`, { component: first });
  }
  const [arch, normalized] = normalizeArch(rest[0] ?? '', rest[1] ?? '');
  let variant = normalized;
  if (rest.length === 1 && arch === 'arm' && variant === 'v7') variant = '';
  if (rest.length === 2 && arch === 'arm64' && variant === '') variant = 'v8';
  return buildPlatform(os, arch, variant, version, features);
}

/** Options of {@link formatPlatform}. */
export interface FormatPlatformOptions {
  /** Also write `os.version` and `os.features` as `os(version+feature…)`. Default false. */
  withOSOptions?: boolean;
}

function encodeOption(value: string): string {
  return value.replace(/[%+()/]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Formats a platform as `os/arch[/variant]` (empty parts left out), or `unknown` when it has no OS. With
 * `withOSOptions`, OS version and sorted features are written too, e.g. `windows(10.0.17763+win32k)/amd64`.
 * The platform is written as given; normalise it first for a canonical string.
 */
export function formatPlatform(platform: Platform, options: FormatPlatformOptions = {}): string {
  if (!platform.os) return 'unknown';
  let os = platform.os;
  if (options.withOSOptions) {
    const features = (platform['os.features'] ?? []).filter((f) => f !== '').sort();
    const opts = encodeOption(platform['os.version'] ?? '') + features.map((f) => `+${encodeOption(f)}`).join('');
    if (opts !== '') os = `${os}(${opts})`;
  }
  return [os, platform.architecture, platform.variant ?? ''].filter((part) => part !== '').join('/');
}

const NODE_OS: Readonly<Record<string, string>> = { win32: 'windows', sunos: 'solaris' };
const NODE_ARCH: Readonly<Record<string, string>> = {
  x64: 'amd64',
  ia32: '386',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
};

/** What {@link platformFromNode} needs beyond `process.platform` and `process.arch`. */
export interface NodePlatformHints {
  /** The ARM architecture version node was built for (`process.config.variables.arm_version`); default 7. */
  armVersion?: string | number;
  /** Byte order, which tells ppc64 from ppc64le. Default `'LE'`. */
  endianness?: 'LE' | 'BE';
}

/**
 * Maps node's names (`process.platform`, `process.arch`) to an OCI platform: `win32` → `windows`,
 * `sunos` → `solaris`, `x64` → `amd64`, `ia32` → `386`, `arm` → `arm/v<armVersion>`, little-endian `ppc64` →
 * `ppc64le`, `mipsel` → `mipsle`; other names pass through. The result is normalised.
 */
export function platformFromNode(nodePlatform: string, nodeArch: string, hints: NodePlatformHints = {}): Platform {
  const os = NODE_OS[nodePlatform] ?? nodePlatform;
  let arch = NODE_ARCH[nodeArch] ?? nodeArch;
  let variant = '';
  if (arch === 'ppc64' && (hints.endianness ?? 'LE') === 'LE') arch = 'ppc64le';
  if (arch === 'arm') variant = `v${String(hints.armVersion ?? 7)}`;
  return normalizePlatform(buildPlatform(os, arch, variant));
}

/**
 * The platform of the running process, from `process.platform`/`process.arch`. For 32-bit arm the variant is
 * the one node was compiled for (v7 when unknown); /proc/cpuinfo is not read, as L1 does no I/O.
 */
export function hostPlatform(): Platform {
  const variables = process.config?.variables as unknown as Record<string, unknown> | undefined;
  const armVersion = variables?.['arm_version'];
  return platformFromNode(process.platform, process.arch, {
    armVersion: typeof armVersion === 'string' || typeof armVersion === 'number' ? armVersion : undefined,
    endianness: endianness(),
  });
}
