import { expect } from 'chai';
import { planTaskIO } from '../../../lib/containerd/task-io.js';
import type { StdioOptions } from '../../../lib/oci/index.js';

const LOGGER = 'binary:///usr/local/bin/logger?path=%2Fvar%2Flog%2Fc.log';

const paths = (stdio: StdioOptions, logUri?: string) => {
  const plan = planTaskIO('/f', 'c1', stdio, logUri === undefined ? {} : { logUri });
  return { terminal: plan.terminal, stdin: plan.stdin, stdout: [plan.stdout.kind, plan.stdout.path], stderr: [plan.stderr.kind, plan.stderr.path] };
};

const invalid = (stdio: StdioOptions, logUri?: string): unknown => {
  try {
    planTaskIO('/f', 'c1', stdio, logUri === undefined ? {} : { logUri });
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'no error';
};

describe('containerd planTaskIO: the shared StdioOptions as paths for the runc shim', () => {
  it("defaults to 'pipe' FIFOs for stdout and stderr, no stdin", () => {
    expect(paths({})).to.deep.equal({ terminal: false, stdin: '', stdout: ['pipe', '/f/c1-stdout'], stderr: ['pipe', '/f/c1-stderr'] });
  });

  it("wires nothing when everything is 'null' (ctr's --null-io)", () => {
    expect(paths({ stdout: 'null' })).to.deep.equal({ terminal: false, stdin: '', stdout: ['given', ''], stderr: ['given', ''] });
  });

  it("drains a 'null' stream once another one is a FIFO (the shim opens both output paths and fails on '')", () => {
    expect(paths({ stdout: 'pipe', stderr: 'null' }).stderr).to.deep.equal(['drain', '/f/c1-stderr']);
    expect(paths({ stdin: true, stdout: 'null' })).to.deep.equal({
      terminal: false,
      stdin: '/f/c1-stdin',
      stdout: ['drain', '/f/c1-stdout'],
      stderr: ['drain', '/f/c1-stderr'],
    });
    expect(paths({ stdout: { uri: '/caller/fifo' }, stderr: 'null' })).to.deep.include({
      stdout: ['given', '/caller/fifo'],
      stderr: ['drain', '/f/c1-stderr'],
    });
  });

  it('gives a terminal stdout only (a FIFO even for null, which the shim copies the console to), never stderr', () => {
    expect(paths({ terminal: true, stderr: 'pipe' })).to.deep.equal({ terminal: true, stdin: '', stdout: ['pipe', '/f/c1-stdout'], stderr: ['given', ''] });
    expect(paths({ terminal: true, stdout: 'null' }).stdout).to.deep.equal(['drain', '/f/c1-stdout']);
  });

  it("sends 'log' to the logger URI for both streams, and needs one", () => {
    expect(paths({ stdout: 'log' }, LOGGER)).to.deep.equal({ terminal: false, stdin: '', stdout: ['given', LOGGER], stderr: ['given', LOGGER] });
    expect(paths({ stdout: 'log', stderr: 'log', stdin: true }, LOGGER).stdin).to.equal('/f/c1-stdin');
    expect(invalid({ stdout: 'log' })).to.equal('ERR_INVALID_ARGUMENT');
    expect(invalid({ stdout: 'log' }, '/usr/local/bin/logger')).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('passes a URI as it is; a file:// or binary:// stdout takes stderr too, so stderr must agree', () => {
    expect(paths({ stdout: { uri: 'file:///var/log/c.log' } })).to.deep.include({
      stdout: ['given', 'file:///var/log/c.log'],
      stderr: ['given', 'file:///var/log/c.log'],
    });
    expect(invalid({ stdout: { uri: 'file:///var/log/c.log' }, stderr: 'pipe' })).to.equal('ERR_INVALID_ARGUMENT');
    expect(invalid({ stdout: 'pipe', stderr: 'log' }, LOGGER)).to.equal('ERR_INVALID_ARGUMENT');
    expect(invalid({ stdout: 'log', stderr: 'null' }, LOGGER)).to.equal('ERR_INVALID_ARGUMENT');
  });

  it('rejects targets outside the vocabulary', () => {
    expect(invalid({ stdout: 'file' as never })).to.equal('ERR_INVALID_ARGUMENT');
    expect(invalid({ stderr: { uri: '' } })).to.equal('ERR_INVALID_ARGUMENT');
    expect(invalid(null as never)).to.equal('ERR_INVALID_ARGUMENT');
  });
});
