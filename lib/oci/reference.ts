import { type ContainerkitError, newError } from '../errors/index.js';
import { type Digest, parseDigest } from './digest.js';
import { isIdentifier, isValidTag, matchReference, REFERENCE_PATH_MAX_LENGTH, splitName } from './reference-grammar.js';

/** The registry domain that familiar names (`busybox`, `user/repo`) belong to. */
export const DEFAULT_DOMAIN = 'docker.io';
/** Docker Hub's legacy domain; normalisation rewrites it to {@link DEFAULT_DOMAIN}. */
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
/** The namespace of Docker Hub's official images: `busybox` is `docker.io/library/busybox`. */
export const OFFICIAL_REPO_PREFIX = 'library/';
/** The tag {@link normalizeReference} adds when a reference has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';

/**
 * A parsed image reference. Build one with {@link parseReference}, {@link parseNormalizedReference} and
 * friends; `String(ref)` gives `name[:tag][@digest]`.
 */
export interface Reference {
  /** The registry, `host[:port]`; `''` only for a reference from {@link parseReference} that names none. */
  readonly domain: string;
  /** The repository path inside the registry, e.g. `library/busybox`. */
  readonly path: string;
  /** `domain/path`, or just `path` when there is no domain. */
  readonly name: string;
  /** The tag, when the reference has one. */
  readonly tag?: string;
  /** The digest, when the reference has one (validated by lib/oci/digest). */
  readonly digest?: Digest;
  /** `name[:tag][@digest]`. */
  toString(): string;
}

/** Why a reference was rejected; found in `error.details.reason` of an ERR_INVALID_REFERENCE error. */
export type ReferenceErrorReason =
  | 'empty'
  | 'invalid-format'
  | 'uppercase'
  | 'name-too-long'
  | 'invalid-tag'
  | 'invalid-digest'
  | 'identifier'
  | 'not-canonical';

interface ReferenceParts {
  domain: string;
  path: string;
  tag?: string | undefined;
  digest?: Digest | undefined;
}

// A class only so that toString is an inherited, non-enumerable method: the own fields stay plain data.
class ParsedReference implements Reference {
  readonly domain: string;
  readonly path: string;
  readonly name: string;
  declare readonly tag?: string;
  declare readonly digest?: Digest;

  constructor(parts: ReferenceParts) {
    this.domain = parts.domain;
    this.path = parts.path;
    this.name = parts.domain === '' ? parts.path : `${parts.domain}/${parts.path}`;
    // Absent parts are left off entirely, so `'tag' in ref` and deep equality say what they mean.
    if (parts.tag !== undefined) (this as { tag?: string }).tag = parts.tag;
    if (parts.digest !== undefined) (this as { digest?: Digest }).digest = parts.digest;
    Object.freeze(this);
  }

  toString(): string {
    return formatParts(this.name, this.tag, this.digest);
  }
}

