import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { assertInside, isInside, MAX_SYMLINK_FOLLOWS, resolveInRoot, resolveInRootSync } from '../../../lib/util/safe-path.js';
import { rejection } from '../../fixtures/assert.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('util/safe-path', () => {
  let base: string; // a temp dir holding the root and an "outside" sibling
  let root: string; // the real path of the root

  beforeEach(() => {
    base = realpathSync(mkdtempSync(join(tmpdir(), 'ck-safe-path-')));
    root = join(base, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), 'inside');
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(base, 'outside', 'secret'), 'outside');
  });

  afterEach(() => rmSync(base, { recursive: true, force: true }));

  // Runs every case through both variants, which share one algorithm but different drivers.
  const variants: Array<[string, (r: string, p: string, o?: { followFinal?: boolean }) => Promise<string>]> = [
    ['async', (r, p, o) => resolveInRoot(r, p, o)],
    ['sync', async (r, p, o) => resolveInRootSync(r, p, o)],
  ];

  for (const [name, resolveIt] of variants) {
    describe(`resolveInRoot (${name})`, () => {
      it('re-roots an absolute symlink to /etc/passwd', async () => {
        symlinkSync('/etc/passwd', join(root, 'pw'));
        expect(await resolveIt(root, 'pw')).to.equal(join(root, 'etc', 'passwd'));
        expect(await resolveIt(root, '/pw')).to.equal(join(root, 'etc', 'passwd'));
      });

      it('clamps chains of .. at the root', async () => {
        expect(await resolveIt(root, '../../../etc/passwd')).to.equal(join(root, 'etc', 'passwd'));
        expect(await resolveIt(root, '/etc/../../../../..')).to.equal(root);
        expect(await resolveIt(root, 'a/b/../../../../outside/secret')).to.equal(join(root, 'outside', 'secret'));
      });

      it('keeps a relative symlink that climbs out inside the root', async () => {
        mkdirSync(join(root, 'a', 'b'), { recursive: true });
        symlinkSync('../../../../outside', join(root, 'a', 'b', 'esc'));
        expect(await resolveIt(root, 'a/b/esc/secret')).to.equal(join(root, 'outside', 'secret'));
        expect(await resolveIt(root, 'a/b/esc')).to.equal(join(root, 'outside'));
      });

      it('follows a chain of symlinks through several directories', async () => {
        mkdirSync(join(root, 'd1'));
        mkdirSync(join(root, 'd2', 'sub'), { recursive: true });
        mkdirSync(join(root, 'd3'));
        writeFileSync(join(root, 'd3', 'target'), 'x');
        symlinkSync('../d2/sub/l2', join(root, 'd1', 'l1'));
        symlinkSync('/d3/../d3/l3', join(root, 'd2', 'sub', 'l2'));
        symlinkSync('target', join(root, 'd3', 'l3'));
        expect(await resolveIt(root, 'd1/l1')).to.equal(join(root, 'd3', 'target'));
      });

      it('detects a two-link loop and a self-loop', async () => {
        symlinkSync('b', join(root, 'a'));
        symlinkSync('/a', join(root, 'b'));
        symlinkSync('self', join(root, 'self'));
        for (const p of ['a', 'b/x', 'self', 'etc/../self/y']) {
          const err = await rejection(resolveIt(root, p));
          expect(err).to.have.property('code', 'ERR_SYMLINK_LOOP');
        }
      });

      it('counts up to MAX_SYMLINK_FOLLOWS links, not one more', async () => {
        // l0 -> l1 -> ... -> lN -> etc; N+1 links must be followed to reach etc.
        const chain = (n: number, prefix: string): void => {
          for (let i = 0; i < n; i++) symlinkSync(`${prefix}${i + 1}`, join(root, `${prefix}${i}`));
          symlinkSync('etc', join(root, `${prefix}${n}`));
        };
        chain(MAX_SYMLINK_FOLLOWS - 1, 'ok');
        chain(MAX_SYMLINK_FOLLOWS, 'ko');
        expect(await resolveIt(root, 'ok0/passwd')).to.equal(join(root, 'etc', 'passwd'));
        expect(await rejection(resolveIt(root, 'ko0/passwd'))).to.have.property('code', 'ERR_SYMLINK_LOOP');
      });

      it('applies .. in a target after the symlinked directory it went through', async () => {
        mkdirSync(join(root, 'real', 'deep'), { recursive: true });
        mkdirSync(join(root, 'lexical'));
        symlinkSync('/real/deep', join(root, 'lexical', 'dir'));
        // dir/.. is real/, not lexical/: the link is followed before .. applies.
        symlinkSync('dir/../sibling', join(root, 'lexical', 'up'));
        expect(await resolveIt(root, 'lexical/up')).to.equal(join(root, 'real', 'sibling'));
        expect(await resolveIt(root, 'lexical/dir/../../../..')).to.equal(root);
      });

      it('keeps dangling links and missing components inside the root', async () => {
        symlinkSync('/no/such/file', join(root, 'dangling'));
        symlinkSync('../../../../gone', join(root, 'dangling-rel'));
        expect(await resolveIt(root, 'dangling')).to.equal(join(root, 'no', 'such', 'file'));
        expect(await resolveIt(root, 'dangling-rel/child')).to.equal(join(root, 'gone', 'child'));
        expect(await resolveIt(root, 'new/dir/file')).to.equal(join(root, 'new', 'dir', 'file'));
        // A regular file used as a directory is kept lexically, too.
        expect(await resolveIt(root, 'etc/passwd/x')).to.equal(join(root, 'etc', 'passwd', 'x'));
      });

      it('still follows links after a missing component is popped by ..', async () => {
        symlinkSync('/etc', join(root, 'e'));
        expect(await resolveIt(root, 'missing/../e/passwd')).to.equal(join(root, 'etc', 'passwd'));
      });

      it('does not follow the last symlink with followFinal false', async () => {
        mkdirSync(join(root, 'dir'));
        symlinkSync('/etc/passwd', join(root, 'dir', 'link'));
        symlinkSync('/dir', join(root, 'dirlink'));
        const opts = { followFinal: false };
        expect(await resolveIt(root, 'dir/link', opts)).to.equal(join(root, 'dir', 'link'));
        // Links before the last component are still followed.
        expect(await resolveIt(root, 'dirlink/link', opts)).to.equal(join(root, 'dir', 'link'));
        expect(await resolveIt(root, 'dirlink/link/', opts)).to.equal(join(root, 'dir', 'link'));
        expect(await resolveIt(root, 'dirlink', opts)).to.equal(join(root, 'dirlink'));
        // A link followed by .. is not the last component.
        expect(await resolveIt(root, 'dirlink/..', opts)).to.equal(root);
        expect(await resolveIt(root, 'dir/link')).to.equal(join(root, 'etc', 'passwd'));
      });

      it('accepts a root given through a symlink and returns paths under its real path', async () => {
        const alias = join(base, 'alias');
        symlinkSync(root, alias);
        symlinkSync('/etc/passwd', join(root, 'pw'));
        expect(await resolveIt(alias, 'pw')).to.equal(join(root, 'etc', 'passwd'));
        expect(await resolveIt(alias, '')).to.equal(root);
      });

      it('normalises //, . and trailing slashes', async () => {
        expect(await resolveIt(root, '//etc//./passwd')).to.equal(join(root, 'etc', 'passwd'));
        expect(await resolveIt(root, './etc/')).to.equal(join(root, 'etc'));
        expect(await resolveIt(root, '.')).to.equal(root);
        expect(await resolveIt(root, '/')).to.equal(root);
        expect(await resolveIt(`${root}/`, 'etc/./')).to.equal(join(root, 'etc'));
      });

      it('resolves 40-deep nesting with a link at every level', async () => {
        let dir = root;
        const parts: string[] = [];
        for (let i = 0; i < 40; i++) {
          mkdirSync(join(dir, `d${i}`));
          symlinkSync(`d${i}`, join(dir, `l${i}`));
          dir = join(dir, `d${i}`);
          parts.push(`l${i}`);
        }
        symlinkSync('/../../etc/passwd', join(dir, 'pw'));
        expect(await resolveIt(root, parts.join('/'))).to.equal(dir);
        expect(await resolveIt(root, `${parts.join('/')}/pw`)).to.equal(join(root, 'etc', 'passwd'));
        expect(await resolveIt(root, `${parts.join('/')}/${'../'.repeat(45)}etc`)).to.equal(join(root, 'etc'));
      });

      it('rejects a missing root, a file as root and NUL bytes', async () => {
        expect(await rejection(resolveIt(join(base, 'nope'), 'x'))).to.have.property('code', 'ERR_NOT_FOUND');
        expect(await rejection(resolveIt(join(root, 'etc', 'passwd'), 'x'))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
        expect(await rejection(resolveIt(root, 'a\0b'))).to.have.property('code', 'ERR_INVALID_ARGUMENT');
      });
    });
  }

  it('rejects with signal.reason on an aborted signal', async () => {
    const reason = new Error('stop');
    const err = await rejection(resolveInRoot(root, 'etc', { signal: AbortSignal.abort(reason) }));
    expect(err).to.equal(reason);
  });

  it('validates followFinal', () => {
    const err = thrown(() => resolveInRootSync(root, 'x', { followFinal: 'yes' as unknown as boolean }));
    expect(err).to.have.property('code', 'ERR_INVALID_ARGUMENT');
  });

  describe('isInside / assertInside', () => {
    it('judges lexically', () => {
      expect(isInside('/r', '/r')).to.equal(true);
      expect(isInside('/r/', '/r/a/b')).to.equal(true);
      expect(isInside('/r', '/r/../r/a')).to.equal(true);
      expect(isInside('/r', '/rx')).to.equal(false);
      expect(isInside('/r', '/r/..')).to.equal(false);
      expect(isInside('/r', '/')).to.equal(false);
      expect(isInside('/r', '/r/..a')).to.equal(true);
      expect(isInside('/', '/anything')).to.equal(true);
    });

    it('assertInside returns the normalised path or throws ERR_PATH_ESCAPE', () => {
      expect(assertInside('/r', '/r/a/./b/')).to.equal('/r/a/b');
      const err = thrown(() => assertInside('/r', '/r/a/../../etc'));
      expect(err).to.have.property('code', 'ERR_PATH_ESCAPE');
      expect(err).to.have.property('category', 'PermissionDenied');
    });
  });
});
