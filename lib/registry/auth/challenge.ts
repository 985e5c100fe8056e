/**
 * Parsing of `WWW-Authenticate` headers (RFC 7235 §4.1, RFC 9110 §11.6.1): a comma-separated list of challenges,
 * each `scheme [ token68 / #auth-param ]`, where a param value is a token or a quoted string with `\`-escapes.
 */

/** One challenge of a `WWW-Authenticate` header. */
export interface AuthChallenge {
  /** The auth scheme, lower-cased (`bearer`, `basic`, …): schemes are case-insensitive. */
  readonly scheme: string;
  /**
   * The auth-params, names lower-cased, values unescaped. A null-prototype object, so a hostile param called
   * `__proto__` or `constructor` is only data. When a name repeats, the first value wins.
   */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form of the credentials part, when the challenge used it instead of params. */
  readonly token68?: string;
}

/** Headers longer than this are ignored as a whole: no registry sends one, and parsing them is only a cost. */
export const MAX_WWW_AUTHENTICATE_LENGTH = 16 * 1024;

const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";
const TOKEN = new RegExp(`${TCHAR}+`, 'y');
// A param starts with `name BWS = BWS` followed by the first character of a token or a quoted string.
const PARAM_AHEAD = new RegExp(`${TCHAR}+[ \\t]*=[ \\t]*(?:${TCHAR}|")`, 'y');
// token68 must be the whole credentials part: followed only by whitespace, then a comma or the end.
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*(?=[ \t]*(?:,|$))/y;

class Scanner {
  i = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.i >= this.s.length;
  }

  peek(): string {
    return this.s[this.i] ?? '';
  }

  match(re: RegExp): string | undefined {
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    return m ? m[0] : undefined;
  }

  take(re: RegExp): string {
    const m = this.match(re);
    if (m === undefined) return '';
    this.i += m.length;
    return m;
  }

  skipWs(): number {
    const start = this.i;
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
    return this.i - start;
  }

  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.i++;
  }

  /** Reads a quoted string starting at `"`; undefined when it never ends (the rest of the input is consumed). */
  quoted(): string | undefined {
    this.i++; // the opening quote
    let out = '';
    while (!this.done) {
      const c = this.s[this.i++]!;
      if (c === '"') return out;
      if (c === '\\') {
        if (this.done) break;
        out += this.s[this.i++]!;
      } else {
        out += c;
      }
    }
    return undefined;
  }

  /** Error recovery: skips to the next comma that is not inside a quoted string. */
  skipToComma(): void {
    while (!this.done && this.peek() !== ',') {
      if (this.peek() === '"') {
        if (this.quoted() === undefined) return;
      } else {
        this.i++;
      }
    }
  }
}

function parseOne(header: string, out: AuthChallenge[]): void {
  const sc = new Scanner(header);
  let current: { scheme: string; params: Record<string, string>; token68?: string } | undefined;
  // Whether `current` may still take params: not after a token68, which is the whole credentials part.
  let open = false;
  for (;;) {
    sc.skipSeparators();
    if (sc.done) return;
    if (current && open && sc.match(PARAM_AHEAD) !== undefined) {
      const name = sc.take(TOKEN).toLowerCase();
      sc.skipWs();
      sc.i++; // '='
      sc.skipWs();
      const value = sc.peek() === '"' ? sc.quoted() : sc.take(TOKEN);
      if (value === undefined) return; // unterminated quoted string: the param is dropped, nothing follows
      if (!Object.hasOwn(current.params, name)) current.params[name] = value;
      sc.skipWs();
      if (!sc.done && sc.peek() !== ',') sc.skipToComma();
      continue;
    }
    const scheme = sc.take(TOKEN);
    if (scheme === '') {
      // Not a token where a scheme or param must start: skip this list element.
      sc.skipToComma();
      continue;
    }
    current = { scheme: scheme.toLowerCase(), params: Object.create(null) as Record<string, string> };
    out.push(current);
    open = true;
    const ws = sc.skipWs();
    if (ws > 0 && sc.match(PARAM_AHEAD) === undefined) {
      const t68 = sc.take(TOKEN68);
      if (t68 !== '') {
        current.token68 = t68;
        open = false;
        continue;
      }
    }
    if (!sc.done && sc.peek() !== ',' && (ws === 0 || sc.match(PARAM_AHEAD) === undefined)) {
      // Something that is neither params nor token68 follows the scheme: drop it up to the next comma.
      sc.skipToComma();
    }
  }
}

/**
 * Parses one `WWW-Authenticate` header value, or all of them when the response had several (each is parsed on its
 * own, then the lists are joined). Never throws: malformed list elements are skipped, a param whose quoted string
 * never ends is dropped, and a header longer than {@link MAX_WWW_AUTHENTICATE_LENGTH} (or a value that is not a
 * string) yields no challenges.
 */
export function parseWwwAuthenticate(header: string | readonly string[] | undefined): AuthChallenge[] {
  const values = typeof header === 'string' ? [header] : Array.isArray(header) ? header : [];
  const out: AuthChallenge[] = [];
  for (const value of values) {
    if (typeof value !== 'string' || value.length > MAX_WWW_AUTHENTICATE_LENGTH) continue;
    parseOne(value, out);
  }
  return out;
}

/** The first challenge with this scheme (compared case-insensitively), or undefined. */
export function findChallenge(challenges: readonly AuthChallenge[], scheme: string): AuthChallenge | undefined {
  const want = scheme.toLowerCase();
  return challenges.find((c) => c.scheme === want);
}
