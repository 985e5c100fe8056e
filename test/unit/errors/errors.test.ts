import { expect } from 'chai';
import {
  ContainerkitError,
  ERROR_CODES,
  hasCode,
  InvalidArgumentError,
  isAbortError,
  isErrorCode,
  NotFoundError,
  newError,
  PermissionDeniedError,
} from '../../../lib/errors/index.js';

describe('errors', () => {
  it('newError builds the class of the code’s category, with code, message, cause and details', () => {
    const cause = new Error('low level');
    const err = newError('ERR_PATH_ESCAPE', 'escaped', { cause, details: { path: '../x' } });
    expect(err).to.be.instanceOf(PermissionDeniedError);
    expect(err).to.be.instanceOf(ContainerkitError);
    expect(err).to.be.instanceOf(Error);
    expect(err).not.to.be.instanceOf(NotFoundError);
    expect(err.code).to.equal('ERR_PATH_ESCAPE');
    expect(err.category).to.equal('PermissionDenied');
    expect(err.message).to.equal('escaped');
    expect(err.cause).to.equal(cause);
    expect(err.details).to.deep.equal({ path: '../x' });
    expect(err.name).to.equal('PermissionDeniedError');
  });

  it('instanceof holds for errors made by another copy of the module (branded, not by prototype)', () => {
    // What a second install of containerkit would throw: same brand, unrelated prototype chain.
    const foreign = Object.assign(new Error('from a duplicate install'), { code: 'ERR_NOT_FOUND', category: 'NotFound' });
    Object.defineProperty(foreign, Symbol.for('containerkit.error'), { value: true });
    expect(foreign).to.be.instanceOf(ContainerkitError);
    expect(foreign).to.be.instanceOf(NotFoundError);
    expect(foreign).not.to.be.instanceOf(InvalidArgumentError);
    expect(new Error('plain')).not.to.be.instanceOf(ContainerkitError);
    expect(null).not.to.be.instanceOf(ContainerkitError);
  });

  it('every code maps to a known category and codes are SCREAMING_SNAKE with ERR_ prefix', () => {
    const categories = new Set([
      'NotFound',
      'AlreadyExists',
      'InvalidArgument',
      'FailedPrecondition',
      'Unavailable',
      'PermissionDenied',
      'Conflict',
      'Internal',
    ]);
    for (const [code, category] of Object.entries(ERROR_CODES)) {
      expect(code).to.match(/^ERR_[A-Z0-9_]+$/);
      expect(categories.has(category), code).to.equal(true);
      expect(isErrorCode(code)).to.equal(true);
    }
    expect(isErrorCode('ERR_NOPE')).to.equal(false);
    expect(isErrorCode('toString')).to.equal(false);
  });

  it('hasCode and isAbortError tell errors apart', () => {
    expect(hasCode(newError('ERR_NOT_FOUND', 'x'), 'ERR_NOT_FOUND')).to.equal(true);
    expect(hasCode(newError('ERR_NOT_FOUND', 'x'), 'ERR_INTERNAL')).to.equal(false);
    expect(hasCode(new Error('x'), 'ERR_NOT_FOUND')).to.equal(false);
    const controller = new AbortController();
    controller.abort();
    expect(isAbortError(controller.signal.reason)).to.equal(true);
    expect(isAbortError(AbortSignal.timeout(0).reason ?? new DOMException('t', 'TimeoutError'))).to.equal(true);
    expect(isAbortError(newError('ERR_INTERNAL', 'x'))).to.equal(false);
  });
});

describe('errors: the documented list', () => {
  it('README.md lists every code with its category, and nothing else', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).to.deep.equal({ ...ERROR_CODES });
  });
});
