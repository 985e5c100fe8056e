/**
 * The docker image reference grammar, as the distribution project's `reference` package defines it:
 *
 * ```
 * reference        := name [ ":" tag ] [ "@" digest ]
 * name             := [domain "/"] remote-name
 * domain           := host [":" port-number]
 * host             := domain-name | IPv4address | "[" IPv6address "]"
 * domain-name      := domain-component ["." domain-component]*
 * domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
 * port-number      := /[0-9]+/
 * remote-name      := path-component ["/" path-component]*
 * path-component   := alpha-numeric [separator alpha-numeric]*
 * alpha-numeric    := /[a-z0-9]+/
 * separator        := /[_.]|__|[-]+/
 * tag              := /[\w][\w.-]{0,127}/
 * digest           := algorithm ":" hex        ; at least 32 hex characters here, checked fully by lib/oci/digest
 * identifier       := /[a-f0-9]{64}/
 * ```
 *
 * Only the shape lives here; reference.ts turns matches into references and errors.
 */

/** The longest repository path (the name without its domain) a reference may have. */
export const REFERENCE_PATH_MAX_LENGTH = 255;

// The pieces are kept as strings and assembled once, so each production reads like the grammar above.
const ALPHANUMERIC = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALPHANUMERIC}(?:${SEPARATOR}${ALPHANUMERIC})*`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
// Compressed or full IPv6 only: zone ids ("%eth0") and embedded IPv4 are deliberately outside the grammar.
const IPV6_ADDRESS = '\\[[a-fA-F0-9:]+\\]';
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6_ADDRESS})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;

// Leftmost-first submatching (JavaScript's, like Go's) makes the optional domain group take the first
// component whenever it can, which is how the strict parser splits "a/b" into domain "a" and path "b".
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const TAG_RE = new RegExp(`^${TAG}$`);
const DOMAIN_RE = new RegExp(`^${DOMAIN_AND_PORT}$`);
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;

/** The three parts of a string that has the shape of a reference. Empty strings stand for absent parts. */
export interface ReferenceMatch {
  /** The name: optional domain and the remote name. */
  name: string;
  /** The tag, or `''`. */
  tag: string;
  /** The digest text (shape only, not yet validated), or `''`. */
  digest: string;
}

/** Splits `value` by the reference grammar, or returns `null` when it does not have that shape. */
export function matchReference(value: string): ReferenceMatch | null {
  const match = REFERENCE_RE.exec(value);
  if (!match) return null;
  return { name: match[1] ?? '', tag: match[2] ?? '', digest: match[3] ?? '' };
}

/**
 * Splits a name into domain and path the way the grammar does (the first component is the domain whenever
 * it is a valid domain and more components follow), or returns `null` when `name` is not a valid name.
 */
export function splitName(name: string): { domain: string; path: string } | null {
  const match = NAME_RE.exec(name);
  if (!match) return null;
  return { domain: match[1] ?? '', path: match[2] ?? '' };
}

/** Whether `tag` is a valid tag: a word character, then up to 127 word characters, dots or dashes. */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** Whether `domain` is a valid registry domain: host name, IPv4 or bracketed IPv6, with an optional port. */
export function isValidDomain(domain: string): boolean {
  return DOMAIN_RE.test(domain);
}

/** Whether `value` is a bare 64-hex identifier (an image id), which is never accepted as a repository name. */
export function isIdentifier(value: string): boolean {
  return IDENTIFIER_RE.test(value);
}
