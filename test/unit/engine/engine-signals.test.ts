// How the Engine reads the signals docker users give (stop signals from images, `docker kill -s`).
import { expect } from 'chai';
import { toSignal } from '../../../lib/engine/lifecycle.js';
import { hasCode } from '../../../lib/errors/index.js';

describe('engine: toSignal', () => {
  it('takes names with or without SIG, in any case, and numbers', () => {
    expect(toSignal('SIGTERM')).to.equal('SIGTERM');
    expect(toSignal('term')).to.equal('SIGTERM');
    expect(toSignal('SIGQUIT')).to.equal('SIGQUIT');
    expect(toSignal('9')).to.equal(9);
    expect(toSignal(15)).to.equal(15);
  });

  it('maps the real-time signals to their Linux numbers', () => {
    expect(toSignal('SIGRTMIN')).to.equal(34);
    expect(toSignal('SIGRTMIN+3')).to.equal(37);
    expect(toSignal('RTMAX-1')).to.equal(63);
  });

  it('refuses what is not a signal with ERR_INVALID_ARGUMENT', () => {
    for (const bad of ['SIGNOPE', '0', '65', '', 'TERM; rm']) {
      let err: unknown;
      try {
        toSignal(bad);
      } catch (e) {
        err = e;
      }
      expect(hasCode(err, 'ERR_INVALID_ARGUMENT'), bad).to.equal(true);
    }
  });
});
