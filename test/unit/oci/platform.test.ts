// Cases follow containerd's platforms tests (platforms_test.go, compare_test.go), restated as tables; the host
// is fixed with the `host` option so the single-component cases do not depend on this machine.
import { expect } from 'chai';
import { ContainerkitError, NotFoundError } from '../../../lib/errors/index.js';
import {
  formatPlatform,
  hostPlatform,
  isKnownArchitecture,
  isKnownOS,
  normalizePlatform,
  type Platform,
  parsePlatform,
  platformFromNode,
} from '../../../lib/oci/platform.js';
import {
  ALL_PLATFORMS,
  compatiblePlatforms,
  orderedPlatformMatcher,
  platformMatcher,
  selectPlatform,
  selectPlatforms,
} from '../../../lib/oci/platform-matcher.js';

const HOST: Platform = { os: 'linux', architecture: 'amd64' };
const p = (os: string, architecture: string, variant?: string): Platform => (variant === undefined ? { os, architecture } : { os, architecture, variant });

function expectCode(fn: () => unknown, code: string): ContainerkitError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ContainerkitError);
    expect((err as ContainerkitError).code).to.equal(code);
    return err as ContainerkitError;
  }
  throw new Error('expected an error, got none');
}

describe('oci/platform', () => {
  describe('parsePlatform and formatPlatform', () => {
    // platforms_test.go TestParseSelector with a linux/amd64 host: input, parsed, also-matches, formatted.
    const cases: Array<{ input: string; expected: Platform; matches?: Platform[]; formatted: string; all?: boolean }> = [
      {
        input: 'linux/arm64',
        expected: p('linux', 'arm64'),
        matches: [p('linux', 'aarch64'), p('linux', 'aarch64', 'v8'), p('linux', 'arm64', 'v8')],
        formatted: 'linux/arm64',
      },
      {
        input: 'linux/arm64/v8',
        expected: p('linux', 'arm64', 'v8'),
        matches: [p('linux', 'aarch64'), p('linux', 'aarch64', 'v8'), p('linux', 'arm64')],
        formatted: 'linux/arm64/v8',
      },
      {
        input: 'linux/arm',
        expected: p('linux', 'arm'),
        matches: [p('linux', 'arm', 'v7'), p('linux', 'armhf'), p('linux', 'arm', '7')],
        formatted: 'linux/arm',
      },
      { input: 'linux/arm/v6', expected: p('linux', 'arm', 'v6'), matches: [p('linux', 'armel')], formatted: 'linux/arm/v6' },
      {
        input: 'linux/arm/v7',
        expected: p('linux', 'arm', 'v7'),
        matches: [p('linux', 'arm'), p('linux', 'armhf')],
        formatted: 'linux/arm/v7',
      },
      { input: 'arm', expected: p('linux', 'arm'), formatted: 'linux/arm' },
      { input: 'armel', expected: p('linux', 'arm', 'v6'), formatted: 'linux/arm/v6' },
      { input: 'armhf', expected: p('linux', 'arm'), formatted: 'linux/arm' },
      { input: 'Aarch64', expected: p('linux', 'arm64'), formatted: 'linux/arm64' },
      { input: 'x86_64', expected: p('linux', 'amd64'), formatted: 'linux/amd64' },
      { input: 'Linux/x86_64', expected: p('linux', 'amd64'), formatted: 'linux/amd64' },
      { input: 'i386', expected: p('linux', '386'), formatted: 'linux/386' },
      { input: 'linux', expected: p('linux', 'amd64'), formatted: 'linux/amd64' },
      { input: 's390x', expected: p('linux', 's390x'), formatted: 'linux/s390x' },
      { input: 'linux/s390x', expected: p('linux', 's390x'), formatted: 'linux/s390x' },
      { input: 'macOS', expected: p('darwin', 'amd64'), formatted: 'darwin/amd64' },
      { input: 'windows', expected: p('windows', 'amd64'), formatted: 'windows/amd64' },
      { input: 'windows()', expected: p('windows', 'amd64'), formatted: 'windows/amd64', all: true },
      {
        input: 'windows(10.0.17763)',
        expected: { ...p('windows', 'amd64'), 'os.version': '10.0.17763' },
        formatted: 'windows(10.0.17763)/amd64',
        all: true,
      },
      {
        input: 'windows(10.0.17763+win32k)',
        expected: { ...p('windows', 'amd64'), 'os.version': '10.0.17763', 'os.features': ['win32k'] },
        formatted: 'windows(10.0.17763+win32k)/amd64',
        all: true,
      },
      { input: 'linux(+gpu)', expected: { ...p('linux', 'amd64'), 'os.features': ['gpu'] }, formatted: 'linux(+gpu)/amd64', all: true },
      {
        input: 'linux(+gpu+simd)',
        expected: { ...p('linux', 'amd64'), 'os.features': ['gpu', 'simd'] },
        formatted: 'linux(+gpu+simd)/amd64',
        all: true,
      },
      {
        input: 'linux(+unsorted+erofs)',
        expected: { ...p('linux', 'amd64'), 'os.features': ['unsorted', 'erofs'] },
        formatted: 'linux(+erofs+unsorted)/amd64',
        all: true,
      },
      {
        input: 'windows(10.0.17763%2Bbuild.42)',
        expected: { ...p('windows', 'amd64'), 'os.version': '10.0.17763+build.42' },
        formatted: 'windows(10.0.17763%2Bbuild.42)/amd64',
        all: true,
      },
      {
        input: 'windows(10.0.17763%2Bbuild.42+win32k)',
        expected: { ...p('windows', 'amd64'), 'os.version': '10.0.17763+build.42', 'os.features': ['win32k'] },
        formatted: 'windows(10.0.17763%2Bbuild.42+win32k)/amd64',
        all: true,
      },
      {
        input: 'windows(50%25done)',
        expected: { ...p('windows', 'amd64'), 'os.version': '50%done' },
        formatted: 'windows(50%25done)/amd64',
        all: true,
      },
    ];
    for (const c of cases) {
      it(`parses ${c.input} as ${c.formatted}`, () => {
        const parsed = parsePlatform(c.input, { host: HOST });
        expect(parsed).to.deep.equal(c.expected);
        const matcher = platformMatcher(parsed, { strict: true });
        for (const candidate of [c.expected, ...(c.matches ?? [])]) {
          expect(matcher.match(candidate), formatPlatform(candidate)).to.equal(true);
        }
        const formatted = formatPlatform(parsed, { withOSOptions: c.all ?? false });
        expect(formatted).to.equal(c.formatted);
        // The formatted form is stable under another round.
        expect(formatPlatform(parsePlatform(formatted, { host: HOST }), { withOSOptions: c.all ?? false })).to.equal(formatted);
      });
    }

    it('takes the host variant for a bare OS only on 32-bit arm, and not the default v7', () => {
      expect(parsePlatform('linux', { host: p('linux', 'arm', 'v6') })).to.deep.equal(p('linux', 'arm', 'v6'));
      expect(parsePlatform('linux', { host: p('linux', 'arm', 'v7') })).to.deep.equal(p('linux', 'arm'));
      expect(parsePlatform('linux', { host: p('linux', 'arm64', 'v8.2') })).to.deep.equal(p('linux', 'arm64'));
      expect(parsePlatform('arm64', { host: p('freebsd', 'amd64') })).to.deep.equal(p('freebsd', 'arm64'));
    });

    // platforms_test.go TestParseSelectorInvalid, and more.
    const invalid: Array<[string, string]> = [
      ['', 'OS component ""'],
      ['/linux/arm', 'OS component ""'],
      ['linux/arm/', 'component ""'],
      ['linux /arm', 'OS component "linux "'],
      ['linux/&arm', 'component "&arm"'],
      ['linux/arm/foo/bar', 'more than three parts'],
      ['*', 'wildcards'],
      ['linux/*', 'wildcards'],
      ['foo', '"foo" is neither a known operating system nor a known architecture'],
      ['windows(%zz)', 'bad %-escape'],
    ];
    for (const [input, problem] of invalid) {
      it(`rejects ${JSON.stringify(input)} naming the bad part`, () => {
        const err = expectCode(() => parsePlatform(input, { host: HOST }), 'ERR_INVALID_PLATFORM');
        expect(err.message).to.include(problem);
        expect(err.details['platform']).to.equal(input);
      });
    }

    // platforms_test.go TestFormatAllEncoding and TestFormatAllSkipsEmptyOSFeatures
    const encoded: Array<[Platform, string]> = [
      [{ ...p('windows', 'amd64'), 'os.version': '10.0.17763+build.42' }, 'windows(10.0.17763%2Bbuild.42)/amd64'],
      [{ ...p('windows', 'amd64'), 'os.version': '10.0.17763+build.42', 'os.features': ['win32k'] }, 'windows(10.0.17763%2Bbuild.42+win32k)/amd64'],
      [{ ...p('windows', 'amd64'), 'os.version': '50%done' }, 'windows(50%25done)/amd64'],
      [{ ...p('windows', 'amd64'), 'os.version': '1.0(beta)' }, 'windows(1.0%28beta%29)/amd64'],
      [{ ...p('windows', 'amd64'), 'os.version': 'a/b' }, 'windows(a%2Fb)/amd64'],
      [{ ...p('windows', 'amd64'), 'os.version': '10.0.17763' }, 'windows(10.0.17763)/amd64'],
      [{ ...p('linux', 'amd64'), 'os.features': ['feat+v2'] }, 'linux(+feat%2Bv2)/amd64'],
      [{ ...p('linux', 'amd64'), 'os.features': ['100%gpu'] }, 'linux(+100%25gpu)/amd64'],
      [{ ...p('windows', 'amd64'), 'os.version': '10.0+build', 'os.features': ['feat+1'] }, 'windows(10.0%2Bbuild+feat%2B1)/amd64'],
    ];
    for (const [platform, expected] of encoded) {
      it(`formats and re-parses ${expected}`, () => {
        expect(formatPlatform(platform, { withOSOptions: true })).to.equal(expected);
        const reparsed = parsePlatform(expected, { host: HOST });
        expect(reparsed['os.version']).to.equal(platform['os.version']);
        expect(reparsed['os.features']).to.deep.equal(platform['os.features']);
      });
    }

    it('formats without OS options by default, skips empty features, and says unknown without an OS', () => {
      expect(formatPlatform({ ...p('windows', 'amd64'), 'os.version': '10.0.17763' })).to.equal('windows/amd64');
      expect(formatPlatform({ ...p('linux', 'amd64'), 'os.features': ['', 'gpu', '', 'simd'] }, { withOSOptions: true })).to.equal('linux(+gpu+simd)/amd64');
      expect(formatPlatform(p('', 'amd64'))).to.equal('unknown');
      expect(formatPlatform(p('linux', 'arm', 'v7'))).to.equal('linux/arm/v7');
    });
  });

  describe('normalizePlatform', () => {
    const cases: Array<[Platform, Platform]> = [
      [p('linux', 'aarch64'), p('linux', 'arm64')],
      [p('linux', 'AArch64', 'V8'), p('linux', 'arm64')],
      [p('linux', 'arm64', '8'), p('linux', 'arm64')],
      [p('linux', 'arm64', 'v8.2'), p('linux', 'arm64', 'v8.2')],
      [p('linux', 'arm64', 'v8.0'), p('linux', 'arm64')],
      [p('linux', 'arm64', 'v9.0'), p('linux', 'arm64', 'v9')],
      [p('linux', 'aarch64', '9'), p('linux', 'arm64', 'v9')],
      [p('linux', 'x86_64'), p('linux', 'amd64')],
      [p('linux', 'x86-64', 'v3'), p('linux', 'amd64', 'v3')],
      [p('linux', 'amd64', 'v1'), p('linux', 'amd64')],
      [p('linux', 'i386', 'whatever'), p('linux', '386')],
      [p('linux', 'armhf'), p('linux', 'arm', 'v7')],
      [p('linux', 'armel'), p('linux', 'arm', 'v6')],
      [p('linux', 'arm'), p('linux', 'arm', 'v7')],
      [p('linux', 'arm', '7'), p('linux', 'arm', 'v7')],
      [p('linux', 'arm', '6'), p('linux', 'arm', 'v6')],
      [p('linux', 'arm', '5'), p('linux', 'arm', 'v5')],
      [p('linux', 'arm', '8'), p('linux', 'arm', 'v8')],
      [p('macos', 'arm64'), p('darwin', 'arm64')],
      [p('Linux', 'S390X'), p('linux', 's390x')],
      [p('', 'amd64'), p('', 'amd64')],
      [
        { ...p('linux', 'amd64'), 'os.features': ['simd', 'gpu', 'simd'] },
        { ...p('linux', 'amd64'), 'os.features': ['gpu', 'simd'] },
      ],
      [
        { ...p('windows', 'amd64'), 'os.version': '10.0.17763.1' },
        { ...p('windows', 'amd64'), 'os.version': '10.0.17763.1' },
      ],
    ];
    for (const [input, expected] of cases) {
      it(`normalises ${formatPlatform(input, { withOSOptions: true })} to ${formatPlatform(expected, { withOSOptions: true })}`, () => {
        expect(normalizePlatform(input)).to.deep.equal(expected);
      });
    }

    it('does not change its input', () => {
      const input = { ...p('linux', 'aarch64', 'v8'), 'os.features': ['b', 'a'] };
      normalizePlatform(input);
      expect(input).to.deep.equal({ ...p('linux', 'aarch64', 'v8'), 'os.features': ['b', 'a'] });
    });

    it('rejects fields of the wrong type, naming the field', () => {
      for (const [bad, field] of [
        [{ os: 'linux' }, 'architecture'],
        [{ os: 1, architecture: 'amd64' }, 'os'],
        [{ os: 'linux', architecture: 'arm', variant: 7 }, 'variant'],
        [{ os: 'linux', architecture: 'amd64', 'os.features': 'gpu' }, 'os.features'],
      ] as const) {
        const err = expectCode(() => normalizePlatform(bad as unknown as Platform), 'ERR_INVALID_PLATFORM');
        expect(err.details['field']).to.equal(field);
      }
      expectCode(() => normalizePlatform(null as unknown as Platform), 'ERR_INVALID_PLATFORM');
    });

    it('knows Go’s operating systems and architectures', () => {
      expect(['linux', 'windows', 'darwin', 'freebsd'].every(isKnownOS)).to.equal(true);
      expect(['amd64', 'arm64', 'arm', '386', 'riscv64', 'loong64', 's390x'].every(isKnownArchitecture)).to.equal(true);
      expect(isKnownOS('amd64') || isKnownArchitecture('linux') || isKnownArchitecture('x86_64')).to.equal(false);
    });
  });

  describe('hostPlatform and platformFromNode', () => {
    const cases: Array<[string, string, Parameters<typeof platformFromNode>[2], Platform]> = [
      ['linux', 'x64', {}, p('linux', 'amd64')],
      ['linux', 'arm64', {}, p('linux', 'arm64')],
      ['linux', 'arm', {}, p('linux', 'arm', 'v7')],
      ['linux', 'arm', { armVersion: 6 }, p('linux', 'arm', 'v6')],
      ['linux', 'arm', { armVersion: '8' }, p('linux', 'arm', 'v8')],
      ['win32', 'ia32', {}, p('windows', '386')],
      ['darwin', 'arm64', {}, p('darwin', 'arm64')],
      ['linux', 'ppc64', { endianness: 'LE' }, p('linux', 'ppc64le')],
      ['aix', 'ppc64', { endianness: 'BE' }, p('aix', 'ppc64')],
      ['sunos', 'x64', {}, p('solaris', 'amd64')],
      ['linux', 's390x', {}, p('linux', 's390x')],
      ['linux', 'mipsel', {}, p('linux', 'mipsle')],
      ['linux', 'riscv64', {}, p('linux', 'riscv64')],
      ['freebsd', 'loong64', {}, p('freebsd', 'loong64')],
    ];
    for (const [platform, arch, hints, expected] of cases) {
      it(`maps node's ${platform}/${arch} to ${formatPlatform(expected)}`, () => {
        expect(platformFromNode(platform, arch, hints)).to.deep.equal(expected);
      });
    }

    it('describes this process', () => {
      const host = hostPlatform();
      expect(host.os).to.equal(process.platform === 'win32' ? 'windows' : process.platform);
      expect(host.architecture).to.equal(platformFromNode(process.platform, process.arch, { armVersion: 7 }).architecture);
      expect(normalizePlatform(host)).to.deep.equal(host);
      // A bare specifier is completed from the host when no host is given.
      expect(parsePlatform(host.os).architecture).to.equal(host.architecture);
    });
  });

  describe('platformMatcher', () => {
    // compare_test.go TestOnly: which platforms a host of each platform accepts.
    const only: Array<[string, string[], string[]]> = [
      ['linux/amd64', ['linux/amd64', 'linux/386'], ['linux/amd64/v2', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
      [
        'linux/amd64/v2',
        ['linux/amd64', 'linux/amd64/v1', 'linux/amd64/v2', 'linux/386'],
        ['linux/amd64/v3', 'linux/amd64/v4', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm'],
      ],
      ['linux/386', ['linux/386'], ['linux/amd64', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
      ['windows/amd64', ['windows/amd64', 'windows(10.0.17763)/amd64'], ['linux/amd64', 'linux/arm/v7', 'linux/arm64', 'windows/arm']],
      [
        'linux/arm/v8',
        ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8'],
        ['linux/amd64', 'linux/arm/v4', 'linux/arm64', 'windows/amd64', 'windows/arm'],
      ],
      [
        'linux/arm/v7',
        ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7'],
        ['linux/amd64', 'linux/arm/v4', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm'],
      ],
      [
        'linux/arm/v6',
        ['linux/arm/v5', 'linux/arm/v6'],
        ['linux/amd64', 'linux/arm', 'linux/arm/v4', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm'],
      ],
      [
        'linux/arm/v5',
        ['linux/arm/v5'],
        ['linux/amd64', 'linux/arm', 'linux/arm/v4', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm'],
      ],
      [
        'linux/arm/v4',
        ['linux/arm/v4'],
        ['linux/amd64', 'linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'windows/amd64', 'windows/arm'],
      ],
      [
        'linux/arm64/v9',
        [
          'linux/arm',
          'linux/arm/v5',
          'linux/arm/v6',
          'linux/arm/v7',
          'linux/arm/v8',
          'linux/arm64',
          'linux/arm64/v8',
          'linux/arm64/v8.1',
          'linux/arm64/v8.2',
          'linux/arm64/v8.3',
          'linux/arm64/v8.4',
          'linux/arm64/v8.5',
          'linux/arm64/v9',
          'linux/arm64/v9.0',
        ],
        ['linux/amd64', 'linux/arm/v4', 'windows/amd64', 'windows/arm', 'linux/arm64/v8.6'],
      ],
      [
        'linux/arm64/v8.1',
        ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'linux/arm64/v8', 'linux/arm64/v8.1'],
        ['linux/amd64', 'linux/arm/v4', 'linux/arm/v9', 'linux/arm64/v9', 'windows/amd64', 'windows/arm'],
      ],
      [
        'linux/arm64',
        ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm/v8', 'linux/arm64', 'linux/arm64/v8'],
        ['linux/amd64', 'linux/arm/v4', 'linux/arm/v9', 'linux/arm64/v9', 'windows/amd64', 'windows/arm'],
      ],
    ];
    for (const [wanted, yes, no] of only) {
      it(`a ${wanted} host runs ${yes.join(', ')} and nothing else listed`, () => {
        const matcher = platformMatcher(wanted);
        for (const c of yes) expect(matcher.match(parsePlatform(c, { host: HOST })), c).to.equal(true);
        for (const c of no) expect(matcher.match(parsePlatform(c, { host: HOST })), c).to.equal(false);
      });
    }

    // compare_test.go TestOnlyStrict
    const strict: Array<[string, string[], string[]]> = [
      ['linux/amd64', ['linux/amd64'], ['linux/386', 'linux/arm/v7', 'linux/arm64', 'windows/amd64', 'windows/arm']],
      ['windows(10.0.17763)/amd64', ['windows/amd64', 'windows(10.0.17763)/amd64'], ['linux/amd64', 'linux/arm/v7', 'linux/arm64', 'windows/arm']],
      ['linux/arm/v8', ['linux/arm/v8'], ['linux/arm', 'linux/arm/v5', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64']],
      ['linux/arm/v7', ['linux/arm', 'linux/arm/v7'], ['linux/arm/v5', 'linux/arm/v6', 'linux/arm/v8', 'linux/arm64']],
      ['linux/arm64/v9', ['linux/arm64/v9', 'linux/arm64/v9.0'], ['linux/arm', 'linux/arm/v8', 'linux/arm/v9', 'linux/arm64/v8', 'linux/arm64/v8.1']],
      ['linux/arm64/v8.1', ['linux/arm64/v8.1'], ['linux/arm', 'linux/arm/v8', 'linux/arm64/v8', 'linux/arm64/v9']],
      ['linux/arm64', ['linux/arm64', 'linux/arm64/v8'], ['linux/arm', 'linux/arm/v8', 'linux/arm/v9', 'linux/arm64/v9']],
    ];
    for (const [wanted, yes, no] of strict) {
      it(`strictly, ${wanted} accepts only ${yes.join(', ')}`, () => {
        const matcher = platformMatcher(wanted, { strict: true });
        for (const c of yes) expect(matcher.match(parsePlatform(c, { host: HOST })), c).to.equal(true);
        for (const c of no) expect(matcher.match(parsePlatform(c, { host: HOST })), c).to.equal(false);
      });
    }

    it('accepts Windows images whose build the host can run', () => {
      const win = (version: string): Platform => ({ ...p('windows', 'amd64'), 'os.version': version });
      const ltsc2019 = platformMatcher(win('10.0.17763.5329'));
      expect(ltsc2019.match(win('10.0.17763.1'))).to.equal(true);
      expect(ltsc2019.match(win('10.0.20348.1'))).to.equal(false);
      const newer = platformMatcher(win('10.0.26100.1'));
      expect([win('10.0.20348.2'), win('10.0.26100.3'), p('windows', 'amd64')].every((c) => newer.match(c))).to.equal(true);
      expect([win('10.0.17763.1'), win('10.0.26200.1'), win('6.3.9600.1'), win('bogus')].some((c) => newer.match(c))).to.equal(false);
    });

    it('accepts candidates whose OS features are a subset of the wanted ones', () => {
      const matcher = platformMatcher({ ...p('linux', 'amd64'), 'os.features': ['gpu', 'simd'] });
      expect(matcher.match({ ...p('linux', 'amd64'), 'os.features': ['gpu'] })).to.equal(true);
      expect(matcher.match(p('linux', 'amd64'))).to.equal(true);
      expect(matcher.match({ ...p('linux', 'amd64'), 'os.features': ['erofs'] })).to.equal(false);
      expect(platformMatcher('linux/amd64').match({ ...p('linux', 'amd64'), 'os.features': ['gpu'] })).to.equal(false);
    });

    it('ignores a Windows candidate’s win32k feature, but no other', () => {
      const matcher = platformMatcher('windows/amd64');
      expect(matcher.match({ ...p('windows', 'amd64'), 'os.features': ['win32k'] })).to.equal(true);
      expect(matcher.match({ ...p('windows', 'amd64'), 'os.features': ['win32k', 'other'] })).to.equal(false);
      expect(platformMatcher('linux/amd64').match({ ...p('linux', 'amd64'), 'os.features': ['win32k'] })).to.equal(false);
    });

    it('orders by the fallback list: less(a, b) only when a is preferred', () => {
      const m = platformMatcher('linux/arm64');
      expect(m.less(p('linux', 'arm64'), p('linux', 'arm', 'v7'))).to.equal(true);
      expect(m.less(p('linux', 'arm', 'v7'), p('linux', 'arm64'))).to.equal(false);
      expect(m.less(p('linux', 'arm64', 'v8'), p('linux', 'aarch64'))).to.equal(false);
      expect(m.less(p('linux', 'arm', 'v5'), p('linux', 'amd64'))).to.equal(true);
      expect(m.less(p('linux', 'amd64'), p('linux', 's390x'))).to.equal(false);
      expect(String(m)).to.equal('linux/arm64');
    });

    it('rejects an invalid wanted platform', () => {
      expectCode(() => platformMatcher('linux/&'), 'ERR_INVALID_PLATFORM');
    });
  });

  describe('compatiblePlatforms', () => {
    const cases: Array<[string, string[]]> = [
      ['linux/amd64', ['linux/amd64', 'linux/386']],
      ['linux/amd64/v3', ['linux/amd64/v3', 'linux/amd64/v2', 'linux/amd64', 'linux/386']],
      ['linux/386', ['linux/386']],
      ['linux/arm', ['linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
      ['linux/arm/v6', ['linux/arm/v6', 'linux/arm/v5']],
      ['linux/arm64', ['linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
      ['linux/arm64/v8.2', ['linux/arm64/v8.2', 'linux/arm64/v8.1', 'linux/arm64', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
      [
        'linux/arm64/v9.1',
        [
          'linux/arm64/v9.1',
          'linux/arm64/v9',
          'linux/arm64/v8.6',
          'linux/arm64/v8.5',
          'linux/arm64/v8.4',
          'linux/arm64/v8.3',
          'linux/arm64/v8.2',
          'linux/arm64/v8.1',
          'linux/arm64',
          'linux/arm/v8',
          'linux/arm/v7',
          'linux/arm/v6',
          'linux/arm/v5',
        ],
      ],
      ['linux/s390x', ['linux/s390x']],
      ['linux/arm/v99999999', ['linux/arm/v99999999']],
      ['linux/arm64/v8.99999999', ['linux/arm64/v8.99999999', 'linux/arm/v8', 'linux/arm/v7', 'linux/arm/v6', 'linux/arm/v5']],
      ['windows(10.0.20348)/amd64', ['windows(10.0.20348)/amd64', 'windows(10.0.20348)/386']],
    ];
    for (const [wanted, expected] of cases) {
      it(`${wanted} → ${expected.join(', ')}`, () => {
        const list = compatiblePlatforms(parsePlatform(wanted, { host: HOST }));
        expect(list.map((x) => formatPlatform(x, { withOSOptions: true }))).to.deep.equal(expected);
      });
    }
  });

  describe('selectPlatforms and selectPlatform', () => {
    // The manifests of a typical multi-arch index (busybox-like), plus an attestation and a platform-less entry.
    const index = [
      { digest: 'amd64', platform: p('linux', 'amd64') },
      { digest: 'armv5', platform: p('linux', 'arm', 'v5') },
      { digest: 'armv6', platform: p('linux', 'arm', 'v6') },
      { digest: 'armv7', platform: p('linux', 'arm', 'v7') },
      { digest: 'arm64', platform: p('linux', 'arm64', 'v8') },
      { digest: '386', platform: p('linux', '386') },
      { digest: 'ppc64le', platform: p('linux', 'ppc64le') },
      { digest: 's390x', platform: p('linux', 's390x') },
      { digest: 'attestation', platform: p('unknown', 'unknown') },
      { digest: 'no-platform' },
    ];
    const digests = (list: Array<{ digest: string }>): string[] => list.map((d) => d.digest);

    const orders: Array<[string | Platform, string[]]> = [
      ['linux/arm64', ['arm64', 'armv7', 'armv6', 'armv5']],
      ['linux/amd64', ['amd64', '386']],
      ['linux/arm/v7', ['armv7', 'armv6', 'armv5']],
      ['linux/arm/v6', ['armv6', 'armv5']],
      ['linux/386', ['386']],
      [p('linux', 'x86_64'), ['amd64', '386']],
      ['linux/riscv64', []],
    ];
    for (const [wanted, expected] of orders) {
      it(`for ${typeof wanted === 'string' ? wanted : formatPlatform(wanted)} orders the index as ${expected.join(', ') || 'nothing'}`, () => {
        expect(digests(selectPlatforms(index, wanted))).to.deep.equal(expected);
      });
    }

    it('keeps the index order between equally good candidates', () => {
      const dupes = [
        { digest: 'b', platform: p('linux', 'arm', 'v6') },
        { digest: 'x', platform: p('linux', 'arm64') },
        { digest: 'c', platform: p('linux', 'arm', 'v6') },
        { digest: 'y', platform: p('linux', 'aarch64', 'v8') },
      ];
      expect(digests(selectPlatforms(dupes, 'linux/arm64'))).to.deep.equal(['x', 'y', 'b', 'c']);
    });

    it('takes matchers: strict, ordered, or all platforms', () => {
      expect(digests(selectPlatforms(index, platformMatcher('linux/arm/v7', { strict: true })))).to.deep.equal(['armv7']);
      expect(digests(selectPlatforms(index, orderedPlatformMatcher([p('linux', 's390x'), p('linux', 'amd64')])))).to.deep.equal(['s390x', 'amd64']);
      expect(digests(selectPlatforms(index, ALL_PLATFORMS))).to.deep.equal(digests(index.slice(0, 9)));
    });

    it('picks the best one, or throws ERR_NO_MATCHING_PLATFORM listing what is on offer', () => {
      expect(selectPlatform(index, 'linux/arm64').digest).to.equal('arm64');
      expect(selectPlatform(index, platformMatcher('linux/arm/v8')).digest).to.equal('armv7');
      const err = expectCode(() => selectPlatform(index, 'linux/riscv64'), 'ERR_NO_MATCHING_PLATFORM');
      expect(err).to.be.instanceOf(NotFoundError);
      expect(err.message).to.equal(
        'no match for platform linux/riscv64 among linux/amd64, linux/arm/v5, linux/arm/v6, linux/arm/v7, linux/arm64/v8, ' +
          'linux/386, linux/ppc64le, linux/s390x, unknown/unknown, unspecified',
      );
      expect(err.details['wanted']).to.equal('linux/riscv64');
      expectCode(() => selectPlatform([], 'linux/amd64'), 'ERR_NO_MATCHING_PLATFORM');
    });
  });
});
