// Cases and expected results are the distribution project's reference tests (reference_test.go,
// normalize_test.go, regexp_test.go), restated as tables.
import { expect } from 'chai';
import { ContainerkitError, InvalidArgumentError } from '../../../lib/errors/index.js';
import {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  familiarName,
  familiarString,
  isDigestReference,
  isNameOnly,
  LEGACY_DEFAULT_DOMAIN,
  nameOnly,
  normalizeReference,
  OFFICIAL_REPO_PREFIX,
  parseCanonicalReference,
  parseDockerRef,
  parseNormalizedReference,
  parseReference,
  type Reference,
  type ReferenceErrorReason,
  withDefaultTag,
  withDigest,
  withTag,
} from '../../../lib/oci/reference.js';
import { isValidDomain } from '../../../lib/oci/reference-grammar.js';

const F64 = 'f'.repeat(64);
const SHA256 = `sha256:${F64}`;
const SHA512 = `sha512:${'f'.repeat(128)}`;
const BE178 = 'sha256:be178c0543eb17f5f3043021c9e5fcf30285e557a4fc309cce97ff9ca6182912';
const DBCC = 'sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c';
const E669 = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582';

function catchError(fn: () => unknown): ContainerkitError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ContainerkitError);
    return err as ContainerkitError;
  }
  throw new Error('expected an error, got none');
}

function expectReferenceError(fn: () => unknown, reason: ReferenceErrorReason, causeCode?: string): ContainerkitError {
  const err = catchError(fn);
  expect(err.code).to.equal('ERR_INVALID_REFERENCE');
  expect(err).to.be.instanceOf(InvalidArgumentError);
  expect(err.details['reason'], err.message).to.equal(reason);
  if (causeCode !== undefined) expect((err.cause as ContainerkitError).code).to.equal(causeCode);
  return err;
}

interface ParseCase {
  input: string;
  /** The expected name (`domain/path`). */
  name?: string;
  domain?: string;
  tag?: string;
  digest?: string;
  error?: ReferenceErrorReason;
  cause?: string;
}

