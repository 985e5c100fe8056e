import { PassThrough, Readable, Writable } from 'node:stream';
import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { runcEnv } from '../../../lib/runtime/command.js';
import { prepareStdio } from '../../../lib/runtime/io.js';
import { exitResult } from '../../../lib/runtime/process.js';

describe('runtime/io and exit results', () => {
  it('prepareStdio: one mode for all, per-stream modes with defaults', () => {
    const cases: Array<[Parameters<typeof prepareStdio>, string[], boolean[]]> = [
      [
        [undefined, ['ignore', 'pipe', 'pipe']],
        ['ignore', 'pipe', 'pipe'],
        [false, true, true],
      ],
      [
        ['inherit', ['ignore', 'pipe', 'pipe']],
        ['inherit', 'inherit', 'inherit'],
        [false, false, false],
      ],
      [
        ['pipe', ['ignore', 'ignore', 'ignore']],
        ['pipe', 'pipe', 'pipe'],
        [true, true, true],
      ],
      [
        [{ stdout: 'inherit' }, ['ignore', 'pipe', 'pipe']],
        ['ignore', 'inherit', 'pipe'],
        [false, false, true],
      ],
    ];
    for (const [input, spawn, exposed] of cases) {
      const prepared = prepareStdio(...input);
      expect(prepared.spawn, JSON.stringify(input)).to.deep.equal(spawn);
      expect(prepared.exposed, JSON.stringify(input)).to.deep.equal(exposed);
    }
  });

  it('prepareStdio: caller streams become pipes that are not exposed', () => {
    const prepared = prepareStdio({ stdin: Readable.from(['x']), stdout: new PassThrough(), stderr: 'ignore' }, ['pipe', 'pipe', 'pipe']);
    expect(prepared.spawn).to.deep.equal(['pipe', 'pipe', 'ignore']);
    expect(prepared.exposed).to.deep.equal([false, false, false]);
  });

  it('prepareStdio rejects bad values naming the stream', () => {
    const bad: Array<[unknown, string]> = [
      ['tty', 'stdio'],
      [42, 'stdio'],
      [{ stdin: new Writable() }, 'stdin'],
      [{ stdout: 'file.txt' }, 'stdout'],
      [{ stderr: {} }, 'stderr'],
    ];
    for (const [value, mention] of bad) {
      let thrown: unknown;
      try {
        prepareStdio(value as never, ['ignore', 'pipe', 'pipe']);
      } catch (err) {
        thrown = err;
      }
      expect(hasCode(thrown, 'ERR_INVALID_ARGUMENT'), JSON.stringify(value)).to.equal(true);
      expect((thrown as Error).message).to.include(mention);
    }
  });

  it('prepareStdio for a detached process: "pipe" means its output, a stdin pipe is refused', () => {
    expect(prepareStdio('pipe', ['ignore', 'ignore', 'ignore'], true).spawn).to.deep.equal(['ignore', 'pipe', 'pipe']);
    expect(prepareStdio({ stdin: 'inherit', stdout: 'pipe' }, ['ignore', 'ignore', 'ignore'], true).spawn).to.deep.equal(['inherit', 'pipe', 'ignore']);
    for (const stdin of ['pipe', Readable.from(['x'])]) {
      let thrown: unknown;
      try {
        prepareStdio({ stdin } as never, ['ignore', 'ignore', 'ignore'], true);
      } catch (err) {
        thrown = err;
      }
      expect(hasCode(thrown, 'ERR_INVALID_ARGUMENT')).to.equal(true);
      expect((thrown as Error).message).to.include('stdin of a detached process');
    }
  });

  it('exitResult reads 128 + N as signal N, and keeps the time of the exit', () => {
    const at = new Date(1_700_000_000_000);
    expect(exitResult(0, at)).to.deep.equal({ code: 0, exitedAt: at });
    expect(exitResult(3, at)).to.deep.equal({ code: 3, exitedAt: at });
    expect(exitResult(128, at)).to.deep.equal({ code: 128, exitedAt: at });
    expect(exitResult(137, at)).to.deep.equal({ code: 137, exitedAt: at, signal: 'SIGKILL' });
    expect(exitResult(143, at)).to.deep.equal({ code: 143, exitedAt: at, signal: 'SIGTERM' });
    expect(exitResult(255, at)).to.deep.equal({ code: 255, exitedAt: at });
  });

  it('runcEnv drops NOTIFY_SOCKET and keeps the rest', () => {
    expect(runcEnv({ env: { NOTIFY_SOCKET: '/run/systemd/notify', PATH: '/bin', A: '1' } })).to.deep.equal({ PATH: '/bin', A: '1' });
    const inherited = runcEnv({});
    expect(inherited).not.to.have.property('NOTIFY_SOCKET');
    expect(inherited.PATH).to.equal(process.env.PATH);
  });
});