function formatParts(name: string, tag: string | undefined, digest: string | undefined): string {
  return `${name}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
}

function show(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

function invalid(reason: ReferenceErrorReason, input: string, problem: string, cause?: unknown): ContainerkitError {
  return newError('ERR_INVALID_REFERENCE', `invalid reference ${show(input)}: ${problem}`, {
    cause,
    details: { reference: input, reason },
  });
}

function requireString(value: unknown): string {
  if (typeof value !== 'string') {
    throw newError('ERR_INVALID_REFERENCE', `reference must be a string, got ${typeof value}`, {
      details: { reason: 'invalid-format' satisfies ReferenceErrorReason },
    });
  }
  return value;
}

// `shown` is what the caller typed, so that errors from normalised input still name it.
function parseGrammar(value: string, shown: string): Reference {
  if (value === '') throw invalid('empty', shown, 'repository name must have at least one component');
  const match = matchReference(value);
  if (!match) {
    const lower = value.toLowerCase();
    // Valid once lower-cased: the only thing wrong is upper case where the grammar forbids it.
    if (lower !== value && matchReference(lower)) throw invalid('uppercase', shown, 'repository name must be lowercase');
    throw invalid('invalid-format', shown, 'invalid reference format');
  }
  const { domain, path } = splitName(match.name) ?? { domain: '', path: match.name };
  if (path.length > REFERENCE_PATH_MAX_LENGTH) {
    throw invalid('name-too-long', shown, `repository name must not be more than ${REFERENCE_PATH_MAX_LENGTH} characters`);
  }
  let digest: Digest | undefined;
  if (match.digest !== '') {
    try {
      digest = parseDigest(match.digest);
    } catch (err) {
      throw invalid('invalid-digest', shown, `invalid digest: ${(err as Error).message}`, err);
    }
  }
  return new ParsedReference({ domain, path, tag: match.tag === '' ? undefined : match.tag, digest });
}

/**
 * Parses a reference by the grammar alone, without normalisation: `busybox` stays `busybox` (domain `''`),
 * and the first of several components is the domain whenever it is a valid domain (`a/b` → domain `a`).
 * Tag and digest may both be present.
 *
 * @throws ERR_INVALID_REFERENCE with `details.reason` `empty`, `invalid-format`, `uppercase`,
 *   `name-too-long` (the path exceeds 255 characters) or `invalid-digest` (the digest error is the `cause`).
 */
export function parseReference(value: string): Reference {
  const input = requireString(value);
  return parseGrammar(input, input);
}

/** Splits a familiar name into domain and remainder the way docker does; the remainder may hold tag/digest. */
function splitDockerDomain(value: string): { domain: string; remainder: string } {
  const slash = value.indexOf('/');
  // A single component is always a Docker Hub official image, even "localhost" or "example.com".
  if (slash < 0) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + value };
  const first = value.slice(0, slash);
  let domain: string;
  let remainder = value.slice(slash + 1);
  if (first === LEGACY_DEFAULT_DOMAIN) {
    domain = DEFAULT_DOMAIN;
  } else if (first === 'localhost' || first.includes('.') || first.includes(':') || first.toLowerCase() !== first) {
    // Namespaces are lower-case, so an upper-case first component can only be a host name.
    domain = first;
  } else {
    domain = DEFAULT_DOMAIN;
    remainder = value;
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses a reference the way docker reads user input: a missing domain becomes `docker.io`, a single-component
 * Docker Hub name gets `library/`, and `index.docker.io` becomes `docker.io`. A first component is a domain
 * only if it contains `.` or `:`, is `localhost`, or contains upper case. No tag is added.
 *
 * @throws ERR_INVALID_REFERENCE as {@link parseReference} does, plus `identifier` for a bare 64-hex id and
 *   `uppercase` when the repository path has upper case.
 */
export function parseNormalizedReference(value: string): Reference {
  const input = requireString(value);
  if (input === '') throw invalid('empty', input, 'repository name must have at least one component');
  if (isIdentifier(input)) throw invalid('identifier', input, 'cannot specify 64-byte hexadecimal strings');
  const { domain, remainder } = splitDockerDomain(input);
  const colon = remainder.indexOf(':');
  const remote = colon < 0 ? remainder : remainder.slice(0, colon);
  if (remote.toLowerCase() !== remote) {
    throw invalid('uppercase', input, `repository name (${remote}) must be lowercase`);
  }
  return parseGrammar(`${domain}/${remainder}`, input);
}

/**
 * {@link parseNormalizedReference}, then the default tag `latest` when there is neither tag nor digest:
 * `busybox` → `docker.io/library/busybox:latest`. A reference with both tag and digest keeps both.
 *
 * @throws ERR_INVALID_REFERENCE as {@link parseNormalizedReference}.
 */
export function normalizeReference(value: string): Reference {
  return withDefaultTag(parseNormalizedReference(value));
}

/**
 * Parses a reference that must already be in its normalised form (`docker.io/library/busybox`, not `busybox`
 * or `docker.io/busybox`). No default tag is implied.
 *
 * @throws ERR_INVALID_REFERENCE as {@link parseNormalizedReference}, plus `not-canonical` when the input would
 *   normalise to something else ("repository name must be canonical").
 */
export function parseCanonicalReference(value: string): Reference {
  const ref = parseNormalizedReference(value);
  if (ref.toString() !== value) {
    throw invalid('not-canonical', value, `repository name must be canonical (normalises to ${show(ref.toString())})`);
  }
  return ref;
}

/**
 * The reference containerd uses as an image name: normalised, with the tag dropped when a digest is present
 * (the digest decides) and `latest` added when neither is: `busybox:1@sha256:…` → `docker.io/library/busybox@sha256:…`.
 *
 * @throws ERR_INVALID_REFERENCE as {@link parseNormalizedReference}.
 */
export function parseDockerRef(value: string): Reference {
  const ref = parseNormalizedReference(value);
  if (ref.tag !== undefined && ref.digest !== undefined) return new ParsedReference({ ...ref, tag: undefined });
  return withDefaultTag(ref);
}

/** The reference with tag `latest` when it has neither tag nor digest; otherwise `ref` itself. */
export function withDefaultTag(ref: Reference): Reference {
  return isNameOnly(ref) ? new ParsedReference({ ...ref, tag: DEFAULT_TAG }) : ref;
}

/**
 * The reference with its tag replaced by `tag` (a digest is kept).
 *
 * @throws ERR_INVALID_REFERENCE (`invalid-tag`) when `tag` is not `[\w][\w.-]{0,127}`.
 */
export function withTag(ref: Reference, tag: string): Reference {
  if (typeof tag !== 'string' || !isValidTag(tag)) {
    throw invalid('invalid-tag', `${ref.name}:${String(tag)}`, `invalid tag format ${show(String(tag))}`);
  }
  return new ParsedReference({ ...ref, tag });
}

/**
 * The reference with its digest replaced by `digest` (a tag is kept).
 *
 * @throws ERR_INVALID_REFERENCE (`invalid-digest`, the digest error as `cause`) when `digest` is not valid.
 */
export function withDigest(ref: Reference, digest: string): Reference {
  let parsed: Digest;
  try {
    parsed = parseDigest(digest);
  } catch (err) {
    throw invalid('invalid-digest', `${ref.name}@${String(digest)}`, `invalid digest: ${(err as Error).message}`, err);
  }
  return new ParsedReference({ ...ref, digest: parsed });
}

/** The reference without tag or digest: just the repository. */
export function nameOnly(ref: Reference): Reference {
  return new ParsedReference({ domain: ref.domain, path: ref.path });
}

/** Whether the reference pins content by digest. */
export function isDigestReference(ref: Reference): boolean {
  return ref.digest !== undefined;
}

/** Whether the reference has neither tag nor digest. */
export function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined;
}

/**
 * The name as docker shows it: `docker.io/` dropped, and `library/` too for a one-level official image
 * (`docker.io/library/busybox` → `busybox`, `docker.io/user/repo` → `user/repo`, `docker.io/library/a/b` stays
 * `library/a/b`). Other registries keep their domain.
 */
export function familiarName(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return ref.name;
  if (ref.path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = ref.path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes('/')) return rest;
  }
  return ref.path;
}

/** {@link familiarName} with the tag and digest: `docker.io/library/busybox:latest` → `busybox:latest`. */
export function familiarString(ref: Reference): string {
  return formatParts(familiarName(ref), ref.tag, ref.digest);
}
