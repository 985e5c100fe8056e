import { expect } from 'chai';
import { ContainerkitError } from '../../../lib/errors/index.js';
import { classifyWhiteout, cleanEntryPath, cleanLinkTarget } from '../../../lib/unpack/entry-path.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ContainerkitError ? err.code : 'not a ContainerkitError';
  }
}

describe('unpack: entry paths', () => {
  it('cleans entry names lexically and clamps them at the root', () => {
    expect(cleanEntryPath('./bin/sh')).to.equal('bin/sh');
    expect(cleanEntryPath('../../etc/passwd')).to.equal('etc/passwd');
    expect(cleanEntryPath('/abs/./x/../y/')).to.equal('abs/y');
    expect(cleanEntryPath('.')).to.equal('');
    expect(cleanEntryPath('./..')).to.equal('');
  });

  it('refuses hardlink targets that climb out of the root and reads absolute ones as archive-relative', () => {
    expect(cleanLinkTarget('/bin/busybox', 'x', 0)).to.equal('bin/busybox');
    expect(cleanLinkTarget('./a/../b', 'x', 0)).to.equal('b');
    expect(codeOf(() => cleanLinkTarget('../../etc/passwd', 'x', 0))).to.equal('ERR_PATH_ESCAPE');
    expect(codeOf(() => cleanLinkTarget('a/../../b', 'x', 0))).to.equal('ERR_PATH_ESCAPE');
  });

  it('classifies whiteouts, opaque markers and aufs metadata, and refuses malformed ones', () => {
    expect(classifyWhiteout('etc/.wh.passwd', 0)).to.deep.equal({ kind: 'whiteout', dir: 'etc', name: 'passwd' });
    expect(classifyWhiteout('.wh.x', 0)).to.deep.equal({ kind: 'whiteout', dir: '', name: 'x' });
    expect(classifyWhiteout('cache/.wh..wh..opq', 0)).to.deep.equal({ kind: 'opaque', dir: 'cache' });
    expect(classifyWhiteout('.wh..wh.plnk', 0)).to.deep.equal({ kind: 'meta' });
    expect(classifyWhiteout('.wh..wh.plnk/123', 0)).to.deep.equal({ kind: 'meta' });
    expect(classifyWhiteout('a/b.wh.c', 0)).to.deep.equal({ kind: 'none' });
    for (const bad of ['.wh.', 'a/.wh..', 'a/.wh...', '.wh.x/y'])
      expect(
        codeOf(() => classifyWhiteout(bad, 0)),
        bad,
      ).to.equal('ERR_INVALID_WHITEOUT');
  });
});
