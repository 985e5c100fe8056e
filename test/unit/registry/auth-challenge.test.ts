import { expect } from 'chai';
import { findChallenge, MAX_WWW_AUTHENTICATE_LENGTH, parseWwwAuthenticate } from '../../../lib/registry/auth/challenge.js';

type Plain = { scheme: string; params: Record<string, string>; token68?: string };

function parse(header: string | string[] | undefined): Plain[] {
  return parseWwwAuthenticate(header).map((c) => {
    const out: Plain = { scheme: c.scheme, params: { ...c.params } };
    if (c.token68 !== undefined) out.token68 = c.token68;
    return out;
  });
}

describe('registry auth: WWW-Authenticate parsing', () => {
  const table: Array<[string, string | string[] | undefined, Plain[]]> = [
    [
      'distribution bearer',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } }],
    ],
    ['basic with realm', 'Basic realm="containerkit-test"', [{ scheme: 'basic', params: { realm: 'containerkit-test' } }]],
    ['scheme and param names are case-insensitive', 'BEARER Realm="r",SERVICE="s"', [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]],
    ['token values and spaces around =', 'Bearer realm = "r" , service=svc', [{ scheme: 'bearer', params: { realm: 'r', service: 'svc' } }]],
    ['escaped quotes and backslashes', 'Bearer realm="a \\"quoted\\" \\\\ realm"', [{ scheme: 'bearer', params: { realm: 'a "quoted" \\ realm' } }]],
    [
      'commas inside quotes',
      'Bearer realm="x",scope="repository:a:pull,push registry:catalog:*"',
      [{ scheme: 'bearer', params: { realm: 'x', scope: 'repository:a:pull,push registry:catalog:*' } }],
    ],
    [
      'several challenges in one header (RFC 7235 example)',
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
      [
        { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
        { scheme: 'basic', params: { realm: 'simple' } },
      ],
    ],
    [
      'basic then bearer',
      'Basic realm="b", Bearer realm="https://t/token",service="s"',
      [
        { scheme: 'basic', params: { realm: 'b' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
      ],
    ],
    [
      'several header lines',
      ['Basic realm="a"', 'Bearer realm="b"'],
      [
        { scheme: 'basic', params: { realm: 'a' } },
        { scheme: 'bearer', params: { realm: 'b' } },
      ],
    ],
    [
      'token68',
      'Negotiate YII+abc/def==, Basic realm="x"',
      [
        { scheme: 'negotiate', params: {}, token68: 'YII+abc/def==' },
        { scheme: 'basic', params: { realm: 'x' } },
      ],
    ],
    ['scheme alone', 'Bearer', [{ scheme: 'bearer', params: {} }]],
    ['empty quoted value', 'Bearer realm=""', [{ scheme: 'bearer', params: { realm: '' } }]],
    [
      'error param of insufficient scope',
      'Bearer realm="r",error="insufficient_scope"',
      [{ scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope' } }],
    ],
    // Hostile or broken inputs: never a throw, never a param taken from the wrong place.
    ['undefined', undefined, []],
    ['empty', '', []],
    ['only commas and spaces', ' , ,, ', []],
    ['unterminated quote drops the param', 'Bearer service="s",realm="https://evil', [{ scheme: 'bearer', params: { service: 's' } }]],
    ['a duplicate param keeps the first value', 'Bearer realm="good",realm="evil"', [{ scheme: 'bearer', params: { realm: 'good' } }]],
    ['garbage list element is skipped', 'Bearer realm="r", @@@ junk, service="s"', [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }]],
    [
      '__proto__ is just a name',
      'Bearer __proto__="x",constructor="y",realm="r"',
      [{ scheme: 'bearer', params: { ['__proto__']: 'x', constructor: 'y', realm: 'r' } }],
    ],
    [
      'a param value with trailing junk is kept, the junk dropped',
      'Bearer realm=abc def, service=s',
      [{ scheme: 'bearer', params: { realm: 'abc', service: 's' } }],
    ],
    ['CRLF injection is not a new param', 'Bearer realm="r"\r\nservice="evil"', [{ scheme: 'bearer', params: { realm: 'r' } }]],
    ['a backslash at the very end', 'Bearer realm="abc\\', [{ scheme: 'bearer', params: {} }]],
    [
      'param before any scheme is ignored',
      'realm="r", Basic realm="b"',
      [
        { scheme: 'realm', params: {} },
        { scheme: 'basic', params: { realm: 'b' } },
      ],
    ],
  ];

  for (const [name, header, want] of table) {
    it(name, () => {
      expect(parse(header)).to.deep.equal(want);
    });
  }

  it('params are null-prototype objects, so __proto__ cannot pollute', () => {
    const [c] = parseWwwAuthenticate('Bearer __proto__="polluted"');
    expect(Object.getPrototypeOf(c!.params)).to.equal(null);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(Object.hasOwn(c!.params, '__proto__')).to.equal(true);
  });

  it('ignores an oversized header and non-string values', () => {
    const huge = `Bearer realm="${'a'.repeat(MAX_WWW_AUTHENTICATE_LENGTH)}"`;
    expect(parseWwwAuthenticate(huge)).to.deep.equal([]);
    expect(parseWwwAuthenticate([42 as unknown as string, 'Basic realm="x"'])).to.have.length(1);
  });

  it('parses a long hostile header in linear time', () => {
    const hostile = `Bearer ${'a="\\",'.repeat(2500)}`;
    const start = process.hrtime.bigint();
    parseWwwAuthenticate(hostile.slice(0, MAX_WWW_AUTHENTICATE_LENGTH));
    parseWwwAuthenticate(`${', '.repeat(8000)}`);
    expect(Number(process.hrtime.bigint() - start) / 1e6).to.be.below(200);
  });

  it('findChallenge picks by scheme, case-insensitively', () => {
    const list = parseWwwAuthenticate('Basic realm="b", Bearer realm="t"');
    expect(findChallenge(list, 'Bearer')?.params.realm).to.equal('t');
    expect(findChallenge(list, 'digest')).to.equal(undefined);
  });
});