// reference_test.go TestReferenceParse, plus the reference and name cases of regexp_test.go.
const PARSE_CASES: ParseCase[] = [
  { input: 'test_com', name: 'test_com' },
  { input: 'test.com:tag', name: 'test.com', tag: 'tag' },
  { input: 'test.com:5000', name: 'test.com', tag: '5000' },
  { input: 'test.com/repo:tag', domain: 'test.com', name: 'test.com/repo', tag: 'tag' },
  { input: 'test:5000/repo', domain: 'test:5000', name: 'test:5000/repo' },
  { input: 'test:5000/repo:tag', domain: 'test:5000', name: 'test:5000/repo', tag: 'tag' },
  { input: `test:5000/repo@${SHA256}`, domain: 'test:5000', name: 'test:5000/repo', digest: SHA256 },
  { input: `test:5000/repo:tag@${SHA256}`, domain: 'test:5000', name: 'test:5000/repo', tag: 'tag', digest: SHA256 },
  { input: '', error: 'empty' },
  { input: ':justtag', error: 'invalid-format' },
  { input: `@${SHA256}`, error: 'invalid-format' },
  { input: `repo@sha256:${'f'.repeat(34)}`, error: 'invalid-digest', cause: 'ERR_INVALID_DIGEST' },
  { input: `validname@invaliddigest:${F64}`, error: 'invalid-digest', cause: 'ERR_UNSUPPORTED_DIGEST_ALGORITHM' },
  { input: 'Uppercase:tag', error: 'uppercase' },
  { input: 'test:5000/Uppercase/lowercase:tag', error: 'uppercase' },
  { input: 'lowercase:Uppercase', name: 'lowercase', tag: 'Uppercase' },
  { input: `domain/${'a'.repeat(256)}:tag`, error: 'name-too-long' },
  { input: `example.com/${'a'.repeat(255)}:tag`, domain: 'example.com', name: `example.com/${'a'.repeat(255)}`, tag: 'tag' },
  {
    input: `${'a/'.repeat(127)}a:tag-puts-this-over-max`,
    domain: 'a',
    name: `${'a/'.repeat(127)}a`,
    tag: 'tag-puts-this-over-max',
  },
  { input: 'aa/asdf$$^/aa', error: 'invalid-format' },
  { input: 'sub-dom1.foo.com/bar/baz/quux', domain: 'sub-dom1.foo.com', name: 'sub-dom1.foo.com/bar/baz/quux' },
  { input: 'sub-dom1.foo.com/bar/baz/quux:some-long-tag', domain: 'sub-dom1.foo.com', name: 'sub-dom1.foo.com/bar/baz/quux', tag: 'some-long-tag' },
  { input: 'b.gcr.io/test.example.com/my-app:test.example.com', domain: 'b.gcr.io', name: 'b.gcr.io/test.example.com/my-app', tag: 'test.example.com' },
  { input: 'xn--n3h.com/myimage:xn--n3h.com', domain: 'xn--n3h.com', name: 'xn--n3h.com/myimage', tag: 'xn--n3h.com' },
  { input: `xn--7o8h.com/myimage:xn--7o8h.com@${SHA512}`, domain: 'xn--7o8h.com', name: 'xn--7o8h.com/myimage', tag: 'xn--7o8h.com', digest: SHA512 },
  { input: 'foo_bar.com:8080', name: 'foo_bar.com', tag: '8080' },
  { input: 'foo/foo_bar.com:8080', domain: 'foo', name: 'foo/foo_bar.com', tag: '8080' },
  { input: '192.168.1.1', name: '192.168.1.1' },
  { input: '192.168.1.1:tag', name: '192.168.1.1', tag: 'tag' },
  { input: '192.168.1.1:5000', name: '192.168.1.1', tag: '5000' },
  { input: '192.168.1.1/repo', domain: '192.168.1.1', name: '192.168.1.1/repo' },
  { input: '192.168.1.1:5000/repo', domain: '192.168.1.1:5000', name: '192.168.1.1:5000/repo' },
  { input: '192.168.1.1:5000/repo:5050', domain: '192.168.1.1:5000', name: '192.168.1.1:5000/repo', tag: '5050' },
  { input: '[2001:db8::1]', error: 'invalid-format' },
  { input: '[2001:db8::1]:5000', error: 'invalid-format' },
  { input: '[2001:db8::1]:tag', error: 'invalid-format' },
  { input: '[2001:db8::1]/repo', domain: '[2001:db8::1]', name: '[2001:db8::1]/repo' },
  { input: '[2001:db8:1:2:3:4:5:6]/repo:tag', domain: '[2001:db8:1:2:3:4:5:6]', name: '[2001:db8:1:2:3:4:5:6]/repo', tag: 'tag' },
  { input: '[2001:db8::1]:5000/repo', domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo' },
  { input: '[2001:db8::1]:5000/repo:tag', domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo', tag: 'tag' },
  { input: `[2001:db8::1]:5000/repo@${SHA256}`, domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo', digest: SHA256 },
  { input: `[2001:db8::1]:5000/repo:tag@${SHA256}`, domain: '[2001:db8::1]:5000', name: '[2001:db8::1]:5000/repo', tag: 'tag', digest: SHA256 },
  { input: '[2001:db8::]:5000/repo', domain: '[2001:db8::]:5000', name: '[2001:db8::]:5000/repo' },
  { input: '[::1]:5000/repo', domain: '[::1]:5000', name: '[::1]:5000/repo' },
  { input: '[fe80::1%eth0]:5000/repo', error: 'invalid-format' },
  { input: '[fe80::1%@invalidzone]:5000/repo', error: 'invalid-format' },
  // regexp_test.go: TestReferenceRegexp and TestFullNameRegexp
  { input: 'registry.com:8080/myapp:invalid~tag', error: 'invalid-format' },
  { input: 'bad_hostname.com:8080/myapp:tag', error: 'invalid-format' },
  { input: `localhost:8080@${BE178}`, name: 'localhost', tag: '8080', digest: BE178 },
  { input: `localhost@${BE178}`, name: 'localhost', digest: BE178 },
  { input: `localhost:8080/name@${BE178}`, domain: 'localhost:8080', name: 'localhost:8080/name', digest: BE178 },
  { input: 'localhost:http/name@sha256:badbadbad', error: 'invalid-format' },
  { input: 'registry.com:8080/myapp@sha256:badbadbadbad', error: 'invalid-format' },
  { input: 'registry.com:8080/myapp@bad', error: 'invalid-format' },
  { input: 'registry.com:8080/myapp@2bad', error: 'invalid-format' },
  { input: 'example.com/some_separator__underscore/myimage', domain: 'example.com', name: 'example.com/some_separator__underscore/myimage' },
  { input: 'example.com/__underscore/myimage', error: 'invalid-format' },
  { input: 'example.com/..dots/myimage', error: 'invalid-format' },
  { input: 'example.com/nodouble..dots/myimage', error: 'invalid-format' },
  {
    input: 'registry.io/foo/project--id.module--name.ver---sion--name',
    domain: 'registry.io',
    name: 'registry.io/foo/project--id.module--name.ver---sion--name',
  },
  { input: 'Asdf.com/foo/bar', domain: 'Asdf.com', name: 'Asdf.com/foo/bar' },
  { input: 'Foo/FarB', error: 'uppercase' },
  { input: 'do__cker/docker', name: 'do__cker/docker' },
  { input: 'do__cker:8080/docker', error: 'invalid-format' },
  { input: 'docker./docker', error: 'invalid-format' },
  { input: '-foo/bar', error: 'invalid-format' },
  { input: 'foo/bar-', error: 'invalid-format' },
  { input: 'a/a/a/a/', error: 'invalid-format' },
  { input: 'a//a/a', error: 'invalid-format' },
  { input: 'foo.com:http/bar', error: 'invalid-format' },
  { input: 'aa-a/a', domain: 'aa-a', name: 'aa-a/a' },
  { input: 'docker/stevvooe/app', domain: 'docker', name: 'docker/stevvooe/app' },
];

describe('oci/reference', () => {
  describe('parseReference (the grammar, no normalisation)', () => {
    for (const c of PARSE_CASES) {
      const label = c.input.length > 60 ? `${c.input.slice(0, 60)}…` : c.input || '(empty)';
      if (c.error) {
        it(`rejects ${label} (${c.error})`, () => {
          expectReferenceError(() => parseReference(c.input), c.error as ReferenceErrorReason, c.cause);
        });
        continue;
      }
      it(`parses ${label}`, () => {
        const ref = parseReference(c.input);
        expect(String(ref)).to.equal(c.input);
        expect(ref.name).to.equal(c.name);
        expect(ref.domain).to.equal(c.domain ?? '');
        expect(ref.path).to.equal(c.domain ? (c.name ?? '').slice(c.domain.length + 1) : c.name);
        expect(ref.tag).to.equal(c.tag);
        expect(ref.digest).to.equal(c.digest);
        expect('tag' in ref).to.equal(c.tag !== undefined);
        expect('digest' in ref).to.equal(c.digest !== undefined);
      });
    }

    // reference_test.go TestDomainAndPath
    const split: Array<[string, string, string]> = [
      ['test.com/foo', 'test.com', 'foo'],
      ['test_com/foo', '', 'test_com/foo'],
      ['test:8080/foo', 'test:8080', 'foo'],
      ['test.com:8080/foo', 'test.com:8080', 'foo'],
      ['test-com:8080/foo', 'test-com:8080', 'foo'],
      ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080', 'foo'],
    ];
    for (const [input, domain, path] of split) {
      it(`splits ${input} into domain "${domain}" and path "${path}"`, () => {
        const ref = parseReference(input);
        expect([ref.domain, ref.path]).to.deep.equal([domain, path]);
      });
    }

    it('names the input and the problem in the message, and rejects non-strings', () => {
      expect(expectReferenceError(() => parseReference('Uppercase:tag'), 'uppercase').message).to.equal(
        'invalid reference "Uppercase:tag": repository name must be lowercase',
      );
      expect(expectReferenceError(() => parseReference(`domain/${'a'.repeat(256)}`), 'name-too-long').message).to.match(/must not be more than 255 characters/);
      expect(expectReferenceError(() => parseReference(''), 'empty').message).to.match(/at least one component/);
      expectReferenceError(() => parseReference(42 as unknown as string), 'invalid-format');
    });

    it('returns frozen references whose only own fields are data', () => {
      const ref = parseReference(`example.com/a:b@${SHA256}`);
      expect(Object.isFrozen(ref)).to.equal(true);
      expect(Object.keys(ref)).to.have.members(['domain', 'path', 'name', 'tag', 'digest']);
      expect(JSON.parse(JSON.stringify(ref))).to.deep.equal({ domain: 'example.com', path: 'a', name: 'example.com/a', tag: 'b', digest: SHA256 });
    });
  });

  describe('parseNormalizedReference', () => {
    // normalize_test.go TestValidateReferenceName and TestValidateRemoteName, valid inputs
    const valid = [
      'docker/docker',
      'library/debian',
      'debian',
      'docker.io/docker/docker',
      'docker.io/library/debian',
      'docker.io/debian',
      'index.docker.io/docker/docker',
      'index.docker.io/library/debian',
      'index.docker.io/debian',
      '127.0.0.1:5000/docker/docker',
      '127.0.0.1:5000/library/debian',
      '127.0.0.1:5000/debian',
      '192.168.0.1',
      '192.168.0.1:80',
      '192.168.0.1:8/debian',
      '192.168.0.2:25000/debian',
      'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
      '[fc00::1]:5000/docker',
      '[fc00::1]:5000/docker/docker',
      '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
      'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
      'Docker/docker',
      'DOCKER/docker',
      'docker-rules/docker',
      'docker---rules/docker',
      'doc/docker',
      'd/docker',
      'jess/t',
      'dock__er/docker',
    ];
    for (const input of valid) {
      it(`accepts ${input}`, () => {
        const ref = parseNormalizedReference(input);
        expect(ref.domain).to.not.equal('');
        expect(parseReference(String(ref)).name).to.equal(ref.name);
      });
    }

    // The invalid inputs of the same tests, with the reason each fails for.
    const invalid: Array<[string, ReferenceErrorReason]> = [
      ['https://github.com/docker/docker', 'invalid-format'],
      ['docker/Docker', 'uppercase'],
      ['-docker', 'invalid-format'],
      ['-docker/docker', 'invalid-format'],
      ['-docker.io/docker/docker', 'invalid-format'],
      ['docker///docker', 'invalid-format'],
      ['docker.io/docker/Docker', 'uppercase'],
      ['docker.io/docker///docker', 'invalid-format'],
      ['[fc00::1]', 'invalid-format'],
      ['[fc00::1]:5000', 'invalid-format'],
      ['fc00::1:5000/debian', 'invalid-format'],
      ['[fe80::1%eth0]:5000/debian', 'invalid-format'],
      ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'invalid-format'],
      ['1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'identifier'],
      ['docker-/docker', 'invalid-format'],
      ['-docker-/docker', 'invalid-format'],
      ['____/____', 'invalid-format'],
      ['_docker/_docker', 'invalid-format'],
      ['dock..er/docker', 'invalid-format'],
      ['dock_.er/docker', 'invalid-format'],
      ['dock-.er/docker', 'invalid-format'],
      ['docker/', 'invalid-format'],
      [`${Array(4).fill('this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255').join('_')}/docker`, 'name-too-long'],
      ['', 'empty'],
    ];
    for (const [input, reason] of invalid) {
      it(`rejects ${input.length > 60 ? `${input.slice(0, 60)}…` : input || '(empty)'} (${reason})`, () => {
        expectReferenceError(() => parseNormalizedReference(input), reason);
      });
    }

    it('names the offending repository path when it has upper case', () => {
      const err = expectReferenceError(() => parseNormalizedReference('Uppercase:tag'), 'uppercase');
      expect(err.message).to.equal('invalid reference "Uppercase:tag": repository name (library/Uppercase) must be lowercase');
    });

    // normalize_test.go TestParseRepositoryInfo: every spelling gives the same full name, familiar name, domain, path.
    const infos = [
      { path: 'fooo/bar', familiar: 'fooo/bar', full: 'docker.io/fooo/bar', ambiguous: 'index.docker.io/fooo/bar', domain: 'docker.io' },
      { path: 'library/ubuntu', familiar: 'ubuntu', full: 'docker.io/library/ubuntu', ambiguous: 'library/ubuntu', domain: 'docker.io' },
      { path: 'nonlibrary/ubuntu', familiar: 'nonlibrary/ubuntu', full: 'docker.io/nonlibrary/ubuntu', domain: 'docker.io' },
      { path: 'other/library', familiar: 'other/library', full: 'docker.io/other/library', domain: 'docker.io' },
      { path: 'private/moonbase', familiar: '127.0.0.1:8000/private/moonbase', full: '127.0.0.1:8000/private/moonbase', domain: '127.0.0.1:8000' },
      { path: 'privatebase', familiar: '127.0.0.1:8000/privatebase', full: '127.0.0.1:8000/privatebase', domain: '127.0.0.1:8000' },
      { path: 'private/moonbase', familiar: 'example.com/private/moonbase', full: 'example.com/private/moonbase', domain: 'example.com' },
      { path: 'privatebase', familiar: 'example.com/privatebase', full: 'example.com/privatebase', domain: 'example.com' },
      { path: 'private/moonbase', familiar: 'example.com:8000/private/moonbase', full: 'example.com:8000/private/moonbase', domain: 'example.com:8000' },
      { path: 'privatebasee', familiar: 'example.com:8000/privatebasee', full: 'example.com:8000/privatebasee', domain: 'example.com:8000' },
      {
        path: 'library/ubuntu-12.04-base',
        familiar: 'ubuntu-12.04-base',
        full: 'docker.io/library/ubuntu-12.04-base',
        ambiguous: 'index.docker.io/library/ubuntu-12.04-base',
        domain: 'docker.io',
      },
      { path: 'library/foo', familiar: 'foo', full: 'docker.io/library/foo', ambiguous: 'docker.io/foo', domain: 'docker.io' },
      { path: 'library/foo/bar', familiar: 'library/foo/bar', full: 'docker.io/library/foo/bar', domain: 'docker.io' },
      { path: 'store/foo/bar', familiar: 'store/foo/bar', full: 'docker.io/store/foo/bar', domain: 'docker.io' },
      { path: 'bar', familiar: 'Foo/bar', full: 'Foo/bar', domain: 'Foo' },
      { path: 'bar', familiar: 'FOO/bar', full: 'FOO/bar', domain: 'FOO' },
    ];
    for (const info of infos) {
      for (const input of [info.familiar, info.full, ...(info.ambiguous ? [info.ambiguous] : [])]) {
        it(`normalises ${input} to ${info.full} (familiar ${info.familiar})`, () => {
          const ref = parseNormalizedReference(input);
          expect(String(ref)).to.equal(info.full);
          expect(familiarName(ref)).to.equal(info.familiar);
          expect(ref.domain).to.equal(info.domain);
          expect(ref.path).to.equal(info.path);
        });
      }
    }

    // normalize_test.go TestNormalizedSplitHostname and the named cases of TestParseAnyReference.
    const normalized: Array<[string, string]> = [
      ['test.com/foo', 'test.com/foo'],
      ['test_com/foo', 'docker.io/test_com/foo'],
      ['docker/migrator', 'docker.io/docker/migrator'],
      ['test.com:8080/foo', 'test.com:8080/foo'],
      ['test-com:8080/foo', 'test-com:8080/foo'],
      ['foo', 'docker.io/library/foo'],
      ['xn--n3h.com/foo', 'xn--n3h.com/foo'],
      ['xn--n3h.com:18080/foo', 'xn--n3h.com:18080/foo'],
      ['docker.io/foo', 'docker.io/library/foo'],
      ['docker.io/library/foo', 'docker.io/library/foo'],
      ['docker.io/library/foo/bar', 'docker.io/library/foo/bar'],
      ['redis', 'docker.io/library/redis'],
      ['redis:latest', 'docker.io/library/redis:latest'],
      ['docker.io/library/redis:latest', 'docker.io/library/redis:latest'],
      [`redis@${DBCC}`, `docker.io/library/redis@${DBCC}`],
      [`docker.io/library/redis@${DBCC}`, `docker.io/library/redis@${DBCC}`],
      ['dmcgowan/myapp', 'docker.io/dmcgowan/myapp'],
      ['dmcgowan/myapp:latest', 'docker.io/dmcgowan/myapp:latest'],
      ['docker.io/mcgowan/myapp:latest', 'docker.io/mcgowan/myapp:latest'],
      [`dmcgowan/myapp@${DBCC}`, `docker.io/dmcgowan/myapp@${DBCC}`],
      [DBCC.slice(7, -1), `docker.io/library/${DBCC.slice(7, -1)}`],
      ['dbcc1', 'docker.io/library/dbcc1'],
      ['localhost/foo', 'localhost/foo'],
      ['localhost:5000/a/b', 'localhost:5000/a/b'],
      ['localhost', 'docker.io/library/localhost'],
    ];
    for (const [input, expected] of normalized) {
      it(`normalises ${input} to ${expected} without adding a tag`, () => {
        expect(String(parseNormalizedReference(input))).to.equal(expected);
      });
    }
  });

  describe('parseCanonicalReference', () => {
    // reference_test.go TestParseNamed
    const cases: Array<[string, string, string] | [string, 'not-canonical']> = [
      ['test.com/foo', 'test.com', 'foo'],
      ['test:8080/foo', 'test:8080', 'foo'],
      ['test_com/foo', 'not-canonical'],
      ['test.com', 'not-canonical'],
      ['foo', 'not-canonical'],
      ['library/foo', 'not-canonical'],
      ['docker.io/library/foo', 'docker.io', 'library/foo'],
      ['docker.io/foo', 'not-canonical'],
    ];
    for (const [input, domainOrError, path] of cases) {
      if (path === undefined) {
        it(`rejects ${input}: repository name must be canonical`, () => {
          const err = expectReferenceError(() => parseCanonicalReference(input), 'not-canonical');
          expect(err.message).to.include('repository name must be canonical');
        });
      } else {
        it(`accepts ${input}`, () => {
          const ref = parseCanonicalReference(input);
          expect([ref.domain, ref.path]).to.deep.equal([domainOrError, path]);
        });
      }
    }
  });

  describe('normalizeReference, parseDockerRef and familiar forms', () => {
    const normalizeCases: Array<[string, string, string]> = [
      ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
      ['user/repo', 'docker.io/user/repo:latest', 'user/repo:latest'],
      ['index.docker.io/user/repo', 'docker.io/user/repo:latest', 'user/repo:latest'],
      ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
      ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
      [`localhost:5000/a/b@${SHA256}`, `localhost:5000/a/b@${SHA256}`, `localhost:5000/a/b@${SHA256}`],
      [`busybox@${SHA256}`, `docker.io/library/busybox@${SHA256}`, `busybox@${SHA256}`],
      // normalize_test.go TestParseReferenceWithTagAndDigest: both are kept.
      [
        'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
        'docker.io/library/busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
        'busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa',
      ],
      ['[::1]:5000/repo', '[::1]:5000/repo:latest', '[::1]:5000/repo:latest'],
      ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ];
    for (const [input, expected, familiar] of normalizeCases) {
      it(`normalises ${input} to ${expected}, shown as ${familiar}`, () => {
        const ref = normalizeReference(input);
        expect(String(ref)).to.equal(expected);
        expect(familiarString(ref)).to.equal(familiar);
      });
    }

    // normalize_test.go TestParseDockerRef
    const dockerRefs: Array<[string, string]> = [
      ['busybox', 'docker.io/library/busybox:latest'],
      ['busybox:latest', 'docker.io/library/busybox:latest'],
      [`busybox@${E669}`, `docker.io/library/busybox@${E669}`],
      ['library/busybox', 'docker.io/library/busybox:latest'],
      ['docker.io/busybox', 'docker.io/library/busybox:latest'],
      ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
      ['docker.io/busybox:latest', 'docker.io/library/busybox:latest'],
      ['library/busybox:latest', 'docker.io/library/busybox:latest'],
      ['docker.io/library/busybox:latest', 'docker.io/library/busybox:latest'],
      ['gcr.io/library/busybox', 'gcr.io/library/busybox:latest'],
      [`gcr.io/library/busybox:latest@${E669}`, `gcr.io/library/busybox@${E669}`],
    ];
    for (const [input, expected] of dockerRefs) {
      it(`parseDockerRef(${input}) is ${expected}`, () => {
        expect(String(parseDockerRef(input))).to.equal(expected);
      });
    }

    it('leaves references without the default domain as they are in familiar form', () => {
      const strict = parseReference('busybox:1');
      expect(familiarString(strict)).to.equal('busybox:1');
      expect(familiarName(parseReference('example.com/library/x'))).to.equal('example.com/library/x');
    });

    it('exports the docker constants', () => {
      expect([DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX, DEFAULT_TAG]).to.deep.equal(['docker.io', 'index.docker.io', 'library/', 'latest']);
    });
  });

  describe('withTag, withDigest and friends', () => {
    // reference_test.go TestWithTag / TestWithDigest (with full-length digests: lib/oci/digest is stricter
    // than go-digest and wants exactly 64 hex characters for sha256).
    const cases: Array<{ name: string; tag?: string; digest?: string; combined: string }> = [
      { name: 'test.com/foo', tag: 'tag', combined: 'test.com/foo:tag' },
      { name: 'foo', tag: 'tag2', combined: 'foo:tag2' },
      { name: 'test.com:8000/foo', tag: 'tag4', combined: 'test.com:8000/foo:tag4' },
      { name: 'test.com:8000/foo', tag: 'TAG5', combined: 'test.com:8000/foo:TAG5' },
      { name: 'test.com:8000/foo', tag: 'TAG5', digest: SHA256, combined: `test.com:8000/foo:TAG5@${SHA256}` },
      { name: 'test.com/foo', digest: SHA256, combined: `test.com/foo@${SHA256}` },
      { name: 'foo', digest: SHA256, combined: `foo@${SHA256}` },
      { name: 'test.com:8000/foo', tag: 'latest', digest: SHA256, combined: `test.com:8000/foo:latest@${SHA256}` },
    ];
    for (const c of cases) {
      it(`builds ${c.combined}`, () => {
        let ref: Reference = parseReference(c.name);
        if (c.digest) ref = withDigest(ref, c.digest);
        if (c.tag) ref = withTag(ref, c.tag);
        expect(String(ref)).to.equal(c.combined);
        expect(isDigestReference(ref)).to.equal(c.digest !== undefined);
      });
    }

    it('rejects a bad tag or digest', () => {
      const busybox = parseNormalizedReference('busybox');
      expectReferenceError(() => withTag(busybox, '-foo'), 'invalid-tag');
      expectReferenceError(() => withTag(busybox, 'a'.repeat(129)), 'invalid-tag');
      expectReferenceError(() => withDigest(busybox, 'foo'), 'invalid-digest', 'ERR_INVALID_DIGEST');
      expectReferenceError(() => withDigest(busybox, 'sha256:1234567890098765432112345667890098765'), 'invalid-digest', 'ERR_INVALID_DIGEST');
    });

    it('adds the default tag only to a bare name, and strips back to the name', () => {
      const bare = parseNormalizedReference('busybox');
      expect(isNameOnly(bare)).to.equal(true);
      expect(String(withDefaultTag(bare))).to.equal('docker.io/library/busybox:latest');
      const pinned = parseNormalizedReference(`busybox@${SHA256}`);
      expect(withDefaultTag(pinned)).to.equal(pinned);
      expect(isNameOnly(pinned)).to.equal(false);
      const tagged = parseNormalizedReference(`busybox:1@${SHA256}`);
      expect(String(nameOnly(tagged))).to.equal('docker.io/library/busybox');
      expect(isNameOnly(nameOnly(tagged))).to.equal(true);
    });
  });

  describe('grammar', () => {
    // regexp_test.go TestDomainRegexp
    const domains: Array<[string, boolean]> = [
      ['test.com', true],
      ['test.com:10304', true],
      ['test.com:http', false],
      ['localhost', true],
      ['localhost:8080', true],
      ['a', true],
      ['a.b', true],
      ['ab.cd.com', true],
      ['a-b.com', true],
      ['-ab.com', false],
      ['ab-.com', false],
      ['ab.c-om', true],
      ['ab.-com', false],
      ['ab.com-', false],
      ['0101.com', true],
      ['001a.com', true],
      ['b.gbc.io:443', true],
      ['xn--n3h.com', true],
      ['Asdf.com', true],
      ['192.168.1.1:75050', true],
      ['[fd00:1:2::3]:75050', true],
      ['[fd00:1:2::3]75050', false],
      ['[fd00:1:2::3]::75050', false],
      ['[fd00:1:2::3%eth0]:75050', false],
      ['[fd00123123123]:75050', true],
      ['[2001:0db8:85a3:0000:0000:8a2e:0370:7334]:75050', true],
      ['fd00:1:2::3:75050', false],
    ];
    for (const [domain, valid] of domains) {
      it(`${valid ? 'accepts' : 'rejects'} domain ${domain}`, () => {
        expect(isValidDomain(domain)).to.equal(valid);
      });
    }

    it('stays fast on long hostile input', () => {
      const started = Date.now();
      for (const input of ['a'.repeat(100_000) + '!', 'a.'.repeat(50_000) + '/', 'a-'.repeat(50_000) + '/', 'a--'.repeat(30_000) + 'A']) {
        expect(() => parseNormalizedReference(input)).to.throw(ContainerkitError);
      }
      expect(Date.now() - started).to.be.below(1000);
    });
  });
});
