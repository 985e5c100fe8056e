import { expect } from 'chai';
import { hasCode } from '../../../lib/errors/index.js';
import { planStdio, stdioUris } from '../../../lib/shim/shim-stdio.js';

const LOGGER = { binary: '/opt/ck/logger', maxBytes: 1000 };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('ShimManager stdio planning', () => {
  it('defaults to stdout and stderr FIFOs without stdin', () => {
    const plan = planStdio('/s/c1', '', {});
    expect(plan).to.deep.equal({ terminal: false, stdoutMode: 'pipe', stderrMode: 'pipe', stdout: '/s/c1/stdout', stderr: '/s/c1/stderr' });
    expect(stdioUris(plan, LOGGER)).to.deep.equal({ stdin: '', stdout: '/s/c1/stdout', stderr: '/s/c1/stderr', terminal: false });
  });

  it('gives a null stream beside a FIFO one a FIFO to drain (the shim opens every path)', () => {
    const plan = planStdio('/s/c1', 'exec-x-', { stdin: true, stdout: 'pipe', stderr: 'null' });
    expect(plan).to.deep.include({ stdin: '/s/c1/exec-x-stdin', stdout: '/s/c1/exec-x-stdout', stderr: '/s/c1/exec-x-stderr', stderrMode: 'null' });
    expect(planStdio('/s/c1', '', { stdout: 'null' })).to.deep.equal({ terminal: false, stdoutMode: 'null', stderrMode: 'null' });
  });

  it("sends both streams to one file:// for a file uri, and to the logger through binary:// for 'log'", () => {
    const file = planStdio('/s/c1', '', { stdout: { uri: 'file:///s/c1/output.log' } });
    expect(file).to.deep.equal({ terminal: false, stdoutMode: { uri: 'file:///s/c1/output.log' }, stderrMode: { uri: 'file:///s/c1/output.log' } });
    expect(stdioUris(file, LOGGER)).to.deep.equal({ stdin: '', stdout: 'file:///s/c1/output.log', stderr: 'file:///s/c1/output.log', terminal: false });
    const log = planStdio('/s/c1', '', { stdout: 'log' });
    const uris = stdioUris(log, LOGGER);
    expect(uris.stdout).to.equal('binary:///opt/ck/logger?path=%2Fs%2Fc1%2Fcontainer.log&max=1000');
    expect(uris.stderr).to.equal(uris.stdout);
    const url = new URL(uris.stdout);
    expect(url.pathname).to.equal('/opt/ck/logger');
    expect(url.searchParams.get('path')).to.equal('/s/c1/container.log');
  });

  it('plans a terminal as one output stream', () => {
    const plan = planStdio('/s/t', '', { terminal: true, stdin: true });
    expect(stdioUris(plan, LOGGER)).to.deep.equal({ stdin: '/s/t/stdin', stdout: '/s/t/stdout', stderr: '', terminal: true });
  });

  it('hands a caller-made FIFO path to the shim as is, draining a null stream beside it', () => {
    const plan = planStdio('/s/c1', '', { stdout: { uri: '/run/mine/out' }, stderr: 'null' });
    expect(plan).to.deep.equal({ terminal: false, stdoutMode: { uri: '/run/mine/out' }, stderrMode: 'null', stderr: '/s/c1/stderr' });
    expect(stdioUris(plan, LOGGER)).to.deep.equal({ stdin: '', stdout: '/run/mine/out', stderr: '/s/c1/stderr', terminal: false });
  });

  it('refuses unknown targets and a stderr apart from a file or log stdout', () => {
    expect(
      hasCode(
        thrown(() => planStdio('/s', '', { stdout: 'tty' as never })),
        'ERR_INVALID_ARGUMENT',
      ),
    ).to.equal(true);
    expect(
      hasCode(
        thrown(() => planStdio('/s', '', { stdout: 'file' as never })),
        'ERR_INVALID_ARGUMENT',
      ),
    ).to.equal(true);
    for (const uri of ['', 'relative/fifo', 'http://x/y', 'file://relative']) {
      expect(
        hasCode(
          thrown(() => planStdio('/s', '', { stdout: { uri } })),
          'ERR_INVALID_ARGUMENT',
        ),
        uri,
      ).to.equal(true);
    }
    expect(
      hasCode(
        thrown(() => planStdio('/s', '', { stdout: { uri: 'file:///s/o.log' }, stderr: 'pipe' })),
        'ERR_INVALID_ARGUMENT',
      ),
    ).to.equal(true);
    expect(
      hasCode(
        thrown(() => planStdio('/s', '', { stdout: { uri: 'file:///s/o.log' }, stderr: { uri: 'file:///s/e.log' } })),
        'ERR_INVALID_ARGUMENT',
      ),
    ).to.equal(true);
    expect(
      hasCode(
        thrown(() => planStdio('/s', '', { stdout: 'pipe', stderr: { uri: 'binary:///bin/logger' } })),
        'ERR_INVALID_ARGUMENT',
      ),
    ).to.equal(true);
    expect(
      hasCode(
        thrown(() => planStdio('/s', '', { stdout: 'pipe', stderr: 'log' })),
        'ERR_INVALID_ARGUMENT',
      ),
    ).to.equal(true);
  });
});

describe('container log records', () => {
  it('parses the logger line format and refuses anything else', async () => {
    const { parseContainerLogLine } = await import('../../../lib/shim/index.js');
    const line = '{"time":"2026-11-28T04:26:40.704302250Z","stream":"stderr","log":"b\\"c\\n"}';
    expect(parseContainerLogLine(line)).to.deep.equal({ time: '2026-11-28T04:26:40.704302250Z', stream: 'stderr', log: 'b"c\n' });
    for (const bad of ['', 'tick 1', '{"time":"t","stream":"other","log":"x"}', '{"stream":"stdout","log":"x"}']) {
      expect(
        hasCode(
          thrown(() => parseContainerLogLine(bad)),
          'ERR_CORRUPT_FILE',
        ),
        bad,
      ).to.equal(true);
    }
  });
});
