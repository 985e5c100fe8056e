import createDebug from 'debug';

/** A namespaced logger: `containerkit:<component>[:<sub>]`, off unless `DEBUG` enables it. */
export type Logger = createDebug.Debugger;

/** Returns the logger for a component, e.g. `logger('registry:auth')` → `containerkit:registry:auth`. */
export function logger(component: string): Logger {
  return createDebug(`containerkit:${component}`);
}

/** Turns on debug output for the given namespaces (the CLI's `--debug`). */
export function enableDebug(namespaces = 'containerkit:*'): void {
  createDebug.enable(namespaces);
}

/** The first 12 characters of an id or digest hex, the way docker and containerd print them in logs. */
export function shortId(id: string): string {
  const hex = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return hex.slice(0, 12);
}

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  // userinfo in URLs: scheme://user:pass@host
  [/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@'],
  // Authorization headers and bearer/basic credentials
  [/(authorization\s*[:=]\s*)("?)(bearer|basic)\s+[^\s",]+/gi, '$1$2$3 ***'],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***'],
  // token-like query parameters, form fields (an echoed OAuth2 body) and JSON fields
  [/((?:^|[?&\s"'(,;])(?:access_token|refresh_token|token|password|client_secret|secret|signature|x-amz-signature|sig)=)[^&\s"']*/gi, '$1***'],
  [/("(?:access_token|refresh_token|token|password|secret|auth|identitytoken|registrytoken)"\s*:\s*")[^"]*"/gi, '$1***"'],
];

/**
 * Removes credentials from a string before it reaches a log line or an error message: URL userinfo,
 * Authorization values, tokens in query strings and JSON.
 */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * The forms a server may echo a secret in: as sent, percent-encoded (URI component and form style, `+` for space),
 * Base64 and Base64url (padded and not). Longest first, so no form is left half-replaced by a shorter one.
 */
export function secretForms(secret: string): string[] {
  if (secret === '') return [];
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const forms = new Set([
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ]);
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * {@link redact}, after removing every known secret in each of its {@link secretForms}: text a server chose (an
 * error body) may echo what it was sent, encoded, where no pattern would recognise it.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const forms = [...new Set(secrets.flatMap(secretForms))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of forms) out = out.split(form).join('***');
  return redact(out);
}
