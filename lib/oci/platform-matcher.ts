import { newError } from '../errors/index.js';
import { formatPlatform, normalizePlatform, type Platform, parsePlatform } from './platform.js';

/**
 * Decides which platforms are acceptable and which of two is better, like containerd's `MatchComparer`.
 * Sort candidates with `less` to get them best-first.
 */
export interface PlatformMatcher {
  /** Whether `platform` is acceptable. */
  match(platform: Platform): boolean;
  /** Whether `a` is preferred over `b` (false when neither or both equally). */
  less(a: Platform, b: Platform): boolean;
  /** A description for messages, e.g. `linux/arm64`. */
  toString(): string;
}

const ARM64_BASE_MAJOR = 8;
const ARM64_V9_TO_V8_MINOR = 5; // v9.0 branched from v8.5, so v9.x runs v8.(x+5) code.

// Version numbers are capped at two digits (one for arm64 minors, as containerd does) so that a hostile
// variant such as `v99999999` cannot make the fallback list huge; such variants simply get no fallbacks.
function versionOf(variant: string | undefined): number | undefined {
  const match = /^v?(\d{1,2})$/.exec(variant ?? '');
  return match ? Number(match[1]) : undefined;
}

// A sibling of `base` (same OS, OS version and features), normalised, so `arm64/v8` shows as plain `arm64`.
function withVariant(base: Platform, architecture: string, variant: string): Platform {
  return normalizePlatform({ ...base, architecture, variant });
}

/**
 * The platforms that can run on `platform`, best first, by containerd's `platforms.Only` rules:
 * - amd64/vN also takes amd64/v(N-1)…v1, then 386 (amd64 always falls back to 386);
 * - arm/vN (N > 5) also takes arm/v(N-1)…v5;
 * - arm64/v8.x takes arm64/v8.(x-1)…v8, arm64/v9.x takes v9.(x-1)…v9 then v8.(x+5)…v8; every arm64 then
 *   falls back to 32-bit arm from v8 (v9 for a plain v9) down to v5.
 * The first entry is `platform` itself, normalised.
 */
export function compatiblePlatforms(platform: Platform): Platform[] {
  const p = normalizePlatform(platform);
  const out: Platform[] = [p];
  if (p.architecture === 'amd64') {
    const level = versionOf(p.variant) ?? 1;
    for (let v = level - 1; v >= 1; v--) out.push(withVariant(p, 'amd64', `v${v}`));
    out.push(withVariant(p, '386', ''));
  } else if (p.architecture === 'arm') {
    const level = versionOf(p.variant) ?? 0;
    for (let v = level - 1; v >= 5; v--) out.push(withVariant(p, 'arm', `v${v}`));
  } else if (p.architecture === 'arm64') {
    let variant = p.variant ?? 'v8';
    const match = /^v(\d{1,2})(?:\.(\d))?$/.exec(variant);
    if (match && Number(match[1]) >= ARM64_BASE_MAJOR) {
      let major = Number(match[1]);
      let minor = match[2] === undefined ? 0 : Number(match[2]);
      if (major === 9) {
        for (let m = minor - 1; m >= 0; m--) out.push(withVariant(p, 'arm64', m === 0 ? 'v9' : `v9.${m}`));
        major = ARM64_BASE_MAJOR;
        minor += ARM64_V9_TO_V8_MINOR;
        out.push(withVariant(p, 'arm64', `v8.${minor}`));
      }
      for (let m = minor - 1; m >= 0; m--) out.push(withVariant(p, 'arm64', m === 0 ? `v${major}` : `v${major}.${m}`));
    }
    if (variant.startsWith('v8.') || variant.startsWith('v9.')) variant = 'v8';
    out.push(...compatiblePlatforms(withVariant(p, 'arm', variant)));
  }
  return out;
}

interface WindowsVersion {
  major: number;
  minor: number;
  build: number;
}

// Windows Server 2022 (build 20348) was the first LTSC release with a stable container ABI: hosts from it on
// run containers of any build from 20348 up to their own; older hosts need the exact build.
const WINDOWS_STABLE_ABI_BUILD = 20348;

function windowsVersion(value: string | undefined): WindowsVersion | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(value ?? '');
  return match ? { major: Number(match[1]), minor: Number(match[2]), build: Number(match[3]) } : undefined;
}

function windowsCompatible(host: WindowsVersion, version: string | undefined): boolean {
  if (!version) return true;
  const image = windowsVersion(version);
  if (!image || image.major !== host.major || image.minor !== host.minor) return false;
  if (host.build < WINDOWS_STABLE_ABI_BUILD) return image.build === host.build;
  return image.build >= WINDOWS_STABLE_ABI_BUILD && image.build <= host.build;
}

/**
 * Exact comparison after normalisation; the candidate's `os.features` must be a subset of the wanted ones
 * (for Windows, `win32k` on the candidate is ignored, as older matchers never looked at it).
 */
function exactMatcher(wanted: Platform): (platform: Platform) => boolean {
  const w = normalizePlatform(wanted);
  const features = new Set(w['os.features'] ?? []);
  const windows = w.os === 'windows';
  const hostVersion = windows ? windowsVersion(w['os.version']) : undefined;
  return (platform) => {
    const p = normalizePlatform(platform);
    return (
      p.os === w.os &&
      p.architecture === w.architecture &&
      (p.variant ?? '') === (w.variant ?? '') &&
      (hostVersion === undefined || windowsCompatible(hostVersion, p['os.version'])) &&
      (p['os.features'] ?? []).every((f) => features.has(f) || (windows && f === 'win32k'))
    );
  };
}

/**
 * A matcher accepting any of `platforms` and preferring them in the order given (containerd's `Ordered`).
 *
 * @throws ERR_INVALID_PLATFORM when an entry is not a valid platform object.
 */
export function orderedPlatformMatcher(platforms: readonly Platform[]): PlatformMatcher {
  const matchers = platforms.map(exactMatcher);
  const description = platforms.map((p) => formatPlatform(p)).join(', ');
  // The index of the first acceptable entry; `less` compares these, which is what containerd's loop computes.
  const rank = (platform: Platform): number => matchers.findIndex((m) => m(platform));
  return {
    match: (platform) => rank(platform) >= 0,
    less: (a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      return ra >= 0 && (rb < 0 || ra < rb);
    },
    toString: () => description,
  };
}

/** Options of {@link platformMatcher}. */
export interface PlatformMatcherOptions {
  /** Accept only `wanted` itself (containerd's `OnlyStrict`), not the platforms it can also run. Default false. */
  strict?: boolean;
}

/**
 * A matcher for what a host of platform `wanted` can run, best first (containerd's `platforms.Only`; see
 * {@link compatiblePlatforms} for the fallbacks). Strings are parsed with {@link parsePlatform}.
 *
 * @throws ERR_INVALID_PLATFORM when `wanted` is not a valid platform or specifier.
 */
export function platformMatcher(wanted: Platform | string, options: PlatformMatcherOptions = {}): PlatformMatcher {
  const platform = typeof wanted === 'string' ? parsePlatform(wanted) : normalizePlatform(wanted);
  const matcher = orderedPlatformMatcher(options.strict ? [platform] : compatiblePlatforms(platform));
  return { ...matcher, toString: () => formatPlatform(platform) };
}

/** A matcher that accepts every platform and prefers none (pull all platforms). */
export const ALL_PLATFORMS: PlatformMatcher = Object.freeze({
  match: () => true,
  less: () => false,
  toString: () => 'all platforms',
});

function toMatcher(wanted: Platform | string | PlatformMatcher): PlatformMatcher {
  if (typeof wanted === 'object' && wanted !== null && typeof (wanted as PlatformMatcher).match === 'function') {
    return wanted as PlatformMatcher;
  }
  return platformMatcher(wanted as Platform | string);
}

/**
 * The candidates (e.g. an index's `manifests`) whose platform matches, best first; equally good ones keep their
 * order. Candidates without a `platform` never match.
 *
 * @throws ERR_INVALID_PLATFORM when `wanted` is invalid or a candidate's platform is malformed.
 */
export function selectPlatforms<T extends { platform?: Platform | undefined }>(candidates: readonly T[], wanted: Platform | string | PlatformMatcher): T[] {
  const matcher = toMatcher(wanted);
  const matching = candidates.filter((c): c is T & { platform: Platform } => c.platform !== undefined && matcher.match(c.platform));
  // Array.prototype.sort is stable, so ties keep the index's order.
  return matching.sort((a, b) => (matcher.less(a.platform, b.platform) ? -1 : matcher.less(b.platform, a.platform) ? 1 : 0));
}

/**
 * The best candidate for `wanted` (see {@link selectPlatforms}).
 *
 * @throws ERR_NO_MATCHING_PLATFORM when none matches; the message lists the platforms on offer.
 * @throws ERR_INVALID_PLATFORM when `wanted` is invalid or a candidate's platform is malformed.
 */
export function selectPlatform<T extends { platform?: Platform | undefined }>(candidates: readonly T[], wanted: Platform | string | PlatformMatcher): T {
  const matcher = toMatcher(wanted);
  const [best] = selectPlatforms(candidates, matcher);
  if (best !== undefined) return best;
  const available = candidates.map((c) => (c.platform ? formatPlatform(c.platform, { withOSOptions: true }) : 'unspecified'));
  throw newError(
    'ERR_NO_MATCHING_PLATFORM',
    `no match for platform ${String(matcher)} among ${available.length === 0 ? 'no candidates' : available.join(', ')}`,
    { details: { wanted: String(matcher), available } },
  );
}
